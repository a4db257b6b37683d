//! Reminders: the owner's CRUD (administrators reach others' per the `reminders` policy) and the
//! scheduler's claim-and-deliver step.
//!
//! Delivery is exactly once across instances: due reminders are selected `FOR UPDATE SKIP
//! LOCKED` on PostgreSQL, and each is claimed by a conditional `UPDATE … WHERE version = ?`
//! (the only claim SQLite needs: its single writer connection serialises transactions). The
//! claim, the notification rows and the queued e-mails commit in one transaction.

use chrono::{DateTime, Duration, Utc};
use dealernet_domain::access::{Action, EffectiveAccess, Resource};
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::notifications::EventKind;
use dealernet_domain::org::OrgPath;
use dealernet_domain::policy::{Actor, RecordRef};
use dealernet_domain::reminders::{
    CreateReminder, Reminder, ReminderState, Repeat, TargetKind, UpdateReminder,
};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::entity::reminder;
use super::{Event, publish, targets, user_of};
use crate::audit::{self, Change};
use crate::context::{Ctx, RequestMeta};
use crate::error::{Result, ServiceError};
use crate::{orgs, scope};

fn to_wire(m: reminder::Model) -> Result<Reminder> {
    let bad = |what: &str, v: &str| ServiceError::Internal(format!("reminder {what} `{v}`"));
    Ok(Reminder {
        id: m.id,
        owner_id: m.owner_id,
        repeat: m
            .repeat_every
            .parse()
            .map_err(|_| bad("repeat", &m.repeat_every))?,
        target_kind: m
            .target_kind
            .parse()
            .map_err(|_| bad("target", &m.target_kind))?,
        state: ReminderState::parse(&m.state).ok_or_else(|| bad("state", &m.state))?,
        title: m.title,
        note: m.note,
        due_at: m.due_at,
        target_id: m.target_id,
        target_label: m.target_label,
        link: m.link,
        fired_at: m.fired_at,
        done_at: m.done_at,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn snapshot(m: &reminder::Model) -> serde_json::Value {
    serde_json::json!({
        "owner_id": m.owner_id, "title": m.title, "note": m.note, "due_at": m.due_at,
        "repeat": m.repeat_every, "target_kind": m.target_kind, "target_id": m.target_id,
        "state": m.state,
    })
}

async fn path_of<C: ConnectionTrait>(conn: &C, m: &reminder::Model) -> Result<OrgPath> {
    orgs::path(conn, m.org_id)
        .await?
        .ok_or_else(|| ServiceError::Internal(format!("node {} of reminder missing", m.org_id)))
}

/// Loads a reminder the actor may `action` (404 when outside the actor's view).
async fn load_visible<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<reminder::Model> {
    let m = reminder::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let path = path_of(conn, &m).await?;
    actor.authorize(
        Resource::Reminders,
        action,
        RecordRef {
            org_path: &path,
            responsible_id: Some(m.owner_id),
        },
    )?;
    Ok(m)
}

/// Creates a reminder owned by the caller.
pub async fn create(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: CreateReminder,
) -> Result<Reminder> {
    let actor = ctx.actor;
    let me = user_of(actor)?;
    actor.authorize_create(Resource::Reminders, &actor.org_path)?;
    let txn = db.begin().await?;
    let target = targets::resolve(&txn, actor, input.target_kind, input.target_id).await?;
    let now = Utc::now();
    let m = reminder::ActiveModel {
        owner_id: Set(me),
        org_id: Set(actor.org_id),
        title: Set(input.title.trim().to_string()),
        note: Set(input.note),
        due_at: Set(input.due_at),
        repeat_every: Set(input.repeat.as_str().to_string()),
        target_kind: Set(target.kind.as_str().to_string()),
        target_id: Set(target.id),
        target_label: Set(target.label),
        link: Set(target.link),
        state: Set(ReminderState::Scheduled.as_str().to_string()),
        fired_at: Set(None),
        done_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "create",
            entity: Resource::Reminders,
            entity_id: m.id,
            org_id: Some(m.org_id),
            responsible_id: Some(me),
            before: None,
            after: Some(snapshot(&m)),
        },
    )
    .await?;
    txn.commit().await?;
    to_wire(m)
}

pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<Reminder> {
    to_wire(load_visible(db, actor, id, Action::View).await?)
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ReminderFilter {
    /// Only this owner's reminders; `None` means the caller's own.
    pub owner_id: Option<i64>,
    /// Every owner the caller may see (administrators).
    pub any_owner: bool,
    pub state: Option<ReminderState>,
    pub due_before: Option<DateTime<Utc>>,
    pub due_after: Option<DateTime<Utc>>,
    pub target_kind: Option<TargetKind>,
    pub target_id: Option<i64>,
}

/// Reminders the caller may see, soonest first.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &ReminderFilter,
    paging: Paging,
) -> Result<Page<Reminder>> {
    actor.require(Resource::Reminders, Action::View)?;
    let visibility = actor.visibility(Resource::Reminders, Action::View);
    let mut q = reminder::Entity::find().filter(scope::condition(
        &visibility,
        reminder::Column::OrgId,
        Some(reminder::Column::OwnerId),
    ));
    if !filter.any_owner {
        let owner = match filter.owner_id {
            Some(o) => o,
            None => user_of(actor)?,
        };
        q = q.filter(reminder::Column::OwnerId.eq(owner));
    }
    if let Some(s) = filter.state {
        q = q.filter(reminder::Column::State.eq(s.as_str()));
    }
    if let Some(t) = filter.due_before {
        q = q.filter(reminder::Column::DueAt.lt(t));
    }
    if let Some(t) = filter.due_after {
        q = q.filter(reminder::Column::DueAt.gte(t));
    }
    if let Some(k) = filter.target_kind {
        q = q.filter(reminder::Column::TargetKind.eq(k.as_str()));
    }
    if let Some(id) = filter.target_id {
        q = q.filter(reminder::Column::TargetId.eq(id));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_asc(reminder::Column::DueAt)
        .order_by_asc(reminder::Column::Id)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    let items = rows.into_iter().map(to_wire).collect::<Result<_>>()?;
    Ok(Page::new(items, total))
}

/// The caller's reminders for today: not done and due before the end of the caller's local day
/// (`utc_offset_minutes` east of UTC), overdue ones included. At most 100, soonest first.
pub async fn today(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    utc_offset_minutes: i32,
) -> Result<Vec<Reminder>> {
    let me = user_of(actor)?;
    actor.require(Resource::Reminders, Action::View)?;
    let offset = Duration::minutes(i64::from(utc_offset_minutes.clamp(-14 * 60, 14 * 60)));
    let local = now + offset;
    let end_local = local
        .date_naive()
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| ServiceError::Internal("date out of range".into()))?;
    let end = end_local.and_utc() - offset;
    let rows = reminder::Entity::find()
        .filter(reminder::Column::OwnerId.eq(me))
        .filter(reminder::Column::State.ne(ReminderState::Done.as_str()))
        .filter(reminder::Column::DueAt.lt(end))
        .order_by_asc(reminder::Column::DueAt)
        .limit(100)
        .all(db)
        .await?;
    rows.into_iter().map(to_wire).collect()
}

/// Changes a reminder. A new due time or repeat schedules it again; a done reminder stays done.
pub async fn update(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: UpdateReminder,
    if_match: Option<i32>,
) -> Result<Reminder> {
    let txn = db.begin().await?;
    let m = load_visible(&txn, ctx.actor, id, Action::Edit).await?;
    if if_match.is_some_and(|v| v != m.version) {
        return Err(ServiceError::StaleVersion);
    }
    let reschedules = input.due_at.is_some() || input.repeat.is_some();
    if reschedules && m.state == ReminderState::Done.as_str() {
        return Err(ServiceError::conflict(
            "the reminder is done; create a new one",
            Some(id),
        ));
    }
    let before = snapshot(&m);
    let mut am: reminder::ActiveModel = m.clone().into();
    if let Some(t) = &input.title {
        am.title = Set(t.trim().to_string());
    }
    if let Some(n) = input.note {
        am.note = Set(n);
    }
    if let Some(d) = input.due_at {
        am.due_at = Set(d);
    }
    if let Some(r) = input.repeat {
        am.repeat_every = Set(r.as_str().to_string());
    }
    if reschedules {
        am.state = Set(ReminderState::Scheduled.as_str().to_string());
    }
    am.version = Set(m.version + 1);
    am.updated_at = Set(Utc::now());
    let res = reminder::Entity::update_many()
        .set(am)
        .filter(reminder::Column::Id.eq(id))
        .filter(reminder::Column::Version.eq(m.version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ServiceError::StaleVersion);
    }
    let after = reminder::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "update",
            entity: Resource::Reminders,
            entity_id: id,
            org_id: Some(after.org_id),
            responsible_id: Some(after.owner_id),
            before: Some(before),
            after: Some(snapshot(&after)),
        },
    )
    .await?;
    txn.commit().await?;
    to_wire(after)
}

