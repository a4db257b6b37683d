//! The error every service returns. The API crate maps each variant to one HTTP answer.

use dealernet_domain::FieldError;
use dealernet_domain::policy::Denied;
pub use sea_orm::DbErr;
use sea_orm::SqlErr;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The record does not exist, or the actor may not see it.
    #[error("not found")]
    NotFound,
    /// The policy refused.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// The input broke a rule; every failing field is named.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The change conflicts with existing data (duplicate, wrong state).
    #[error("{detail}")]
    Conflict {
        detail: String,
        existing_id: Option<i64>,
    },
    /// `If-Match` named another version than the current one.
    #[error("the record was changed by someone else")]
    StaleVersion,
    #[error("wrong e-mail or password")]
    InvalidCredentials,
    #[error("the account is blocked")]
    AccountBlocked,
    /// The credential is invalid, expired or revoked.
    #[error("{0}")]
    Unauthenticated(String),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

impl ServiceError {
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        ServiceError::Validation(vec![FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }])
    }

    pub fn conflict(detail: impl Into<String>, existing_id: Option<i64>) -> Self {
        ServiceError::Conflict {
            detail: detail.into(),
            existing_id,
        }
    }
}

/// Whether a database error is a unique-constraint violation.
pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Turns a unique violation into a conflict with `detail`; passes other errors through.
pub fn on_unique(detail: &str) -> impl FnOnce(DbErr) -> ServiceError + '_ {
    move |e| {
        if is_unique_violation(&e) {
            ServiceError::conflict(detail, None)
        } else {
            ServiceError::Db(e)
        }
    }
}
