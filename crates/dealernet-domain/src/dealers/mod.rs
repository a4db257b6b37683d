//! The dealer network: dealer profiles on their organisation nodes, points of sale, installation
//! and repair requests, and their automatic assignment to dealers ([`assignment`]).

pub mod assignment;
pub mod geo;
pub mod requests;

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationError};

use self::geo::{GeoPoint, Territory};
use crate::Id;
use crate::user::double_option;
use crate::validation::{no_control_chars, not_blank};

pub(crate) fn error(code: &'static str, message: &'static str) -> ValidationError {
    let mut e = ValidationError::new(code);
    e.message = Some(Cow::Borrowed(message));
    e
}

/// What a dealer can be sent to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceType {
    Installation,
    /// Repair and service (the service bureau).
    Repair,
}

impl ServiceType {
    pub const ALL: [ServiceType; 2] = [ServiceType::Installation, ServiceType::Repair];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::Installation => "installation",
            ServiceType::Repair => "repair",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ServiceType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DealerStatus {
    #[default]
    Active,
    /// Gets no new jobs.
    Suspended,
}

impl DealerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DealerStatus::Active => "active",
            DealerStatus::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(DealerStatus::Active),
            "suspended" => Some(DealerStatus::Suspended),
            _ => None,
        }
    }
}

/// A person to call at a dealer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub name: String,
    #[serde(default)]
    #[validate(length(max = 100), custom(function = "no_control_chars"))]
    pub position: String,
    #[serde(default)]
    #[validate(custom(function = "crate::validation::phone"))]
    pub phone: Option<String>,
    #[serde(default)]
    #[validate(email, length(max = 254))]
    pub email: Option<String>,
}

/// Opening hours of one weekday (1 = Monday … 7 = Sunday), `HH:MM` to `HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "opens_before_closing", skip_on_field_errors = false))]
pub struct DayHours {
    #[validate(range(min = 1, max = 7))]
    pub day: u8,
    #[validate(custom(function = "clock_time"))]
    pub opens: String,
    #[validate(custom(function = "clock_time"))]
    pub closes: String,
}

/// A time of day as `HH:MM` (24 hours).
pub fn clock_time(value: &str) -> Result<(), ValidationError> {
    let ok = value.len() == 5
        && value.as_bytes()[2] == b':'
        && value[..2].parse::<u8>().is_ok_and(|h| h < 24)
        && value[3..].parse::<u8>().is_ok_and(|m| m < 60);
    if ok {
        Ok(())
    } else {
        Err(error("clock_time", "must be a time such as 09:00"))
    }
}

fn opens_before_closing(h: &DayHours) -> Result<(), ValidationError> {
    if clock_time(&h.opens).is_ok() && clock_time(&h.closes).is_ok() && h.opens >= h.closes {
        return Err(error("hours", "must open before it closes"));
    }
    Ok(())
}

fn distinct_services(s: &[ServiceType]) -> Result<(), ValidationError> {
    let mut v = s.to_vec();
    v.sort_unstable();
    v.dedup();
    if v.len() != s.len() {
        return Err(error("duplicate", "must not repeat a service"));
    }
    Ok(())
}

/// A tax id: 10 or 12 digits.
pub fn valid_tax_id(value: &str) -> Result<(), ValidationError> {
    if (value.len() == 10 || value.len() == 12) && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(error("tax_id", "must be 10 or 12 digits"))
    }
}

fn valid_rating(value: f64) -> Result<(), ValidationError> {
    if value.is_finite() && (0.0..=5.0).contains(&value) {
        Ok(())
    } else {
        Err(error("rating", "must be between 0 and 5"))
    }
}

/// A photo or document: a name and where it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub name: String,
    /// An `https://` address or an app path (`/files/…`).
    #[validate(length(min = 1, max = 1000), custom(function = "attachment_url"))]
    pub url: String,
}

