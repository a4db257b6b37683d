//! Installation and repair requests registered by the contact centre, the offers made to dealers
//! and what the dealers answer.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationError};

use super::assignment::Decision;
use super::geo::{self, GeoPoint};
use super::{Attachment, ServiceType, error};
use crate::Id;
use crate::validation::{no_control_chars, not_blank};

/// Where a request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// No dealer could take it; an operator assigns it by hand.
    Unassigned,
    /// Offered to a dealer, waiting for the answer.
    Offered,
    /// The dealer accepted and will do the job.
    Accepted,
    /// The job is done; the request is closed.
    Completed,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 4] = [
        RequestStatus::Unassigned,
        RequestStatus::Offered,
        RequestStatus::Accepted,
        RequestStatus::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Unassigned => "unassigned",
            RequestStatus::Offered => "offered",
            RequestStatus::Accepted => "accepted",
            RequestStatus::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        RequestStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether the job counts against the dealer's capacity.
    pub fn is_open(self) -> bool {
        matches!(self, RequestStatus::Offered | RequestStatus::Accepted)
    }
}

/// Who the customer is: a client of the CRM, or a private person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Customer {
    Client {
        client_id: Id,
    },
    Private {
        name: String,
        #[serde(default)]
        phone: Option<String>,
    },
}

fn valid_customer(c: &Customer) -> Result<(), ValidationError> {
    match c {
        Customer::Client { client_id } if *client_id <= 0 => {
            Err(error("client_id", "must be a client's id"))
        }
        Customer::Client { .. } => Ok(()),
        Customer::Private { name, phone } => {
            if name.trim().is_empty()
                || name.chars().count() > 200
                || no_control_chars(name).is_err()
            {
                return Err(error(
                    "name",
                    "the customer's name must be 1 to 200 characters",
                ));
            }
            if let Some(p) = phone {
                crate::validation::phone(p)?;
            }
            Ok(())
        }
    }
}

fn valid_equipment(items: &[String]) -> Result<(), ValidationError> {
    if items
        .iter()
        .any(|i| i.trim().is_empty() || i.chars().count() > 200 || no_control_chars(i).is_err())
    {
        return Err(error("equipment", "each item must be 1 to 200 characters"));
    }
    Ok(())
}

fn valid_serials(items: &[String]) -> Result<(), ValidationError> {
    let ok = items.iter().all(|s| {
        (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/' || b == b'.')
    });
    if ok {
        Ok(())
    } else {
        Err(error(
            "serial",
            "each serial must be 1 to 64 letters, digits, dashes, dots or slashes",
        ))
    }
}

fn point(p: &GeoPoint) -> Result<(), ValidationError> {
    if p.lat.is_finite()
        && p.lon.is_finite()
        && (-90.0..=90.0).contains(&p.lat)
        && (-180.0..=180.0).contains(&p.lon)
    {
        Ok(())
    } else {
        Err(error(
            "coordinates",
            "latitude must be within ±90 and longitude within ±180",
        ))
    }
}

/// Register an installation or repair request; it is assigned to a dealer at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "window_in_order", skip_on_field_errors = false))]
pub struct CreateInstallationRequest {
    #[validate(custom(function = "valid_customer"))]
    pub customer: Customer,
    #[validate(
        length(min = 1, max = 500),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub address: String,
    #[validate(custom(function = "point"))]
    pub location: GeoPoint,
    #[serde(default)]
    #[validate(custom(function = "geo::region_code"))]
    pub region_code: Option<String>,
    pub service: ServiceType,
    /// What the customer wants installed or repaired.
    #[serde(default)]
    #[validate(length(max = 20), custom(function = "valid_equipment"))]
    pub equipment: Vec<String>,
    #[serde(default)]
    pub window_from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub window_to: Option<DateTime<Utc>>,
    #[serde(default)]
    #[validate(length(max = 2000), custom(function = "no_control_chars"))]
    pub notes: String,
}

fn window_in_order(r: &CreateInstallationRequest) -> Result<(), ValidationError> {
    match (r.window_from, r.window_to) {
        (Some(a), Some(b)) if a >= b => {
            Err(error("window", "the time window must end after it starts"))
        }
        _ => Ok(()),
    }
}

/// Why a dealer turned a job down (`timeout`: it did not answer in time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    NoCapacity,
    TooFar,
    NoEquipment,
    CustomerUnreachable,
    Other,
    /// Recorded by the system when an offer expires.
    Timeout,
}

