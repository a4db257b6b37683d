//! Users: list, read, create, edit, block, grant and revoke roles, reset passwords.

use std::collections::HashMap;

use chrono::Utc;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::auth::UpdateMe;
use dealernet_domain::list::{Page, Paging, Sort};
use dealernet_domain::org::OrgPath;
use dealernet_domain::policy::{Actor, Denied, RecordRef};
use dealernet_domain::role::RoleSummary;
use dealernet_domain::user::{CreateUser, UpdateUser, User, UserStatus};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, PostgresQueryBuilder, Query, SimpleExpr, SqliteQueryBuilder,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbBackend, EntityTrait, ExprTrait, FromQueryResult, IdenStatic, Order,
    QueryFilter, QuerySelect, QueryTrait, Statement, TransactionTrait,
};

use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::entities::{org_node, role, user, user_role};
use crate::error::{Result, ServiceError, on_unique};
use crate::identity::{password, roles, sessions};
use crate::{orgs, page, scope, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSort {
    Name,
    Email,
    AccessLevel,
    Status,
    CreatedAt,
    LastLoginAt,
}

pub const SORT_FIELDS: &[(&str, UserSort)] = &[
    ("name", UserSort::Name),
    ("email", UserSort::Email),
    ("access_level", UserSort::AccessLevel),
    ("status", UserSort::Status),
    ("created_at", UserSort::CreatedAt),
    ("last_login_at", UserSort::LastLoginAt),
];

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub q: Option<String>,
    /// Users of this node and every node below it.
    pub org_id: Option<i64>,
    pub role_id: Option<i64>,
    pub status: Option<UserStatus>,
    pub access_level: Option<i16>,
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn status_of(m: &user::Model) -> UserStatus {
    UserStatus::parse(&m.status).unwrap_or(UserStatus::Blocked)
}

struct Loaded {
    user: user::Model,
    org: org_node::Model,
}

impl Loaded {
    fn path(&self) -> Result<OrgPath> {
        orgs::path_of(&self.org)
    }
}

fn record_ref<'a>(path: &'a OrgPath, m: &user::Model) -> RecordRef<'a> {
    RecordRef {
        org_path: path,
        responsible_id: Some(m.id),
    }
}

async fn load<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Loaded> {
    let (user, org) = user::Entity::find_by_id(id)
        .find_also_related(org_node::Entity)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let org =
        org.ok_or_else(|| ServiceError::Internal(format!("user {id} has no organisation node")))?;
    Ok(Loaded { user, org })
}

async fn load_visible<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<Loaded> {
    let l = load(conn, id).await?;
    actor.authorize(Resource::Users, action, record_ref(&l.path()?, &l.user))?;
    Ok(l)
}

async fn role_models_of<C: ConnectionTrait>(
    conn: &C,
    user_ids: &[i64],
) -> Result<HashMap<i64, Vec<role::Model>>> {
    let mut out: HashMap<i64, Vec<role::Model>> = HashMap::new();
    if user_ids.is_empty() {
        return Ok(out);
    }
    // One query: each user's links with their roles.
    let rows = user_role::Entity::find()
        .filter(user_role::Column::UserId.is_in(user_ids.to_vec()))
        .find_also_related(role::Entity)
        .all(conn)
        .await?;
    for (link, r) in rows {
        if let Some(r) = r {
            out.entry(link.user_id).or_default().push(r);
        }
    }
    for v in out.values_mut() {
        v.sort_by(|a, b| b.level.cmp(&a.level).then(a.code.cmp(&b.code)));
    }
    Ok(out)
}

/// Roles of one user, highest level first.
pub async fn roles_of<C: ConnectionTrait>(conn: &C, user_id: i64) -> Result<Vec<role::Model>> {
    Ok(role_models_of(conn, &[user_id])
        .await?
        .remove(&user_id)
        .unwrap_or_default())
}

fn to_wire(
    actor: &Actor,
    m: user::Model,
    org_name: Option<String>,
    roles: Vec<RoleSummary>,
) -> User {
    let u = User {
        id: m.id,
        email: Some(m.email),
        name: Some(m.name),
        phone: m.phone,
        org_id: Some(m.org_id),
        org_name,
        access_level: Some(m.access_level),
        status: UserStatus::parse(&m.status),
        seller_code: m.seller_code,
        last_login_at: m.last_login_at,
        roles,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    };
    crate::redact::redacted(actor, Resource::Users, u)
}

