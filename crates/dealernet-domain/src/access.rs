//! The vocabulary of access control: resources, actions, record scopes, field policies and access
//! levels, plus the definitions of the built-in roles.
//!
//! Roles are data (stored in the database and editable by administrators); this module only knows
//! what a role *can* say and what the built-in ones say when they are first created.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Everything a permission can be about. New modules add their resources here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Users,
    Roles,
    Orgs,
    ApiKeys,
    Audit,
    Clients,
    Deals,
    Documents,
    Reminders,
    Equipment,
    Warehouses,
    StockMovements,
    EquipmentOrders,
    Dealers,
    PointsOfSale,
    InstallationRequests,
    Programmes,
    Assessments,
    SalesOrders,
    News,
    Reports,
}

impl Resource {
    pub const ALL: [Resource; 21] = [
        Resource::Users,
        Resource::Roles,
        Resource::Orgs,
        Resource::ApiKeys,
        Resource::Audit,
        Resource::Clients,
        Resource::Deals,
        Resource::Documents,
        Resource::Reminders,
        Resource::Equipment,
        Resource::Warehouses,
        Resource::StockMovements,
        Resource::EquipmentOrders,
        Resource::Dealers,
        Resource::PointsOfSale,
        Resource::InstallationRequests,
        Resource::Programmes,
        Resource::Assessments,
        Resource::SalesOrders,
        Resource::News,
        Resource::Reports,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Users => "users",
            Resource::Roles => "roles",
            Resource::Orgs => "orgs",
            Resource::ApiKeys => "api_keys",
            Resource::Audit => "audit",
            Resource::Clients => "clients",
            Resource::Deals => "deals",
            Resource::Documents => "documents",
            Resource::Reminders => "reminders",
            Resource::Equipment => "equipment",
            Resource::Warehouses => "warehouses",
            Resource::StockMovements => "stock_movements",
            Resource::EquipmentOrders => "equipment_orders",
            Resource::Dealers => "dealers",
            Resource::PointsOfSale => "points_of_sale",
            Resource::InstallationRequests => "installation_requests",
            Resource::Programmes => "programmes",
            Resource::Assessments => "assessments",
            Resource::SalesOrders => "sales_orders",
            Resource::News => "news",
            Resource::Reports => "reports",
        }
    }

    /// Fields of this resource that a role's field policy may hide or make read-only. Only these
    /// fields are optional on the wire, so a hidden field is simply absent from the response.
    pub fn policy_fields(self) -> &'static [&'static str] {
        match self {
            Resource::Users => &[
                "email",
                "phone",
                "seller_code",
                "access_level",
                "org_id",
                "status",
                "name",
                "last_login_at",
            ],
            Resource::Orgs => &["code"],
            Resource::Clients => &["legal_id", "phone", "email"],
            Resource::Deals => &[
                "payment_terms",
                "contract_no",
                "invoice_no",
                "contract_price",
                "currency",
                "finance_comment",
            ],
            _ => &[],
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Resource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Resource::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown resource `{s}`"))
    }
}

/// What may be done to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    View,
    Create,
    Edit,
    Delete,
    Export,
    Approve,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::View,
        Action::Create,
        Action::Edit,
        Action::Delete,
        Action::Export,
        Action::Approve,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::View => "view",
            Action::Create => "create",
            Action::Edit => "edit",
            Action::Delete => "delete",
            Action::Export => "export",
            Action::Approve => "approve",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .iter()
            .copied()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unknown action `{s}`"))
    }
}

/// A permission: an action on a resource, written `resource:action` (e.g. `users:create`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permission {
    pub resource: Resource,
    pub action: Action,
}

impl Permission {
    pub const fn new(resource: Resource, action: Action) -> Self {
        Self { resource, action }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource, self.action)
    }
}

impl FromStr for Permission {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (r, a) = s
            .split_once(':')
            .ok_or_else(|| format!("permission `{s}` is not of the form resource:action"))?;
        Ok(Permission::new(r.parse()?, a.parse()?))
    }
}

impl Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Permission {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("`resource:action`, e.g. `users:create`"))
            .examples([serde_json::json!("users:view")])
            .into()
    }
}
#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Permission {}

/// Which records a role's permissions reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordScope {
    /// Only records the actor is responsible for.
    Own,
    /// Records that belong to the actor's organisation node or any node below it.
    Subtree,
    /// Every record.
    All,
}