fn attachment_url(value: &str) -> Result<(), ValidationError> {
    let ok =
        (value.starts_with("https://") || value.starts_with("http://") || value.starts_with('/'))
            && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(error("url", "must be an http(s) address or an app path"))
    }
}

/// A dealer's profile, kept on its organisation node (a dealer or sub-dealer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dealer {
    pub id: Id,
    pub org_id: Id,
    /// The organisation node's name.
    pub name: String,
    pub legal_name: String,
    pub tax_id: String,
    pub legal_address: String,
    pub contacts: Vec<Contact>,
    pub services: Vec<ServiceType>,
    pub territory: Territory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<GeoPoint>,
    /// 0–5.
    pub rating: f64,
    /// Jobs at once (per day).
    pub capacity: i32,
    /// Jobs offered or accepted and not yet done.
    pub open_jobs: i32,
    pub working_hours: Vec<DayHours>,
    pub status: DealerStatus,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Create the profile of a dealer on its organisation node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDealer {
    /// A node of kind `dealer` or `sub_dealer` without a profile yet.
    pub org_id: Id,
    #[validate(
        length(min = 1, max = 300),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub legal_name: String,
    #[validate(custom(function = "valid_tax_id"))]
    pub tax_id: String,
    #[serde(default)]
    #[validate(length(max = 500), custom(function = "no_control_chars"))]
    pub legal_address: String,
    #[serde(default)]
    #[validate(length(max = 20), nested)]
    pub contacts: Vec<Contact>,
    #[validate(length(min = 1, max = 2), custom(function = "distinct_services"))]
    pub services: Vec<ServiceType>,
    #[serde(default)]
    #[validate(nested)]
    pub territory: Territory,
    #[serde(default)]
    #[validate(nested)]
    pub base: Option<GeoPoint>,
    #[serde(default = "default_rating")]
    #[validate(custom(function = "valid_rating"))]
    pub rating: f64,
    #[validate(range(min = 0, max = 1000))]
    pub capacity: i32,
    #[serde(default)]
    #[validate(length(max = 14), nested)]
    pub working_hours: Vec<DayHours>,
    #[serde(default)]
    pub status: DealerStatus,
}

fn default_rating() -> f64 {
    3.0
}

/// Change a dealer's profile. Absent fields are unchanged. The rating changes through
/// [`ChangeRating`], with a reason.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateDealer {
    #[serde(default)]
    #[validate(
        length(min = 1, max = 300),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub legal_name: Option<String>,
    #[serde(default)]
    #[validate(custom(function = "valid_tax_id"))]
    pub tax_id: Option<String>,
    #[serde(default)]
    #[validate(length(max = 500), custom(function = "no_control_chars"))]
    pub legal_address: Option<String>,
    #[serde(default)]
    #[validate(length(max = 20), nested)]
    pub contacts: Option<Vec<Contact>>,
    #[serde(default)]
    #[validate(length(min = 1, max = 2), custom(function = "distinct_services"))]
    pub services: Option<Vec<ServiceType>>,
    #[serde(default)]
    #[validate(nested)]
    pub territory: Option<Territory>,
    /// `null` clears the base.
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<GeoPoint>))]
    pub base: Option<Option<GeoPoint>>,
    #[serde(default)]
    #[validate(range(min = 0, max = 1000))]
    pub capacity: Option<i32>,
    #[serde(default)]
    #[validate(length(max = 14), nested)]
    pub working_hours: Option<Vec<DayHours>>,
    #[serde(default)]
    pub status: Option<DealerStatus>,
}

impl UpdateDealer {
    pub fn validate_base(&self) -> Result<(), validator::ValidationErrors> {
        if let Some(Some(p)) = &self.base {
            let mut errs = validator::ValidationErrors::new();
            if p.validate().is_err() || !p.lat.is_finite() || !p.lon.is_finite() {
                errs.add(
                    "base",
                    error(
                        "coordinates",
                        "latitude must be within ±90 and longitude within ±180",
                    ),
                );
                return Err(errs);
            }
        }
        Ok(())
    }
}

