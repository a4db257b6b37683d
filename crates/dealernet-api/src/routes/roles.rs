use actix_web::{HttpResponse, get, patch, post, web};
use dealernet_data::identity::roles;
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::role::{CreateRole, Role, UpdateRole};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{created, with_etag};
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IfMatch, ValidJson, ValidQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoleQuery {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// Only the roles the caller may grant (at or below its access level).
    pub grantable: Option<bool>,
}

/// List roles, highest level first.
#[utoipa::path(tag = "roles", params(RoleQuery), responses((status = 200, body = Page<Role>)))]
#[get("/roles")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<RoleQuery>,
) -> ApiResult<HttpResponse> {
    let paging = Paging::parse(q.0.limit, q.0.offset).map_err(|e| ApiError::BadRequest {
        code: dealernet_domain::ErrorCode::InvalidQuery,
        detail: "invalid query parameters".into(),
        errors: vec![e],
    })?;
    Ok(HttpResponse::Ok().json(
        roles::list(
            &state.db,
            &auth.actor,
            q.0.grantable.unwrap_or(false),
            paging,
        )
        .await?,
    ))
}

/// Create a role at or below the caller's access level.
#[utoipa::path(tag = "roles", request_body = CreateRole, responses((status = 201, body = Role), (status = 409, description = "Code taken", body = dealernet_domain::Problem, content_type = "application/problem+json")))]
#[post("/roles")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreateRole>,
) -> ApiResult<HttpResponse> {
    let role = roles::create(&state.db, auth.ctx(), body.0).await?;
    Ok(created(
        format!("/api/v1/roles/{}", role.id),
        Some(role.version),
        &role,
    ))
}

/// One role with its permissions, scope and field policies.
#[utoipa::path(tag = "roles", responses((status = 200, body = Role)))]
#[get("/roles/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let role = roles::get(&state.db, &auth.actor, id.into_inner()).await?;
    Ok(with_etag(role.version, &role))
}

/// Change a role. Changes apply to every holder on their next request.
#[utoipa::path(tag = "roles", request_body = UpdateRole, params(("If-Match" = Option<String>, Header, description = "ETag of the version being changed")), responses((status = 200, body = Role), (status = 412, description = "Changed since read", body = dealernet_domain::Problem, content_type = "application/problem+json")))]
#[patch("/roles/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ValidJson<UpdateRole>,
) -> ApiResult<HttpResponse> {
    let role = roles::update(&state.db, auth.ctx(), id.into_inner(), body.0, if_match.0).await?;
    state.roles.invalidate();
    Ok(with_etag(role.version, &role))
}