/// What a field policy does to a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldMode {
    /// The field may be read but not written.
    ReadOnly,
    /// The field is never sent to the actor.
    Hidden,
}

/// A role's rule for one field of one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FieldPolicy {
    pub resource: Resource,
    pub field: String,
    pub mode: FieldMode,
}

/// Access level of a user or role: 1 (a seller in the field) to 8 (an administrator).
pub const MIN_ACCESS_LEVEL: i16 = 1;
pub const MAX_ACCESS_LEVEL: i16 = 8;

/// The definition of a built-in role, seeded on first start. Administrators may edit roles later;
/// a seeded role is never overwritten.
#[derive(Debug, Clone)]
pub struct BuiltinRole {
    pub code: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub level: i16,
    pub scope: RecordScope,
    pub permissions: Vec<Permission>,
    pub field_policies: Vec<FieldPolicy>,
    /// Whether holders of this role may enter the back office (sellers use the sales portal).
    pub back_office: bool,
}

fn perms(resources: &[Resource], actions: &[Action]) -> Vec<Permission> {
    resources
        .iter()
        .flat_map(|r| actions.iter().map(move |a| Permission::new(*r, *a)))
        .collect()
}

/// The built-in roles of the product brief.
pub fn builtin_roles() -> Vec<BuiltinRole> {
    use Action::*;
    use Resource::*;
    let all_actions = Action::ALL;
    let crud = [View, Create, Edit, Delete];
    let mut operator = perms(
        &[
            Orgs,
            Equipment,
            Warehouses,
            StockMovements,
            EquipmentOrders,
            Dealers,
            PointsOfSale,
            Programmes,
            News,
        ],
        &all_actions,
    );
    operator.extend(perms(&[Users], &[View, Create, Edit]));
    operator.extend(perms(
        &[Roles, Audit, Reports, InstallationRequests],
        &[View, Export],
    ));
    operator.extend(perms(&[Clients, Deals, Documents], &[View]));
    operator.extend(perms(&[Reminders], &crud));

    let mut sales = perms(&[Programmes, Reports, Deals, Clients], &all_actions);
    sales.extend(perms(
        &[Users, Roles, Orgs, Dealers, PointsOfSale, SalesOrders],
        &[View, Export],
    ));
    sales.extend(perms(&[Audit], &[View]));
    sales.extend(perms(&[Documents, Reminders], &crud));

    let mut contact = perms(&[Clients, InstallationRequests], &[View, Create, Edit]);
    contact.extend(perms(&[Orgs, Dealers, PointsOfSale], &[View]));
    contact.extend(perms(&[Reminders, Documents], &crud));

    let mut dealer_admin = perms(&[Users], &[View, Create, Edit]);
    dealer_admin.extend(perms(&[Orgs, PointsOfSale], &[View, Create, Edit]));
    dealer_admin.extend(perms(
        &[Roles, Dealers, Programmes, News, Warehouses, Equipment],
        &[View],
    ));
    dealer_admin.extend(perms(
        &[EquipmentOrders, InstallationRequests, SalesOrders],
        &[View, Create, Edit],
    ));
    dealer_admin.extend(perms(&[StockMovements, Reports], &[View, Export]));
    dealer_admin.extend(perms(&[Audit], &[View]));
    dealer_admin.extend(perms(&[Clients, Deals, Documents, Reminders], &crud));

    let mut technician = perms(&[InstallationRequests], &[View, Edit]);
    technician.extend(perms(
        &[Equipment, Warehouses, StockMovements, News, Orgs],
        &[View],
    ));
    technician.extend(perms(&[Reminders, Documents], &crud));

    let mut seller = perms(&[SalesOrders, Clients], &[View, Create, Edit]);
    seller.extend(perms(&[News, Equipment, Programmes], &[View]));
    seller.extend(perms(&[Reminders], &crud));

    let mut auditor = perms(&[Assessments], &[View, Create, Edit]);
    auditor.extend(perms(&[PointsOfSale], &[View]));

    let mut integration = perms(
        &[
            Clients,
            Deals,
            StockMovements,
            SalesOrders,
            InstallationRequests,
        ],
        &[View, Create, Edit],
    );
    integration.extend(perms(
        &[Orgs, Dealers, PointsOfSale, Equipment, Warehouses],
        &[View],
    ));

    vec![
        BuiltinRole {
            code: "administrator",
            name: "Administrator",
            description: "Users, roles, access levels, reference data and integrations.",
            level: 8,
            scope: RecordScope::All,
            permissions: perms(&Resource::ALL, &all_actions),
            field_policies: vec![],
            back_office: true,
        },
        BuiltinRole {
            code: "operator_manager",
            name: "Operator manager",
            description: "Warehouse, shipments to dealers, dealer network, promotions and news.",
            level: 7,
            scope: RecordScope::All,
            permissions: operator,
            field_policies: vec![],
            back_office: true,
        },
        BuiltinRole {
            code: "sales_manager",
            name: "Sales manager",
            description: "Plans, reports, scoreboards and approvals for a region or department.",
            level: 6,
            scope: RecordScope::Subtree,
            permissions: sales,
            field_policies: vec![],
            back_office: true,
        },
        BuiltinRole {
            code: "contact_centre_agent",
            name: "Contact-centre agent",
            description: "Registers customers and installation or repair requests.",
            level: 5,
            scope: RecordScope::All,
            permissions: contact,
            field_policies: vec![FieldPolicy {
                resource: Users,
                field: "seller_code".into(),
                mode: FieldMode::Hidden,
            }],
            back_office: true,
        },
        BuiltinRole {
            code: "integration",
            name: "Integration",
            description: "A third-party system calling the REST API with an API key.",
            level: 5,
            scope: RecordScope::Subtree,
            permissions: integration,
            field_policies: vec![],
            back_office: false,
        },
        BuiltinRole {
            code: "auditor",
            name: "Auditor",
            description: "An external company entering point-of-sale assessments only.",
            level: 4,
            scope: RecordScope::All,
            permissions: auditor,
            field_policies: vec![],
            back_office: false,
        },
        BuiltinRole {
            code: "dealer_admin",
            name: "Dealer administrator",
            description: "Runs a dealer: sub-dealers, points of sale, staff, stock and requests.",
            level: 3,
            scope: RecordScope::Subtree,
            permissions: dealer_admin,
            field_policies: vec![FieldPolicy {
                resource: Users,
                field: "access_level".into(),
                mode: FieldMode::ReadOnly,
            }],
            back_office: false,
        },
        BuiltinRole {
            code: "dealer_technician",
            name: "Dealer technician",
            description: "Accepts jobs, records installations and repairs.",
            level: 2,
            scope: RecordScope::Own,
            permissions: technician,
            field_policies: vec![],
            back_office: false,
        },
        BuiltinRole {
            code: "seller",
            name: "Seller",
            description: "Takes orders through the sales portal with a seller code.",
            level: 1,
            scope: RecordScope::Own,
            permissions: seller,
            field_policies: vec![],
            back_office: false,
        },
    ]
}

