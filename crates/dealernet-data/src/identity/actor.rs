//! Resolving the [`Actor`] behind a credential, on every request. Blocking a user or revoking a
//! session or key therefore takes effect on the very next request.

use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use dealernet_domain::access::EffectiveAccess;
use dealernet_domain::auth::{FieldRestriction, Grant, Me};
use dealernet_domain::org::{OrgKind, OrgPath};
use dealernet_domain::policy::Actor;
use rand::RngCore;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    Statement,
};
use sha2::{Digest, Sha256};

use crate::entities::{api_key, org_node, role, user};
use crate::error::{Result, ServiceError};
use crate::identity::actor_cache::ActorCache;
use crate::identity::{roles, users};
use crate::orgs;

/// The actor of a signed-in user. With `session_id`, the session must still be live.
///
/// One query reads the user, its node, its role ids and its session; the roles themselves come
/// from [`roles::RoleCache`], a short-lived cache. This runs on every request.
pub async fn for_user<C: ConnectionTrait>(
    conn: &C,
    cache: &roles::RoleCache,
    user_id: i64,
    session_id: Option<&str>,
) -> Result<Actor> {
    Ok(resolve(conn, cache, user_id, session_id).await?.0)
}

/// The actor of a signed-in session, from `actors` when it holds it (see
/// [`actor_cache`](super::actor_cache)), otherwise read as [`for_user`] does and kept there.
pub async fn for_session<C: ConnectionTrait>(
    conn: &C,
    roles: &roles::RoleCache,
    actors: &ActorCache,
    user_id: i64,
    session_id: &str,
) -> Result<Arc<Actor>> {
    if let Some(actor) = actors.get(user_id, session_id) {
        return Ok(actor);
    }
    let epoch = actors.epoch();
    let (actor, expires) = resolve(conn, roles, user_id, Some(session_id)).await?;
    let actor = Arc::new(actor);
    if let Some(expires) = expires {
        actors.put(epoch, user_id, session_id, actor.clone(), expires);
    }
    Ok(actor)
}

/// The actor and, with a session, when that session expires.
async fn resolve<C: ConnectionTrait>(
    conn: &C,
    cache: &roles::RoleCache,
    user_id: i64,
    session_id: Option<&str>,
) -> Result<(Actor, Option<DateTime<Utc>>)> {
    let backend = conn.get_database_backend();
    let session: sea_orm::Value = session_id.unwrap_or("").into();
    // `?` placeholders bind in order of appearance: the session's comes first in the text.
    let (p1, p2, values) = match backend {
        DbBackend::Postgres => ("$1", "$2", vec![user_id.into(), session]),
        _ => ("?", "?", vec![session, user_id.into()]),
    };
    let sql = format!(
        "SELECT u.name, u.status, u.access_level, o.id AS org_id, o.path, ur.role_id, \
                s.id AS session_id, s.revoked_at, s.expires_at \
         FROM users u \
         JOIN org_nodes o ON o.id = u.org_id \
         LEFT JOIN user_roles ur ON ur.user_id = u.id \
         LEFT JOIN auth_sessions s ON s.id = {p2} AND s.user_id = u.id \
         WHERE u.id = {p1}"
    );
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let Some(first) = rows.first() else {
        return Err(ServiceError::Unauthenticated(
            "the account no longer exists".into(),
        ));
    };
    let status: String = first.try_get("", "status")?;
    if status != "active" {
        return Err(ServiceError::AccountBlocked);
    }
    let mut session_expires = None;
    if session_id.is_some() {
        let found: Option<String> = first.try_get("", "session_id")?;
        let revoked: Option<DateTime<Utc>> = first.try_get("", "revoked_at")?;
        let expires: Option<DateTime<Utc>> = first.try_get("", "expires_at")?;
        let live = found.is_some() && revoked.is_none() && expires.is_some_and(|e| e > Utc::now());
        if !live {
            return Err(ServiceError::Unauthenticated(
                "the session has ended; sign in again".into(),
            ));
        }
        session_expires = expires;
    }
    let mut role_ids = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(id) = r.try_get::<Option<i64>>("", "role_id")? {
            role_ids.push(id);
        }
    }
    let grants = cache.grants(conn, &role_ids).await?;
    let path: String = first.try_get("", "path")?;
    let actor = Actor {
        user_id: Some(user_id),
        api_key_id: None,
        name: first.try_get("", "name")?,
        org_id: first.try_get("", "org_id")?,
        org_path: OrgPath::parse(&path).map_err(|e| ServiceError::Internal(e.to_string()))?,
        access_level: first.try_get("", "access_level")?,
        access: EffectiveAccess::from_roles(grants.iter()),
    };
    Ok((actor, session_expires))
}