impl RejectionReason {
    pub const ALL: [RejectionReason; 6] = [
        RejectionReason::NoCapacity,
        RejectionReason::TooFar,
        RejectionReason::NoEquipment,
        RejectionReason::CustomerUnreachable,
        RejectionReason::Other,
        RejectionReason::Timeout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RejectionReason::NoCapacity => "no_capacity",
            RejectionReason::TooFar => "too_far",
            RejectionReason::NoEquipment => "no_equipment",
            RejectionReason::CustomerUnreachable => "customer_unreachable",
            RejectionReason::Other => "other",
            RejectionReason::Timeout => "timeout",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        RejectionReason::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A dealer turns an offered job down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "reason_given", skip_on_field_errors = false))]
pub struct RejectJob {
    pub reason: RejectionReason,
    #[serde(default)]
    #[validate(length(max = 1000), custom(function = "no_control_chars"))]
    pub note: String,
}

fn reason_given(r: &RejectJob) -> Result<(), ValidationError> {
    if r.reason == RejectionReason::Timeout {
        return Err(error("reason", "`timeout` is recorded by the system"));
    }
    if r.reason == RejectionReason::Other && r.note.trim().is_empty() {
        return Err(error("note", "say why when the reason is `other`"));
    }
    Ok(())
}

/// What the dealer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CompletionKind {
    Installation,
    Repair,
}

/// The dealer records the job as done; the request closes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompleteJob {
    pub kind: CompletionKind,
    /// Serial numbers of the equipment installed (or repaired).
    #[serde(default)]
    #[validate(length(max = 50), custom(function = "valid_serials"))]
    pub serials: Vec<String>,
    #[serde(default)]
    #[validate(length(max = 20), nested)]
    pub photos: Vec<Attachment>,
    #[serde(default)]
    #[validate(length(max = 2000), custom(function = "no_control_chars"))]
    pub notes: String,
}

/// What the dealer recorded when it completed the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Completion {
    pub kind: CompletionKind,
    pub serials: Vec<String>,
    pub photos: Vec<Attachment>,
    pub notes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_by: Option<String>,
}

/// An operator assigns the request by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OverrideAssignment {
    pub dealer_id: Id,
    #[validate(
        length(min = 1, max = 1000),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub reason: String,
}

/// One dealer's "no" to a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rejection {
    pub dealer_id: Id,
    pub dealer_name: String,
    pub reason: RejectionReason,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// What started an assignment round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AssignmentTrigger {
    Created,
    Rejected,
    Timeout,
    Override,
}

impl AssignmentTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentTrigger::Created => "created",
            AssignmentTrigger::Rejected => "rejected",
            AssignmentTrigger::Timeout => "timeout",
            AssignmentTrigger::Override => "override",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            AssignmentTrigger::Created,
            AssignmentTrigger::Rejected,
            AssignmentTrigger::Timeout,
            AssignmentTrigger::Override,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// One stored assignment decision with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignment {
    pub id: Id,
    pub request_id: Id,
    pub trigger: AssignmentTrigger,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dealer_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dealer_name: Option<String>,
    pub decision: Decision,
    /// Dealers farther away whose territory could not cover the site (not listed one by one).
    pub others_outside_territory: u64,
    /// For an override: who and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    pub decided_at: DateTime<Utc>,
}

