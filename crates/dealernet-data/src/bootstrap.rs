//! What a fresh database needs before anyone can sign in: the operator root node and the
//! built-in roles; and the first administrator.

use chrono::Utc;
use dealernet_domain::user::UserStatus;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, TransactionTrait};

use crate::entities::{user, user_role};
use crate::error::{Result, ServiceError};
use crate::identity::{password, roles, users};
use crate::orgs;

/// Idempotent: safe on every start and with several instances starting together.
pub async fn ensure_foundation(db: &DatabaseConnection, operator_name: &str) -> Result<i64> {
    let txn = db.begin().await?;
    let root = orgs::ensure_root(&txn, operator_name).await?;
    roles::ensure_builtin(&txn).await?;
    txn.commit().await?;
    Ok(root)
}

/// Creates an administrator at the operator root, or — if the e-mail exists — sets its password,
/// reactivates it and makes sure it holds the administrator role.
pub async fn create_admin(
    db: &DatabaseConnection,
    email: &str,
    name: &str,
    pass: &str,
) -> Result<i64> {
    let root = ensure_foundation(db, "Operator").await?;
    let hash = password::hash_async(pass.to_string()).await?;
    let txn = db.begin().await?;
    let admin_role = roles::by_code(&txn, "administrator")
        .await?
        .ok_or_else(|| ServiceError::Internal("the administrator role is missing".into()))?;
    let now = Utc::now();
    let id = match users::by_email(&txn, email).await? {
        Some(existing) => {
            let id = existing.id;
            let version = existing.version;
            let mut am: user::ActiveModel = existing.into();
            am.password_hash = Set(hash);
            am.status = Set(UserStatus::Active.as_str().to_string());
            am.access_level = Set(8);
            am.version = Set(version + 1);
            am.updated_at = Set(now);
            am.update(&txn).await?;
            id
        }
        None => {
            user::ActiveModel {
                email: Set(users::normalize_email(email)),
                name: Set(name.to_string()),
                phone: Set(None),
                org_id: Set(root),
                access_level: Set(8),
                status: Set(UserStatus::Active.as_str().to_string()),
                seller_code: Set(None),
                password_hash: Set(hash),
                last_login_at: Set(None),
                created_by: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?
            .id
        }
    };
    let holds = users::roles_of(&txn, id)
        .await?
        .iter()
        .any(|r| r.id == admin_role.id);
    if !holds {
        user_role::ActiveModel {
            user_id: Set(id),
            role_id: Set(admin_role.id),
            granted_by: Set(None),
            granted_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(id)
}
