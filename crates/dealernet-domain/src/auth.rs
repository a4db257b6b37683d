//! Signing in and out, tokens, sessions and the caller's own profile.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::Id;
use crate::access::{Action, FieldMode, Resource};
use crate::role::RoleSummary;
use crate::validation::no_control_chars;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 254), custom(function = "no_control_chars"))]
    pub email: String,
    #[validate(length(min = 1, max = 128))]
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 200))]
    pub refresh_token: String,
}

/// Logging out revokes the session of the given refresh token, or of the access token used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    #[validate(length(min = 1, max = 200))]
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// Tokens issued by login and refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// An opaque token for `POST /auth/refresh`; single use, rotated on every refresh.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// A permission the caller holds, with its scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grant {
    pub resource: Resource,
    pub action: Action,
    pub scope: crate::access::RecordScope,
}

/// A field the caller may not see or write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldRestriction {
    pub resource: Resource,
    pub field: String,
    pub mode: FieldMode,
}

/// The caller: who it is and what it may do. The SPA builds its navigation from this alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: Id,
    pub email: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub access_level: i16,
    pub org_id: Id,
    pub org_name: String,
    pub org_kind: crate::org::OrgKind,
    pub org_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_code: Option<String>,
    pub roles: Vec<RoleSummary>,
    pub permissions: Vec<Grant>,
    pub field_restrictions: Vec<FieldRestriction>,
    /// Whether the back office is open to the caller (sellers use the sales portal only).
    pub back_office: bool,
}

impl Me {
    pub fn can(&self, resource: Resource, action: Action) -> bool {
        self.permissions
            .iter()
            .any(|g| g.resource == resource && g.action == action)
    }

    pub fn field_mode(&self, resource: Resource, field: &str) -> Option<FieldMode> {
        self.field_restrictions
            .iter()
            .find(|f| f.resource == resource && f.field == field)
            .map(|f| f.mode)
    }
}

/// Change one's own password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    #[validate(length(min = 1, max = 128))]
    pub current_password: String,
    #[validate(custom(function = "crate::validation::password"))]
    pub new_password: String,
}

/// A signed-in session (a refresh-token family).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// Change one's own details. Absent fields are unchanged; `null` clears the phone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::validation::not_blank"),
        custom(function = "no_control_chars")
    )]
    #[serde(default)]
    pub name: Option<String>,
    #[validate(custom(function = "crate::validation::phone"))]
    #[serde(default, with = "crate::user::double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub phone: Option<Option<String>>,
}
