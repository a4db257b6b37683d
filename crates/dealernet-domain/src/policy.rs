//! The one policy layer: every decision about who may do what to which record is made here.
//!
//! The API asks [`Actor::authorize`] before acting, list queries ask [`Actor::visibility`] for the
//! records the actor may see (the data layer turns that into SQL), and responses pass through
//! [`Actor::redact`] so hidden fields never leave the server. Everything here is pure.

use serde_json::Value;

use crate::Id;
use crate::access::{Action, EffectiveAccess, FieldMode, RecordScope, Resource};
use crate::org::OrgPath;

/// Who is acting: a signed-in user or an API key, with the effective access of its roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<Id>,
    pub api_key_id: Option<Id>,
    /// Display name, for the audit trail.
    pub name: String,
    pub org_id: Id,
    pub org_path: OrgPath,
    pub access_level: i16,
    pub access: EffectiveAccess,
}

/// Where a record sits, as far as the policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    pub org_path: &'a OrgPath,
    /// The user responsible for the record (its manager, or the user itself for user records).
    pub responsible_id: Option<Id>,
}

/// The records an actor may see of a resource: what a list query is filtered by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    All,
    Subtree(OrgPath),
    Responsible(Id),
    Nothing,
}

/// Why the policy said no.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The actor has no such permission at all: 403.
    #[error("you may not {action} {resource}")]
    Forbidden { resource: Resource, action: Action },
    /// The record exists but is outside what the actor may see: answer as if it did not exist (404).
    #[error("not found")]
    OutOfScope,
    /// The actor may see the record but not do this to it: 403.
    #[error("{0}")]
    Rule(String),
    /// A read-only field was written: 403 naming the field.
    #[error("field `{field}` of {resource} is read-only for you")]
    ReadOnlyField { resource: Resource, field: String },
}

impl Actor {
    /// Whether the actor holds the permission with any scope.
    pub fn can(&self, resource: Resource, action: Action) -> bool {
        self.access.scope(resource, action).is_some()
    }

    /// The scope of a permission, or 403 when the actor lacks it.
    pub fn require(&self, resource: Resource, action: Action) -> Result<RecordScope, Denied> {
        self.access
            .scope(resource, action)
            .ok_or(Denied::Forbidden { resource, action })
    }

    /// Which records of `resource` the actor may `action`.
    pub fn visibility(&self, resource: Resource, action: Action) -> Visibility {
        match self.access.scope(resource, action) {
            None => Visibility::Nothing,
            Some(RecordScope::All) => Visibility::All,
            Some(RecordScope::Subtree) => Visibility::Subtree(self.org_path.clone()),
            Some(RecordScope::Own) => match self.user_id {
                Some(id) => Visibility::Responsible(id),
                None => Visibility::Nothing,
            },
        }
    }

    fn reaches(&self, scope: RecordScope, record: RecordRef<'_>) -> bool {
        match scope {
            RecordScope::All => true,
            RecordScope::Subtree => record.org_path.is_within(&self.org_path),
            RecordScope::Own => self.user_id.is_some() && record.responsible_id == self.user_id,
        }
    }

    /// May the actor do `action` to this record? A record the actor cannot even view answers
    /// [`Denied::OutOfScope`] (404), so that its existence is not revealed.
    pub fn authorize(
        &self,
        resource: Resource,
        action: Action,
        record: RecordRef<'_>,
    ) -> Result<(), Denied> {
        let visible = self
            .access
            .scope(resource, Action::View)
            .is_some_and(|s| self.reaches(s, record));
        if !visible {
            return Err(Denied::OutOfScope);
        }
        let scope = self.require(resource, action)?;
        if self.reaches(scope, record) {
            Ok(())
        } else {
            Err(Denied::Forbidden { resource, action })
        }
    }

    /// May the actor create a record of `resource` under the node at `org_path`?
    pub fn authorize_create(&self, resource: Resource, org_path: &OrgPath) -> Result<(), Denied> {
        let scope = self.require(resource, Action::Create)?;
        let inside = match scope {
            RecordScope::All => true,
            RecordScope::Subtree | RecordScope::Own => org_path.is_within(&self.org_path),
        };
        if inside {
            Ok(())
        } else if self
            .access
            .scope(resource, Action::View)
            .is_some_and(|s| s == RecordScope::All)
        {
            Err(Denied::Rule(
                "you may only create records inside your own organisation".into(),
            ))
        } else {
            Err(Denied::OutOfScope)
        }
    }

