//! DealerNet's HTTP API: the only crate that knows HTTP.
//!
//! - [`startup`] builds the actix-web application and server.
//! - [`routes`] holds the handlers, one module per area, each annotated for OpenAPI.
//! - [`auth`] turns credentials into an [`Actor`](dealernet_domain::policy::Actor).
//! - [`error::ApiError`] is the one error type, rendered as problem+json.
//! - [`extract`] has the strict JSON/query extractors and `If-Match`.
//! - [`middleware`] adds request ids, metrics and idempotent POSTs.

pub mod auth;
pub mod dealers;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod notify;
pub mod openapi;
pub mod routes;
pub mod settings;
pub mod spa;
pub mod startup;
pub mod state;

pub use settings::{LogFormat, Settings};
pub use startup::{Application, StartError};
