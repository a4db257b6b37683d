//! Users of the back office, the dealer cabinet and the sales portal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::Id;
use crate::access::{MAX_ACCESS_LEVEL, MIN_ACCESS_LEVEL};
use crate::role::RoleSummary;
use crate::validation::{no_control_chars, not_blank};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Blocked,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Blocked => "blocked",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(UserStatus::Active),
            "blocked" => Some(UserStatus::Blocked),
            _ => None,
        }
    }
}

/// A user as the API shows it. Fields a role's field policy may hide are optional: a hidden field
/// is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Id>,
    /// Name of the user's organisation node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_level: Option<i16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_at: Option<DateTime<Utc>>,
    pub roles: Vec<RoleSummary>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Create a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[validate(email, length(max = 254), custom(function = "no_control_chars"))]
    pub email: String,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub name: String,
    #[validate(custom(function = "crate::validation::password"))]
    pub password: String,
    #[validate(custom(function = "crate::validation::phone"))]
    #[serde(default)]
    pub phone: Option<String>,
    pub org_id: Id,
    #[validate(range(min = MIN_ACCESS_LEVEL, max = MAX_ACCESS_LEVEL))]
    pub access_level: i16,
    #[validate(length(max = 20))]
    #[serde(default)]
    pub role_ids: Vec<Id>,
    #[validate(custom(function = "crate::validation::seller_code"))]
    #[serde(default)]
    pub seller_code: Option<String>,
}

/// Change a user. Absent fields are unchanged; `null` clears an optional field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[validate(email, length(max = 254), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub email: Option<String>,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    #[serde(default)]
    pub name: Option<String>,
    /// `null` clears the phone.
    #[validate(custom(function = "crate::validation::phone"))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub phone: Option<Option<String>>,
    #[serde(default)]
    pub org_id: Option<Id>,
    #[validate(range(min = MIN_ACCESS_LEVEL, max = MAX_ACCESS_LEVEL))]
    #[serde(default)]
    pub access_level: Option<i16>,
    #[serde(default)]
    pub status: Option<UserStatus>,
    /// `null` clears the seller code.
    #[validate(custom(function = "crate::validation::seller_code"))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub seller_code: Option<Option<String>>,
    /// The complete new set of roles. Roles the actor may not grant or revoke are refused.
    #[validate(length(max = 20))]
    #[serde(default)]
    pub role_ids: Option<Vec<Id>>,
}

impl UpdateUser {
    /// The JSON names of the fields this update writes (for field policies).
    pub fn written_fields(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        let mut push = |set: bool, name| {
            if set {
                f.push(name)
            }
        };
        push(self.email.is_some(), "email");
        push(self.name.is_some(), "name");
        push(self.phone.is_some(), "phone");
        push(self.org_id.is_some(), "org_id");
        push(self.access_level.is_some(), "access_level");
        push(self.status.is_some(), "status");
        push(self.seller_code.is_some(), "seller_code");
        push(self.role_ids.is_some(), "role_ids");
        f
    }
}

/// Set a new password for another user (an administrator's reset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    #[validate(custom(function = "crate::validation::password"))]
    pub password: String,
}

/// `Option<Option<T>>` that tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            None => s.serialize_none(),
            Some(inner) => inner.serialize(s),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_null_are_different_in_an_update() {
        let absent: UpdateUser = serde_json::from_str("{}").unwrap_or_default();
        assert_eq!(absent.phone, None);
        let cleared: UpdateUser = serde_json::from_str(r#"{"phone": null}"#).unwrap_or_default();
        assert_eq!(cleared.phone, Some(None));
        assert_eq!(cleared.written_fields(), vec!["phone"]);
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<UpdateUser>(r#"{"is_admin": true}"#).is_err());
    }

    #[test]
    fn a_new_user_is_validated_field_by_field() {
        let u = CreateUser {
            email: "not-an-email".into(),
            name: " ".into(),
            password: "short".into(),
            phone: Some("x".into()),
            org_id: 1,
            access_level: 9,
            role_ids: vec![],
            seller_code: None,
        };
        let errs = u
            .validate()
            .map_err(|e| crate::validation::field_errors(&e));
        let fields: Vec<String> = errs
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        for f in ["access_level", "email", "name", "password", "phone"] {
            assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
        }
    }
}
