//! The organisation tree: reading, creating, renaming and moving nodes.

use chrono::Utc;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::list::{Direction, Page, Paging, Sort};
use dealernet_domain::org::{CreateOrgNode, OrgKind, OrgNode, OrgPath, UpdateOrgNode};
use dealernet_domain::policy::{Actor, RecordRef};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, ExprTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::entities::org_node;
use crate::error::{Result, ServiceError, on_unique};
use crate::{scope, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgSort {
    Name,
    Kind,
    Path,
    CreatedAt,
}

pub const SORT_FIELDS: &[(&str, OrgSort)] = &[
    ("name", OrgSort::Name),
    ("kind", OrgSort::Kind),
    ("path", OrgSort::Path),
    ("created_at", OrgSort::CreatedAt),
];

#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    pub q: Option<String>,
    pub kind: Option<OrgKind>,
    pub parent_id: Option<i64>,
    /// Only this node's subtree.
    pub within: Option<i64>,
    pub active: Option<bool>,
}

pub(crate) fn path_of(m: &org_node::Model) -> Result<OrgPath> {
    OrgPath::parse(&m.path).map_err(|e| ServiceError::Internal(e.to_string()))
}

fn kind_of(m: &org_node::Model) -> Result<OrgKind> {
    OrgKind::parse(&m.kind)
        .ok_or_else(|| ServiceError::Internal(format!("unknown org kind {}", m.kind)))
}

fn record_ref(path: &OrgPath) -> RecordRef<'_> {
    RecordRef {
        org_path: path,
        responsible_id: None,
    }
}

async fn children_count<C: ConnectionTrait>(conn: &C, id: i64) -> Result<i64> {
    Ok(org_node::Entity::find()
        .filter(org_node::Column::ParentId.eq(id))
        .count(conn)
        .await? as i64)
}

fn to_wire(m: org_node::Model, children: i64) -> Result<OrgNode> {
    Ok(OrgNode {
        id: m.id,
        kind: kind_of(&m)?,
        path: path_of(&m)?,
        name: m.name,
        code: m.code,
        parent_id: m.parent_id,
        depth: m.depth,
        active: m.active,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
        children,
    })
}

fn snapshot(m: &org_node::Model) -> serde_json::Value {
    serde_json::json!({
        "name": m.name, "kind": m.kind, "code": m.code, "parent_id": m.parent_id,
        "path": m.path, "active": m.active,
    })
}

/// Loads a node the actor may see (404 otherwise).
pub async fn load_visible<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<org_node::Model> {
    let m = org_node::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    actor.authorize(Resource::Orgs, action, record_ref(&path_of(&m)?))?;
    Ok(m)
}

/// The path of a node, without any policy check (for other services' own checks).
pub async fn path<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<OrgPath>> {
    match org_node::Entity::find_by_id(id).one(conn).await? {
        Some(m) => Ok(Some(path_of(&m)?)),
        None => Ok(None),
    }
}

pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<OrgNode> {
    let m = load_visible(db, actor, id, Action::View).await?;
    let children = children_count(db, id).await?;
    let mut node = to_wire(m, children)?;
    redact_code(actor, &mut node);
    Ok(node)
}

fn redact_code(actor: &Actor, node: &mut OrgNode) {
    if actor.access.field_mode(Resource::Orgs, "code")
        == Some(dealernet_domain::access::FieldMode::Hidden)
    {
        node.code = None;
    }
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &OrgFilter,
    sort: &Sort<OrgSort>,
    paging: Paging,
) -> Result<Page<OrgNode>> {
    actor.require(Resource::Orgs, Action::View)?;
    let visibility = actor.visibility(Resource::Orgs, Action::View);
    let mut q = org_node::Entity::find().filter(scope::condition(
        &visibility,
        org_node::Column::Id,
        None::<org_node::Column>,
    ));
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(
            sea_orm::Condition::any()
                .add(text::contains_ci(org_node::Column::Name, text))
                .add(text::contains_ci(org_node::Column::Code, text)),
        );
    }
    if let Some(kind) = filter.kind {
        q = q.filter(org_node::Column::Kind.eq(kind.as_str()));
    }
    if let Some(parent) = filter.parent_id {
        q = q.filter(org_node::Column::ParentId.eq(parent));
    }
    if let Some(active) = filter.active {
        q = q.filter(org_node::Column::Active.eq(active));
    }
    if let Some(within) = filter.within {
        let root = load_visible(db, actor, within, Action::View).await?;
        q = q.filter(org_node::Column::Id.in_subquery(scope::subtree_ids(&path_of(&root)?)));
    }
    let total = q.clone().count(db).await?;
    if sort.keys.is_empty() {
        q = q.order_by(org_node::Column::Path, Order::Asc);
    }
    for (key, dir) in &sort.keys {
        let col = match key {
            OrgSort::Name => org_node::Column::Name,
            OrgSort::Kind => org_node::Column::Kind,
            OrgSort::Path => org_node::Column::Path,
            OrgSort::CreatedAt => org_node::Column::CreatedAt,
        };
        q = q.order_by(
            col,
            if *dir == Direction::Asc {
                Order::Asc
            } else {
                Order::Desc
            },
        );
    }
    let rows = q
        .order_by(org_node::Column::Id, Order::Asc)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let counts = child_counts(db, &ids).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let c = counts
            .iter()
            .find(|(id, _)| *id == r.id)
            .map_or(0, |(_, c)| *c);
        let mut node = to_wire(r, c)?;
        redact_code(actor, &mut node);
        items.push(node);
    }
    Ok(Page::new(items, total))
}

