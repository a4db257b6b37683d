//! The error body of every API failure: RFC 9457 `application/problem+json` with a stable code.

use serde::{Deserialize, Serialize};

/// Stable, machine-readable error codes. Clients branch on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not valid JSON or does not have the expected shape.
    MalformedBody,
    /// One or more fields failed validation; see `errors`.
    ValidationFailed,
    /// Query parameters failed validation; see `errors`.
    InvalidQuery,
    /// No or an invalid, expired or revoked credential.
    Unauthenticated,
    /// Wrong e-mail or password.
    InvalidCredentials,
    /// The account is blocked.
    AccountBlocked,
    /// The credential is valid but the action is not allowed.
    Forbidden,
    /// A field the actor may not write was present.
    ReadOnlyField,
    /// The record does not exist or is not visible to the actor.
    NotFound,
    /// The record conflicts with an existing one (duplicate, in use, wrong state).
    Conflict,
    /// `If-Match` did not match the current version.
    PreconditionFailed,
    /// The same `Idempotency-Key` was used with a different request.
    IdempotencyKeyReused,
    /// A request with the same `Idempotency-Key` is still being processed.
    IdempotencyInProgress,
    /// Too many attempts; see `Retry-After`.
    TooManyRequests,
    /// The body is larger than the server accepts.
    PayloadTooLarge,
    /// The media type of the body is not accepted.
    UnsupportedMediaType,
    /// The method is not allowed on this path.
    MethodNotAllowed,
    /// Something failed on the server; the request id identifies it in the logs.
    Internal,
    /// A dependency (the database) is not available.
    Unavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedBody => "malformed_body",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::AccountBlocked => "account_blocked",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::ReadOnlyField => "read_only_field",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PreconditionFailed => "precondition_failed",
            ErrorCode::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorCode::IdempotencyInProgress => "idempotency_in_progress",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
        }
    }
}

/// One failing field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// JSON path of the field, e.g. `email` or `items[2].name`.
    pub field: String,
    /// Stable rule code, e.g. `length`, `email`, `required`, `type`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
}

/// An `application/problem+json` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI reference naming the problem type: `urn:dealernet:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub code: ErrorCode,
    /// Failing fields, for `validation_failed`, `invalid_query` and `read_only_field`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The id of the request in the server logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// For conflicts: the id of the existing record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<i64>,
}

impl Problem {
    pub fn new(code: ErrorCode, status: u16, title: impl Into<String>) -> Self {
        Problem {
            type_: format!("urn:dealernet:problem:{}", code.as_str()),
            title: title.into(),
            status,
            detail: None,
            code,
            errors: Vec::new(),
            request_id: None,
            existing_id: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// The message for one field, if the problem names it.
    pub fn field_message(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}
