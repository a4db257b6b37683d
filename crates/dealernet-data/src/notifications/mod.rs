//! Notifications: the one entry point other modules call when something happens ([`publish`]),
//! the in-app notification list, per-user preferences, watches, reminders and their scheduler,
//! the e-mail outbox and the tickets that open the live stream.
//!
//! [`publish`] runs inside the caller's transaction: the notification rows and queued e-mails
//! commit or roll back with the change that caused them. Live push needs no extra write: every
//! instance polls the rows marked `push` and forwards them to its open streams.

mod entity;
pub mod outbox;
pub mod reminders;
pub mod targets;
pub mod watches;

use std::collections::BTreeSet;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::notifications::{
    Channel, EventKind, Notification, Preference, Preferences, StreamTicket,
};
use dealernet_domain::policy::{Actor, Denied, RecordRef};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use sha2::{Digest, Sha256};

use self::entity::{notification, preference, ticket};
use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::entities::user;
use crate::error::{Result, ServiceError};
use crate::identity::{actor, roles::RoleCache};

/// Something that happened to a record, for the people who care about it.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub kind: EventKind,
    /// The resource of the record; recipients must be allowed to view it.
    pub resource: Resource,
    /// Where the record sits (org path and responsible user), as the policy needs it.
    pub record: RecordRef<'a>,
    pub record_id: i64,
    pub title: String,
    pub body: String,
    /// Where the SPA opens the record.
    pub link: Option<String>,
    /// Candidates besides the record's responsible user and its watchers (who are always
    /// candidates).
    pub recipients: Vec<i64>,
    /// The user whose action caused the event: not told about their own action.
    pub actor_id: Option<i64>,
}

/// Who an event reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    /// Users who got an in-app or live notification.
    pub notified: Vec<i64>,
    /// E-mails queued in the outbox.
    pub emails: usize,
    /// Candidates dropped because they may not view the record (or are blocked or gone).
    pub dropped: Vec<i64>,
}

/// Delivers an event: to the responsible user, the record's watchers and the extra candidates,
/// minus the acting user and everybody who may not view the record; on each recipient's
/// channels as their preferences say. Writes on `conn` — pass the transaction of the change.
pub async fn publish<C: ConnectionTrait>(conn: &C, event: Event<'_>) -> Result<Published> {
    let mut candidates: BTreeSet<i64> = event.recipients.iter().copied().collect();
    candidates.extend(event.record.responsible_id);
    candidates.extend(watches::watchers_of(conn, event.resource, event.record_id).await?);
    if let Some(a) = event.actor_id {
        candidates.remove(&a);
    }
    let cache = RoleCache::default();
    let now = Utc::now();
    let mut out = Published::default();
    for user_id in candidates {
        // Blocked or deleted users resolve to an error: they get nothing.
        let Ok(recipient) = actor::for_user(conn, &cache, user_id, None).await else {
            out.dropped.push(user_id);
            continue;
        };
        if recipient
            .authorize(event.resource, Action::View, event.record)
            .is_err()
        {
            out.dropped.push(user_id);
            continue;
        }
        let pref = preference_of(conn, user_id, event.kind).await?;
        let in_app = pref.allows(Channel::InApp);
        let push = pref.allows(Channel::Push);
        if in_app || push {
            notification::Entity::insert(notification::ActiveModel {
                user_id: Set(user_id),
                kind: Set(event.kind.as_str().to_string()),
                title: Set(truncate(&event.title, 300)),
                body: Set(event.body.clone()),
                link: Set(event.link.clone()),
                resource: Set(Some(event.resource.as_str().to_string())),
                record_id: Set(Some(event.record_id)),
                in_app: Set(in_app),
                push: Set(push),
                created_at: Set(now),
                read_at: Set(None),
                ..Default::default()
            })
            .exec(conn)
            .await?;
            out.notified.push(user_id);
        }
        if pref.allows(Channel::Email)
            && let Some(u) = user::Entity::find_by_id(user_id).one(conn).await?
        {
            let mut body = event.body.clone();
            if let Some(link) = &event.link {
                body.push_str(&format!("\n\n{link}"));
            }
            outbox::enqueue(conn, Some(user_id), &u.email, &event.title, &body).await?;
            out.emails += 1;
        }
    }
    Ok(out)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn user_of(actor: &Actor) -> Result<i64> {
    actor.user_id.ok_or_else(|| {
        Denied::Rule("notifications and reminders belong to signed-in users".into()).into()
    })
}

async fn preference_of<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    kind: EventKind,
) -> Result<Preference> {
    let row = preference::Entity::find()
        .filter(preference::Column::UserId.eq(user_id))
        .filter(preference::Column::Kind.eq(kind.as_str()))
        .one(conn)
        .await?;
    Ok(row.map_or_else(
        || kind.default_preference(),
        |r| Preference {
            kind,
            in_app: r.in_app,
            email: r.email,
            push: r.push,
        },
    ))
}

fn to_wire(m: notification::Model) -> Result<Notification> {
    Ok(Notification {
        id: m.id,
        kind: m.kind.parse().map_err(ServiceError::Internal)?,
        title: m.title,
        body: m.body,
        link: m.link,
        resource: m.resource.and_then(|r| r.parse().ok()),
        record_id: m.record_id,
        created_at: m.created_at,
        read_at: m.read_at,
    })
}

