use actix_web::{HttpResponse, delete, get, patch, post, web};
use dealernet_data::identity::{actor, sessions, users};
use dealernet_domain::auth::{ChangePassword, Me, Session, UpdateMe};

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidJson;
use crate::state::AppState;

fn user_only(auth: &Authenticated) -> ApiResult<i64> {
    auth.actor.user_id.ok_or_else(|| {
        ApiError::Forbidden("API keys have no profile; this endpoint is for signed-in users".into())
    })
}

/// The caller: profile, roles, effective permissions with their scopes, and field restrictions.
#[utoipa::path(tag = "me", responses((status = 200, body = Me)))]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, auth: Authenticated) -> ApiResult<HttpResponse> {
    user_only(&auth)?;
    Ok(HttpResponse::Ok().json(actor::me(&state.db, &auth.actor).await?))
}

/// Change one's own name or phone.
#[utoipa::path(tag = "me", request_body = UpdateMe, responses((status = 200, body = Me)))]
#[patch("/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<UpdateMe>,
) -> ApiResult<HttpResponse> {
    user_only(&auth)?;
    users::update_me(&state.db, auth.ctx(), body.0).await?;
    Ok(HttpResponse::Ok().json(actor::me(&state.db, &auth.actor).await?))
}

/// Change one's own password. Every other session of the caller ends.
#[utoipa::path(tag = "me", request_body = ChangePassword, responses((status = 204, description = "Password changed")))]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<ChangePassword>,
) -> ApiResult<HttpResponse> {
    user_only(&auth)?;
    let input = body.0;
    users::change_password(
        &state.db,
        auth.ctx(),
        auth.session_id.as_deref(),
        input.current_password,
        input.new_password,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's active sessions.
#[utoipa::path(tag = "me", responses((status = 200, body = Vec<Session>)))]
#[get("/me/sessions")]
pub async fn list_sessions(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> ApiResult<HttpResponse> {
    let user_id = user_only(&auth)?;
    Ok(HttpResponse::Ok()
        .json(sessions::list(&state.db, user_id, auth.session_id.as_deref()).await?))
}

/// Sign out everywhere, this session included.
#[utoipa::path(tag = "me", responses((status = 204, description = "Every session ended")))]
#[delete("/me/sessions")]
pub async fn revoke_all_sessions(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> ApiResult<HttpResponse> {
    let user_id = user_only(&auth)?;
    sessions::revoke_all_for_user(&state.db, user_id, "signed_out_everywhere").await?;
    Ok(HttpResponse::NoContent().finish())
}

/// End one of the caller's sessions.
#[utoipa::path(tag = "me", params(("id" = String, Path, description = "Session id")), responses((status = 204, description = "Session ended")))]
#[delete("/me/sessions/{id}")]
pub async fn revoke_session(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let user_id = user_only(&auth)?;
    sessions::revoke_own(&state.db, user_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
