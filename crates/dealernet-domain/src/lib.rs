//! DealerNet's domain: the types that cross the wire, the rules that validate them, and the pure
//! business rules (access policy, organisation paths).
//!
//! This crate knows no web framework and no database, and it compiles to `wasm32` so that the SPA
//! uses exactly the same types and validators as the API. OpenAPI schemas are derived behind the
//! `openapi` feature, which only the API crate enables.

pub mod access;
pub mod api_key;
pub mod audit;
pub mod auth;
pub mod crm;
pub mod dealers;
pub mod list;
pub mod notifications;
pub mod org;
pub mod policy;
pub mod problem;
pub mod reminders;
pub mod role;
pub mod user;
pub mod validation;
pub mod warehouse;

pub use problem::{ErrorCode, FieldError, Problem};

/// Database identifier of any record.
pub type Id = i64;
