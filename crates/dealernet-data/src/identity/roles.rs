//! Roles are data: read, create and edit them; seed the built-in ones.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use chrono::Utc;
use dealernet_domain::access::{
    Action, FieldPolicy, Permission, RecordScope, Resource, RoleGrant, builtin_roles,
};
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::policy::Actor;
use dealernet_domain::role::{CreateRole, Role, RoleSummary, UpdateRole};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::entities::role;
use crate::error::{Result, ServiceError, on_unique};

fn scope_str(s: RecordScope) -> &'static str {
    match s {
        RecordScope::Own => "own",
        RecordScope::Subtree => "subtree",
        RecordScope::All => "all",
    }
}

fn parse_scope(s: &str) -> RecordScope {
    match s {
        "all" => RecordScope::All,
        "subtree" => RecordScope::Subtree,
        _ => RecordScope::Own,
    }
}

/// Decodes a stored role. Unknown permissions (from a newer version) are skipped, never granted.
pub fn to_wire(m: &role::Model) -> Role {
    let permissions: Vec<String> = serde_json::from_str(&m.permissions).unwrap_or_default();
    let mut permissions: Vec<Permission> =
        permissions.iter().filter_map(|p| p.parse().ok()).collect();
    permissions.sort();
    let field_policies: Vec<FieldPolicy> =
        serde_json::from_str(&m.field_policies).unwrap_or_default();
    Role {
        id: m.id,
        code: m.code.clone(),
        name: m.name.clone(),
        description: m.description.clone(),
        level: m.level,
        scope: parse_scope(&m.scope),
        permissions,
        field_policies,
        back_office: m.back_office,
        builtin: m.builtin,
        version: m.version,
        updated_at: m.updated_at,
    }
}

pub fn summary(m: &role::Model) -> RoleSummary {
    RoleSummary {
        id: m.id,
        code: m.code.clone(),
        name: m.name.clone(),
        level: m.level,
    }
}

pub fn grant(m: &role::Model) -> RoleGrant {
    let r = to_wire(m);
    RoleGrant {
        scope: r.scope,
        permissions: r.permissions,
        field_policies: r.field_policies,
        back_office: r.back_office,
    }
}

fn encode_permissions(p: &[Permission]) -> String {
    let mut v: Vec<String> = p.iter().map(ToString::to_string).collect();
    v.sort();
    v.dedup();
    serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
}

fn encode_policies(p: &[FieldPolicy]) -> String {
    serde_json::to_string(p).unwrap_or_else(|_| "[]".into())
}

fn snapshot(r: &Role) -> serde_json::Value {
    serde_json::to_value(r).unwrap_or_default()
}

/// How long a role read from the database is trusted before it is read again. Edits made
/// through this instance invalidate at once (the API calls [`RoleCache::invalidate`]); other
/// instances see them within this time.
const GRANT_CACHE_TTL: Duration = Duration::from_secs(3);

/// Roles as the policy needs them, cached briefly: actors are resolved on every request and
/// roles rarely change. Owned by the application (one per database).
#[derive(Default)]
pub struct RoleCache {
    entries: RwLock<HashMap<i64, (Instant, RoleGrant)>>,
}

impl RoleCache {
    /// Forgets every cached role (after an edit).
    pub fn invalidate(&self) {
        if let Ok(mut c) = self.entries.write() {
            c.clear();
        }
    }

    /// The grants of the given roles, from the cache when fresh.
    pub async fn grants<C: ConnectionTrait>(
        &self,
        conn: &C,
        role_ids: &[i64],
    ) -> Result<Vec<RoleGrant>> {
        let now = Instant::now();
        let mut out = Vec::with_capacity(role_ids.len());
        let mut missing = Vec::new();
        if let Ok(c) = self.entries.read() {
            for id in role_ids {
                match c.get(id) {
                    Some((at, g)) if now.duration_since(*at) < GRANT_CACHE_TTL => {
                        out.push(g.clone())
                    }
                    _ => missing.push(*id),
                }
            }
        } else {
            missing.extend_from_slice(role_ids);
        }
        if !missing.is_empty() {
            let rows = role::Entity::find()
                .filter(role::Column::Id.is_in(missing))
                .all(conn)
                .await?;
            let mut cache = self.entries.write().ok();
            for r in rows {
                let g = grant(&r);
                if let Some(c) = cache.as_mut() {
                    c.insert(r.id, (now, g.clone()));
                }
                out.push(g);
            }
        }
        Ok(out)
    }
}