async fn child_counts(db: &DatabaseConnection, ids: &[i64]) -> Result<Vec<(i64, i64)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let rows: Vec<(Option<i64>, i64)> = org_node::Entity::find()
        .select_only()
        .column(org_node::Column::ParentId)
        .column_as(org_node::Column::Id.count(), "n")
        .filter(org_node::Column::ParentId.is_in(ids.to_vec()))
        .group_by(org_node::Column::ParentId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(p, n)| p.map(|p| (p, n)))
        .collect())
}

pub async fn create(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: CreateOrgNode,
) -> Result<OrgNode> {
    let actor = ctx.actor;
    actor.require(Resource::Orgs, Action::Create)?;
    let Some(parent_id) = input.parent_id else {
        return Err(ServiceError::field(
            "parent_id",
            "required",
            "is required: new nodes hang below an existing node",
        ));
    };
    let txn = db.begin().await?;
    let parent = org_node::Entity::find_by_id(parent_id)
        .one(&txn)
        .await?
        .ok_or_else(|| {
            ServiceError::field("parent_id", "not_found", "no such organisation node")
        })?;
    let parent_path = path_of(&parent)?;
    if actor
        .authorize(Resource::Orgs, Action::View, record_ref(&parent_path))
        .is_err()
    {
        return Err(ServiceError::field(
            "parent_id",
            "not_found",
            "no such organisation node",
        ));
    }
    actor.authorize_create(Resource::Orgs, &parent_path)?;
    let parent_kind = kind_of(&parent)?;
    if !input.kind.may_be_child_of(parent_kind) {
        return Err(ServiceError::field(
            "kind",
            "tree_shape",
            format!("a {} cannot be placed below a {}", input.kind, parent_kind),
        ));
    }
    if let Some(code) = &input.code {
        check_code_free(&txn, code, None).await?;
    }
    let now = Utc::now();
    let placeholder = format!("{}#{}", parent_path, uuid::Uuid::new_v4());
    let inserted = org_node::ActiveModel {
        parent_id: Set(Some(parent.id)),
        kind: Set(input.kind.as_str().to_string()),
        name: Set(input.name.trim().to_string()),
        code: Set(input.code.clone()),
        path: Set(placeholder),
        depth: Set(parent.depth + 1),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(on_unique(
        "an organisation node with this code already exists",
    ))?;
    let mut am: org_node::ActiveModel = inserted.clone().into();
    am.path = Set(parent_path.child(inserted.id).as_str().to_string());
    let node = am.update(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "create",
            entity: Resource::Orgs,
            entity_id: node.id,
            org_id: Some(node.id),
            responsible_id: None,
            before: None,
            after: Some(snapshot(&node)),
        },
    )
    .await?;
    txn.commit().await?;
    to_wire(node, 0)
}

async fn check_code_free<C: ConnectionTrait>(
    conn: &C,
    code: &str,
    except: Option<i64>,
) -> Result<()> {
    let mut q = org_node::Entity::find().filter(org_node::Column::Code.eq(code));
    if let Some(id) = except {
        q = q.filter(org_node::Column::Id.ne(id));
    }
    if let Some(existing) = q.one(conn).await? {
        return Err(ServiceError::conflict(
            format!("the code `{code}` is already used by node {}", existing.id),
            Some(existing.id),
        ));
    }
    Ok(())
}

