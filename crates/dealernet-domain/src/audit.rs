//! The audit trail: who changed what, when, from where.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Id;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: Id,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_user_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_api_key_id: Option<Id>,
    /// The actor's name at the time, for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    /// e.g. `create`, `update`, `block`, `grant_role`, `login`.
    pub action: String,
    /// e.g. `users`, `orgs`, `roles`, `api_keys`.
    pub entity: String,
    pub entity_id: Id,
    /// Values before the change (absent on create); hidden fields are removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    /// Values after the change (absent on delete); hidden fields are removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
    /// The names of the fields that changed.
    pub changed: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
}

/// The names of the top-level fields that differ between two JSON objects.
pub fn changed_fields(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Vec<String> {
    use serde_json::Value;
    let empty = serde_json::Map::new();
    let obj = |v: Option<&Value>| match v {
        Some(Value::Object(m)) => m.clone(),
        _ => empty.clone(),
    };
    let (b, a) = (obj(before), obj(after));
    let mut keys: Vec<String> = b.keys().chain(a.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().filter(|k| b.get(k) != a.get(k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fields_that_differ_are_listed() {
        let b = serde_json::json!({"name": "A", "phone": "1", "gone": true});
        let a = serde_json::json!({"name": "B", "phone": "1", "new": 2});
        assert_eq!(
            changed_fields(Some(&b), Some(&a)),
            vec!["gone", "name", "new"]
        );
        assert_eq!(changed_fields(None, Some(&a)), vec!["name", "new", "phone"]);
    }
}
