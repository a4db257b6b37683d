//! The dealer network: dealer profiles, points of sale, geocoding, installation and repair
//! requests with their automatic assignment, the dealers' answers and the assignment metrics.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use dealernet_data::dealers::metrics;
use dealernet_data::dealers::points_of_sale::{self, PosFilter};
use dealernet_data::dealers::profiles::{self, DealerFilter};
use dealernet_data::dealers::requests::{self, RequestFilter};
use dealernet_domain::ErrorCode;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::dealers::geo::GeocodeHit;
use dealernet_domain::dealers::requests::{
    Assignment, AssignmentMetrics, CompleteJob, CreateInstallationRequest, InstallationRequest,
    OverrideAssignment, RejectJob, RequestStatus,
};
use dealernet_domain::dealers::{
    ChangeRating, CreateDealer, CreatePointOfSale, Dealer, DealerStatus, PointOfSale, RatingChange,
    ServiceType, UpdateDealer, UpdatePointOfSale,
};
use dealernet_domain::list::{Page, Paging};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{created, paging_and_sort, with_etag};
use crate::auth::Authenticated;
use crate::dealers::{GeocodeError, assignment_config};
use crate::error::{ApiError, ApiResult};
use crate::extract::{IfMatch, ValidJson, ValidQuery};
use crate::state::AppState;

fn paging(limit: Option<u64>, offset: Option<u64>) -> Result<Paging, ApiError> {
    Paging::parse(limit, offset).map_err(|e| ApiError::BadRequest {
        code: ErrorCode::InvalidQuery,
        detail: "invalid query parameters".into(),
        errors: vec![e],
    })
}