pub async fn update(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: UpdateOrgNode,
    if_match: Option<i32>,
) -> Result<OrgNode> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let current = load_visible(&txn, actor, id, Action::Edit).await?;
    actor.check_writable(Resource::Orgs, input.written_fields())?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(ServiceError::StaleVersion);
    }
    let before = snapshot(&current);
    let old_path = path_of(&current)?;
    let mut am: org_node::ActiveModel = current.clone().into();
    if let Some(name) = &input.name {
        am.name = Set(name.trim().to_string());
    }
    if let Some(code) = &input.code {
        check_code_free(&txn, code, Some(id)).await?;
        am.code = Set(Some(code.clone()));
    }
    if let Some(active) = input.active {
        am.active = Set(active);
    }
    let mut moved: Option<(OrgPath, i32)> = None;
    if let Some(new_parent_id) = input.parent_id.filter(|p| Some(*p) != current.parent_id) {
        let Some(_) = current.parent_id else {
            return Err(ServiceError::field(
                "parent_id",
                "root",
                "the root node cannot be moved",
            ));
        };
        let new_parent = org_node::Entity::find_by_id(new_parent_id)
            .one(&txn)
            .await?
            .ok_or_else(|| {
                ServiceError::field("parent_id", "not_found", "no such organisation node")
            })?;
        let np_path = path_of(&new_parent)?;
        if actor
            .authorize(Resource::Orgs, Action::View, record_ref(&np_path))
            .is_err()
        {
            return Err(ServiceError::field(
                "parent_id",
                "not_found",
                "no such organisation node",
            ));
        }
        actor.authorize_create(Resource::Orgs, &np_path)?;
        if np_path.is_within(&old_path) {
            return Err(ServiceError::field(
                "parent_id",
                "cycle",
                "a node cannot be moved below itself or its own descendants",
            ));
        }
        let kind = kind_of(&current)?;
        let parent_kind = kind_of(&new_parent)?;
        if !kind.may_be_child_of(parent_kind) {
            return Err(ServiceError::field(
                "parent_id",
                "tree_shape",
                format!("a {kind} cannot be placed below a {parent_kind}"),
            ));
        }
        let new_path = np_path.child(id);
        am.parent_id = Set(Some(new_parent_id));
        moved = Some((new_path, new_parent.depth + 1 - current.depth));
    }
    am.version = Set(current.version + 1);
    am.updated_at = Set(Utc::now());
    // Optimistic concurrency: the row changes only if nobody changed it since we read it.
    let res = org_node::Entity::update_many()
        .set(am.clone())
        .filter(org_node::Column::Id.eq(id))
        .filter(org_node::Column::Version.eq(current.version))
        .exec(&txn)
        .await
        .map_err(on_unique(
            "an organisation node with this code already exists",
        ))?;
    if res.rows_affected != 1 {
        return Err(ServiceError::StaleVersion);
    }
    if let Some((new_path, depth_delta)) = &moved {
        rebase_subtree(&txn, &old_path, new_path, *depth_delta).await?;
    }
    let node = org_node::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: if moved.is_some() { "move" } else { "update" },
            entity: Resource::Orgs,
            entity_id: id,
            org_id: Some(id),
            responsible_id: None,
            before: Some(before),
            after: Some(snapshot(&node)),
        },
    )
    .await?;
    let children = children_count(&txn, id).await?;
    txn.commit().await?;
    let mut wire = to_wire(node, children)?;
    redact_code(actor, &mut wire);
    Ok(wire)
}

/// Rewrites the paths (and depths) of a moved node and all its descendants in one statement.
async fn rebase_subtree<C: ConnectionTrait>(
    conn: &C,
    old: &OrgPath,
    new: &OrgPath,
    depth_delta: i32,
) -> Result<()> {
    let old_len = old.as_str().len() as i64;
    let rebased = match conn.get_database_backend() {
        sea_orm::DbBackend::Postgres => "CAST($1 AS TEXT) || substr(path, CAST($2 AS INTEGER))",
        _ => "? || substr(path, ?)",
    };
    org_node::Entity::update_many()
        .col_expr(
            org_node::Column::Path,
            Expr::cust_with_values(
                rebased,
                [
                    sea_orm::Value::from(new.as_str().to_string()),
                    sea_orm::Value::from(old_len + 1),
                ],
            ),
        )
        .col_expr(
            org_node::Column::Depth,
            Expr::col(org_node::Column::Depth).add(depth_delta),
        )
        .filter(org_node::Column::Path.gte(old.as_str()))
        .filter(org_node::Column::Path.lt(old.upper_bound()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Creates the operator root if the tree is empty; returns the root's id.
pub async fn ensure_root<C: ConnectionTrait>(conn: &C, name: &str) -> Result<i64> {
    if let Some(root) = org_node::Entity::find()
        .filter(org_node::Column::ParentId.is_null())
        .order_by_asc(org_node::Column::Id)
        .one(conn)
        .await?
    {
        return Ok(root.id);
    }
    let now = Utc::now();
    let placeholder = format!("#root-{}", uuid::Uuid::new_v4());
    let inserted = org_node::ActiveModel {
        parent_id: Set(None),
        kind: Set(OrgKind::Operator.as_str().to_string()),
        name: Set(name.to_string()),
        code: Set(None),
        path: Set(placeholder),
        depth: Set(0),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let mut am: org_node::ActiveModel = inserted.clone().into();
    am.path = Set(OrgPath::root(inserted.id).as_str().to_string());
    am.update(conn).await?;
    Ok(inserted.id)
}
