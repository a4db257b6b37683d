//! DealerNet's data layer: the only crate that knows SQL.
//!
//! Each business module has a module here with its queries and its services. A service takes a
//! [`context::Ctx`] (who acts, from where), asks the policy in `dealernet_domain::policy`,
//! changes data in one transaction and writes its audit entry in that same transaction.
//! List queries are scoped with [`scope::condition`], the single translation of the policy's
//! visibility into SQL.

pub mod audit;
pub mod bootstrap;
pub mod context;
pub mod crm;
pub mod db;
pub mod dealers;
pub mod demo;
mod entities;
pub mod error;
pub mod fixtures;
pub mod idempotency;
pub mod identity;
pub mod notifications;
pub mod orgs;
pub mod page;
pub mod redact;
pub mod scope;
pub mod secrets;
pub mod text;
pub mod warehouse;

pub use context::{Ctx, RequestMeta};
pub use error::{Result, ServiceError};
pub use sea_orm::DatabaseConnection;