fn snapshot(m: &user::Model, role_ids: &[i64]) -> serde_json::Value {
    let mut ids = role_ids.to_vec();
    ids.sort_unstable();
    serde_json::json!({
        "email": m.email, "name": m.name, "phone": m.phone, "org_id": m.org_id,
        "access_level": m.access_level, "status": m.status, "seller_code": m.seller_code,
        "role_ids": ids,
    })
}

/// One user as the actor may see it. This is the hottest read of the API, so the user, its node
/// and its roles come back in a single round trip.
pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<User> {
    let backend = db.get_database_backend();
    let p = match backend {
        DbBackend::Postgres => "$1",
        _ => "?",
    };
    let sql = format!(
        "SELECT u.*, o.name AS org_name, o.path AS org_path, \
                r.id AS role_id, r.code AS role_code, r.name AS role_name, r.level AS role_level \
         FROM users u \
         JOIN org_nodes o ON o.id = u.org_id \
         LEFT JOIN user_roles ur ON ur.user_id = u.id \
         LEFT JOIN roles r ON r.id = ur.role_id \
         WHERE u.id = {p}"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [id.into()]))
        .await?;
    let first = rows.first().ok_or(ServiceError::NotFound)?;
    let user = user::Model::from_query_result(first, "")?;
    let path: String = first.try_get("", "org_path")?;
    let path = OrgPath::parse(&path).map_err(|e| ServiceError::Internal(e.to_string()))?;
    actor.authorize(Resource::Users, Action::View, record_ref(&path, &user))?;
    let org_name: String = first.try_get("", "org_name")?;
    let mut summaries = Vec::with_capacity(rows.len());
    for row in &rows {
        summaries.extend(role_in_row(row)?);
    }
    Ok(to_wire(
        actor,
        user,
        Some(org_name),
        sorted_roles(summaries),
    ))
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &UserFilter,
    sort: &Sort<UserSort>,
    paging: Paging,
) -> Result<Page<User>> {
    actor.require(Resource::Users, Action::View)?;
    let visibility = actor.visibility(Resource::Users, Action::View);
    let mut q = user::Entity::find().filter(scope::condition(
        &visibility,
        user::Column::OrgId,
        Some(user::Column::Id),
    ));
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let mut any = Condition::any()
            .add(text::contains_ci(user::Column::Name, text))
            .add(text::contains_ci(user::Column::Email, text))
            .add(text::contains_ci(user::Column::Phone, text));
        if actor
            .access
            .field_mode(Resource::Users, "seller_code")
            .is_none()
        {
            any = any.add(text::contains_ci(user::Column::SellerCode, text));
        }
        q = q.filter(any);
    }
    if let Some(org_id) = filter.org_id {
        let Some(path) = orgs::path(db, org_id).await? else {
            return Ok(Page::empty());
        };
        q = q.filter(user::Column::OrgId.in_subquery(scope::subtree_ids(&path)));
    }
    if let Some(role_id) = filter.role_id {
        q = q.filter(
            user::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(user_role::Column::UserId)
                    .from(user_role::Entity)
                    .and_where(user_role::Column::RoleId.eq(role_id))
                    .to_owned(),
            ),
        );
    }
    if let Some(status) = filter.status {
        q = q.filter(user::Column::Status.eq(status.as_str()));
    }
    if let Some(level) = filter.access_level {
        q = q.filter(user::Column::AccessLevel.eq(level));
    }
    // One round trip: the page's users with their node's name, the count of every match, and
    // the page's roles. With no free text, the values are written into the statement (they are
    // ids, levels and a status) so PostgreSQL plans it once per connection instead of on every
    // call; the scope's path is a literal anyway (see `scope::subtree_ids`).
    let backend = db.get_database_backend();
    let inline = filter.q.as_deref().map(str::trim).is_none_or(str::is_empty);
    let mut keys: Vec<(&'static str, Order)> = sort
        .keys
        .iter()
        .map(|(key, dir)| {
            let col = match key {
                UserSort::Name => user::Column::Name,
                UserSort::Email => user::Column::Email,
                UserSort::AccessLevel => user::Column::AccessLevel,
                UserSort::Status => user::Column::Status,
                UserSort::CreatedAt => user::Column::CreatedAt,
                UserSort::LastLoginAt => user::Column::LastLoginAt,
            };
            (col.as_str(), page::order(*dir))
        })
        .collect();
    keys.push((user::Column::Id.as_str(), Order::Asc));
    let count = q
        .clone()
        .select_only()
        .expr(Expr::cust("COUNT(*)"))
        .into_query();
    let count_stmt = count.clone();
    let mut page = q.into_query();
    page.expr_as(
        Expr::col((org_node::Entity, org_node::Column::Name)),
        Alias::new("org_name"),
    )
    .expr_as(
        SimpleExpr::SubQuery(None, Box::new(count.into())),
        Alias::new("page_total"),
    )
    .inner_join(
        org_node::Entity,
        Expr::col((org_node::Entity, org_node::Column::Id))
            .equals((user::Entity, user::Column::OrgId)),
    );
    for (col, order) in &keys {
        page.order_by((user::Entity, Alias::new(*col)), order.clone());
    }
    page.limit(paging.limit).offset(paging.offset);
    let p = Alias::new("p");
    let mut stmt = Query::select();
    stmt.column((p.clone(), Asterisk))
        .expr_as(
            Expr::col((role::Entity, role::Column::Id)),
            Alias::new("role_id"),
        )
        .expr_as(
            Expr::col((role::Entity, role::Column::Code)),
            Alias::new("role_code"),
        )
        .expr_as(
            Expr::col((role::Entity, role::Column::Name)),
            Alias::new("role_name"),
        )
        .expr_as(
            Expr::col((role::Entity, role::Column::Level)),
            Alias::new("role_level"),
        )
        .from_subquery(page, p.clone())
        .left_join(
            user_role::Entity,
            Expr::col((user_role::Entity, user_role::Column::UserId))
                .equals((p.clone(), user::Column::Id)),
        )
        .left_join(
            role::Entity,
            Expr::col((role::Entity, role::Column::Id))
                .equals((user_role::Entity, user_role::Column::RoleId)),
        );
    for (col, order) in &keys {
        stmt.order_by((p.clone(), Alias::new(*col)), order.clone());
    }
    let statement = match (inline, backend) {
        (true, DbBackend::Postgres) => {
            Statement::from_string(backend, stmt.to_string(PostgresQueryBuilder))
        }
        (true, DbBackend::Sqlite) => {
            Statement::from_string(backend, stmt.to_string(SqliteQueryBuilder))
        }
        _ => backend.build(&stmt),
    };
    let rows = db.query_all_raw(statement).await?;
    let mut total: Option<u64> = None;
    let mut items: Vec<User> = Vec::new();
    let mut current: Option<(user::Model, String, Vec<RoleSummary>)> = None;
    for row in &rows {
        let id: i64 = row.try_get("", "id")?;
        if current.as_ref().is_none_or(|(m, _, _)| m.id != id) {
            if let Some((m, org_name, roles)) = current.take() {
                items.push(to_wire(actor, m, Some(org_name), sorted_roles(roles)));
            }
            if total.is_none() {
                let n: i64 = row.try_get("", "page_total")?;
                total = Some(u64::try_from(n).unwrap_or_default());
            }
            current = Some((
                user::Model::from_query_result(row, "")?,
                row.try_get("", "org_name")?,
                Vec::new(),
            ));
        }
        if let Some((_, _, roles)) = current.as_mut() {
            roles.extend(role_in_row(row)?);
        }
    }
    if let Some((m, org_name, roles)) = current.take() {
        items.push(to_wire(actor, m, Some(org_name), sorted_roles(roles)));
    }
    let total = match total {
        Some(n) => n,
        // A page past the end holds no row to carry the count.
        None if paging.offset > 0 => page::count_rows(db, &count_stmt).await?,
        None => 0,
    };
    Ok(Page::new(items, total))
}

