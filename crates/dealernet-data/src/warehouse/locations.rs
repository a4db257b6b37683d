//! Warehouses on organisation nodes, and the virtual locations every node gets on first use.

use chrono::Utc;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::org::OrgPath;
use dealernet_domain::policy::{Actor, Visibility};
use dealernet_domain::warehouse::{CreateWarehouse, Warehouse, WarehouseKind, place_ref};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::entity::warehouse;
use super::{corrupt, execute, parse_path};
use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::entities::org_node;
use crate::error::{Result, ServiceError, on_unique};
use crate::scope;

/// A warehouse with what the policy needs to know about it.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub m: warehouse::Model,
    pub kind: WarehouseKind,
    pub path: OrgPath,
    pub org_name: String,
}

impl Place {
    pub fn wire(&self) -> Warehouse {
        Warehouse {
            id: self.m.id,
            org_id: self.m.org_id,
            org_name: self.org_name.clone(),
            org_path: self.path.as_str().to_string(),
            kind: self.kind,
            name: self.m.name.clone(),
            code: self.m.code.clone(),
            is_virtual: self.m.is_virtual,
            active: self.m.active,
            version: self.m.version,
            created_at: self.m.created_at,
        }
    }
}

async fn with_org<C: ConnectionTrait>(conn: &C, m: warehouse::Model) -> Result<Place> {
    let org = org_node::Entity::find_by_id(m.org_id)
        .one(conn)
        .await?
        .ok_or_else(|| corrupt("warehouse without node"))?;
    place_of(m, org)
}

fn place_of(m: warehouse::Model, org: org_node::Model) -> Result<Place> {
    Ok(Place {
        kind: WarehouseKind::parse(&m.kind).ok_or_else(|| corrupt("warehouse kind"))?,
        path: parse_path(&org.path)?,
        org_name: org.name,
        m,
    })
}

/// A warehouse, without any policy check.
pub(crate) async fn place<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<Place>> {
    match warehouse::Entity::find_by_id(id)
        .find_also_related(org_node::Entity)
        .one(conn)
        .await?
    {
        Some((m, Some(org))) => Ok(Some(place_of(m, org)?)),
        Some((_, None)) => Err(corrupt("warehouse without node")),
        None => Ok(None),
    }
}

/// A warehouse the actor may see; 404 when it does not exist or is out of the actor's scope.
pub(crate) async fn visible_place<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
) -> Result<Place> {
    let p = place(conn, id).await?.ok_or(ServiceError::NotFound)?;
    actor.authorize(Resource::Warehouses, Action::View, place_ref(&p.path))?;
    Ok(p)
}

/// Two warehouses the actor may see, read together; 404 when either does not exist or is out of
/// the actor's scope.
pub(crate) async fn visible_pair<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    a: i64,
    b: i64,
) -> Result<(Place, Place)> {
    let mut found = Vec::with_capacity(2);
    for (m, org) in warehouse::Entity::find()
        .filter(warehouse::Column::Id.is_in([a, b]))
        .find_also_related(org_node::Entity)
        .all(conn)
        .await?
    {
        found.push(place_of(
            m,
            org.ok_or_else(|| corrupt("warehouse without node"))?,
        )?);
    }
    let mut take = |id: i64| -> Result<Place> {
        let i = found
            .iter()
            .position(|p| p.m.id == id)
            .ok_or(ServiceError::NotFound)?;
        let p = if a == b {
            found[i].clone()
        } else {
            found.swap_remove(i)
        };
        actor.authorize(Resource::Warehouses, Action::View, place_ref(&p.path))?;
        Ok(p)
    };
    let first = take(a)?;
    let second = take(b)?;
    Ok((first, second))
}

/// The node's virtual location of `kind`, created on first use.
pub(crate) async fn virtual_location<C: ConnectionTrait>(
    conn: &C,
    org_id: i64,
    kind: WarehouseKind,
) -> Result<i64> {
    let find = || {
        warehouse::Entity::find()
            .filter(warehouse::Column::OrgId.eq(org_id))
            .filter(warehouse::Column::Kind.eq(kind.as_str()))
            .filter(warehouse::Column::IsVirtual.eq(true))
    };
    if let Some(w) = find().one(conn).await? {
        return Ok(w.id);
    }
    let now = Utc::now();
    let name = match kind {
        WarehouseKind::InTransit => "In transit",
        WarehouseKind::Installed => "Installed at customers",
        WarehouseKind::AtRepair => "At repair",
        WarehouseKind::ReturnedToManufacturer => "Returned to manufacturer",
        WarehouseKind::WrittenOff => "Written off",
        WarehouseKind::InKit => "Assembled into kits",
        _ => return Err(corrupt("a physical kind asked for as virtual")),
    };
    execute(
        conn,
        "INSERT INTO warehouses (org_id, kind, name, code, is_virtual, active, version, created_at, updated_at) \
         VALUES (?, ?, ?, NULL, TRUE, TRUE, 1, ?, ?) ON CONFLICT DO NOTHING",
        vec![
            org_id.into(),
            kind.as_str().into(),
            name.into(),
            now.into(),
            now.into(),
        ],
    )
    .await?;
    find()
        .one(conn)
        .await?
        .map(|w| w.id)
        .ok_or_else(|| corrupt("virtual location not created"))
}