/// Inserts the built-in roles that do not exist yet. Existing roles are left as administrators
/// edited them.
pub async fn ensure_builtin<C: ConnectionTrait>(conn: &C) -> Result<()> {
    for b in builtin_roles() {
        let exists = role::Entity::find()
            .filter(role::Column::Code.eq(b.code))
            .one(conn)
            .await?
            .is_some();
        if exists {
            continue;
        }
        let now = Utc::now();
        let res = role::ActiveModel {
            code: Set(b.code.to_string()),
            name: Set(b.name.to_string()),
            description: Set(b.description.to_string()),
            level: Set(b.level),
            scope: Set(scope_str(b.scope).to_string()),
            permissions: Set(encode_permissions(&b.permissions)),
            field_policies: Set(encode_policies(&b.field_policies)),
            back_office: Set(b.back_office),
            builtin: Set(true),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await;
        match res {
            Ok(_) => {}
            // Another instance seeded it at the same moment.
            Err(e) if crate::error::is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub async fn by_code<C: ConnectionTrait>(conn: &C, code: &str) -> Result<Option<role::Model>> {
    Ok(role::Entity::find()
        .filter(role::Column::Code.eq(code))
        .one(conn)
        .await?)
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    grantable_only: bool,
    paging: Paging,
) -> Result<Page<Role>> {
    // Anyone who may manage users may see the roles they could grant.
    if !(actor.can(Resource::Roles, Action::View)
        || grantable_only && actor.can(Resource::Users, Action::Create))
    {
        actor.require(Resource::Roles, Action::View)?;
    }
    let mut rows = role::Entity::find()
        .order_by_desc(role::Column::Level)
        .order_by_asc(role::Column::Code)
        .all(db)
        .await?;
    if grantable_only {
        rows.retain(|r| r.level <= actor.access_level);
    }
    let total = rows.len() as u64;
    let items = rows
        .iter()
        .skip(paging.offset as usize)
        .take(paging.limit as usize)
        .map(to_wire)
        .collect();
    Ok(Page::new(items, total))
}

pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<Role> {
    actor.require(Resource::Roles, Action::View)?;
    let m = role::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(to_wire(&m))
}

pub async fn create(db: &DatabaseConnection, ctx: Ctx<'_>, input: CreateRole) -> Result<Role> {
    ctx.actor.require(Resource::Roles, Action::Create)?;
    ctx.actor.authorize_level(input.level)?;
    let txn = db.begin().await?;
    if let Some(existing) = by_code(&txn, &input.code).await? {
        return Err(ServiceError::conflict(
            format!("a role with code `{}` already exists", input.code),
            Some(existing.id),
        ));
    }
    let now = Utc::now();
    let m = role::ActiveModel {
        code: Set(input.code.clone()),
        name: Set(input.name.trim().to_string()),
        description: Set(input.description.clone()),
        level: Set(input.level),
        scope: Set(scope_str(input.scope).to_string()),
        permissions: Set(encode_permissions(&input.permissions)),
        field_policies: Set(encode_policies(&input.field_policies)),
        back_office: Set(input.back_office),
        builtin: Set(false),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(on_unique("a role with this code already exists"))?;
    let wire = to_wire(&m);
    audit::record(
        &txn,
        ctx,
        Change {
            action: "create",
            entity: Resource::Roles,
            entity_id: m.id,
            org_id: None,
            responsible_id: None,
            before: None,
            after: Some(snapshot(&wire)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(wire)
}

pub async fn update(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: UpdateRole,
    if_match: Option<i32>,
) -> Result<Role> {
    ctx.actor.require(Resource::Roles, Action::Edit)?;
    let txn = db.begin().await?;
    let current = role::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    // Nobody edits a role above their own level, nor lifts one above it.
    ctx.actor.authorize_level(current.level)?;
    if let Some(level) = input.level {
        ctx.actor.authorize_level(level)?;
    }
    if if_match.is_some_and(|v| v != current.version) {
        return Err(ServiceError::StaleVersion);
    }
    let before = to_wire(&current);
    let mut am: role::ActiveModel = current.clone().into();
    if let Some(v) = &input.name {
        am.name = Set(v.trim().to_string());
    }
    if let Some(v) = &input.description {
        am.description = Set(v.clone());
    }
    if let Some(v) = input.level {
        am.level = Set(v);
    }
    if let Some(v) = input.scope {
        am.scope = Set(scope_str(v).to_string());
    }
    if let Some(v) = &input.permissions {
        am.permissions = Set(encode_permissions(v));
    }
    if let Some(v) = &input.field_policies {
        am.field_policies = Set(encode_policies(v));
    }
    if let Some(v) = input.back_office {
        am.back_office = Set(v);
    }
    am.version = Set(current.version + 1);
    am.updated_at = Set(Utc::now());
    let res = role::Entity::update_many()
        .set(am)
        .filter(role::Column::Id.eq(id))
        .filter(role::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ServiceError::StaleVersion);
    }
    let m = role::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let wire = to_wire(&m);
    audit::record(
        &txn,
        ctx,
        Change {
            action: "update",
            entity: Resource::Roles,
            entity_id: id,
            org_id: None,
            responsible_id: None,
            before: Some(snapshot(&before)),
            after: Some(snapshot(&wire)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(wire)
}