/// The role a user-and-roles row carries (`role_id`, `role_code`, `role_name`, `role_level`;
/// absent for a user without roles).
fn role_in_row(row: &sea_orm::QueryResult) -> Result<Option<RoleSummary>> {
    let Some(id) = row.try_get::<Option<i64>>("", "role_id")? else {
        return Ok(None);
    };
    Ok(Some(RoleSummary {
        id,
        code: row.try_get("", "role_code")?,
        name: row.try_get("", "role_name")?,
        level: row.try_get("", "role_level")?,
    }))
}

/// Roles highest level first, then by code.
fn sorted_roles(mut roles: Vec<RoleSummary>) -> Vec<RoleSummary> {
    roles.sort_by(|a, b| b.level.cmp(&a.level).then(a.code.cmp(&b.code)));
    roles
}

/// Resolves the node a user is placed in and checks the actor may place users there.
async fn placeable_org<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    org_id: i64,
) -> Result<org_node::Model> {
    let not_found = || ServiceError::field("org_id", "not_found", "no such organisation node");
    let org = org_node::Entity::find_by_id(org_id)
        .one(conn)
        .await?
        .ok_or_else(not_found)?;
    let path = orgs::path_of(&org)?;
    actor
        .authorize_create(Resource::Users, &path)
        .map_err(|e| match e {
            Denied::OutOfScope => not_found(),
            other => ServiceError::Denied(other),
        })?;
    Ok(org)
}

