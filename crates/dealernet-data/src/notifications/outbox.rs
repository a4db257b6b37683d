//! The e-mail outbox: [`enqueue`] writes a message in the caller's transaction; the mail worker
//! claims due messages ([`claim`]), sends them and records the outcome. A claim is a lease: a
//! worker that dies mid-send leaves the message to be claimed again when the lease ends.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::entity::outbox;
use crate::error::Result;

/// Attempts before a message is given up.
pub const MAX_ATTEMPTS: i32 = 5;
const LEASE_SECS: i64 = 120;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub attempts: i32,
}

/// Queues an e-mail on `conn` (pass the transaction of the change that causes it).
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    user_id: Option<i64>,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<()> {
    let now = Utc::now();
    outbox::Entity::insert(outbox::ActiveModel {
        user_id: Set(user_id),
        to_address: Set(to.to_string()),
        subject: Set(subject.chars().take(300).collect()),
        body: Set(body.to_string()),
        state: Set("pending".into()),
        attempts: Set(0),
        last_error: Set(None),
        next_attempt_at: Set(now),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// Claims up to `limit` messages due at `now` (each by one worker only, across instances).
pub async fn claim(db: &DatabaseConnection, now: DateTime<Utc>, limit: u64) -> Result<Vec<Mail>> {
    let txn = db.begin().await?;
    let mut q = outbox::Entity::find()
        .filter(
            Condition::any()
                .add(outbox::Column::State.eq("pending"))
                .add(outbox::Column::State.eq("sending")),
        )
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(outbox::Column::Id)
        .limit(limit);
    if txn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let rows = q.all(&txn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        // The conditional update is the claim: only one worker moves `attempts` on.
        let res = outbox::Entity::update_many()
            .col_expr(outbox::Column::State, Expr::value("sending"))
            .col_expr(outbox::Column::Attempts, Expr::value(r.attempts + 1))
            .col_expr(
                outbox::Column::NextAttemptAt,
                Expr::value(now + Duration::seconds(LEASE_SECS)),
            )
            .filter(outbox::Column::Id.eq(r.id))
            .filter(outbox::Column::Attempts.eq(r.attempts))
            .exec(&txn)
            .await?;
        if res.rows_affected == 1 {
            out.push(Mail {
                id: r.id,
                to: r.to_address,
                subject: r.subject,
                body: r.body,
                attempts: r.attempts + 1,
            });
        }
    }
    txn.commit().await?;
    Ok(out)
}

/// Records a message as sent.
pub async fn mark_sent(db: &DatabaseConnection, id: i64) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value("sent"))
        .col_expr(outbox::Column::SentAt, Expr::value(Utc::now()))
        .col_expr(outbox::Column::LastError, Expr::value(None::<String>))
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records a failed attempt: retried later with back-off, given up after [`MAX_ATTEMPTS`].
/// `state` is `skipped` when no mail server is configured.
pub async fn mark_failed(
    db: &DatabaseConnection,
    mail: &Mail,
    error: &str,
    skipped: bool,
) -> Result<()> {
    let state = if skipped {
        "skipped"
    } else if mail.attempts >= MAX_ATTEMPTS {
        "failed"
    } else {
        "pending"
    };
    let retry = Utc::now() + Duration::seconds(30 * i64::from(mail.attempts.max(1)));
    outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(state))
        .col_expr(
            outbox::Column::LastError,
            Expr::value(Some(error.chars().take(1000).collect::<String>())),
        )
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(retry))
        .filter(outbox::Column::Id.eq(mail.id))
        .exec(db)
        .await?;
    Ok(())
}
