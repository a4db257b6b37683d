use actix_web::{HttpResponse, delete, get, post, web};
use dealernet_data::identity::api_keys;
use dealernet_domain::api_key::{ApiKey, CreateApiKey, CreatedApiKey};
use dealernet_domain::list::{Page, Paging};
use serde::Deserialize;
use utoipa::IntoParams;

use super::created;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ValidJson, ValidQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyQuery {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// List API keys the caller may see (never their secrets).
#[utoipa::path(tag = "api_keys", params(KeyQuery), responses((status = 200, body = Page<ApiKey>)))]
#[get("/api-keys")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<KeyQuery>,
) -> ApiResult<HttpResponse> {
    let paging = Paging::parse(q.0.limit, q.0.offset).map_err(|e| ApiError::BadRequest {
        code: dealernet_domain::ErrorCode::InvalidQuery,
        detail: "invalid query parameters".into(),
        errors: vec![e],
    })?;
    Ok(HttpResponse::Ok().json(api_keys::list(&state.db, &auth.actor, paging).await?))
}

/// Create an API key scoped to a role and an organisation node. The secret is in this answer
/// only.
#[utoipa::path(tag = "api_keys", request_body = CreateApiKey, responses((status = 201, body = CreatedApiKey)))]
#[post("/api-keys")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreateApiKey>,
) -> ApiResult<HttpResponse> {
    let key = api_keys::create(&state.db, auth.ctx(), body.0).await?;
    Ok(created(
        format!("/api/v1/api-keys/{}", key.key.id),
        None,
        &key,
    ))
}

/// Revoke an API key; it stops working at once.
#[utoipa::path(tag = "api_keys", responses((status = 204, description = "Revoked")))]
#[delete("/api-keys/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    api_keys::revoke(&state.db, auth.ctx(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