/// Marks a reminder done: it never fires again (a repeating one stops repeating).
pub async fn mark_done(db: &DatabaseConnection, ctx: Ctx<'_>, id: i64) -> Result<Reminder> {
    let txn = db.begin().await?;
    let m = load_visible(&txn, ctx.actor, id, Action::Edit).await?;
    if m.state == ReminderState::Done.as_str() {
        txn.commit().await?;
        return to_wire(m);
    }
    let now = Utc::now();
    let res = reminder::Entity::update_many()
        .col_expr(
            reminder::Column::State,
            Expr::value(ReminderState::Done.as_str()),
        )
        .col_expr(reminder::Column::DoneAt, Expr::value(now))
        .col_expr(reminder::Column::Version, Expr::value(m.version + 1))
        .col_expr(reminder::Column::UpdatedAt, Expr::value(now))
        .filter(reminder::Column::Id.eq(id))
        .filter(reminder::Column::Version.eq(m.version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ServiceError::StaleVersion);
    }
    let after = reminder::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "done",
            entity: Resource::Reminders,
            entity_id: id,
            org_id: Some(after.org_id),
            responsible_id: Some(after.owner_id),
            before: Some(snapshot(&m)),
            after: Some(snapshot(&after)),
        },
    )
    .await?;
    txn.commit().await?;
    to_wire(after)
}

