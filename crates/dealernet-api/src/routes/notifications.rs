use std::time::Duration;

use actix_web::http::header::{self, ContentEncoding};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, delete, get, post, put, web};
use dealernet_data::identity::actor;
use dealernet_data::notifications::{self, watches};
use dealernet_domain::access::Resource;
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::notifications::{
    CreateWatch, Notification, Preferences, StreamTicket, UnreadCount, Updated, Watch,
};
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use utoipa::IntoParams;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ValidJson, ValidQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// 1–100, default 20.
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// Only unread notifications.
    pub unread: Option<bool>,
}

fn paging(limit: Option<u64>, offset: Option<u64>) -> Result<Paging, ApiError> {
    Paging::parse(limit, offset).map_err(|e| ApiError::BadRequest {
        code: dealernet_domain::ErrorCode::InvalidQuery,
        detail: "invalid query parameters".into(),
        errors: vec![e],
    })
}

/// My notifications: unread first, then newest first.
#[utoipa::path(tag = "notifications", params(NotificationQuery), responses((status = 200, body = Page<Notification>)))]
#[get("/notifications")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<NotificationQuery>,
) -> ApiResult<HttpResponse> {
    let paging = paging(q.0.limit, q.0.offset)?;
    let page =
        notifications::list(&state.db, &auth.actor, q.0.unread.unwrap_or(false), paging).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// How many of my notifications are unread.
#[utoipa::path(tag = "notifications", responses((status = 200, body = UnreadCount)))]
#[get("/notifications/unread-count")]
pub async fn unread_count(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> ApiResult<HttpResponse> {
    let unread = notifications::unread_count(&state.db, &auth.actor).await?;
    Ok(HttpResponse::Ok().json(UnreadCount { unread }))
}

/// Mark one of my notifications read.
#[utoipa::path(tag = "notifications", responses((status = 204, description = "Read")))]
#[post("/notifications/{id}/read")]
pub async fn mark_read(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    notifications::mark_read(&state.db, &auth.actor, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mark all my notifications read.
#[utoipa::path(tag = "notifications", responses((status = 200, body = Updated)))]
#[post("/notifications/read-all")]
pub async fn mark_all_read(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> ApiResult<HttpResponse> {
    let updated = notifications::mark_all_read(&state.db, &auth.actor).await?;
    Ok(HttpResponse::Ok().json(Updated { updated }))
}

/// My notification preferences: for each event kind, in-app, e-mail and push on or off.
#[utoipa::path(tag = "notifications", responses((status = 200, body = Preferences)))]
#[get("/notifications/preferences")]
pub async fn get_preferences(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(notifications::preferences(&state.db, &auth.actor).await?))
}

/// Set my notification preferences for the kinds listed; answers the full set.
#[utoipa::path(tag = "notifications", request_body = Preferences, responses((status = 200, body = Preferences)))]
#[put("/notifications/preferences")]
pub async fn put_preferences(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<Preferences>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(notifications::set_preferences(&state.db, auth.ctx(), body.0).await?))
}

/// A single-use ticket (valid for a minute) that opens the live stream: `EventSource` cannot
/// send an `Authorization` header, so the stream is opened with `?ticket=`.
#[utoipa::path(tag = "notifications", responses((status = 201, body = StreamTicket)))]
#[post("/notifications/stream-ticket")]
pub async fn stream_ticket(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> ApiResult<HttpResponse> {
    let t = notifications::issue_stream_ticket(&state.db, &auth.actor, auth.session_id.as_deref())
        .await?;
    Ok(HttpResponse::Created().json(t))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// From `POST /notifications/stream-ticket`.
    pub ticket: String,
}

fn sse(event: &str, data: &str) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

/// Live notifications as server-sent events: `ready` once subscribed, then `notification`
/// (a `Notification` as JSON) for each new notification of mine from any instance, a comment
/// line every heartbeat, and `end` when my session is revoked or my account blocked.
#[utoipa::path(tag = "notifications", params(StreamQuery), responses(
    (status = 200, description = "An event stream", content_type = "text/event-stream", body = String),
))]
#[get("/notifications/stream")]
pub async fn stream(
    state: web::Data<AppState>,
    q: ValidQuery<StreamQuery>,
) -> ApiResult<HttpResponse> {
    let (user_id, session_id) = notifications::redeem_stream_ticket(&state.db, &q.0.ticket).await?;
    actor::for_user(&state.db, &state.roles, user_id, session_id.as_deref()).await?;
    let mut events = state.push.subscribe();
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let heartbeat = Duration::from_secs(state.settings.stream_heartbeat_secs.max(1));
    let state = state.clone();
    tokio::spawn(async move {
        if tx.send(Bytes::from("retry: 5000\n\n")).await.is_err()
            || tx.send(sse("ready", "{}")).await.is_err()
        {
            return;
        }
        let mut beat = tokio::time::interval(heartbeat);
        beat.tick().await;
        loop {
            tokio::select! {
                msg = events.recv() => match msg {
                    Ok(p) if p.user_id == user_id => {
                        let Ok(data) = serde_json::to_string(&p.notification) else { continue };
                        if tx.send(sse("notification", &data)).await.is_err() {
                            break;
                        }
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = beat.tick() => {
                    let live = actor::for_user(&state.db, &state.roles, user_id, session_id.as_deref()).await;
                    if live.is_err() {
                        let _ = tx.send(sse("end", r#"{"reason":"session_ended"}"#)).await;
                        break;
                    }
                    if tx.send(Bytes::from(": ping\n\n")).await.is_err() {
                        break;
                    }
                }
                _ = tx.closed() => break,
            }
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, actix_web::Error>(b), rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Compression would buffer the events.
        .insert_header(ContentEncoding::Identity)
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WatchQuery {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// The records I watch.
#[utoipa::path(tag = "notifications", params(WatchQuery), responses((status = 200, body = Page<Watch>)))]
#[get("/watches")]
pub async fn list_watches(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<WatchQuery>,
) -> ApiResult<HttpResponse> {
    let paging = paging(q.0.limit, q.0.offset)?;
    Ok(HttpResponse::Ok().json(watches::list(&state.db, &auth.actor, paging).await?))
}

/// Watch a record I may see: its events reach me as they reach its responsible user. Watching
/// again answers 200 with the existing watch.
#[utoipa::path(tag = "notifications", request_body = CreateWatch, responses(
    (status = 201, body = Watch),
    (status = 200, description = "Already watching", body = Watch),
))]
#[post("/watches")]
pub async fn watch(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreateWatch>,
) -> ApiResult<HttpResponse> {
    let (w, created) = watches::watch(&state.db, auth.ctx(), body.0).await?;
    Ok(if created {
        HttpResponse::Created().json(w)
    } else {
        HttpResponse::Ok().json(w)
    })
}

/// Stop watching a record.
#[utoipa::path(tag = "notifications", responses((status = 204, description = "No longer watching")))]
#[delete("/watches/{resource}/{record_id}")]
pub async fn unwatch(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, i64)>,
) -> ApiResult<HttpResponse> {
    let (resource, record_id) = path.into_inner();
    let resource: Resource = resource.parse().map_err(|_| ApiError::NotFound)?;
    watches::unwatch(&state.db, auth.ctx(), resource, record_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
