//! Cross-cutting request handling: request ids and logging, metrics, and idempotent POSTs.

use std::time::Instant;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError};
use dealernet_data::idempotency::{self, Begin, StoredResponse};
use dealernet_domain::ErrorCode;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tracing::Instrument;

use crate::auth::{Credential, credential};
use crate::error::{ApiError, REQUEST_ID};
use crate::extract::RequestId;
use crate::state::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

fn acceptable_request_id(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// Gives every request an id (the caller's `X-Request-Id` if sane), logs it with the outcome,
/// and returns it in the response.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_request_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    let mut res = REQUEST_ID
        .scope(id.clone(), next.call(req).instrument(span.clone()))
        .await?;
    let status = res.status();
    span.in_scope(|| {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), ms, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), ms, "request served");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }
    Ok(res)
}

/// Paths under `/api/v1` whose changes can alter a signed-in actor (its user, roles, node or
/// session). Signing in only adds a session, so it is not among them.
fn changes_identity(method: &Method, path: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let Some(rest) = path.strip_prefix("/api/v1/") else {
        return false;
    };
    let area = rest.split('/').next().unwrap_or("");
    matches!(area, "users" | "roles" | "orgs" | "me" | "auth") && rest != "auth/login"
}

/// After a request that may have changed an actor, this instance forgets its cached actors
/// before the answer leaves, so the caller's next request here sees the change. (Other
/// instances hear of it from the database; see `dealernet_data::identity::actor_cache`.)
pub async fn identity_changes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let forget = changes_identity(req.method(), req.path())
        .then(|| req.app_data::<web::Data<AppState>>().cloned())
        .flatten();
    let res = next.call(req).await;
    if let Some(state) = forget {
        state.actors.forget_all();
    }
    res
}

/// Counts requests and their latency per route pattern (never per raw path, to bound cardinality).
pub async fn metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().to_string();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let res = next.call(req).await?;
    if let Some(state) = state {
        let status = res.status().as_u16().to_string();
        state
            .metrics
            .requests
            .with_label_values(&[&method, &route, &status])
            .inc();
        state
            .metrics
            .latency
            .with_label_values(&[&method, &route])
            .observe(started.elapsed().as_secs_f64());
    }
    Ok(res)
}

/// `Idempotency-Key` on POST: the first response is stored and replayed to every repeat of the
/// same request by the same caller; a repeat with a different body is refused.
pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let key = req
        .headers()
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_string));
    let (Some(key), true) = (key, req.method() == Method::POST) else {
        return next.call(req).await;
    };
    let problem = |e: ApiError, req: ServiceRequest| {
        let res = e.error_response();
        Ok(req.into_response(res))
    };
    let key = match key {
        Ok(k) if (1..=200).contains(&k.len()) && k.bytes().all(|b| (0x21..0x7f).contains(&b)) => k,
        _ => {
            return problem(
                ApiError::field(
                    "Idempotency-Key",
                    "format",
                    "must be 1 to 200 visible ASCII characters",
                ),
                req,
            );
        }
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await;
    };
    // Keys belong to the caller: a user (across token refreshes) or an API key.
    let actor_key = match credential(req.request()) {
        Some(Credential::Bearer(t)) => match state.jwt.verify(t) {
            Ok(c) => format!("user:{}", c.sub),
            Err(_) => return next.call(req).await,
        },
        Some(Credential::ApiKey(k)) => format!("key:{}", hex::encode(Sha256::digest(k.as_bytes()))),
        None => return next.call(req).await,
    };
    let limit = state.settings.body_limit_bytes;
    let mut payload = req.take_payload();
    let mut buf = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if buf.len() + chunk.len() > limit {
            return problem(ApiError::PayloadTooLarge, req);
        }
        buf.extend_from_slice(&chunk);
    }
    let body: Bytes = buf.freeze();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_string(), |p| p.to_string());
    let mut h = Sha256::new();
    h.update(req.method().as_str());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(&body);
    let hash = hex::encode(h.finalize());
    let begun = match idempotency::begin(
        &state.db,
        &actor_key,
        &key,
        req.method().as_str(),
        &path,
        &hash,
    )
    .await
    {
        Ok(b) => b,
        Err(e) => return problem(ApiError::from(e), req),
    };
    let id = match begun {
        Begin::Started { id } => id,
        Begin::Replay(stored) => {
            let mut res =
                HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
            for (k, v) in &stored.headers {
                res.insert_header((k.as_str(), v.as_str()));
            }
            res.insert_header(("idempotent-replayed", "true"));
            return Ok(req.into_response(res.body(stored.body)));
        }
        Begin::Mismatch => {
            return problem(
                ApiError::Unprocessable {
                    code: ErrorCode::IdempotencyKeyReused,
                    detail: "this Idempotency-Key was already used for a different request".into(),
                },
                req,
            );
        }
        Begin::InProgress => {
            return problem(
                ApiError::Conflict {
                    code: ErrorCode::IdempotencyInProgress,
                    detail: "a request with this Idempotency-Key is still being processed; retry shortly".into(),
                    existing_id: None,
                },
                req,
            );
        }
    };
    req.set_payload(actix_web::dev::Payload::from(body));
    let res = next.call(req).await;
    let res = match res {
        Ok(r) => r,
        Err(e) => {
            let _ = idempotency::abandon(&state.db, id).await;
            return Err(e);
        }
    };
    if res.status().is_server_error() {
        let _ = idempotency::abandon(&state.db, id).await;
        return Ok(res);
    }
    let (http_req, http_res) = res.into_parts();
    let (head, body) = http_res.into_parts();
    let bytes = match body::to_bytes(body).await {
        Ok(b) => b,
        Err(_) => {
            let _ = idempotency::abandon(&state.db, id).await;
            let res = ApiError::Internal("response body could not be read".into()).error_response();
            return Ok(ServiceResponse::new(http_req, res));
        }
    };
    let keep = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];
    let headers: Vec<(String, String)> = head
        .headers()
        .iter()
        .filter(|(k, _)| keep.contains(k))
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.to_string(), v.to_string())))
        .collect();
    let stored = StoredResponse {
        status: head.status().as_u16(),
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    if let Err(e) = idempotency::complete(&state.db, id, &stored).await {
        tracing::error!(error = %e, "idempotency record could not be completed");
    }
    let res = head.set_body(BoxBody::new(bytes));
    Ok(ServiceResponse::new(http_req, res))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_changes_are_the_non_safe_requests_on_identity_resources() {
        assert!(changes_identity(&Method::PATCH, "/api/v1/users/7"));
        assert!(changes_identity(&Method::POST, "/api/v1/auth/logout"));
        assert!(changes_identity(&Method::POST, "/api/v1/auth/refresh"));
        assert!(changes_identity(&Method::DELETE, "/api/v1/me/sessions/x"));
        assert!(changes_identity(&Method::PATCH, "/api/v1/orgs/3"));
        assert!(changes_identity(&Method::PUT, "/api/v1/roles/3"));
        assert!(!changes_identity(&Method::GET, "/api/v1/users/7"));
        assert!(!changes_identity(&Method::POST, "/api/v1/auth/login"));
        assert!(!changes_identity(&Method::POST, "/api/v1/crm/clients"));
        assert!(!changes_identity(&Method::POST, "/api/v1/usersx"));
    }
}
