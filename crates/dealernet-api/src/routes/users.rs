use actix_web::{HttpResponse, get, patch, post, web};
use dealernet_data::identity::users::{self, SORT_FIELDS, UserFilter};
use dealernet_domain::list::Page;
use dealernet_domain::user::{CreateUser, ResetPassword, UpdateUser, User, UserStatus};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{created, paging_and_sort, with_etag};
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::extract::{IfMatch, ValidJson, ValidQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// 1–100, default 20.
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// `name`, `email`, `access_level`, `status`, `created_at`, `last_login_at`; `-` for descending.
    pub sort: Option<String>,
    /// Searches name, e-mail, phone and seller code.
    pub q: Option<String>,
    /// Users of this node and every node below it.
    pub org_id: Option<i64>,
    pub role_id: Option<i64>,
    pub status: Option<UserStatus>,
    pub access_level: Option<i16>,
}

/// List the users the caller may see.
#[utoipa::path(tag = "users", params(UserQuery), responses((status = 200, body = Page<User>)))]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<UserQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let (paging, sort) = paging_and_sort(q.limit, q.offset, q.sort.as_deref(), SORT_FIELDS)?;
    let filter = UserFilter {
        q: q.q,
        org_id: q.org_id,
        role_id: q.role_id,
        status: q.status,
        access_level: q.access_level,
    };
    Ok(HttpResponse::Ok().json(users::list(&state.db, &auth.actor, &filter, &sort, paging).await?))
}

/// Create a user at or below the caller's access level, inside the caller's subtree.
#[utoipa::path(tag = "users", request_body = CreateUser, responses(
    (status = 201, body = User),
    (status = 409, description = "E-mail or seller code taken", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreateUser>,
) -> ApiResult<HttpResponse> {
    let user = users::create(&state.db, auth.ctx(), body.0).await?;
    Ok(created(
        format!("/api/v1/users/{}", user.id),
        Some(user.version),
        &user,
    ))
}

/// One user. The ETag is the user's version, for `If-Match` on update.
#[utoipa::path(tag = "users", responses((status = 200, body = User)))]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let user = users::get(&state.db, &auth.actor, id.into_inner()).await?;
    Ok(with_etag(user.version, &user))
}

/// Change a user: details, organisation, access level, status (block/unblock) or roles (the full
/// new set). Send `If-Match` with the ETag you read to avoid overwriting someone else's change.
#[utoipa::path(tag = "users", request_body = UpdateUser, params(("If-Match" = Option<String>, Header, description = "ETag of the version being changed")), responses(
    (status = 200, body = User),
    (status = 412, description = "Changed since read", body = dealernet_domain::Problem, content_type = "application/problem+json"),
    (status = 409, description = "E-mail or seller code taken", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ValidJson<UpdateUser>,
) -> ApiResult<HttpResponse> {
    let user = users::update(&state.db, auth.ctx(), id.into_inner(), body.0, if_match.0).await?;
    Ok(with_etag(user.version, &user))
}

/// Set a new password for a user; all of that user's sessions end.
#[utoipa::path(tag = "users", request_body = ResetPassword, responses((status = 204, description = "Password set")))]
#[post("/users/{id}/password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ValidJson<ResetPassword>,
) -> ApiResult<HttpResponse> {
    users::reset_password(&state.db, auth.ctx(), id.into_inner(), body.0.password).await?;
    Ok(HttpResponse::NoContent().finish())
}