/// Set a dealer's rating, saying why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangeRating {
    #[validate(custom(function = "valid_rating"))]
    pub rating: f64,
    #[validate(
        length(min = 1, max = 1000),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub reason: String,
}

/// One change of a dealer's rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RatingChange {
    pub id: Id,
    pub dealer_id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<f64>,
    pub to: f64,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<String>,
    pub at: DateTime<Utc>,
}

/// A point of sale in the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PointOfSale {
    pub id: Id,
    /// The owner dealer's profile.
    pub dealer_id: Id,
    pub dealer_name: String,
    pub name: String,
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    /// Whether the coordinates came from the geocoder (`false`: set by hand or unknown).
    pub geocoded: bool,
    pub opening_hours: Vec<DayHours>,
    pub attachments: Vec<Attachment>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Register a point of sale. Without `location` the address is geocoded (when a geocoder is
/// configured).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreatePointOfSale {
    pub dealer_id: Id,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub name: String,
    #[validate(
        length(min = 1, max = 500),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub address: String,
    #[serde(default)]
    #[validate(custom(function = "geo::region_code"))]
    pub region_code: Option<String>,
    #[serde(default)]
    #[validate(nested)]
    pub location: Option<GeoPoint>,
    #[serde(default)]
    #[validate(length(max = 14), nested)]
    pub opening_hours: Vec<DayHours>,
    #[serde(default)]
    #[validate(length(max = 30), nested)]
    pub attachments: Vec<Attachment>,
}

/// Change a point of sale. Absent fields are unchanged; a new address without a location is
/// geocoded again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdatePointOfSale {
    #[serde(default)]
    #[validate(
        length(min = 1, max = 200),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub name: Option<String>,
    #[serde(default)]
    #[validate(
        length(min = 1, max = 500),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub address: Option<String>,
    #[serde(default)]
    #[validate(custom(function = "geo::region_code"))]
    pub region_code: Option<String>,
    #[serde(default)]
    #[validate(nested)]
    pub location: Option<GeoPoint>,
    #[serde(default)]
    #[validate(length(max = 14), nested)]
    pub opening_hours: Option<Vec<DayHours>>,
    #[serde(default)]
    #[validate(length(max = 30), nested)]
    pub attachments: Option<Vec<Attachment>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(r: Result<(), validator::ValidationErrors>) -> Vec<String> {
        r.map_err(|e| crate::validation::field_errors(&e))
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_new_dealer_is_validated_field_by_field() {
        let d = CreateDealer {
            org_id: 1,
            legal_name: " ".into(),
            tax_id: "12ab".into(),
            legal_address: String::new(),
            contacts: vec![Contact {
                name: "Ivan".into(),
                position: String::new(),
                phone: Some("x".into()),
                email: None,
            }],
            services: vec![],
            territory: Territory::default(),
            base: Some(GeoPoint::new(91.0, 0.0)),
            rating: 7.0,
            capacity: -1,
            working_hours: vec![DayHours {
                day: 8,
                opens: "18:00".into(),
                closes: "09:00".into(),
            }],
            status: DealerStatus::Active,
        };
        let f = fields(d.validate());
        for want in [
            "base.lat",
            "capacity",
            "contacts[0].phone",
            "legal_name",
            "rating",
            "services",
            "tax_id",
            "working_hours[0].day",
            "working_hours[0].__all__",
        ] {
            assert!(f.iter().any(|x| x == want), "{want} in {f:?}");
        }
    }

    #[test]
    fn clock_times_and_attachments() {
        assert!(clock_time("09:30").is_ok());
        assert!(clock_time("24:00").is_err());
        assert!(clock_time("9:30").is_err());
        assert!(attachment_url("https://files.example/p.jpg").is_ok());
        assert!(attachment_url("/files/1").is_ok());
        assert!(attachment_url("javascript:alert(1)").is_err());
        assert!(distinct_services(&[ServiceType::Repair, ServiceType::Repair]).is_err());
    }
}