    /// May the actor give someone access level `level` (or grant a role of that level)?
    pub fn authorize_level(&self, level: i16) -> Result<(), Denied> {
        if level <= self.access_level {
            Ok(())
        } else {
            Err(Denied::Rule(format!(
                "you may only grant access level {} or below",
                self.access_level
            )))
        }
    }

    /// Removes the fields the actor may not see from a serialised record.
    pub fn redact(&self, resource: Resource, value: &mut Value) {
        let Some(fields) = self.access.fields.get(&resource) else {
            return;
        };
        if let Value::Object(map) = value {
            for (field, mode) in fields {
                if *mode == FieldMode::Hidden {
                    map.remove(field);
                }
            }
        }
    }

    /// Fails naming the first field the actor may not write among those `written`.
    pub fn check_writable<'a>(
        &self,
        resource: Resource,
        written: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Denied> {
        for field in written {
            if self.access.field_mode(resource, field).is_some() {
                return Err(Denied::ReadOnlyField {
                    resource,
                    field: field.to_string(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{FieldPolicy, Permission, RoleGrant};

    fn actor(scope: RecordScope, perms: &[(Resource, Action)], path: &str) -> Actor {
        let role = RoleGrant {
            scope,
            permissions: perms.iter().map(|(r, a)| Permission::new(*r, *a)).collect(),
            field_policies: vec![FieldPolicy {
                resource: Resource::Users,
                field: "phone".into(),
                mode: FieldMode::Hidden,
            }],
            back_office: true,
        };
        Actor {
            user_id: Some(7),
            api_key_id: None,
            name: "Tester".into(),
            org_id: 2,
            org_path: OrgPath::parse(path).unwrap_or_else(|_| OrgPath::root(1)),
            access_level: 3,
            access: EffectiveAccess::from_roles([&role]),
        }
    }

    #[test]
    fn a_record_outside_the_subtree_is_not_found_rather_than_forbidden() {
        let a = actor(
            RecordScope::Subtree,
            &[
                (Resource::Users, Action::View),
                (Resource::Users, Action::Edit),
            ],
            "/1/2/",
        );
        let other = OrgPath::parse("/1/3/").unwrap_or_else(|_| OrgPath::root(9));
        let mine = OrgPath::parse("/1/2/5/").unwrap_or_else(|_| OrgPath::root(9));
        let rec = |p| RecordRef {
            org_path: p,
            responsible_id: None,
        };
        assert_eq!(
            a.authorize(Resource::Users, Action::Edit, rec(&other)),
            Err(Denied::OutOfScope)
        );
        assert_eq!(
            a.authorize(Resource::Users, Action::Edit, rec(&mine)),
            Ok(())
        );
        assert!(matches!(
            a.authorize(Resource::Users, Action::Delete, rec(&mine)),
            Err(Denied::Forbidden { .. })
        ));
    }

    #[test]
    fn own_scope_reaches_only_records_the_actor_is_responsible_for() {
        let a = actor(
            RecordScope::Own,
            &[(Resource::Clients, Action::View)],
            "/1/2/",
        );
        let p = OrgPath::root(1);
        assert!(
            a.authorize(
                Resource::Clients,
                Action::View,
                RecordRef {
                    org_path: &p,
                    responsible_id: Some(7)
                }
            )
            .is_ok()
        );
        assert_eq!(
            a.authorize(
                Resource::Clients,
                Action::View,
                RecordRef {
                    org_path: &p,
                    responsible_id: Some(8)
                }
            ),
            Err(Denied::OutOfScope)
        );
        assert_eq!(
            a.visibility(Resource::Clients, Action::View),
            Visibility::Responsible(7)
        );
        assert_eq!(
            a.visibility(Resource::Users, Action::View),
            Visibility::Nothing
        );
    }

    #[test]
    fn hidden_fields_are_removed_and_read_only_fields_refused() {
        let a = actor(RecordScope::All, &[(Resource::Users, Action::View)], "/1/");
        let mut v = serde_json::json!({"id": 1, "phone": "+100", "name": "N"});
        a.redact(Resource::Users, &mut v);
        assert_eq!(v, serde_json::json!({"id": 1, "name": "N"}));
        assert!(a.check_writable(Resource::Users, ["name"]).is_ok());
        assert_eq!(
            a.check_writable(Resource::Users, ["name", "phone"]),
            Err(Denied::ReadOnlyField {
                resource: Resource::Users,
                field: "phone".into()
            })
        );
    }

    #[test]
    fn nobody_grants_above_their_own_level() {
        let a = actor(RecordScope::All, &[], "/1/");
        assert!(a.authorize_level(3).is_ok());
        assert!(a.authorize_level(4).is_err());
    }
}
