use actix_web::{HttpResponse, get, patch, post, web};
use dealernet_data::orgs::{self, OrgFilter, SORT_FIELDS};
use dealernet_domain::list::Page;
use dealernet_domain::org::{CreateOrgNode, OrgKind, OrgNode, UpdateOrgNode};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{created, paging_and_sort, with_etag};
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::extract::{IfMatch, ValidJson, ValidQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// `name`, `kind`, `path` (tree order, the default), `created_at`; `-` for descending.
    pub sort: Option<String>,
    /// Searches name and code.
    pub q: Option<String>,
    pub kind: Option<OrgKind>,
    /// Direct children of this node.
    pub parent_id: Option<i64>,
    /// This node and everything below it.
    pub within: Option<i64>,
    pub active: Option<bool>,
}

/// List the organisation nodes the caller may see.
#[utoipa::path(tag = "orgs", params(OrgQuery), responses((status = 200, body = Page<OrgNode>)))]
#[get("/orgs")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<OrgQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let (paging, sort) = paging_and_sort(q.limit, q.offset, q.sort.as_deref(), SORT_FIELDS)?;
    let filter = OrgFilter {
        q: q.q,
        kind: q.kind,
        parent_id: q.parent_id,
        within: q.within,
        active: q.active,
    };
    Ok(HttpResponse::Ok().json(orgs::list(&state.db, &auth.actor, &filter, &sort, paging).await?))
}

/// Create a node below `parent_id`, inside the caller's subtree.
#[utoipa::path(tag = "orgs", request_body = CreateOrgNode, responses((status = 201, body = OrgNode), (status = 409, description = "Code taken", body = dealernet_domain::Problem, content_type = "application/problem+json")))]
#[post("/orgs")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreateOrgNode>,
) -> ApiResult<HttpResponse> {
    let node = orgs::create(&state.db, auth.ctx(), body.0).await?;
    Ok(created(
        format!("/api/v1/orgs/{}", node.id),
        Some(node.version),
        &node,
    ))
}

/// One node.
#[utoipa::path(tag = "orgs", responses((status = 200, body = OrgNode)))]
#[get("/orgs/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let node = orgs::get(&state.db, &auth.actor, id.into_inner()).await?;
    Ok(with_etag(node.version, &node))
}

/// Rename, re-code, (de)activate or move a node (with its whole subtree).
#[utoipa::path(tag = "orgs", request_body = UpdateOrgNode, params(("If-Match" = Option<String>, Header, description = "ETag of the version being changed")), responses((status = 200, body = OrgNode), (status = 412, description = "Changed since read", body = dealernet_domain::Problem, content_type = "application/problem+json")))]
#[patch("/orgs/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ValidJson<UpdateOrgNode>,
) -> ApiResult<HttpResponse> {
    let node = orgs::update(&state.db, auth.ctx(), id.into_inner(), body.0, if_match.0).await?;
    Ok(with_etag(node.version, &node))
}
