//! API keys for integrations.

use chrono::Utc;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::api_key::{ApiKey, CreateApiKey, CreatedApiKey};
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::policy::{Actor, Denied, RecordRef};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::entities::{api_key, org_node, role};
use crate::error::{Result, ServiceError};
use crate::identity::actor::{api_key_hash, new_api_key_secret};
use crate::{orgs, scope};

async fn to_wire<C: ConnectionTrait>(conn: &C, m: api_key::Model) -> Result<ApiKey> {
    let role_code = role::Entity::find_by_id(m.role_id)
        .one(conn)
        .await?
        .map(|r| r.code)
        .unwrap_or_default();
    Ok(ApiKey {
        id: m.id,
        name: m.name,
        prefix: m.prefix,
        role_id: m.role_id,
        role_code,
        org_id: m.org_id,
        created_by: m.created_by,
        created_at: m.created_at,
        last_used_at: m.last_used_at,
        revoked_at: m.revoked_at,
    })
}

fn snapshot(m: &api_key::Model) -> serde_json::Value {
    serde_json::json!({
        "name": m.name, "prefix": m.prefix, "role_id": m.role_id, "org_id": m.org_id,
        "revoked_at": m.revoked_at,
    })
}

pub async fn list(db: &DatabaseConnection, actor: &Actor, paging: Paging) -> Result<Page<ApiKey>> {
    actor.require(Resource::ApiKeys, Action::View)?;
    let visibility = actor.visibility(Resource::ApiKeys, Action::View);
    let q = api_key::Entity::find().filter(scope::condition(
        &visibility,
        api_key::Column::OrgId,
        Some(api_key::Column::CreatedBy),
    ));
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(api_key::Column::Id)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(to_wire(db, r).await?);
    }
    Ok(Page::new(items, total))
}

pub async fn create(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: CreateApiKey,
) -> Result<CreatedApiKey> {
    let actor = ctx.actor;
    actor.require(Resource::ApiKeys, Action::Create)?;
    let txn = db.begin().await?;
    let org = org_node::Entity::find_by_id(input.org_id)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::field("org_id", "not_found", "no such organisation node"))?;
    actor
        .authorize_create(Resource::ApiKeys, &orgs::path_of(&org)?)
        .map_err(|e| match e {
            Denied::OutOfScope => {
                ServiceError::field("org_id", "not_found", "no such organisation node")
            }
            other => other.into(),
        })?;
    let role = role::Entity::find_by_id(input.role_id)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::field("role_id", "not_found", "no such role"))?;
    actor.authorize_level(role.level)?;
    let (prefix, secret) = new_api_key_secret();
    let m = api_key::ActiveModel {
        name: Set(input.name.trim().to_string()),
        prefix: Set(prefix),
        secret_hash: Set(api_key_hash(&secret)),
        role_id: Set(role.id),
        org_id: Set(org.id),
        created_by: Set(actor.user_id),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "create",
            entity: Resource::ApiKeys,
            entity_id: m.id,
            org_id: Some(m.org_id),
            responsible_id: m.created_by,
            before: None,
            after: Some(snapshot(&m)),
        },
    )
    .await?;
    let key = to_wire(&txn, m).await?;
    txn.commit().await?;
    Ok(CreatedApiKey { key, secret })
}

pub async fn revoke(db: &DatabaseConnection, ctx: Ctx<'_>, id: i64) -> Result<()> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let m = api_key::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let path = orgs::path(&txn, m.org_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    actor.authorize(
        Resource::ApiKeys,
        Action::Delete,
        RecordRef {
            org_path: &path,
            responsible_id: m.created_by,
        },
    )?;
    if m.revoked_at.is_some() {
        return Ok(());
    }
    let before = snapshot(&m);
    let mut am: api_key::ActiveModel = m.into();
    am.revoked_at = Set(Some(Utc::now()));
    let m = am.update(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "revoke",
            entity: Resource::ApiKeys,
            entity_id: id,
            org_id: Some(m.org_id),
            responsible_id: m.created_by,
            before: Some(before),
            after: Some(snapshot(&m)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