/// Checks the roles exist and that the actor may grant each of them to a user of `level`.
async fn grantable_roles<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    role_ids: &[i64],
    level: i16,
) -> Result<Vec<role::Model>> {
    let mut ids = role_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let found = role::Entity::find()
        .filter(role::Column::Id.is_in(ids.clone()))
        .all(conn)
        .await?;
    for id in &ids {
        let Some(r) = found.iter().find(|r| r.id == *id) else {
            return Err(ServiceError::field(
                "role_ids",
                "not_found",
                format!("role {id} does not exist"),
            ));
        };
        actor.authorize_level(r.level)?;
        if r.level > level {
            return Err(ServiceError::field(
                "role_ids",
                "level",
                format!("role `{}` needs access level {} or higher", r.code, r.level),
            ));
        }
    }
    Ok(found)
}

async fn ensure_unique<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    email: Option<&str>,
    seller_code: Option<&str>,
    except: Option<i64>,
) -> Result<()> {
    if let Some(email) = email {
        let mut q = user::Entity::find().filter(user::Column::Email.eq(email));
        if let Some(id) = except {
            q = q.filter(user::Column::Id.ne(id));
        }
        if let Some(existing) = q.one(conn).await? {
            let visible = load_visible(conn, actor, existing.id, Action::View)
                .await
                .is_ok();
            return Err(ServiceError::Conflict {
                detail: format!("a user with the e-mail {email} already exists"),
                existing_id: visible.then_some(existing.id),
            });
        }
    }
    if let Some(code) = seller_code {
        let mut q = user::Entity::find().filter(user::Column::SellerCode.eq(code));
        if let Some(id) = except {
            q = q.filter(user::Column::Id.ne(id));
        }
        if q.one(conn).await?.is_some() {
            return Err(ServiceError::conflict(
                format!("the seller code {code} is already taken"),
                None,
            ));
        }
    }
    Ok(())
}

