//! Identity and access: roles, users, passwords, sessions and API keys, and resolving the
//! [`Actor`](dealernet_domain::policy::Actor) behind a credential.

pub mod actor;
pub mod actor_cache;
pub mod api_keys;
pub mod password;
pub mod roles;
pub mod sessions;
pub mod users;
