//! Server secrets kept in the database, so every instance on one database shares them.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

use crate::entities::app_secret;
use crate::error::{Result, ServiceError};

/// Returns the secret `name`, creating it with `generate` on first use. Concurrent first starts
/// agree on one value: the insert does nothing on conflict and everyone reads what won.
pub async fn get_or_create(
    db: &DatabaseConnection,
    name: &str,
    generate: impl FnOnce() -> String,
) -> Result<String> {
    if let Some(s) = app_secret::Entity::find_by_id(name.to_string())
        .one(db)
        .await?
    {
        return Ok(s.value);
    }
    let row = app_secret::ActiveModel {
        name: Set(name.to_string()),
        value: Set(generate()),
        created_at: Set(Utc::now()),
    };
    app_secret::Entity::insert(row)
        .on_conflict_do_nothing_on([app_secret::Column::Name])
        .exec(db)
        .await?;
    app_secret::Entity::find_by_id(name.to_string())
        .one(db)
        .await?
        .map(|s| s.value)
        .ok_or_else(|| ServiceError::Internal(format!("secret {name} vanished")))
}
