//! `Idempotency-Key` records: the first response to a keyed POST is stored and replayed to any
//! repeat, so a retried request never creates twice.

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use crate::entities::idempotency_key;
use crate::error::{Result, is_unique_violation};

/// How long a key is remembered.
pub const RETENTION_HOURS: i64 = 24;

/// A stored response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// First use: run the request, then [`complete`] (or [`abandon`]) record `id`.
    Started { id: i64 },
    /// A repeat: answer with the stored response.
    Replay(StoredResponse),
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

pub async fn begin(
    db: &DatabaseConnection,
    actor: &str,
    key: &str,
    method: &str,
    path: &str,
    request_hash: &str,
) -> Result<Begin> {
    let now = Utc::now();
    let inserted = idempotency_key::ActiveModel {
        actor: Set(actor.to_string()),
        idem_key: Set(key.to_string()),
        method: Set(method.to_string()),
        path: Set(path.chars().take(500).collect()),
        request_hash: Set(request_hash.to_string()),
        status_code: Set(None),
        response_headers: Set(None),
        response_body: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(m) => Ok(Begin::Started { id: m.id }),
        Err(e) if is_unique_violation(&e) => {
            let Some(existing) = idempotency_key::Entity::find()
                .filter(idempotency_key::Column::Actor.eq(actor))
                .filter(idempotency_key::Column::IdemKey.eq(key))
                .one(db)
                .await?
            else {
                // Abandoned between our insert and this read: treat as still running.
                return Ok(Begin::InProgress);
            };
            if existing.request_hash != request_hash || existing.method != method {
                return Ok(Begin::Mismatch);
            }
            match (existing.status_code, existing.response_body) {
                (Some(status), Some(body)) => Ok(Begin::Replay(StoredResponse {
                    status: u16::try_from(status).unwrap_or(500),
                    headers: existing
                        .response_headers
                        .and_then(|h| serde_json::from_str(&h).ok())
                        .unwrap_or_default(),
                    body,
                })),
                _ => Ok(Begin::InProgress),
            }
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn complete(db: &DatabaseConnection, id: i64, response: &StoredResponse) -> Result<()> {
    let headers = serde_json::to_string(&response.headers).unwrap_or_else(|_| "[]".into());
    idempotency_key::ActiveModel {
        id: Set(id),
        status_code: Set(Some(i32::from(response.status))),
        response_headers: Set(Some(headers)),
        response_body: Set(Some(response.body.clone())),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Forgets a started key (the request failed on the server side), so a retry may run again.
pub async fn abandon(db: &DatabaseConnection, id: i64) -> Result<()> {
    idempotency_key::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Deletes keys older than the retention period.
pub async fn purge_expired(db: &DatabaseConnection) -> Result<u64> {
    let cutoff = Utc::now() - Duration::hours(RETENTION_HOURS);
    let res = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
