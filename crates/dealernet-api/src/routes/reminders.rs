use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use dealernet_data::notifications::reminders::{self, ReminderFilter};
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::reminders::{
    CreateReminder, Reminder, ReminderState, TargetKind, UpdateReminder,
};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{created, with_etag};
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IfMatch, ValidJson, ValidQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReminderQuery {
    /// 1–100, default 20.
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// Another user's reminders (administrators, per the `reminders` policy). Default: your own.
    pub owner_id: Option<i64>,
    /// Every owner you may see (administrators).
    pub all: Option<bool>,
    pub state: Option<ReminderState>,
    /// Due strictly before this time.
    pub due_before: Option<DateTime<Utc>>,
    /// Due at or after this time.
    pub due_after: Option<DateTime<Utc>>,
    pub target_kind: Option<TargetKind>,
    pub target_id: Option<i64>,
}

fn paging(limit: Option<u64>, offset: Option<u64>) -> Result<Paging, ApiError> {
    Paging::parse(limit, offset).map_err(|e| ApiError::BadRequest {
        code: dealernet_domain::ErrorCode::InvalidQuery,
        detail: "invalid query parameters".into(),
        errors: vec![e],
    })
}

/// List reminders, soonest first: your own, or (with the policy's scope) another user's or all.
#[utoipa::path(tag = "reminders", params(ReminderQuery), responses((status = 200, body = Page<Reminder>)))]
#[get("/reminders")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<ReminderQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let paging = paging(q.limit, q.offset)?;
    let filter = ReminderFilter {
        owner_id: q.owner_id,
        any_owner: q.all.unwrap_or(false) && q.owner_id.is_none(),
        state: q.state,
        due_before: q.due_before,
        due_after: q.due_after,
        target_kind: q.target_kind,
        target_id: q.target_id,
    };
    Ok(HttpResponse::Ok().json(reminders::list(&state.db, &auth.actor, &filter, paging).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TodayQuery {
    /// Your time zone's offset east of UTC in minutes (e.g. 180 for Moscow); default 0.
    pub utc_offset_minutes: Option<i32>,
}

/// My reminders today: not done and due before the end of my day, overdue ones included.
#[utoipa::path(tag = "reminders", params(TodayQuery), responses((status = 200, body = Vec<Reminder>)))]
#[get("/reminders/today")]
pub async fn today(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<TodayQuery>,
) -> ApiResult<HttpResponse> {
    let offset = q.0.utc_offset_minutes.unwrap_or(0);
    Ok(
        HttpResponse::Ok()
            .json(reminders::today(&state.db, &auth.actor, Utc::now(), offset).await?),
    )
}

/// Create a reminder for yourself: personal, or on a record you may see (`target_kind` +
/// `target_id`). `client` and `deal` targets answer 422 until the CRM module provides them.
#[utoipa::path(tag = "reminders", request_body = CreateReminder, responses((status = 201, body = Reminder)))]
#[post("/reminders")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreateReminder>,
) -> ApiResult<HttpResponse> {
    let r = reminders::create(&state.db, auth.ctx(), body.0).await?;
    Ok(created(
        format!("/api/v1/reminders/{}", r.id),
        Some(r.version),
        &r,
    ))
}

/// One reminder. The ETag is its version, for `If-Match` on update.
#[utoipa::path(tag = "reminders", responses((status = 200, body = Reminder)))]
#[get("/reminders/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let r = reminders::get(&state.db, &auth.actor, id.into_inner()).await?;
    Ok(with_etag(r.version, &r))
}

/// Change a reminder. A new due time or repeat schedules it again.
#[utoipa::path(tag = "reminders", request_body = UpdateReminder, params(("If-Match" = Option<String>, Header, description = "ETag of the version being changed")), responses(
    (status = 200, body = Reminder),
    (status = 412, description = "Changed since read", body = dealernet_domain::Problem, content_type = "application/problem+json"),
    (status = 409, description = "The reminder is done", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[patch("/reminders/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ValidJson<UpdateReminder>,
) -> ApiResult<HttpResponse> {
    let r = reminders::update(&state.db, auth.ctx(), id.into_inner(), body.0, if_match.0).await?;
    Ok(with_etag(r.version, &r))
}

/// Mark a reminder done: it never fires again.
#[utoipa::path(tag = "reminders", responses((status = 200, body = Reminder)))]
#[post("/reminders/{id}/done")]
pub async fn done(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let r = reminders::mark_done(&state.db, auth.ctx(), id.into_inner()).await?;
    Ok(with_etag(r.version, &r))
}

/// Delete a reminder.
#[utoipa::path(tag = "reminders", responses((status = 204, description = "Deleted")))]
#[delete("/reminders/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    reminders::delete(&state.db, auth.ctx(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
