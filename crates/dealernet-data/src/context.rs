//! What a service needs to know about the request it serves.

use dealernet_domain::policy::Actor;

/// Where a request came from, for the audit trail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The acting identity and the request it acts in.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub actor: &'a Actor,
    pub meta: &'a RequestMeta,
}
