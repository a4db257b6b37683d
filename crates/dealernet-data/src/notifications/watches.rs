//! Watches: a user follows a record and hears about its events like its responsible user does.

use chrono::Utc;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::notifications::{CreateWatch, Watch};
use dealernet_domain::policy::Actor;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::entity::watch;
use super::{targets, user_of};
use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::error::{Result, ServiceError};

/// The users watching a record.
pub async fn watchers_of<C: ConnectionTrait>(
    conn: &C,
    resource: Resource,
    record_id: i64,
) -> Result<Vec<i64>> {
    Ok(watch::Entity::find()
        .filter(watch::Column::Resource.eq(resource.as_str()))
        .filter(watch::Column::RecordId.eq(record_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|w| w.user_id)
        .collect())
}

fn to_wire(m: watch::Model) -> Result<Watch> {
    Ok(Watch {
        resource: m.resource.parse().map_err(ServiceError::Internal)?,
        record_id: m.record_id,
        created_at: m.created_at,
    })
}

/// Starts watching a record the caller may view (a record outside the caller's view is 404).
/// Watching twice is harmless: answers the existing watch and `false`.
pub async fn watch(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: CreateWatch,
) -> Result<(Watch, bool)> {
    let me = user_of(ctx.actor)?;
    let txn = db.begin().await?;
    let located = targets::locate(&txn, input.resource, input.record_id).await?;
    ctx.actor
        .authorize(input.resource, Action::View, located.record())?;
    let existing =
        watch::Entity::find_by_id((me, input.resource.as_str().to_string(), input.record_id))
            .one(&txn)
            .await?;
    if let Some(w) = existing {
        return Ok((to_wire(w)?, false));
    }
    let m = watch::Model {
        user_id: me,
        resource: input.resource.as_str().to_string(),
        record_id: input.record_id,
        created_at: Utc::now(),
    };
    watch::Entity::insert(watch::ActiveModel {
        user_id: Set(m.user_id),
        resource: Set(m.resource.clone()),
        record_id: Set(m.record_id),
        created_at: Set(m.created_at),
    })
    .exec_without_returning(&txn)
    .await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "watch",
            entity: input.resource,
            entity_id: input.record_id,
            org_id: Some(located.org_id),
            responsible_id: located.responsible_id,
            before: None,
            after: Some(serde_json::json!({"watcher_id": me})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok((to_wire(m)?, true))
}

/// Stops watching; 404 when the caller was not watching the record.
pub async fn unwatch(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    resource: Resource,
    record_id: i64,
) -> Result<()> {
    let me = user_of(ctx.actor)?;
    let txn = db.begin().await?;
    let res = watch::Entity::delete_many()
        .filter(watch::Column::UserId.eq(me))
        .filter(watch::Column::Resource.eq(resource.as_str()))
        .filter(watch::Column::RecordId.eq(record_id))
        .exec(&txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(ServiceError::NotFound);
    }
    let located = targets::locate(&txn, resource, record_id).await.ok();
    audit::record(
        &txn,
        ctx,
        Change {
            action: "unwatch",
            entity: resource,
            entity_id: record_id,
            org_id: located.as_ref().map(|l| l.org_id),
            responsible_id: located.and_then(|l| l.responsible_id),
            before: Some(serde_json::json!({"watcher_id": me})),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The caller's watches, newest first.
pub async fn list(db: &DatabaseConnection, actor: &Actor, paging: Paging) -> Result<Page<Watch>> {
    let me = user_of(actor)?;
    let q = watch::Entity::find().filter(watch::Column::UserId.eq(me));
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(watch::Column::CreatedAt)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    let items = rows.into_iter().map(to_wire).collect::<Result<_>>()?;
    Ok(Page::new(items, total))
}
