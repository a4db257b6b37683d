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
    Alias, Asterisk, CommonTableExpression, Expr, JoinType, PostgresQueryBuilder, Query,
    SelectStatement, SqliteQueryBuilder, WithClause, WithQuery,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbBackend, EntityTrait, ExprTrait, FromQueryResult, Order, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Statement, TransactionTrait,
};

use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::entities::{org_node, role, user, user_role};
use crate::error::{Result, ServiceError, on_unique};
use crate::identity::{password, roles, sessions};
use crate::page::{KeyKind, SortKey};
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
    let org_path = match filter.org_id {
        Some(org_id) => match orgs::path(db, org_id).await? {
            Some(path) => Some(path),
            None => return Ok(Page::empty()),
        },
        None => None,
    };
    let text = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    // The matches, with the scope's bounds bound (`shared`) or written into the statement.
    let matches = |shared: bool| {
        let (condition, subtree): (_, fn(&OrgPath) -> SelectStatement) = if shared {
            (
                scope::shared_condition(&visibility, user::Column::OrgId, Some(user::Column::Id)),
                scope::shared_subtree_ids,
            )
        } else {
            (
                scope::condition(&visibility, user::Column::OrgId, Some(user::Column::Id)),
                scope::subtree_ids,
            )
        };
        let mut q = user::Entity::find().filter(condition);
        if let Some(text) = text {
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
        if let Some(path) = &org_path {
            q = q.filter(user::Column::OrgId.in_subquery(subtree(path)));
        }
        if let Some(role_id) = filter.role_id {
            q = q.filter(
                user::Column::Id.in_subquery(
                    Query::select()
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
        q
    };
    let backend = db.get_database_backend();
    let mut keys: Vec<SortKey<user::Column>> = sort
        .keys
        .iter()
        .map(|(key, dir)| {
            let (col, kind) = match key {
                UserSort::Name => (user::Column::Name, KeyKind::Text),
                UserSort::Email => (user::Column::Email, KeyKind::Text),
                UserSort::AccessLevel => (user::Column::AccessLevel, KeyKind::Number),
                UserSort::Status => (user::Column::Status, KeyKind::Text),
                UserSort::CreatedAt => (user::Column::CreatedAt, KeyKind::Other),
                UserSort::LastLoginAt => (user::Column::LastLoginAt, KeyKind::Other),
            };
            SortKey::new(col, page::order(*dir), kind)
        })
        .collect();
    keys.push(SortKey::new(user::Column::Id, Order::Asc, KeyKind::Number));
    let total = if keys.iter().all(|k| k.kind != KeyKind::Other) {
        let statement = backend.build(&sorted_page(matches(true), &keys, paging));
        let rows = if backend == DbBackend::Postgres {
            // One plan per connection for every caller (see `sorted_page`).
            let txn = db.begin().await?;
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_generic_plan")
                .await?;
            let rows = txn.query_all_raw(statement).await?;
            txn.commit().await?;
            rows
        } else {
            db.query_all_raw(statement).await?
        };
        let (items, total) = users_of_rows(actor, &rows)?;
        let total = total.unwrap_or_default();
        // Past the gate the statement yields the count alone.
        if total <= SORT_MATCHES_MAX || paging.offset >= total {
            return Ok(Page::new(items, total));
        }
        total
    } else {
        let count = matches(false)
            .select_only()
            .expr(Expr::cust("COUNT(*)"))
            .into_query();
        page::count_rows(db, &count).await?
    };
    if paging.offset >= total {
        return Ok(Page::new(vec![], total));
    }
    let rows = db
        .query_all_raw(walked_page(
            backend,
            text.is_none(),
            matches(false),
            &keys,
            paging,
        ))
        .await?;
    Ok(Page::new(users_of_rows(actor, &rows)?.0, total))
}

/// The users of user-and-roles rows (one row per role), in the rows' order, and the count the
/// rows carry (`page_total`), if they carry one.
fn users_of_rows(actor: &Actor, rows: &[sea_orm::QueryResult]) -> Result<(Vec<User>, Option<u64>)> {
    // Every row of a counted page carries the count; a walked page's rows have no such column.
    let total = rows
        .first()
        .and_then(|row| row.try_get::<Option<i64>>("", "page_total").ok().flatten())
        .map(|n| u64::try_from(n).unwrap_or_default());
    let mut items: Vec<User> = Vec::new();
    let mut current: Option<(user::Model, String, Vec<RoleSummary>)> = None;
    for row in rows {
        // The one row of a counted page without users.
        let Some(id) = row.try_get::<Option<i64>>("", "id")? else {
            continue;
        };
        if current.as_ref().is_none_or(|(m, _, _)| m.id != id) {
            if let Some((m, org_name, roles)) = current.take() {
                items.push(to_wire(actor, m, Some(org_name), sorted_roles(roles)));
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
    Ok((items, total))
}

/// Up to this many matches, a users page is chosen by sorting the matches (see [`page`]).
///
/// Walking the name index reads about `(offset + limit) × users / matches` rows and drops those
/// outside the scope, and far more when the scope's users are not spread evenly over the names
/// (on 100,000 users, a page of a region's 1,800 took 3.3 ms when they sorted late); sorting
/// reads each match once from `(org_id, status, name, id)`, without the table. Past a few
/// thousand matches the walk wins, and an administrator's list of the whole network keeps it.
pub const SORT_MATCHES_MAX: u64 = 5_000;

/// A users page as one statement shared by every caller, for up to [`SORT_MATCHES_MAX`] matches:
/// `c` counts the matches; when there are no more than that, the page's ids come from sorting
/// them, and the page's rows carry their node's name, the count and their roles. With more
/// matches, or none on the page, it yields one row holding only the count (the gate on the
/// count is checked once, before the page's scan).
///
/// Every value is bound. Written into the statement, each caller's scope made a statement of its
/// own, and with many callers in turn sqlx's cache of prepared statements (100 per connection)
/// kept none for long: PostgreSQL planned nearly every list anew, 0.4 ms for a dealer's page
/// that takes 0.05 ms to run. Bound, on PostgreSQL it runs with `plan_cache_mode =
/// force_generic_plan` and is planned once per connection (left to choose, PostgreSQL would plan
/// each call, as the generic plan's estimate is worse than a custom one's). The gate is what
/// lets one plan fit a dealer's ten users and a region's thousands alike.
fn sorted_page(
    q: sea_orm::Select<user::Entity>,
    keys: &[SortKey<user::Column>],
    paging: Paging,
) -> WithQuery {
    let total = || Expr::cust(r#"(SELECT "n" FROM "c")"#);
    let mut counted = q.clone().select_only().into_query();
    counted.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"));
    let mut ids = q.select_only().column(user::Column::Id);
    for k in keys {
        ids = ids.order_by(k.fenced(), k.order.clone());
    }
    let mut ids = ids.limit(paging.limit).offset(paging.offset).into_query();
    ids.and_where(total().lte(Expr::cust(SORT_MATCHES_MAX.to_string())));
    let i = Alias::new("i");
    let mut rows = user::Entity::find().into_query();
    rows.expr_as(
        Expr::col((org_node::Entity, org_node::Column::Name)),
        Alias::new("org_name"),
    )
    .join_subquery(
        JoinType::InnerJoin,
        ids,
        i.clone(),
        Expr::col((i, user::Column::Id)).equals((user::Entity, user::Column::Id)),
    )
    .inner_join(
        org_node::Entity,
        Expr::col((org_node::Entity, org_node::Column::Id))
            .equals((user::Entity, user::Column::OrgId)),
    );
    WithClause::new()
        .cte(
            CommonTableExpression::new()
                .query(counted)
                .table_name(Alias::new("c"))
                .to_owned(),
        )
        .to_owned()
        .query(with_roles(rows, keys, true))
}

/// A users page by walking the sort order (many matches, or a sort by time), for a caller whose
/// scope's bounds are written into `q`. Without free text every value is written in, so
/// PostgreSQL plans it once per connection for what it is; such callers are few.
fn walked_page(
    backend: DbBackend,
    inline: bool,
    q: sea_orm::Select<user::Entity>,
    keys: &[SortKey<user::Column>],
    paging: Paging,
) -> Statement {
    let mut rows = q;
    for k in keys {
        rows = rows.order_by(k.col, k.order.clone());
    }
    let mut rows = rows.limit(paging.limit).offset(paging.offset).into_query();
    rows.expr_as(
        Expr::col((org_node::Entity, org_node::Column::Name)),
        Alias::new("org_name"),
    )
    .inner_join(
        org_node::Entity,
        Expr::col((org_node::Entity, org_node::Column::Id))
            .equals((user::Entity, user::Column::OrgId)),
    );
    let stmt = with_roles(rows, keys, false);
    match (inline, backend) {
        (true, DbBackend::Postgres) => {
            Statement::from_string(backend, stmt.to_string(PostgresQueryBuilder))
        }
        (true, DbBackend::Sqlite) => {
            Statement::from_string(backend, stmt.to_string(SqliteQueryBuilder))
        }
        _ => backend.build(&stmt),
    }
}

/// `rows` (users with their node's name) with each user's roles joined on, in `keys` order.
/// `counted`: every row also carries the count `c` holds as `page_total`, and with no user there
/// is still one row, whose user columns are null, to carry it.
fn with_roles(
    rows: SelectStatement,
    keys: &[SortKey<user::Column>],
    counted: bool,
) -> SelectStatement {
    let p = Alias::new("p");
    let mut stmt = Query::select();
    if counted {
        let c = Alias::new("c");
        stmt.expr_as(
            Expr::col((c.clone(), Alias::new("n"))),
            Alias::new("page_total"),
        )
        .from(c)
        .join_subquery(JoinType::LeftJoin, rows, p.clone(), Expr::cust("1 = 1"));
    } else {
        stmt.from_subquery(rows, p.clone());
    }
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
    for k in keys {
        stmt.order_by((p.clone(), k.col), k.order.clone());
    }
    stmt
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
