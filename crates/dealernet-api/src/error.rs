//! The one error type of the HTTP layer, rendered as `application/problem+json`.
//!
//! Handlers return `Result<_, ApiError>`; services' errors convert with `?`. Causes of 500s are
//! logged with the request id and never sent to the client.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use dealernet_data::ServiceError;
use dealernet_domain::policy::Denied;
use dealernet_domain::{ErrorCode, FieldError, Problem};

tokio::task_local! {
    /// The id of the request being served, for error bodies.
    pub static REQUEST_ID: String;
}

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest {
        code: ErrorCode,
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("wrong e-mail or password")]
    InvalidCredentials,
    #[error("the account is blocked")]
    AccountBlocked,
    #[error("{0}")]
    Forbidden(String),
    #[error("field `{field}` is read-only for you")]
    ReadOnlyField { resource: String, field: String },
    #[error("not found")]
    NotFound,
    #[error("{detail}")]
    Conflict {
        code: ErrorCode,
        detail: String,
        existing_id: Option<i64>,
    },
    /// A well-formed request that cannot be processed as sent (e.g. a reused idempotency key).
    #[error("{detail}")]
    Unprocessable { code: ErrorCode, detail: String },
    #[error("the record was changed since you read it")]
    PreconditionFailed,
    #[error("too many attempts")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the database is unavailable")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }])
    }

    fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Unprocessable { code, .. } => *code,
            ApiError::Validation(_) => ErrorCode::ValidationFailed,
            ApiError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            ApiError::InvalidCredentials => ErrorCode::InvalidCredentials,
            ApiError::AccountBlocked => ErrorCode::AccountBlocked,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::ReadOnlyField { .. } => ErrorCode::ReadOnlyField,
            ApiError::NotFound => ErrorCode::NotFound,
            ApiError::PreconditionFailed => ErrorCode::PreconditionFailed,
            ApiError::TooManyRequests { .. } => ErrorCode::TooManyRequests,
            ApiError::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            ApiError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            ApiError::Unavailable => ErrorCode::Unavailable,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "Bad request",
            ApiError::Validation(_) => "Some fields are not valid",
            ApiError::Unauthenticated(_) => "Sign-in required",
            ApiError::InvalidCredentials => "Wrong e-mail or password",
            ApiError::AccountBlocked => "The account is blocked",
            ApiError::Forbidden(_) | ApiError::ReadOnlyField { .. } => "Not allowed",
            ApiError::NotFound => "Not found",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::Unprocessable { .. } => "Cannot process the request",
            ApiError::PreconditionFailed => "The record has changed",
            ApiError::TooManyRequests { .. } => "Too many attempts",
            ApiError::PayloadTooLarge => "Request too large",
            ApiError::UnsupportedMediaType(_) => "Unsupported media type",
            ApiError::Unavailable => "Service unavailable",
            ApiError::Internal(_) => "Internal error",
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status_code().as_u16();
        let mut p = Problem::new(self.code(), status, self.title());
        p.detail = match self {
            ApiError::Internal(_) => Some(
                "Something went wrong on our side. Quote the request id when reporting it.".into(),
            ),
            ApiError::Validation(_) => Some("Correct the fields listed in `errors`.".into()),
            ApiError::NotFound => Some("The record does not exist or you may not see it.".into()),
            ApiError::TooManyRequests { retry_after_secs } => {
                Some(format!("Try again in {retry_after_secs} seconds."))
            }
            other => Some(other.to_string()),
        };
        match self {
            ApiError::Validation(errors) | ApiError::BadRequest { errors, .. } => {
                p.errors = errors.clone()
            }
            ApiError::ReadOnlyField { resource, field } => {
                p.errors = vec![FieldError {
                    field: field.clone(),
                    code: "read_only".into(),
                    message: format!("is read-only for you on {resource}"),
                }]
            }
            ApiError::Conflict { existing_id, .. } => p.existing_id = *existing_id,
            _ => {}
        }
        p.request_id = REQUEST_ID.try_with(Clone::clone).ok();
        p
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Unauthenticated(_) | ApiError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ApiError::AccountBlocked | ApiError::Forbidden(_) | ApiError::ReadOnlyField { .. } => {
                StatusCode::FORBIDDEN
            }
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let problem = self.problem();
        if let ApiError::Internal(cause) = self {
            tracing::error!(request_id = ?problem.request_id, %cause, "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let ApiError::TooManyRequests { retry_after_secs } = self {
            res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if matches!(
            self,
            ApiError::Unauthenticated(_) | ApiError::InvalidCredentials
        ) {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        res.body(serde_json::to_string(&problem).unwrap_or_default())
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::OutOfScope => ApiError::NotFound,
            Denied::ReadOnlyField { resource, field } => ApiError::ReadOnlyField {
                resource: resource.to_string(),
                field,
            },
            other => ApiError::Forbidden(other.to_string()),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => ApiError::NotFound,
            ServiceError::Denied(d) => d.into(),
            ServiceError::Validation(errors) => ApiError::Validation(errors),
            ServiceError::Conflict {
                detail,
                existing_id,
            } => ApiError::Conflict {
                code: ErrorCode::Conflict,
                detail,
                existing_id,
            },
            ServiceError::StaleVersion => ApiError::PreconditionFailed,
            ServiceError::InvalidCredentials => ApiError::InvalidCredentials,
            ServiceError::AccountBlocked => ApiError::AccountBlocked,
            ServiceError::Unauthenticated(m) => ApiError::Unauthenticated(m),
            ServiceError::Db(e) => {
                if matches!(
                    e,
                    sea_orm_err::DbErr::ConnectionAcquire(_) | sea_orm_err::DbErr::Conn(_)
                ) {
                    tracing::error!(error = %e, "database unavailable");
                    ApiError::Unavailable
                } else {
                    ApiError::Internal(e.to_string())
                }
            }
            ServiceError::Internal(m) => ApiError::Internal(m),
        }
    }
}

mod sea_orm_err {
    pub use dealernet_data::error::DbErr;
}