async fn load_user<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
) -> Result<(user::Model, org_node::Model)> {
    let gone = || ServiceError::Unauthenticated("the account no longer exists".into());
    let (u, org) = user::Entity::find_by_id(user_id)
        .find_also_related(org_node::Entity)
        .one(conn)
        .await?
        .ok_or_else(gone)?;
    Ok((u, org.ok_or_else(gone)?))
}

/// The caller's profile and effective permissions, for `GET /me`.
pub async fn me(db: &DatabaseConnection, actor: &Actor) -> Result<Me> {
    let user_id = actor.user_id.ok_or(ServiceError::NotFound)?;
    let (u, org) = load_user(db, user_id).await?;
    let role_models = users::roles_of(db, user_id).await?;
    let permissions = actor
        .access
        .grants
        .iter()
        .map(|(p, scope)| Grant {
            resource: p.resource,
            action: p.action,
            scope: *scope,
        })
        .collect();
    let field_restrictions = actor
        .access
        .fields
        .iter()
        .flat_map(|(resource, fields)| {
            fields.iter().map(move |(field, mode)| FieldRestriction {
                resource: *resource,
                field: field.clone(),
                mode: *mode,
            })
        })
        .collect();
    Ok(Me {
        id: u.id,
        email: u.email,
        name: u.name,
        phone: u.phone,
        access_level: u.access_level,
        org_id: org.id,
        org_kind: OrgKind::parse(&org.kind).unwrap_or(OrgKind::Dealer),
        org_path: org.path.clone(),
        org_name: org.name,
        seller_code: u.seller_code,
        roles: role_models.iter().map(roles::summary).collect(),
        permissions,
        field_restrictions,
        back_office: actor.access.back_office,
    })
}

/// API key secrets look like `dnk_<prefix>_<secret>`.
pub const API_KEY_PREFIX: &str = "dnk_";

pub fn new_api_key_secret() -> (String, String) {
    let mut p = [0u8; 6];
    let mut s = [0u8; 24];
    rand::rng().fill_bytes(&mut p);
    rand::rng().fill_bytes(&mut s);
    let prefix = hex::encode(p);
    let secret = format!(
        "{API_KEY_PREFIX}{prefix}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    );
    (prefix, secret)
}

pub fn api_key_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The actor of an API key: its role's permissions, scoped to its node, at its role's level.
pub async fn for_api_key<C: ConnectionTrait>(conn: &C, secret: &str) -> Result<Actor> {
    let invalid = || ServiceError::Unauthenticated("invalid or revoked API key".into());
    let prefix = secret
        .strip_prefix(API_KEY_PREFIX)
        .and_then(|rest| rest.split_once('_'))
        .map(|(p, _)| p)
        .ok_or_else(invalid)?;
    let key = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(conn)
        .await?
        .ok_or_else(invalid)?;
    // Compare digests, not secrets: equal-length hex strings, compared in full.
    let presented = api_key_hash(secret);
    let same = presented.len() == key.secret_hash.len()
        && presented
            .bytes()
            .zip(key.secret_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same || key.revoked_at.is_some() {
        return Err(invalid());
    }
    let role = role::Entity::find_by_id(key.role_id)
        .one(conn)
        .await?
        .ok_or_else(invalid)?;
    let org = org_node::Entity::find_by_id(key.org_id)
        .one(conn)
        .await?
        .ok_or_else(invalid)?;
    let now = Utc::now();
    // Record use, at most once a minute per key, so keys do not turn every read into a write.
    if key
        .last_used_at
        .is_none_or(|t| now - t > Duration::seconds(60))
    {
        api_key::Entity::update_many()
            .col_expr(
                api_key::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(api_key::Column::Id.eq(key.id))
            .exec(conn)
            .await?;
    }
    let grant = roles::grant(&role);
    Ok(Actor {
        user_id: None,
        api_key_id: Some(key.id),
        name: format!("API key {}", key.name),
        org_id: org.id,
        org_path: orgs::path_of(&org)?,
        access_level: role.level,
        access: EffectiveAccess::from_roles([&grant]),
    })
}
