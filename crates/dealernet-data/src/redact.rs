//! Applying field policies to typed records.

use dealernet_domain::access::Resource;
use dealernet_domain::policy::Actor;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The record with the fields the actor may not see removed. Only fields that are optional on
/// the wire can be hidden (see `Resource::policy_fields`), so the round trip succeeds; the test
/// below proves it for every policy field.
pub fn redacted<T: Serialize + DeserializeOwned + Clone>(
    actor: &Actor,
    resource: Resource,
    record: T,
) -> T {
    if !actor.access.hides_any(resource) {
        return record;
    }
    let Ok(mut value) = serde_json::to_value(&record) else {
        return record;
    };
    actor.redact(resource, &mut value);
    match serde_json::from_value(value) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(%resource, error = %e, "field policy produced an invalid record");
            record
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dealernet_domain::access::{
        Action, EffectiveAccess, FieldMode, FieldPolicy, Permission, RecordScope, RoleGrant,
    };
    use dealernet_domain::org::OrgPath;
    use dealernet_domain::user::User;

    #[test]
    fn every_policy_field_of_a_user_can_be_hidden() {
        for field in Resource::Users.policy_fields() {
            let role = RoleGrant {
                scope: RecordScope::All,
                permissions: vec![Permission::new(Resource::Users, Action::View)],
                field_policies: vec![FieldPolicy {
                    resource: Resource::Users,
                    field: field.to_string(),
                    mode: FieldMode::Hidden,
                }],
                back_office: true,
            };
            let actor = Actor {
                user_id: Some(1),
                api_key_id: None,
                name: "t".into(),
                org_id: 1,
                org_path: OrgPath::root(1),
                access_level: 8,
                access: EffectiveAccess::from_roles([&role]),
            };
            let user = User {
                id: 1,
                email: Some("a@b.c".into()),
                name: Some("N".into()),
                phone: Some("+100000".into()),
                org_id: Some(1),
                org_name: Some("Root".into()),
                access_level: Some(3),
                status: Some(dealernet_domain::user::UserStatus::Active),
                seller_code: Some("S-1".into()),
                last_login_at: Some(chrono::Utc::now()),
                roles: vec![],
                version: 1,
                created_at: chrono::Utc::now(),
                updated_at: chrono::Utc::now(),
            };
            let out = redacted(&actor, Resource::Users, user.clone());
            let v = serde_json::to_value(&out).unwrap_or_default();
            assert!(v.get(field).is_none(), "{field} still visible");
            assert_ne!(out, user);
        }
    }
}