/// The caller's in-app notifications: unread first, newest first.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    unread_only: bool,
    paging: Paging,
) -> Result<Page<Notification>> {
    let me = user_of(actor)?;
    let mut q = notification::Entity::find()
        .filter(notification::Column::UserId.eq(me))
        .filter(notification::Column::InApp.eq(true));
    if unread_only {
        q = q.filter(notification::Column::ReadAt.is_null());
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_asc(Expr::cust("CASE WHEN read_at IS NULL THEN 0 ELSE 1 END"))
        .order_by_desc(notification::Column::Id)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    let items = rows.into_iter().map(to_wire).collect::<Result<_>>()?;
    Ok(Page::new(items, total))
}

/// How many in-app notifications the caller has not read.
pub async fn unread_count(db: &DatabaseConnection, actor: &Actor) -> Result<u64> {
    let me = user_of(actor)?;
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(me))
        .filter(notification::Column::InApp.eq(true))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// Marks one of the caller's notifications read (someone else's answers 404).
pub async fn mark_read(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<()> {
    let me = user_of(actor)?;
    let found = notification::Entity::find_by_id(id)
        .filter(notification::Column::UserId.eq(me))
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if found.read_at.is_none() {
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
            .filter(notification::Column::Id.eq(id))
            .filter(notification::Column::ReadAt.is_null())
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Marks all of the caller's notifications read; answers how many changed.
pub async fn mark_all_read(db: &DatabaseConnection, actor: &Actor) -> Result<u64> {
    let me = user_of(actor)?;
    let res = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
        .filter(notification::Column::UserId.eq(me))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// The caller's preferences for every event kind, defaults filled in.
pub async fn preferences(db: &DatabaseConnection, actor: &Actor) -> Result<Preferences> {
    let me = user_of(actor)?;
    let rows = preference::Entity::find()
        .filter(preference::Column::UserId.eq(me))
        .all(db)
        .await?;
    let stored: Vec<Preference> = rows
        .into_iter()
        .filter_map(|r| {
            Some(Preference {
                kind: r.kind.parse().ok()?,
                in_app: r.in_app,
                email: r.email,
                push: r.push,
            })
        })
        .collect();
    Ok(Preferences::merged(&stored))
}

/// Replaces the caller's preferences for the kinds given; answers the full set.
pub async fn set_preferences(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: Preferences,
) -> Result<Preferences> {
    let me = user_of(ctx.actor)?;
    let before = preferences(db, ctx.actor).await?;
    let txn = db.begin().await?;
    let now = Utc::now();
    for p in &input.items {
        preference::Entity::delete_many()
            .filter(preference::Column::UserId.eq(me))
            .filter(preference::Column::Kind.eq(p.kind.as_str()))
            .exec(&txn)
            .await?;
        preference::Entity::insert(preference::ActiveModel {
            user_id: Set(me),
            kind: Set(p.kind.as_str().to_string()),
            in_app: Set(p.in_app),
            email: Set(p.email),
            push: Set(p.push),
            updated_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
    }
    let mut stored = before.items.clone();
    for p in &input.items {
        if let Some(s) = stored.iter_mut().find(|s| s.kind == p.kind) {
            *s = *p;
        }
    }
    let after = Preferences::merged(&stored);
    audit::record(
        &txn,
        ctx,
        Change {
            action: "notification_preferences",
            entity: Resource::Users,
            entity_id: me,
            org_id: Some(ctx.actor.org_id),
            responsible_id: Some(me),
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// A notification to push live: its recipient and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub user_id: i64,
    pub notification: Notification,
}

/// Notifications to push that were written at or after `since`, oldest first (at most 1000).
/// Every instance polls this and forwards what it finds to its own open streams.
pub async fn pushed_since(db: &DatabaseConnection, since: DateTime<Utc>) -> Result<Vec<Pushed>> {
    let rows = notification::Entity::find()
        .filter(notification::Column::Push.eq(true))
        .filter(notification::Column::CreatedAt.gte(since))
        .order_by_asc(notification::Column::Id)
        .limit(1000)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|m| {
            Ok(Pushed {
                user_id: m.user_id,
                notification: to_wire(m)?,
            })
        })
        .collect()
}

const TICKET_TTL_SECS: i64 = 60;

fn hash(ticket: &str) -> String {
    hex::encode(Sha256::digest(ticket.as_bytes()))
}

/// Issues a single-use ticket that opens the live stream for the caller's session. Stored (as a
/// hash) in the database, so any instance can redeem it.
pub async fn issue_stream_ticket(
    db: &DatabaseConnection,
    actor: &Actor,
    session_id: Option<&str>,
) -> Result<StreamTicket> {
    let me = user_of(actor)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let ticket = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = Utc::now();
    let expires_at = now + Duration::seconds(TICKET_TTL_SECS);
    ticket::Entity::delete_many()
        .filter(ticket::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    ticket::Entity::insert(ticket::ActiveModel {
        ticket_hash: Set(hash(&ticket)),
        user_id: Set(me),
        session_id: Set(session_id.map(str::to_string)),
        expires_at: Set(expires_at),
        used_at: Set(None),
        created_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(StreamTicket { ticket, expires_at })
}

/// Redeems a stream ticket once: answers its user and session, or `Unauthenticated`.
pub async fn redeem_stream_ticket(
    db: &DatabaseConnection,
    ticket: &str,
) -> Result<(i64, Option<String>)> {
    let bad = || ServiceError::Unauthenticated("the stream ticket is invalid or used".into());
    let h = hash(ticket);
    let now = Utc::now();
    let res = ticket::Entity::update_many()
        .col_expr(ticket::Column::UsedAt, Expr::value(now))
        .filter(ticket::Column::TicketHash.eq(h.clone()))
        .filter(ticket::Column::UsedAt.is_null())
        .filter(ticket::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(bad());
    }
    let t = ticket::Entity::find_by_id(h)
        .one(db)
        .await?
        .ok_or_else(bad)?;
    Ok((t.user_id, t.session_id))
}