pub async fn delete(db: &DatabaseConnection, ctx: Ctx<'_>, id: i64) -> Result<()> {
    let txn = db.begin().await?;
    let m = load_visible(&txn, ctx.actor, id, Action::Delete).await?;
    reminder::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "delete",
            entity: Resource::Reminders,
            entity_id: id,
            org_id: Some(m.org_id),
            responsible_id: Some(m.owner_id),
            before: Some(snapshot(&m)),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The scheduler as an audit actor.
fn scheduler_actor(m: &reminder::Model, path: &OrgPath) -> Actor {
    Actor {
        user_id: None,
        api_key_id: None,
        name: "scheduler".into(),
        org_id: m.org_id,
        org_path: path.clone(),
        access_level: 0,
        access: EffectiveAccess::default(),
    }
}

/// Claims and delivers up to `batch` reminders due at `now`, in one transaction; answers the
/// ids delivered. Safe to run from any number of instances at once.
pub async fn deliver_due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    batch: u64,
) -> Result<Vec<i64>> {
    let txn = db.begin().await?;
    let mut q = reminder::Entity::find()
        .filter(reminder::Column::State.eq(ReminderState::Scheduled.as_str()))
        .filter(reminder::Column::DueAt.lte(now))
        .order_by_asc(reminder::Column::DueAt)
        .order_by_asc(reminder::Column::Id)
        .limit(batch);
    if txn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let due = q.all(&txn).await?;
    let meta = RequestMeta::default();
    let mut delivered = Vec::with_capacity(due.len());
    for m in due {
        let repeat: Repeat = m.repeat_every.parse().unwrap_or_default();
        let next = repeat.next_after(m.due_at, now);
        let (state, due_at) = match next {
            Some(n) => (ReminderState::Scheduled, n),
            None => (ReminderState::Fired, m.due_at),
        };
        let claimed = reminder::Entity::update_many()
            .col_expr(reminder::Column::State, Expr::value(state.as_str()))
            .col_expr(reminder::Column::DueAt, Expr::value(due_at))
            .col_expr(reminder::Column::FiredAt, Expr::value(now))
            .col_expr(reminder::Column::Version, Expr::value(m.version + 1))
            .col_expr(reminder::Column::UpdatedAt, Expr::value(now))
            .filter(reminder::Column::Id.eq(m.id))
            .filter(reminder::Column::Version.eq(m.version))
            .filter(reminder::Column::State.eq(ReminderState::Scheduled.as_str()))
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        let path = path_of(&txn, &m).await?;
        let mut body = m.note.clone();
        if let Some(label) = &m.target_label {
            if !body.is_empty() {
                body.push('\n');
            }
            body.push_str(label);
        }
        publish(
            &txn,
            Event {
                kind: EventKind::Reminder,
                resource: Resource::Reminders,
                record: RecordRef {
                    org_path: &path,
                    responsible_id: Some(m.owner_id),
                },
                record_id: m.id,
                title: m.title.clone(),
                body,
                link: m.link.clone().or_else(|| Some("/reminders".into())),
                recipients: vec![],
                actor_id: None,
            },
        )
        .await?;
        let system = scheduler_actor(&m, &path);
        audit::record(
            &txn,
            Ctx {
                actor: &system,
                meta: &meta,
            },
            Change {
                action: "deliver",
                entity: Resource::Reminders,
                entity_id: m.id,
                org_id: Some(m.org_id),
                responsible_id: Some(m.owner_id),
                before: Some(snapshot(&m)),
                after: Some(serde_json::json!({
                    "state": state.as_str(), "due_at": due_at, "fired_at": now,
                })),
            },
        )
        .await?;
        delivered.push(m.id);
    }
    txn.commit().await?;
    Ok(delivered)
}

/// Demo data: a few reminders for the demo administrator (the caller of `ctx`).
pub async fn seed_notifications(db: &DatabaseConnection, ctx: Ctx<'_>) -> Result<()> {
    let now = Utc::now();
    let samples = [
        (
            "Call the Central region about the quarterly plan",
            Duration::hours(2),
            Repeat::None,
        ),
        (
            "Review new dealer applications",
            Duration::days(1),
            Repeat::Weekly,
        ),
        (
            "Check overdue installation requests",
            Duration::minutes(-30),
            Repeat::Daily,
        ),
    ];
    for (title, offset, repeat) in samples {
        create(
            db,
            ctx,
            CreateReminder {
                title: title.into(),
                note: String::new(),
                due_at: now + offset,
                repeat,
                target_kind: TargetKind::Personal,
                target_id: None,
            },
        )
        .await?;
    }
    Ok(())
}
