//! What a reminder or a watch points at. Every record kind is resolved here, in one place, so
//! that the CRM module only has to add its arms (clients and requests) to [`resolve`] and
//! [`locate`].

use dealernet_domain::access::{Action, Resource};
use dealernet_domain::org::OrgPath;
use dealernet_domain::policy::{Actor, RecordRef};
use dealernet_domain::reminders::TargetKind;
use sea_orm::{ConnectionTrait, EntityTrait};

use super::entity::reminder;
use crate::entities::{org_node, user};
use crate::error::{Result, ServiceError};
use crate::orgs;

/// A reminder's target as the reminder stores it, with where its record sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: TargetKind,
    pub id: Option<i64>,
    /// The org path and responsible user of the target record (for personal reminders: the
    /// owner's node and the owner).
    pub org_path: OrgPath,
    pub responsible_id: Option<i64>,
    pub label: Option<String>,
    pub link: Option<String>,
}

fn not_available(field: &str, what: &str) -> ServiceError {
    ServiceError::field(
        field,
        "not_available",
        format!("{what} is not available yet"),
    )
}

fn missing_target() -> ServiceError {
    ServiceError::field(
        "target_id",
        "not_found",
        "no such record, or you may not see it",
    )
}

/// Resolves a reminder target for `actor`: the record must exist and be visible to the actor.
///
/// `client` and `deal` targets are CRM clients and requests (deals).
pub async fn resolve<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    kind: TargetKind,
    id: Option<i64>,
) -> Result<Target> {
    match kind {
        TargetKind::Personal => {
            if id.is_some() {
                return Err(ServiceError::field(
                    "target_id",
                    "not_allowed",
                    "a personal reminder has no target record",
                ));
            }
            Ok(Target {
                kind,
                id: None,
                org_path: actor.org_path.clone(),
                responsible_id: actor.user_id,
                label: None,
                link: Some("/reminders".into()),
            })
        }
        TargetKind::User => {
            let id = id.ok_or_else(|| {
                ServiceError::field("target_id", "required", "name the user to be reminded of")
            })?;
            let located = locate(conn, Resource::Users, id)
                .await
                .map_err(|_| missing_target())?;
            actor
                .authorize(Resource::Users, Action::View, located.record())
                .map_err(|_| missing_target())?;
            Ok(Target {
                kind,
                id: Some(id),
                org_path: located.org_path,
                responsible_id: located.responsible_id,
                label: Some(located.label),
                link: Some(format!("/admin/users/{id}")),
            })
        }
        TargetKind::Client | TargetKind::Deal => {
            let id = id.ok_or_else(|| {
                ServiceError::field("target_id", "required", "name the record to be reminded of")
            })?;
            let (resource, link) = match kind {
                TargetKind::Client => (Resource::Clients, format!("/crm/clients/{id}")),
                _ => (Resource::Deals, format!("/crm/requests/{id}")),
            };
            // A client or request the actor may not see is simply not found (404).
            let located = locate(conn, resource, id).await?;
            actor
                .authorize(resource, Action::View, located.record())
                .map_err(|_| ServiceError::NotFound)?;
            Ok(Target {
                kind,
                id: Some(id),
                org_path: located.org_path,
                responsible_id: located.responsible_id,
                label: Some(located.label),
                link: Some(link),
            })
        }
    }
}

/// Where a record sits, for the policy, and what it is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub org_id: i64,
    pub org_path: OrgPath,
    pub responsible_id: Option<i64>,
    pub label: String,
}

impl Located {
    pub fn record(&self) -> RecordRef<'_> {
        RecordRef {
            org_path: &self.org_path,
            responsible_id: self.responsible_id,
        }
    }
}

/// Finds any watchable record without a policy check (callers authorize). `NotFound` when it
/// does not exist; a 422 on `resource` for kinds this module cannot locate yet.
pub async fn locate<C: ConnectionTrait>(conn: &C, resource: Resource, id: i64) -> Result<Located> {
    match resource {
        Resource::Users => {
            let u = user::Entity::find_by_id(id)
                .one(conn)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let org_path = orgs::path(conn, u.org_id)
                .await?
                .ok_or(ServiceError::NotFound)?;
            Ok(Located {
                org_id: u.org_id,
                org_path,
                responsible_id: Some(u.id),
                label: u.name,
            })
        }
        Resource::Orgs => {
            let o = org_node::Entity::find_by_id(id)
                .one(conn)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let org_path = orgs::path_of(&o)?;
            Ok(Located {
                org_id: o.id,
                org_path,
                responsible_id: None,
                label: o.name,
            })
        }
        Resource::Reminders => {
            let r = reminder::Entity::find_by_id(id)
                .one(conn)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let org_path = orgs::path(conn, r.org_id)
                .await?
                .ok_or(ServiceError::NotFound)?;
            Ok(Located {
                org_id: r.org_id,
                org_path,
                responsible_id: Some(r.owner_id),
                label: r.title,
            })
        }
        Resource::Clients => crate::crm::locate_client(conn, id).await,
        Resource::Deals => crate::crm::locate_deal(conn, id).await,
        other => Err(not_available(
            "resource",
            &format!("watching `{}` records", other.as_str()),
        )),
    }
}
