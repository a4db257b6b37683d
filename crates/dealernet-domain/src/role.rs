//! Roles: named sets of permissions with a record scope and field policies. Roles are data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationError};

use crate::Id;
use crate::access::{FieldPolicy, MAX_ACCESS_LEVEL, MIN_ACCESS_LEVEL, Permission, RecordScope};
use crate::validation::{no_control_chars, not_blank};

/// A role in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Role {
    pub id: Id,
    /// Stable identifier, e.g. `dealer_admin`.
    pub code: String,
    pub name: String,
    pub description: String,
    /// The access level a user needs to hold or grant this role.
    pub level: i16,
    pub scope: RecordScope,
    pub permissions: Vec<Permission>,
    pub field_policies: Vec<FieldPolicy>,
    /// Whether holders may enter the back office.
    pub back_office: bool,
    pub builtin: bool,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// A role as it appears on a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleSummary {
    pub id: Id,
    pub code: String,
    pub name: String,
    pub level: i16,
}

/// Create a role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "field_policies_are_known"))]
pub struct CreateRole {
    #[validate(length(min = 2, max = 50), custom(function = "role_code"))]
    pub code: String,
    #[validate(
        length(min = 1, max = 100),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub name: String,
    #[validate(length(max = 1000), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub description: String,
    #[validate(range(min = MIN_ACCESS_LEVEL, max = MAX_ACCESS_LEVEL))]
    pub level: i16,
    pub scope: RecordScope,
    #[validate(length(max = 200))]
    pub permissions: Vec<Permission>,
    #[validate(length(max = 200))]
    #[serde(default)]
    pub field_policies: Vec<FieldPolicy>,
    #[serde(default)]
    pub back_office: bool,
}

/// Change a role. Absent fields are unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "update_field_policies_are_known"))]
pub struct UpdateRole {
    #[validate(
        length(min = 1, max = 100),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    #[serde(default)]
    pub name: Option<String>,
    #[validate(length(max = 1000), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub description: Option<String>,
    #[validate(range(min = MIN_ACCESS_LEVEL, max = MAX_ACCESS_LEVEL))]
    #[serde(default)]
    pub level: Option<i16>,
    #[serde(default)]
    pub scope: Option<RecordScope>,
    #[validate(length(max = 200))]
    #[serde(default)]
    pub permissions: Option<Vec<Permission>>,
    #[validate(length(max = 200))]
    #[serde(default)]
    pub field_policies: Option<Vec<FieldPolicy>>,
    #[serde(default)]
    pub back_office: Option<bool>,
}

fn role_code(code: &str) -> Result<(), ValidationError> {
    if code
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && code.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
    {
        Ok(())
    } else {
        let mut e = ValidationError::new("role_code");
        e.message = Some(
            "must be lower-case letters, digits and underscores, starting with a letter".into(),
        );
        Err(e)
    }
}

fn check_field_policies(policies: &[FieldPolicy]) -> Result<(), ValidationError> {
    for fp in policies {
        if !fp.resource.policy_fields().contains(&fp.field.as_str()) {
            let mut e = ValidationError::new("field_policy");
            e.message = Some(
                format!(
                    "{} has no field `{}` that a policy may restrict (allowed: {})",
                    fp.resource,
                    fp.field,
                    fp.resource.policy_fields().join(", ")
                )
                .into(),
            );
            return Err(e);
        }
    }
    Ok(())
}

fn field_policies_are_known(role: &CreateRole) -> Result<(), ValidationError> {
    check_field_policies(&role.field_policies)
}

fn update_field_policies_are_known(role: &UpdateRole) -> Result<(), ValidationError> {
    role.field_policies
        .as_deref()
        .map_or(Ok(()), check_field_policies)
}