fn geocode_error(e: GeocodeError) -> ApiError {
    match e {
        GeocodeError::NotConfigured => ApiError::Unprocessable {
            code: ErrorCode::Unavailable,
            detail: e.to_string(),
        },
        GeocodeError::Upstream(cause) => {
            tracing::warn!(%cause, "geocoder failed");
            ApiError::Unprocessable {
                code: ErrorCode::Unavailable,
                detail: "the geocoder did not answer; set the coordinates by hand".into(),
            }
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DealerQuery {
    /// 1–100, default 20.
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// `legal_name`, `rating`, `load`, `capacity`, `created_at`; `-` for descending.
    pub sort: Option<String>,
    /// Searches the legal name, the node's name and the tax id.
    pub q: Option<String>,
    /// Dealers whose territory names this region code.
    pub region: Option<String>,
    pub service: Option<ServiceType>,
    /// Rating at least this (0–5).
    pub rating_min: Option<f64>,
    /// At most this share of capacity in use, in percent (0–100).
    pub load_max: Option<u32>,
    pub status: Option<DealerStatus>,
    /// Dealers of this organisation node and every node below it.
    pub within: Option<i64>,
}

/// List the dealers the caller may see, with filters.
#[utoipa::path(tag = "dealers", params(DealerQuery), responses((status = 200, body = Page<Dealer>)))]
#[get("/dealers")]
pub async fn list_dealers(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<DealerQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let (paging, sort) =
        paging_and_sort(q.limit, q.offset, q.sort.as_deref(), profiles::SORT_FIELDS)?;
    let filter = DealerFilter {
        q: q.q,
        region: q.region,
        service: q.service,
        rating_min: q.rating_min,
        load_max: q.load_max,
        status: q.status,
        within: q.within,
    };
    Ok(HttpResponse::Ok()
        .json(profiles::list(&state.db, &auth.actor, &filter, &sort, paging).await?))
}

/// Create the profile of a dealer on its organisation node (a dealer or sub-dealer).
#[utoipa::path(tag = "dealers", request_body = CreateDealer, responses(
    (status = 201, body = Dealer),
    (status = 409, description = "The node already has a profile", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[post("/dealers")]
pub async fn create_dealer(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreateDealer>,
) -> ApiResult<HttpResponse> {
    let d = profiles::create(&state.db, auth.ctx(), body.0).await?;
    Ok(created(
        format!("/api/v1/dealers/{}", d.id),
        Some(d.version),
        &d,
    ))
}

/// One dealer's profile. The ETag is its version.
#[utoipa::path(tag = "dealers", responses((status = 200, body = Dealer)))]
#[get("/dealers/{id}")]
pub async fn get_dealer(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let d = profiles::get(&state.db, &auth.actor, id.into_inner()).await?;
    Ok(with_etag(d.version, &d))
}

/// Change a dealer's profile (legal details, contacts, services, territory, capacity, hours,
/// status). Capacity cannot drop below the dealer's open jobs.
#[utoipa::path(tag = "dealers", request_body = UpdateDealer, params(("If-Match" = Option<String>, Header, description = "ETag of the version being changed")), responses(
    (status = 200, body = Dealer),
    (status = 412, description = "Changed since read", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[patch("/dealers/{id}")]
pub async fn update_dealer(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ValidJson<UpdateDealer>,
) -> ApiResult<HttpResponse> {
    body.0
        .validate_base()
        .map_err(|e| ApiError::Validation(dealernet_domain::validation::field_errors(&e)))?;
    let d = profiles::update(&state.db, auth.ctx(), id.into_inner(), body.0, if_match.0).await?;
    Ok(with_etag(d.version, &d))
}

/// Set a dealer's rating (0–5) with the reason; the change is kept in its rating history.
#[utoipa::path(tag = "dealers", request_body = ChangeRating, responses((status = 200, body = Dealer)))]
#[post("/dealers/{id}/rating")]
pub async fn change_rating(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ValidJson<ChangeRating>,
) -> ApiResult<HttpResponse> {
    let d = profiles::change_rating(&state.db, auth.ctx(), id.into_inner(), body.0).await?;
    Ok(with_etag(d.version, &d))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1–100, default 20.
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// A dealer's rating changes, newest first, each with its reason.
#[utoipa::path(tag = "dealers", params(PageQuery), responses((status = 200, body = Page<RatingChange>)))]
#[get("/dealers/{id}/rating-history")]
pub async fn rating_history(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    q: ValidQuery<PageQuery>,
) -> ApiResult<HttpResponse> {
    let p = paging(q.0.limit, q.0.offset)?;
    Ok(HttpResponse::Ok()
        .json(profiles::rating_history(&state.db, &auth.actor, id.into_inner(), p).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PosQuery {
    /// 1–100, default 20.
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// `name`, `created_at`; `-` for descending.
    pub sort: Option<String>,
    /// Searches the name and the address.
    pub q: Option<String>,
    pub dealer_id: Option<i64>,
    pub region: Option<String>,
    /// Only points with (`true`) or without (`false`) coordinates.
    pub located: Option<bool>,
}

/// Search the registry of points of sale.
#[utoipa::path(tag = "dealers", params(PosQuery), responses((status = 200, body = Page<PointOfSale>)))]
#[get("/points-of-sale")]
pub async fn list_points(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<PosQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let (paging, sort) = paging_and_sort(
        q.limit,
        q.offset,
        q.sort.as_deref(),
        points_of_sale::SORT_FIELDS,
    )?;
    let filter = PosFilter {
        q: q.q,
        dealer_id: q.dealer_id,
        region: q.region,
        located: q.located,
    };
    Ok(HttpResponse::Ok()
        .json(points_of_sale::list(&state.db, &auth.actor, &filter, &sort, paging).await?))
}

/// Register a point of sale of a dealer. Without `location` the address is geocoded when a
/// geocoder is configured (the point is saved without coordinates otherwise).
#[utoipa::path(tag = "dealers", request_body = CreatePointOfSale, responses((status = 201, body = PointOfSale)))]
#[post("/points-of-sale")]
pub async fn create_point(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreatePointOfSale>,
) -> ApiResult<HttpResponse> {
    auth.actor.require(Resource::PointsOfSale, Action::Create)?;
    let input = body.0;
    let hit = match input.location {
        Some(_) => None,
        None => state.geocoder.best(&input.address).await,
    };
    let p = points_of_sale::create(&state.db, auth.ctx(), input, hit).await?;
    Ok(created(
        format!("/api/v1/points-of-sale/{}", p.id),
        Some(p.version),
        &p,
    ))
}

/// One point of sale.
#[utoipa::path(tag = "dealers", responses((status = 200, body = PointOfSale)))]
#[get("/points-of-sale/{id}")]
pub async fn get_point(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let p = points_of_sale::get(&state.db, &auth.actor, id.into_inner()).await?;
    Ok(with_etag(p.version, &p))
}

/// Change a point of sale; a new address without `location` is geocoded again.
#[utoipa::path(tag = "dealers", request_body = UpdatePointOfSale, params(("If-Match" = Option<String>, Header, description = "ETag of the version being changed")), responses((status = 200, body = PointOfSale)))]
#[patch("/points-of-sale/{id}")]
pub async fn update_point(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ValidJson<UpdatePointOfSale>,
) -> ApiResult<HttpResponse> {
    auth.actor.require(Resource::PointsOfSale, Action::Edit)?;
    let input = body.0;
    let hit = match (&input.address, input.location) {
        (Some(address), None) => state.geocoder.best(address).await,
        _ => None,
    };
    let p = points_of_sale::update(
        &state.db,
        auth.ctx(),
        id.into_inner(),
        input,
        hit,
        if_match.0,
    )
    .await?;
    Ok(with_etag(p.version, &p))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GeocodeQuery {
    /// The address to look up.
    pub q: String,
    /// 1–10, default 5.
    pub limit: Option<u8>,
}

/// Look an address up with the configured geocoder (422 `unavailable` when there is none).
#[utoipa::path(tag = "dealers", params(GeocodeQuery), responses((status = 200, body = Vec<GeocodeHit>)))]
#[get("/geocode")]
pub async fn geocode(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<GeocodeQuery>,
) -> ApiResult<HttpResponse> {
    let a = &auth.actor;
    if !(a.can(Resource::InstallationRequests, Action::Create)
        || a.can(Resource::PointsOfSale, Action::Create)
        || a.can(Resource::PointsOfSale, Action::Edit))
    {
        return Err(ApiError::Forbidden(
            "you may not look addresses up: no request or point-of-sale rights".into(),
        ));
    }
    let text = q.0.q.trim();
    if text.is_empty() || text.chars().count() > 300 {
        return Err(ApiError::BadRequest {
            code: ErrorCode::InvalidQuery,
            detail: "invalid query parameters".into(),
            errors: vec![dealernet_domain::FieldError {
                field: "q".into(),
                code: "length".into(),
                message: "must be 1 to 300 characters long".into(),
            }],
        });
    }
    let hits = state
        .geocoder
        .search(text, q.0.limit.unwrap_or(5))
        .await
        .map_err(geocode_error)?;
    Ok(HttpResponse::Ok().json(hits))
}

/// How the web app draws maps.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MapConfig {
    /// A tile URL template (`{z}/{x}/{y}`), or empty: maps are drawn without tiles.
    pub tile_url: String,
    /// Whether addresses can be looked up (`GET /geocode`).
    pub geocoder: bool,
}

/// Map settings for the web app.
#[utoipa::path(tag = "dealers", responses((status = 200, body = MapConfig)))]
#[get("/map-config")]
pub async fn map_config(state: web::Data<AppState>, _auth: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(MapConfig {
        tile_url: state.settings.map_tile_url.clone(),
        geocoder: state.geocoder.is_configured(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestQuery {
    /// 1–100, default 20.
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// `created_at`, `status`, `offer_expires_at`; `-` for descending. Default: newest first.
    pub sort: Option<String>,
    /// Searches the address and the customer's name.
    pub q: Option<String>,
    pub status: Option<RequestStatus>,
    pub dealer_id: Option<i64>,
    pub service: Option<ServiceType>,
}

/// List the requests the caller may see. For a dealer this is its job inbox (the jobs offered
/// to it and the ones it accepted). List items carry neither rejections nor the explanation.
#[utoipa::path(tag = "installation_requests", params(RequestQuery), responses((status = 200, body = Page<InstallationRequest>)))]
#[get("/installation-requests")]
pub async fn list_requests(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<RequestQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let (paging, sort) =
        paging_and_sort(q.limit, q.offset, q.sort.as_deref(), requests::SORT_FIELDS)?;
    let filter = RequestFilter {
        q: q.q,
        status: q.status,
        dealer_id: q.dealer_id,
        service: q.service,
    };
    Ok(HttpResponse::Ok()
        .json(requests::list(&state.db, &auth.actor, &filter, &sort, paging).await?))
}

/// Register an installation or repair request. It is assigned at once: the answer carries the
/// dealer it was offered to and the explanation (every candidate with its factors and score,
/// every excluded dealer with the reason).
#[utoipa::path(tag = "installation_requests", request_body = CreateInstallationRequest, responses((status = 201, body = InstallationRequest)))]
#[post("/installation-requests")]
pub async fn create_request(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreateInstallationRequest>,
) -> ApiResult<HttpResponse> {
    let cfg = assignment_config(&state.settings);
    let r = requests::create(&state.db, auth.ctx(), body.0, &cfg).await?;
    Ok(created(
        format!("/api/v1/installation-requests/{}", r.id),
        Some(r.version),
        &r,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// Requests created at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Requests created before this time.
    pub to: Option<DateTime<Utc>>,
}

/// Assignment metrics over the requests the caller may see: time to assignment and to
/// acceptance, rejections by reason, completion time per dealer and per region.
#[utoipa::path(tag = "installation_requests", params(MetricsQuery), responses((status = 200, body = AssignmentMetrics)))]
#[get("/installation-requests/metrics")]
pub async fn request_metrics(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<MetricsQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(metrics::assignment_metrics(&state.db, &auth.actor, q.0.from, q.0.to).await?))
}

/// One request. Back-office readers also get its latest assignment explanation and every
/// rejection; a dealer sees only a job offered to it or accepted by it.
#[utoipa::path(tag = "installation_requests", responses((status = 200, body = InstallationRequest)))]
#[get("/installation-requests/{id}")]
pub async fn get_request(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let r = requests::get(&state.db, &auth.actor, id.into_inner()).await?;
    Ok(with_etag(r.version, &r))
}

/// Every assignment decision of a request, oldest first, each with its explanation.
#[utoipa::path(tag = "installation_requests", responses((status = 200, body = Vec<Assignment>)))]
#[get("/installation-requests/{id}/assignments")]
pub async fn request_assignments(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(requests::assignments(&state.db, &auth.actor, id.into_inner()).await?))
}

/// The dealer accepts the job offered to it.
#[utoipa::path(tag = "installation_requests", responses(
    (status = 200, body = InstallationRequest),
    (status = 409, description = "Not offered (any more)", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[post("/installation-requests/{id}/accept")]
pub async fn accept(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let r = requests::accept(&state.db, auth.ctx(), id.into_inner()).await?;
    Ok(with_etag(r.version, &r))
}

/// The dealer rejects the job offered to it, with a reason; the job goes to the next best
/// dealer at once and the rejecting dealer no longer sees it.
#[utoipa::path(tag = "installation_requests", request_body = RejectJob, responses(
    (status = 204, description = "Rejected and reassigned"),
    (status = 409, description = "Not offered (any more)", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[post("/installation-requests/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ValidJson<RejectJob>,
) -> ApiResult<HttpResponse> {
    let cfg = assignment_config(&state.settings);
    requests::reject(&state.db, auth.ctx(), id.into_inner(), body.0, &cfg).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The dealer records the job as done: an installation (with the installed serials) or a
/// repair, with photos. The request closes and the dealer's capacity frees up.
#[utoipa::path(tag = "installation_requests", request_body = CompleteJob, responses(
    (status = 200, body = InstallationRequest),
    (status = 409, description = "Not accepted", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[post("/installation-requests/{id}/complete")]
pub async fn complete(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ValidJson<CompleteJob>,
) -> ApiResult<HttpResponse> {
    let r = requests::complete(&state.db, auth.ctx(), id.into_inner(), body.0).await?;
    Ok(with_etag(r.version, &r))
}

/// An operator assigns the request to a dealer by hand, with the reason (audited).
#[utoipa::path(tag = "installation_requests", request_body = OverrideAssignment, responses(
    (status = 200, body = InstallationRequest),
    (status = 409, description = "Completed, same dealer, or no free capacity", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[post("/installation-requests/{id}/assign")]
pub async fn override_assignment(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ValidJson<OverrideAssignment>,
) -> ApiResult<HttpResponse> {
    let cfg = assignment_config(&state.settings);
    let r =
        requests::override_assignment(&state.db, auth.ctx(), id.into_inner(), body.0, &cfg).await?;
    Ok(with_etag(r.version, &r))
}
