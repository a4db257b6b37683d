use actix_web::{HttpResponse, get, web};
use dealernet_data::audit::{self, AuditFilter};
use dealernet_domain::access::Resource;
use dealernet_domain::audit::AuditEntry;
use dealernet_domain::list::{Page, Paging};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidQuery;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// The kind of record, e.g. `users`, `orgs`, `roles`, `api_keys`.
    pub entity: Option<Resource>,
    /// The record's id (with `entity`).
    pub id: Option<i64>,
    /// Changes made by this user.
    pub actor_user_id: Option<i64>,
}

/// The change history the caller may see, newest first; `entity` + `id` give one record's history.
#[utoipa::path(tag = "audit", params(AuditQuery), responses((status = 200, body = Page<AuditEntry>)))]
#[get("/audit")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let paging = Paging::parse(q.limit, q.offset).map_err(|e| ApiError::BadRequest {
        code: dealernet_domain::ErrorCode::InvalidQuery,
        detail: "invalid query parameters".into(),
        errors: vec![e],
    })?;
    let filter = AuditFilter {
        entity: q.entity,
        entity_id: q.id,
        actor_user_id: q.actor_user_id,
    };
    Ok(HttpResponse::Ok().json(audit::list(&state.db, &auth.actor, &filter, paging).await?))
}