/// Ids of the warehouses the actor may see, as a sub-query; `None` when it sees all.
pub(crate) fn visible_ids(visibility: &Visibility) -> Option<SelectStatement> {
    match visibility {
        Visibility::All => None,
        other => Some(
            Query::select()
                .column(warehouse::Column::Id)
                .from(warehouse::Entity)
                .cond_where(scope::condition(
                    other,
                    warehouse::Column::OrgId,
                    None::<warehouse::Column>,
                ))
                .to_owned(),
        ),
    }
}

fn snapshot(m: &warehouse::Model) -> serde_json::Value {
    serde_json::json!({"org_id": m.org_id, "kind": m.kind, "name": m.name, "code": m.code})
}

pub async fn create(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: CreateWarehouse,
) -> Result<Warehouse> {
    let actor = ctx.actor;
    actor.require(Resource::Warehouses, Action::Create)?;
    let txn = db.begin().await?;
    let org = org_node::Entity::find_by_id(input.org_id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let path = parse_path(&org.path)?;
    actor.authorize(Resource::Orgs, Action::View, place_ref(&path))?;
    actor.authorize_create(Resource::Warehouses, &path)?;
    let now = Utc::now();
    let m = warehouse::ActiveModel {
        org_id: Set(org.id),
        kind: Set(input.kind.as_str().to_string()),
        name: Set(input.name.trim().to_string()),
        code: Set(input.code.map(|c| c.trim().to_string())),
        is_virtual: Set(false),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(on_unique("a warehouse with this code already exists"))?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "create",
            entity: Resource::Warehouses,
            entity_id: m.id,
            org_id: Some(m.org_id),
            responsible_id: None,
            before: None,
            after: Some(snapshot(&m)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(with_org(db, m).await?.wire())
}

pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<Warehouse> {
    Ok(visible_place(db, actor, id).await?.wire())
}

#[derive(Debug, Clone, Default)]
pub struct WarehouseFilter {
    /// Only warehouses in this node's subtree.
    pub within_org: Option<i64>,
    pub kind: Option<WarehouseKind>,
    /// Include virtual locations (default: only real warehouses).
    pub include_virtual: bool,
    pub q: Option<String>,
}

/// Warehouses the actor may see, in tree order (by node path, then name).
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &WarehouseFilter,
    paging: Paging,
) -> Result<Page<Warehouse>> {
    actor.require(Resource::Warehouses, Action::View)?;
    let visibility = actor.visibility(Resource::Warehouses, Action::View);
    let mut q = warehouse::Entity::find().filter(scope::condition(
        &visibility,
        warehouse::Column::OrgId,
        None::<warehouse::Column>,
    ));
    if let Some(root) = filter.within_org {
        let org = org_node::Entity::find_by_id(root)
            .one(db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let path = parse_path(&org.path)?;
        actor.authorize(Resource::Orgs, Action::View, place_ref(&path))?;
        q = q.filter(warehouse::Column::OrgId.in_subquery(scope::subtree_ids(&path)));
    }
    if let Some(k) = filter.kind {
        q = q.filter(warehouse::Column::Kind.eq(k.as_str()));
    }
    if !filter.include_virtual {
        q = q.filter(warehouse::Column::IsVirtual.eq(false));
    }
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(
            sea_orm::Condition::any()
                .add(crate::text::contains_ci(warehouse::Column::Name, text))
                .add(crate::text::contains_ci(warehouse::Column::Code, text)),
        );
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .find_also_related(org_node::Entity)
        .order_by_asc(org_node::Column::Path)
        .order_by_asc(warehouse::Column::Name)
        .order_by_asc(warehouse::Column::Id)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    let items = rows
        .into_iter()
        .map(|(m, org)| {
            Ok(place_of(m, org.ok_or_else(|| corrupt("warehouse without node"))?)?.wire())
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::new(items, total))
}
