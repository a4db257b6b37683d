//! The dealer network: dealer profiles ([`profiles`]), points of sale ([`points_of_sale`]),
//! installation and repair requests with their automatic assignment ([`requests`]), the
//! reporting figures ([`metrics`]) and the demo data ([`demo::seed_dealers`]).
//!
//! A dealer's profile lives on its organisation node, so the policy's subtree scope decides who
//! sees it. A request belongs to the node of the dealer it is offered to: a dealer sees exactly
//! the jobs offered to it, and loses sight of a job it rejected (404, like any record outside
//! its view).

pub mod demo;
mod entity;
pub mod metrics;
pub mod points_of_sale;
pub mod profiles;
pub mod requests;

use std::time::Duration;

use dealernet_domain::dealers::assignment::Weights;

pub use demo::seed_dealers;

/// How assignment behaves, from configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AssignmentConfig {
    pub weights: Weights,
    /// How long a dealer has to answer an offer before it goes to the next best.
    pub offer_timeout: Duration,
}

impl Default for AssignmentConfig {
    fn default() -> Self {
        AssignmentConfig {
            weights: Weights::default(),
            offer_timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// Parses a JSON text column, or reports the broken record.
fn parse_json<T: serde::de::DeserializeOwned>(
    what: &str,
    id: i64,
    text: &str,
) -> crate::error::Result<T> {
    serde_json::from_str(text)
        .map_err(|e| crate::error::ServiceError::Internal(format!("{what} {id}: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}
