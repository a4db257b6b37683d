//! Sign-in sessions and their refresh tokens.
//!
//! A session is a refresh-token family. Each refresh token is single-use: refreshing marks it
//! used and issues the next one. Presenting a used token again means it was stolen (or
//! replayed), so the whole family is revoked. Only SHA-256 hashes of tokens are stored.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use dealernet_domain::auth::Session;
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use sha2::{Digest, Sha256};

use crate::context::RequestMeta;
use crate::entities::{auth_session, refresh_token, user};
use crate::error::{Result, ServiceError};
use crate::identity::{password, users};

/// How long a session lives without signing in again.
pub const SESSION_LIFETIME_DAYS: i64 = 30;

/// A freshly issued refresh token, and the session it belongs to.
#[derive(Debug, Clone)]
pub struct Issued {
    pub user_id: i64,
    pub session_id: String,
    pub refresh_token: String,
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn clip(s: Option<&str>, max: usize) -> Option<String> {
    s.map(|s| s.chars().take(max).collect())
}

async fn issue_token<C: ConnectionTrait>(
    conn: &C,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    let token = new_token();
    refresh_token::ActiveModel {
        session_id: Set(session_id.to_string()),
        token_hash: Set(token_hash(&token)),
        created_at: Set(now),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(token)
}

/// Checks e-mail and password and opens a session. Unknown e-mails take as long as wrong
/// passwords, and a blocked account is only reported to someone who knows its password.
pub async fn login(
    db: &DatabaseConnection,
    email: &str,
    pass: &str,
    meta: &RequestMeta,
) -> Result<Issued> {
    let found = users::by_email(db, email).await?;
    let hash = found.as_ref().map_or_else(
        || password::dummy_hash().to_string(),
        |u| u.password_hash.clone(),
    );
    let ok = password::verify_async(pass.to_string(), hash).await;
    let Some(u) = found.filter(|_| ok) else {
        return Err(ServiceError::InvalidCredentials);
    };
    if u.status != "active" {
        return Err(ServiceError::AccountBlocked);
    }
    let now = Utc::now();
    let session_id = uuid::Uuid::new_v4().to_string();
    let txn = db.begin().await?;
    auth_session::ActiveModel {
        id: Set(session_id.clone()),
        user_id: Set(u.id),
        created_at: Set(now),
        last_used_at: Set(now),
        expires_at: Set(now + Duration::days(SESSION_LIFETIME_DAYS)),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        user_agent: Set(clip(meta.user_agent.as_deref(), 300)),
        ip: Set(clip(meta.client_ip.as_deref(), 64)),
    }
    .insert(&txn)
    .await?;
    let refresh_token = issue_token(&txn, &session_id, now).await?;
    user::Entity::update_many()
        .col_expr(
            user::Column::LastLoginAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(user::Column::Id.eq(u.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Issued {
        user_id: u.id,
        session_id,
        refresh_token,
    })
}

/// Exchanges a refresh token for the next one.
pub async fn refresh(db: &DatabaseConnection, token: &str, meta: &RequestMeta) -> Result<Issued> {
    let ended = || ServiceError::Unauthenticated("the session has ended; sign in again".into());
    let now = Utc::now();
    let txn = db.begin().await?;
    let Some(rt) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash(token)))
        .one(&txn)
        .await?
    else {
        return Err(ended());
    };
    let session = auth_session::Entity::find_by_id(rt.session_id.clone())
        .one(&txn)
        .await?
        .ok_or_else(ended)?;
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Err(ended());
    }
    // Single use: only the first presenter wins; anyone presenting it again revokes the family.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(
            refresh_token::Column::UsedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(refresh_token::Column::Id.eq(rt.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if rt.used_at.is_some() || claimed.rows_affected != 1 {
        revoke(&txn, &session.id, "refresh_token_reuse").await?;
        txn.commit().await?;
        tracing::warn!(session = %session.id, user = session.user_id, "refresh token reused; session revoked");
        return Err(ServiceError::Unauthenticated(
            "this refresh token was already used; the session has been revoked for safety".into(),
        ));
    }
    let u = user::Entity::find_by_id(session.user_id)
        .one(&txn)
        .await?
        .ok_or_else(ended)?;
    if u.status != "active" {
        return Err(ServiceError::AccountBlocked);
    }
    let next = issue_token(&txn, &session.id, now).await?;
    let mut am: auth_session::ActiveModel = session.clone().into();
    am.last_used_at = Set(now);
    if let Some(ip) = clip(meta.client_ip.as_deref(), 64) {
        am.ip = Set(Some(ip));
    }
    am.update(&txn).await?;
    txn.commit().await?;
    Ok(Issued {
        user_id: u.id,
        session_id: session.id,
        refresh_token: next,
    })
}

/// Revokes one session (if not revoked yet).
pub async fn revoke<C: ConnectionTrait>(conn: &C, session_id: &str, reason: &str) -> Result<()> {
    auth_session::Entity::update_many()
        .col_expr(
            auth_session::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .col_expr(
            auth_session::Column::RevokedReason,
            sea_orm::sea_query::Expr::value(reason),
        )
        .filter(auth_session::Column::Id.eq(session_id))
        .filter(auth_session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// The session a refresh token belongs to, if any.
pub async fn session_of_token<C: ConnectionTrait>(conn: &C, token: &str) -> Result<Option<String>> {
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash(token)))
        .one(conn)
        .await?
        .map(|t| t.session_id))
}

pub async fn revoke_all_for_user<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    reason: &str,
) -> Result<()> {
    revoke_others(conn, user_id, None, reason).await
}

/// Revokes every session of the user except `keep`.
pub async fn revoke_others<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    keep: Option<&str>,
    reason: &str,
) -> Result<()> {
    let mut q = auth_session::Entity::update_many()
        .col_expr(
            auth_session::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .col_expr(
            auth_session::Column::RevokedReason,
            sea_orm::sea_query::Expr::value(reason),
        )
        .filter(auth_session::Column::UserId.eq(user_id))
        .filter(auth_session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        q = q.filter(auth_session::Column::Id.ne(keep));
    }
    q.exec(conn).await?;
    Ok(())
}

/// Whether a session is live (exists, belongs to the user, not revoked, not expired).
pub async fn is_live<C: ConnectionTrait>(conn: &C, session_id: &str, user_id: i64) -> Result<bool> {
    Ok(auth_session::Entity::find_by_id(session_id.to_string())
        .one(conn)
        .await?
        .is_some_and(|s| {
            s.user_id == user_id && s.revoked_at.is_none() && s.expires_at > Utc::now()
        }))
}

/// The user's live sessions, most recently used first.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
    current: Option<&str>,
) -> Result<Vec<Session>> {
    let now = Utc::now();
    let rows = auth_session::Entity::find()
        .filter(auth_session::Column::UserId.eq(user_id))
        .filter(auth_session::Column::RevokedAt.is_null())
        .filter(auth_session::Column::ExpiresAt.gt(now))
        .order_by_desc(auth_session::Column::LastUsedAt)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|s| Session {
            current: current == Some(s.id.as_str()),
            id: s.id,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            user_agent: s.user_agent,
            ip: s.ip,
        })
        .collect())
}

/// Ends one of the user's own sessions (404 for anyone else's).
pub async fn revoke_own(db: &DatabaseConnection, user_id: i64, session_id: &str) -> Result<()> {
    let s = auth_session::Entity::find_by_id(session_id.to_string())
        .one(db)
        .await?
        .filter(|s| s.user_id == user_id)
        .ok_or(ServiceError::NotFound)?;
    revoke(db, &s.id, "signed_out").await
}
