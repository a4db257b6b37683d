use actix_web::{HttpRequest, HttpResponse, post, web};
use dealernet_data::identity::sessions;
use dealernet_domain::auth::{LoginRequest, LogoutRequest, RefreshRequest, TokenResponse};

use crate::auth::{Credential, credential};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Meta, ValidJson, parse_json};
use crate::state::AppState;

fn tokens(state: &AppState, issued: &sessions::Issued) -> ApiResult<TokenResponse> {
    Ok(TokenResponse {
        access_token: state.jwt.issue(issued.user_id, &issued.session_id)?,
        refresh_token: issued.refresh_token.clone(),
        token_type: "Bearer".into(),
        expires_in: state.jwt.ttl_secs,
    })
}

/// Sign in with e-mail and password.
///
/// Failed attempts are throttled per account and per client address; past the limit the answer
/// is 429 with `Retry-After`.
#[utoipa::path(tag = "auth", security(()), request_body = LoginRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, description = "Wrong e-mail or password", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    meta: Meta,
    body: ValidJson<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let meta = meta.0;
    let input = body.0;
    let ip = meta.client_ip.as_deref();
    state
        .throttle
        .check(&input.email, ip)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
    match sessions::login(&state.db, &input.email, &input.password, &meta).await {
        Ok(issued) => {
            state.throttle.record_success(&input.email);
            Ok(HttpResponse::Ok().json(tokens(&state, &issued)?))
        }
        Err(e) => {
            if matches!(e, dealernet_data::ServiceError::InvalidCredentials) {
                state.throttle.record_failure(&input.email, ip);
            }
            Err(e.into())
        }
    }
}

/// Exchange a refresh token for new tokens. Refresh tokens are single-use; presenting a used
/// one revokes the whole session.
#[utoipa::path(tag = "auth", security(()), request_body = RefreshRequest, responses((status = 200, body = TokenResponse)))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    meta: Meta,
    body: ValidJson<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let issued = sessions::refresh(&state.db, &body.0.refresh_token, &meta.0).await?;
    Ok(HttpResponse::Ok().json(tokens(&state, &issued)?))
}

/// Sign out: revokes the session of the given refresh token, or of the access token used.
#[utoipa::path(tag = "auth", security(()), request_body(content = Option<LogoutRequest>), responses((status = 204, description = "Signed out")))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let input: LogoutRequest = if body.iter().all(u8::is_ascii_whitespace) {
        LogoutRequest::default()
    } else {
        parse_json(&body)?
    };
    let mut session = None;
    if let Some(token) = &input.refresh_token {
        session = sessions::session_of_token(&state.db, token).await?;
    }
    if session.is_none()
        && let Some(Credential::Bearer(t)) = credential(&req)
    {
        session = state.jwt.verify(t).ok().map(|c| c.sid);
    }
    match session {
        Some(sid) => {
            sessions::revoke(&state.db, &sid, "signed_out").await?;
            Ok(HttpResponse::NoContent().finish())
        }
        None => Err(ApiError::Unauthenticated(
            "no session to sign out of".into(),
        )),
    }
}