/// An installation or repair request, with its current assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstallationRequest {
    pub id: Id,
    pub customer: Customer,
    pub address: String,
    pub location: GeoPoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    pub service: ServiceType,
    pub equipment: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_to: Option<DateTime<Utc>>,
    pub notes: String,
    pub status: RequestStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dealer_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dealer_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_at: Option<DateTime<Utc>>,
    /// When an unanswered offer goes to the next dealer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<Completion>,
    pub rejections: Vec<Rejection>,
    /// The latest assignment decision (back-office readers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<Assignment>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Durations in seconds over a set of requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DurationStats {
    pub count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_secs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_secs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90_secs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_secs: Option<f64>,
}

impl DurationStats {
    /// Count, mean and percentiles (nearest rank) of `secs`.
    pub fn of(mut secs: Vec<f64>) -> DurationStats {
        secs.retain(|s| s.is_finite());
        if secs.is_empty() {
            return DurationStats::default();
        }
        secs.sort_by(f64::total_cmp);
        let n = secs.len();
        let rank = |p: f64| secs[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        DurationStats {
            count: n as u64,
            mean_secs: Some(secs.iter().sum::<f64>() / n as f64),
            p50_secs: Some(rank(0.5)),
            p90_secs: Some(rank(0.9)),
            max_secs: secs.last().copied(),
        }
    }
}

/// Assignment metrics for reporting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignmentMetrics {
    pub requests: u64,
    /// Creation → first offer to a dealer.
    pub time_to_assignment: DurationStats,
    /// Creation → accepted by a dealer.
    pub time_to_acceptance: DurationStats,
    pub rejections_by_reason: BTreeMap<String, u64>,
    /// Acceptance → completion, per dealer (by name).
    pub completion_by_dealer: BTreeMap<String, DurationStats>,
    /// Acceptance → completion, per region code (`none` when the request had none).
    pub completion_by_region: BTreeMap<String, DurationStats>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_needs_a_customer_an_address_and_a_window_in_order() {
        let now = Utc::now();
        let r = CreateInstallationRequest {
            customer: Customer::Private {
                name: " ".into(),
                phone: None,
            },
            address: String::new(),
            location: GeoPoint::new(100.0, 0.0),
            region_code: Some("moscow".into()),
            service: ServiceType::Installation,
            equipment: vec![String::new()],
            window_from: Some(now),
            window_to: Some(now),
            notes: String::new(),
        };
        let fields: Vec<String> = r
            .validate()
            .map_err(|e| crate::validation::field_errors(&e))
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        for f in [
            "__all__",
            "address",
            "customer",
            "equipment",
            "location",
            "region_code",
        ] {
            assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
        }
    }

    #[test]
    fn a_rejection_says_why_and_timeout_is_the_systems_word() {
        let other = RejectJob {
            reason: RejectionReason::Other,
            note: String::new(),
        };
        assert!(other.validate().is_err());
        let timeout = RejectJob {
            reason: RejectionReason::Timeout,
            note: "x".into(),
        };
        assert!(timeout.validate().is_err());
        let far = RejectJob {
            reason: RejectionReason::TooFar,
            note: String::new(),
        };
        assert!(far.validate().is_ok());
    }

    #[test]
    fn duration_stats_use_nearest_rank() {
        let s = DurationStats::of(vec![4.0, 1.0, 3.0, 2.0, 10.0]);
        assert_eq!(s.count, 5);
        assert_eq!(s.p50_secs, Some(3.0));
        assert_eq!(s.p90_secs, Some(10.0));
        assert_eq!(s.mean_secs, Some(4.0));
        assert_eq!(DurationStats::of(vec![]).count, 0);
    }

    #[test]
    fn serials_are_checked() {
        assert!(valid_serials(&["SN-0001".into(), "A1/2.3".into()]).is_ok());
        assert!(valid_serials(&["bad serial".into()]).is_err());
    }
}
