//! Comments on clients and requests, with author and time. Adding one tells the responsible
//! manager and the watchers.

use chrono::Utc;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::crm::{Comment, NewComment};
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::notifications::EventKind;
use dealernet_domain::policy::Actor;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::entity::comment;
use super::visible;
use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::error::Result;
use crate::notifications::{self, Event};

fn to_wire(m: comment::Model) -> Comment {
    Comment {
        id: m.id,
        author_id: m.author_id,
        author_name: m.author_name,
        body: m.body,
        created_at: m.created_at,
    }
}

/// Comments on a client or a request the actor may see, newest first.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    resource: Resource,
    record_id: i64,
    paging: Paging,
) -> Result<Page<Comment>> {
    visible(db, actor, resource, record_id, Action::View).await?;
    let q = comment::Entity::find()
        .filter(comment::Column::Resource.eq(resource.as_str()))
        .filter(comment::Column::RecordId.eq(record_id));
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(comment::Column::Id)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    Ok(Page::new(rows.into_iter().map(to_wire).collect(), total))
}

/// Adds a comment: anybody who may see the record may comment on it.
pub async fn add(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    resource: Resource,
    record_id: i64,
    input: NewComment,
) -> Result<Comment> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let located = visible(&txn, actor, resource, record_id, Action::View).await?;
    let body = input.body.trim().to_string();
    let m = comment::ActiveModel {
        resource: Set(resource.as_str().to_string()),
        record_id: Set(record_id),
        author_id: Set(actor.user_id),
        author_name: Set(actor.name.clone()),
        body: Set(body.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "comment",
            entity: resource,
            entity_id: record_id,
            org_id: Some(located.org_id),
            responsible_id: located.responsible_id,
            before: None,
            after: Some(serde_json::json!({"comment_id": m.id, "body": body})),
        },
    )
    .await?;
    let link = match resource {
        Resource::Deals => format!("/crm/requests/{record_id}"),
        _ => format!("/crm/clients/{record_id}"),
    };
    let excerpt: String = body.chars().take(200).collect();
    notifications::publish(
        &txn,
        Event {
            kind: EventKind::CommentAdded,
            resource,
            record: located.record(),
            record_id,
            title: format!("{} commented on {}", actor.name, located.label),
            body: excerpt,
            link: Some(link),
            recipients: vec![],
            actor_id: actor.user_id,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(to_wire(m))
}