pub async fn create(db: &DatabaseConnection, ctx: Ctx<'_>, input: CreateUser) -> Result<User> {
    let actor = ctx.actor;
    actor.require(Resource::Users, Action::Create)?;
    let written = [
        "email",
        "name",
        "phone",
        "org_id",
        "access_level",
        "seller_code",
    ];
    actor.check_writable(
        Resource::Users,
        written.into_iter().filter(|f| match *f {
            "phone" => input.phone.is_some(),
            "seller_code" => input.seller_code.is_some(),
            // A read-only access level may still be given when it is the default for new staff.
            "access_level" => false,
            _ => true,
        }),
    )?;
    actor.authorize_level(input.access_level)?;
    let hash = password::hash_async(input.password.clone()).await?;
    let email = normalize_email(&input.email);
    let txn = db.begin().await?;
    let org = placeable_org(&txn, actor, input.org_id).await?;
    let granted = grantable_roles(&txn, actor, &input.role_ids, input.access_level).await?;
    ensure_unique(
        &txn,
        actor,
        Some(&email),
        input.seller_code.as_deref(),
        None,
    )
    .await?;
    let now = Utc::now();
    let m = user::ActiveModel {
        email: Set(email),
        name: Set(input.name.trim().to_string()),
        phone: Set(input.phone.clone()),
        org_id: Set(org.id),
        access_level: Set(input.access_level),
        status: Set(UserStatus::Active.as_str().to_string()),
        seller_code: Set(input.seller_code.clone()),
        password_hash: Set(hash),
        last_login_at: Set(None),
        created_by: Set(actor.user_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(on_unique(
        "a user with this e-mail or seller code already exists",
    ))?;
    for r in &granted {
        user_role::ActiveModel {
            user_id: Set(m.id),
            role_id: Set(r.id),
            granted_by: Set(actor.user_id),
            granted_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    let role_ids: Vec<i64> = granted.iter().map(|r| r.id).collect();
    audit::record(
        &txn,
        ctx,
        Change {
            action: "create",
            entity: Resource::Users,
            entity_id: m.id,
            org_id: Some(m.org_id),
            responsible_id: Some(m.id),
            before: None,
            after: Some(snapshot(&m, &role_ids)),
        },
    )
    .await?;
    txn.commit().await?;
    let mut granted = granted;
    granted.sort_by_key(|r| std::cmp::Reverse(r.level));
    Ok(to_wire(
        actor,
        m,
        Some(org.name),
        granted.iter().map(roles::summary).collect(),
    ))
}

pub async fn update(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: UpdateUser,
    if_match: Option<i32>,
) -> Result<User> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let l = load_visible(&txn, actor, id, Action::Edit).await?;
    actor.check_writable(Resource::Users, input.written_fields())?;
    if if_match.is_some_and(|v| v != l.user.version) {
        return Err(ServiceError::StaleVersion);
    }
    // Nobody manages a user above their own level.
    actor.authorize_level(l.user.access_level).map_err(|_| {
        Denied::Rule("you may not change a user with a higher access level than yours".into())
    })?;
    let is_self = actor.user_id == Some(id);
    if is_self
        && (input.status.is_some()
            || input.role_ids.is_some()
            || input.access_level.is_some()
            || input.org_id.is_some())
    {
        return Err(Denied::Rule(
            "you may not change your own status, roles, access level or organisation".into(),
        )
        .into());
    }
    let current_roles = roles_of(&txn, id).await?;
    let before = snapshot(
        &l.user,
        &current_roles.iter().map(|r| r.id).collect::<Vec<_>>(),
    );
    let mut am: user::ActiveModel = l.user.clone().into();
    let email = input.email.as_deref().map(normalize_email);
    ensure_unique(
        &txn,
        actor,
        email.as_deref(),
        input.seller_code.clone().flatten().as_deref(),
        Some(id),
    )
    .await?;
    if let Some(e) = email {
        am.email = Set(e);
    }
    if let Some(n) = &input.name {
        am.name = Set(n.trim().to_string());
    }
    if let Some(p) = &input.phone {
        am.phone = Set(p.clone());
    }
    if let Some(s) = &input.seller_code {
        am.seller_code = Set(s.clone());
    }
    if let Some(org_id) = input.org_id.filter(|o| *o != l.user.org_id) {
        let org = placeable_org(&txn, actor, org_id).await?;
        am.org_id = Set(org.id);
    }
    let level = input.access_level.unwrap_or(l.user.access_level);
    if let Some(new_level) = input.access_level {
        actor.authorize_level(new_level)?;
        am.access_level = Set(new_level);
    }
    let mut action = "update";
    if let Some(status) = input.status {
        am.status = Set(status.as_str().to_string());
        if status != status_of(&l.user) {
            action = match status {
                UserStatus::Blocked => "block",
                UserStatus::Active => "unblock",
            };
        }
    }
    // Roles: the new set replaces the old; each added or removed role must be within the
    // actor's level, and every role kept must still fit the user's level.
    let mut new_role_ids: Vec<i64> = current_roles.iter().map(|r| r.id).collect();
    if let Some(wanted) = &input.role_ids {
        let wanted_models = grantable_roles(&txn, actor, wanted, level).await?;
        for r in &current_roles {
            if !wanted.contains(&r.id) {
                actor.authorize_level(r.level).map_err(|_| {
                    Denied::Rule(format!("you may not revoke the role `{}`", r.code))
                })?;
            }
        }
        let now = Utc::now();
        user_role::Entity::delete_many()
            .filter(user_role::Column::UserId.eq(id))
            .filter(user_role::Column::RoleId.is_not_in(wanted.clone()))
            .exec(&txn)
            .await?;
        for r in &wanted_models {
            if !current_roles.iter().any(|c| c.id == r.id) {
                user_role::ActiveModel {
                    user_id: Set(id),
                    role_id: Set(r.id),
                    granted_by: Set(actor.user_id),
                    granted_at: Set(now),
                }
                .insert(&txn)
                .await?;
            }
        }
        new_role_ids = wanted_models.iter().map(|r| r.id).collect();
    } else if input.access_level.is_some()
        && let Some(r) = current_roles.iter().find(|r| r.level > level)
    {
        return Err(ServiceError::field(
            "access_level",
            "level",
            format!(
                "the user holds role `{}`, which needs access level {}",
                r.code, r.level
            ),
        ));
    }
    am.version = Set(l.user.version + 1);
    am.updated_at = Set(Utc::now());
    let res = user::Entity::update_many()
        .set(am)
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::Version.eq(l.user.version))
        .exec(&txn)
        .await
        .map_err(on_unique(
            "a user with this e-mail or seller code already exists",
        ))?;
    if res.rows_affected != 1 {
        return Err(ServiceError::StaleVersion);
    }
    if action == "block" {
        sessions::revoke_all_for_user(&txn, id, "blocked").await?;
    }
    let after = load(&txn, id).await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action,
            entity: Resource::Users,
            entity_id: id,
            org_id: Some(after.user.org_id),
            responsible_id: Some(id),
            before: Some(before),
            after: Some(snapshot(&after.user, &new_role_ids)),
        },
    )
    .await?;
    let roles_now = roles_of(&txn, id).await?;
    txn.commit().await?;
    Ok(to_wire(
        actor,
        after.user,
        Some(after.org.name),
        roles_now.iter().map(roles::summary).collect(),
    ))
}