/// The permissions a set of roles grants, each with the widest scope any of them gives it, and
/// the field policies that survive the union (a field is restricted only if every role granting
/// access to its resource restricts it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveAccess {
    pub grants: BTreeMap<Permission, RecordScope>,
    /// resource → field → mode
    pub fields: BTreeMap<Resource, BTreeMap<String, FieldMode>>,
    pub back_office: bool,
}

/// A role as the policy needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    pub scope: RecordScope,
    pub permissions: Vec<Permission>,
    pub field_policies: Vec<FieldPolicy>,
    pub back_office: bool,
}

impl EffectiveAccess {
    pub fn from_roles<'a>(roles: impl IntoIterator<Item = &'a RoleGrant>) -> Self {
        let roles: Vec<&RoleGrant> = roles.into_iter().collect();
        let mut grants: BTreeMap<Permission, RecordScope> = BTreeMap::new();
        for role in &roles {
            for p in &role.permissions {
                grants
                    .entry(*p)
                    .and_modify(|s| *s = (*s).max(role.scope))
                    .or_insert(role.scope);
            }
        }
        // A field stays restricted only if every role that touches the resource restricts it;
        // the mildest restriction wins (read-only beats hidden).
        let mut fields: BTreeMap<Resource, BTreeMap<String, FieldMode>> = BTreeMap::new();
        for resource in Resource::ALL {
            let touching: Vec<&&RoleGrant> = roles
                .iter()
                .filter(|r| r.permissions.iter().any(|p| p.resource == resource))
                .collect();
            if touching.is_empty() {
                continue;
            }
            for field in resource.policy_fields() {
                let modes: Vec<Option<FieldMode>> = touching
                    .iter()
                    .map(|r| {
                        r.field_policies
                            .iter()
                            .filter(|fp| fp.resource == resource && fp.field == *field)
                            .map(|fp| fp.mode)
                            .max()
                    })
                    .collect();
                if modes.iter().all(Option::is_some)
                    && let Some(mode) = modes.into_iter().flatten().min()
                {
                    fields
                        .entry(resource)
                        .or_default()
                        .insert((*field).to_string(), mode);
                }
            }
        }
        EffectiveAccess {
            grants,
            fields,
            back_office: roles.iter().any(|r| r.back_office),
        }
    }

    pub fn scope(&self, resource: Resource, action: Action) -> Option<RecordScope> {
        self.grants.get(&Permission::new(resource, action)).copied()
    }

    /// Whether some field of `resource` is hidden from these roles (read-only ones are still
    /// shown, so a record without hidden fields goes out as it is).
    pub fn hides_any(&self, resource: Resource) -> bool {
        self.fields
            .get(&resource)
            .is_some_and(|f| f.values().any(|m| *m == FieldMode::Hidden))
    }

    pub fn field_mode(&self, resource: Resource, field: &str) -> Option<FieldMode> {
        self.fields
            .get(&resource)
            .and_then(|f| f.get(field))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_round_trip_through_their_text_form() {
        for r in Resource::ALL {
            for a in Action::ALL {
                let p = Permission::new(r, a);
                assert_eq!(p.to_string().parse::<Permission>(), Ok(p));
            }
        }
        assert!("users".parse::<Permission>().is_err());
        assert!("users:fly".parse::<Permission>().is_err());
    }

    #[test]
    fn the_widest_scope_of_any_role_wins() {
        let own = RoleGrant {
            scope: RecordScope::Own,
            permissions: vec![Permission::new(Resource::Users, Action::View)],
            field_policies: vec![],
            back_office: false,
        };
        let subtree = RoleGrant {
            scope: RecordScope::Subtree,
            permissions: vec![Permission::new(Resource::Users, Action::View)],
            field_policies: vec![],
            back_office: true,
        };
        let eff = EffectiveAccess::from_roles([&own, &subtree]);
        assert_eq!(
            eff.scope(Resource::Users, Action::View),
            Some(RecordScope::Subtree)
        );
        assert_eq!(eff.scope(Resource::Users, Action::Edit), None);
        assert!(eff.back_office);
    }

    #[test]
    fn a_field_is_hidden_only_when_every_role_touching_the_resource_hides_it() {
        let hides = RoleGrant {
            scope: RecordScope::All,
            permissions: vec![Permission::new(Resource::Users, Action::View)],
            field_policies: vec![FieldPolicy {
                resource: Resource::Users,
                field: "phone".into(),
                mode: FieldMode::Hidden,
            }],
            back_office: true,
        };
        let shows = RoleGrant {
            field_policies: vec![],
            ..hides.clone()
        };
        let read_only = RoleGrant {
            field_policies: vec![FieldPolicy {
                resource: Resource::Users,
                field: "phone".into(),
                mode: FieldMode::ReadOnly,
            }],
            ..hides.clone()
        };
        assert_eq!(
            EffectiveAccess::from_roles([&hides]).field_mode(Resource::Users, "phone"),
            Some(FieldMode::Hidden)
        );
        assert_eq!(
            EffectiveAccess::from_roles([&hides, &shows]).field_mode(Resource::Users, "phone"),
            None
        );
        assert_eq!(
            EffectiveAccess::from_roles([&hides, &read_only]).field_mode(Resource::Users, "phone"),
            Some(FieldMode::ReadOnly)
        );
    }

    #[test]
    fn builtin_roles_are_unique_and_within_the_level_range() {
        let roles = builtin_roles();
        let mut codes: Vec<_> = roles.iter().map(|r| r.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), roles.len());
        assert!(roles.len() >= 7);
        for r in &roles {
            assert!(
                (MIN_ACCESS_LEVEL..=MAX_ACCESS_LEVEL).contains(&r.level),
                "{}",
                r.code
            );
            for fp in &r.field_policies {
                assert!(fp.resource.policy_fields().contains(&fp.field.as_str()));
            }
        }
        let seller = roles.iter().find(|r| r.code == "seller");
        assert!(seller.is_some_and(|s| !s.back_office && s.level == MIN_ACCESS_LEVEL));
    }
}
