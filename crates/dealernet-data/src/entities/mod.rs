//! sea-orm entities, one per table. Only this crate sees them.

pub mod api_key;
pub mod app_secret;
pub mod audit_log;
pub mod auth_session;
pub mod idempotency_key;
pub mod org_node;
pub mod refresh_token;
pub mod role;
pub mod user;
pub mod user_role;