/// An administrator sets a new password for another user; all of that user's sessions end.
pub async fn reset_password(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    new_password: String,
) -> Result<()> {
    let actor = ctx.actor;
    {
        let l = load_visible(db, actor, id, Action::Edit).await?;
        actor.authorize_level(l.user.access_level).map_err(|_| {
            Denied::Rule("you may not change a user with a higher access level than yours".into())
        })?;
    }
    let hash = password::hash_async(new_password).await?;
    let txn = db.begin().await?;
    let l = load_visible(&txn, actor, id, Action::Edit).await?;
    let mut am: user::ActiveModel = l.user.clone().into();
    am.password_hash = Set(hash);
    am.version = Set(l.user.version + 1);
    am.updated_at = Set(Utc::now());
    am.update(&txn).await?;
    sessions::revoke_all_for_user(&txn, id, "password_reset").await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "reset_password",
            entity: Resource::Users,
            entity_id: id,
            org_id: Some(l.user.org_id),
            responsible_id: Some(id),
            before: None,
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The caller changes its own name or phone.
pub async fn update_me(db: &DatabaseConnection, ctx: Ctx<'_>, input: UpdateMe) -> Result<()> {
    let id = ctx.actor.user_id.ok_or(ServiceError::NotFound)?;
    let txn = db.begin().await?;
    let l = load(&txn, id).await?;
    let roles_now = roles_of(&txn, id).await?;
    let role_ids: Vec<i64> = roles_now.iter().map(|r| r.id).collect();
    let before = snapshot(&l.user, &role_ids);
    let mut am: user::ActiveModel = l.user.clone().into();
    if let Some(n) = &input.name {
        am.name = Set(n.trim().to_string());
    }
    if let Some(p) = &input.phone {
        am.phone = Set(p.clone());
    }
    am.version = Set(l.user.version + 1);
    am.updated_at = Set(Utc::now());
    let m = am.update(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "update_profile",
            entity: Resource::Users,
            entity_id: id,
            org_id: Some(m.org_id),
            responsible_id: Some(id),
            before: Some(before),
            after: Some(snapshot(&m, &role_ids)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The caller changes its own password; every other session of the caller ends.
pub async fn change_password(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    current_session: Option<&str>,
    current_password: String,
    new_password: String,
) -> Result<()> {
    let id = ctx.actor.user_id.ok_or(ServiceError::NotFound)?;
    let l = load(db, id).await?;
    if !password::verify_async(current_password, l.user.password_hash.clone()).await {
        return Err(ServiceError::field(
            "current_password",
            "mismatch",
            "is not your current password",
        ));
    }
    let hash = password::hash_async(new_password).await?;
    let txn = db.begin().await?;
    let mut am: user::ActiveModel = l.user.clone().into();
    am.password_hash = Set(hash);
    am.version = Set(l.user.version + 1);
    am.updated_at = Set(Utc::now());
    am.update(&txn).await?;
    sessions::revoke_others(&txn, id, current_session, "password_changed").await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "change_password",
            entity: Resource::Users,
            entity_id: id,
            org_id: Some(l.user.org_id),
            responsible_id: Some(id),
            before: None,
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A user by e-mail, for login.
pub async fn by_email<C: ConnectionTrait>(conn: &C, email: &str) -> Result<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(normalize_email(email)))
        .one(conn)
        .await?)
}
