//! The audit trail. Every service writes its entry with [`record`] inside the transaction that
//! makes the change, so a change and its entry commit or roll back together.

use chrono::Utc;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::audit::{AuditEntry, changed_fields};
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::policy::Actor;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::Value;

use crate::context::Ctx;
use crate::entities::audit_log;
use crate::error::Result;
use crate::scope;

/// One change to record.
pub struct Change<'a> {
    pub action: &'a str,
    pub entity: Resource,
    pub entity_id: i64,
    /// The node the record belongs to (decides who may read the entry).
    pub org_id: Option<i64>,
    pub responsible_id: Option<i64>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Writes an audit entry on `conn` (pass the transaction that makes the change).
pub async fn record<C: ConnectionTrait>(conn: &C, ctx: Ctx<'_>, change: Change<'_>) -> Result<()> {
    audit_log::Entity::insert(entry(ctx, change))
        .exec(conn)
        .await?;
    Ok(())
}

fn entry(ctx: Ctx<'_>, change: Change<'_>) -> audit_log::ActiveModel {
    let changed = changed_fields(change.before.as_ref(), change.after.as_ref());
    audit_log::ActiveModel {
        at: Set(Utc::now()),
        actor_user_id: Set(ctx.actor.user_id),
        actor_api_key_id: Set(ctx.actor.api_key_id),
        actor_name: Set(Some(ctx.actor.name.clone())),
        action: Set(change.action.to_string()),
        entity: Set(change.entity.as_str().to_string()),
        entity_id: Set(change.entity_id),
        org_id: Set(change.org_id),
        responsible_id: Set(change.responsible_id),
        before_json: Set(change.before.map(|v| v.to_string())),
        after_json: Set(change.after.map(|v| v.to_string())),
        changed: Set(serde_json::to_string(&changed).unwrap_or_else(|_| "[]".into())),
        request_id: Set(ctx.meta.request_id.clone()),
        client_ip: Set(ctx.meta.client_ip.clone()),
        ..Default::default()
    }
}

/// Writes many audit entries on `conn` in a few multi-row statements (bulk changes such as an
/// import).
pub async fn record_many<C: ConnectionTrait>(
    conn: &C,
    ctx: Ctx<'_>,
    changes: Vec<Change<'_>>,
) -> Result<()> {
    // Built before the first await: an iterator holding a closure over `ctx` across an await
    // makes the future not `Send` for callers that spawn it.
    let mut entries: Vec<audit_log::ActiveModel> = Vec::with_capacity(changes.len());
    for c in changes {
        entries.push(entry(ctx, c));
    }
    let mut entries = entries.into_iter().peekable();
    while entries.peek().is_some() {
        let chunk: Vec<audit_log::ActiveModel> = entries.by_ref().take(500).collect();
        audit_log::Entity::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity: Option<Resource>,
    pub entity_id: Option<i64>,
    pub actor_user_id: Option<i64>,
}

/// Lists audit entries the actor may see, newest first, with hidden fields removed.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    filter: &AuditFilter,
    paging: Paging,
) -> Result<Page<AuditEntry>> {
    actor.require(Resource::Audit, Action::View)?;
    let visibility = actor.visibility(Resource::Audit, Action::View);
    let mut q = audit_log::Entity::find().filter(scope::condition(
        &visibility,
        audit_log::Column::OrgId,
        Some(audit_log::Column::ResponsibleId),
    ));
    if let Some(e) = filter.entity {
        q = q.filter(audit_log::Column::Entity.eq(e.as_str()));
    }
    if let Some(id) = filter.entity_id {
        q = q.filter(audit_log::Column::EntityId.eq(id));
    }
    if let Some(id) = filter.actor_user_id {
        q = q.filter(audit_log::Column::ActorUserId.eq(id));
    }
    let total = q.clone().count(conn).await?;
    let rows = q
        .order_by_desc(audit_log::Column::Id)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(conn)
        .await?;
    let items = rows.into_iter().map(|r| to_entry(actor, r)).collect();
    Ok(Page::new(items, total))
}

fn to_entry(actor: &Actor, r: audit_log::Model) -> AuditEntry {
    let resource = r.entity.parse::<Resource>().ok();
    let parse = |s: Option<String>| {
        s.and_then(|s| serde_json::from_str::<Value>(&s).ok())
            .map(|mut v| {
                if let Some(res) = resource {
                    actor.redact(res, &mut v);
                }
                v
            })
    };
    let before = parse(r.before_json);
    let after = parse(r.after_json);
    let mut changed: Vec<String> = serde_json::from_str(&r.changed).unwrap_or_default();
    if let Some(res) = resource {
        changed.retain(|f| {
            actor.access.field_mode(res, f) != Some(dealernet_domain::access::FieldMode::Hidden)
        });
    }
    AuditEntry {
        id: r.id,
        at: r.at,
        actor_user_id: r.actor_user_id,
        actor_api_key_id: r.actor_api_key_id,
        actor_name: r.actor_name,
        action: r.action,
        entity: r.entity,
        entity_id: r.entity_id,
        before,
        after,
        changed,
        request_id: r.request_id,
        client_ip: r.client_ip,
    }
}
