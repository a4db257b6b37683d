//! API keys for integrations: a secret shown once, scoped to a role and an organisation node.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::Id;
use crate::validation::{no_control_chars, not_blank};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: Id,
    pub name: String,
    /// The public part of the key, shown so people can tell keys apart.
    pub prefix: String,
    pub role_id: Id,
    pub role_code: String,
    pub org_id: Id,
    pub created_by: Option<Id>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    #[validate(
        length(min = 1, max = 100),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub name: String,
    pub role_id: Id,
    pub org_id: Id,
}

/// The answer to creating a key: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    pub key: ApiKey,
    /// Send as `Authorization: Bearer <secret>` or `X-Api-Key: <secret>`. Not retrievable later.
    pub secret: String,
}
