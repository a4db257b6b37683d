//! CRM: client organisations, their contacts, requests (deals) with equipment line items, the
//! status and delivery timeline, comments, documents and imports.
//!
//! Fields a role's field policy may hide (see `Resource::policy_fields`) are optional on the wire.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationError};

use crate::Id;
use crate::user::double_option;
use crate::validation::{no_control_chars, not_blank};

// ---------------------------------------------------------------------------------------------
// Rules shared by the API and the SPA
// ---------------------------------------------------------------------------------------------

fn error(code: &'static str, message: &'static str) -> ValidationError {
    let mut e = ValidationError::new(code);
    e.message = Some(Cow::Borrowed(message));
    e
}

/// A legal id (tax number, registration code): 5–20 letters and digits, dashes allowed inside.
pub fn legal_id(value: &str) -> Result<(), ValidationError> {
    let v = value.trim();
    let ok = (5..=20).contains(&v.chars().count())
        && v.chars().all(|c| c.is_alphanumeric() || c == '-')
        && !v.starts_with('-')
        && !v.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(error(
            "legal_id",
            "must be 5 to 20 letters or digits (dashes allowed inside)",
        ))
    }
}

/// A currency: three upper-case letters (ISO 4217), e.g. `EUR`.
pub fn currency(value: &str) -> Result<(), ValidationError> {
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(error(
            "currency",
            "must be a three-letter currency code such as EUR",
        ))
    }
}

/// A web address: `http(s)://` and a host, or a bare host with a dot.
pub fn website(value: &str) -> Result<(), ValidationError> {
    let v = value.trim();
    let host = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .unwrap_or(v);
    let host = host.split('/').next().unwrap_or("");
    if host.contains('.')
        && !host.starts_with('.')
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && v.chars().count() <= 300
    {
        Ok(())
    } else {
        Err(error(
            "website",
            "must be a web address such as https://example.com",
        ))
    }
}

/// A money amount as text: digits with at most two decimals (`1250`, `1250.5`, `1250.50`).
pub fn money(value: &str) -> Result<(), ValidationError> {
    parse_money(value).map(|_| ()).ok_or_else(|| {
        error(
            "money",
            "must be an amount such as 1250.50 (at most two decimals)",
        )
    })
}

/// Parses a money amount into minor units (cents); `None` when it is not one.
pub fn parse_money(value: &str) -> Option<i64> {
    let v = value.trim();
    let (whole, frac) = match v.split_once('.') {
        Some((w, f)) => (w, f),
        None => (v, ""),
    };
    if whole.is_empty()
        || whole.len() > 13
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (v.contains('.') && frac.is_empty())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(frac)
}

/// Formats minor units as an amount with two decimals.
pub fn format_money(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, (minor % 100).abs())
}

/// A phone (the shared phone rule).
pub fn phone(value: &str) -> Result<(), ValidationError> {
    crate::validation::phone(value)
}

// ---------------------------------------------------------------------------------------------
// Clients and contacts
// ---------------------------------------------------------------------------------------------

/// A client organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Client {
    pub id: Id,
    pub name: String,
    /// Tax or registration id; unique among clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Unique among clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    pub notes: String,
    /// The organisation node that owns the client.
    pub org_id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_name: Option<String>,
    /// The responsible manager.
    pub manager_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_name: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Create a client organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    #[validate(
        length(min = 1, max = 300),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub name: String,
    #[validate(custom(function = "crate::crm::legal_id"))]
    #[serde(default)]
    pub legal_id: Option<String>,
    #[validate(length(max = 40), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub registration_no: Option<String>,
    #[validate(length(max = 500), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub legal_address: Option<String>,
    #[validate(length(max = 500), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub postal_address: Option<String>,
    #[validate(custom(function = "crate::crm::phone"))]
    #[serde(default)]
    pub phone: Option<String>,
    #[validate(email, length(max = 254))]
    #[serde(default)]
    pub email: Option<String>,
    #[validate(custom(function = "crate::crm::website"))]
    #[serde(default)]
    pub website: Option<String>,
    #[validate(length(max = 5000), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub notes: String,
    /// The owning node; default: the caller's.
    #[serde(default)]
    pub org_id: Option<Id>,
    /// The responsible manager; default: the caller.
    #[serde(default)]
    pub manager_id: Option<Id>,
}

/// Change a client. Absent fields are unchanged; `null` clears an optional field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateClient {
    #[validate(
        length(min = 1, max = 300),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    #[serde(default)]
    pub name: Option<String>,
    #[validate(custom(function = "crate::crm::legal_id"))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub legal_id: Option<Option<String>>,
    #[validate(length(max = 40), custom(function = "no_control_chars"))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub registration_no: Option<Option<String>>,
    #[validate(length(max = 500), custom(function = "no_control_chars"))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub legal_address: Option<Option<String>>,
    #[validate(length(max = 500), custom(function = "no_control_chars"))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub postal_address: Option<Option<String>>,
    #[validate(custom(function = "crate::crm::phone"))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub phone: Option<Option<String>>,
    #[validate(email, length(max = 254))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub email: Option<Option<String>>,
    #[validate(custom(function = "crate::crm::website"))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub website: Option<Option<String>>,
    #[validate(length(max = 5000), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub org_id: Option<Id>,
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Id>))]
    pub manager_id: Option<Option<Id>>,
}

impl UpdateClient {
    /// The JSON names of the fields this update writes (for field policies).
    pub fn written_fields(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        let mut push = |set: bool, name| {
            if set {
                f.push(name)
            }
        };
        push(self.name.is_some(), "name");
        push(self.legal_id.is_some(), "legal_id");
        push(self.registration_no.is_some(), "registration_no");
        push(self.legal_address.is_some(), "legal_address");
        push(self.postal_address.is_some(), "postal_address");
        push(self.phone.is_some(), "phone");
        push(self.email.is_some(), "email");
        push(self.website.is_some(), "website");
        push(self.notes.is_some(), "notes");
        push(self.org_id.is_some(), "org_id");
        push(self.manager_id.is_some(), "manager_id");
        f
    }
}

/// A person at a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    pub id: Id,
    pub client_id: Id,
    pub name: String,
    pub position: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub notes: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Add a contact person to a client (or replace one's details).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub name: String,
    #[validate(length(max = 200), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub position: Option<String>,
    #[validate(custom(function = "crate::crm::phone"))]
    #[serde(default)]
    pub phone: Option<String>,
    #[validate(email, length(max = 254))]
    #[serde(default)]
    pub email: Option<String>,
    #[validate(length(max = 2000), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub notes: String,
}

// ---------------------------------------------------------------------------------------------
// Requests (deals)
// ---------------------------------------------------------------------------------------------

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("unknown {} `{s}`", stringify!($name)))
            }
        }
    };
}

string_enum! {
    /// Where a request stands commercially.
    DealStatus {
        PreparingOffer = "preparing_offer",
        InProgress = "in_progress",
        Stalled = "stalled",
        Won = "won",
        Dead = "dead",
    }
}

string_enum! {
    /// The five delivery stages of a won request, in order.
    DeliveryStage {
        Ordered = "ordered",
        InProduction = "in_production",
        Shipped = "shipped",
        Delivered = "delivered",
        Commissioned = "commissioned",
    }
}

string_enum! {
    /// What a document is.
    DocumentCategory {
        PriceCalculation = "price_calculation",
        Invoice = "invoice",
        Contract = "contract",
        Offer = "offer",
        Specification = "specification",
        Other = "other",
    }
}

string_enum! {
    /// The levels of an equipment line item, each autocompleted from the level above.
    ItemLevel {
        Type = "type",
        Name = "name",
        SubName = "sub_name",
        Capacity = "capacity",
    }
}

impl DeliveryStage {
    /// 1 to 5: the stage's place in the stepper.
    pub fn step(self) -> usize {
        DeliveryStage::ALL
            .iter()
            .position(|s| *s == self)
            .map_or(0, |p| p + 1)
    }
}

/// One piece of equipment asked for: type → name → sub-name → capacity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    /// e.g. "Chiller".
    #[validate(
        length(min = 1, max = 120),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub equipment_type: String,
    /// e.g. "AquaForce".
    #[validate(
        length(min = 1, max = 200),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub name: String,
    /// e.g. "30XA".
    #[validate(length(max = 200), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub sub_name: String,
    /// e.g. "500 kW".
    #[validate(length(max = 60), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub capacity: String,
    #[validate(range(min = 1, max = 100000))]
    #[serde(default = "one")]
    pub quantity: i32,
}

fn one() -> i32 {
    1
}

/// A request (deal) as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deal {
    pub id: Id,
    /// Human-readable and unique, e.g. `R-2026-000042`.
    pub number: String,
    pub client_id: Id,
    pub client_name: String,
    pub date: NaiveDate,
    /// The end customer, when it is not the client itself.
    pub customer: String,
    pub items: Vec<LineItem>,
    pub status: DealStatus,
    pub delivery_stage: Option<DeliveryStage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_no: Option<String>,
    /// Amount with two decimals, e.g. `125000.00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_price: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finance_comment: Option<String>,
    pub org_id: Id,
    pub manager_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_name: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Register a request for a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDeal {
    pub client_id: Id,
    /// Default: today.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    #[validate(length(max = 300), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub customer: String,
    #[validate(length(max = 50), nested)]
    #[serde(default)]
    pub items: Vec<LineItem>,
    /// Default: preparing an offer.
    #[serde(default)]
    pub status: Option<DealStatus>,
    #[validate(length(max = 500), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub payment_terms: Option<String>,
    #[validate(length(max = 60), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub contract_no: Option<String>,
    #[validate(length(max = 60), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub invoice_no: Option<String>,
    #[validate(custom(function = "crate::crm::money"))]
    #[serde(default)]
    pub contract_price: Option<String>,
    #[validate(custom(function = "crate::crm::currency"))]
    #[serde(default)]
    pub currency: Option<String>,
    #[validate(length(max = 2000), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub finance_comment: Option<String>,
    /// The responsible manager; default: the client's manager, else the caller.
    #[serde(default)]
    pub manager_id: Option<Id>,
}

/// Change a request's details. Status and delivery stage change through their own operations
/// (they need a comment and go on the timeline). `items`, when present, replaces all items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateDeal {
    #[serde(default)]
    pub date: Option<NaiveDate>,
    #[validate(length(max = 300), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub customer: Option<String>,
    #[validate(length(max = 50), nested)]
    #[serde(default)]
    pub items: Option<Vec<LineItem>>,
    #[validate(length(max = 500), custom(function = "no_control_chars"))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub payment_terms: Option<Option<String>>,
    #[validate(length(max = 60), custom(function = "no_control_chars"))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub contract_no: Option<Option<String>>,
    #[validate(length(max = 60), custom(function = "no_control_chars"))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub invoice_no: Option<Option<String>>,
    #[validate(custom(function = "crate::crm::money"))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub contract_price: Option<Option<String>>,
    #[validate(custom(function = "crate::crm::currency"))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub currency: Option<Option<String>>,
    #[validate(length(max = 2000), custom(function = "no_control_chars"))]
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub finance_comment: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Id>))]
    pub manager_id: Option<Option<Id>>,
}

impl UpdateDeal {
    pub fn written_fields(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        let mut push = |set: bool, name| {
            if set {
                f.push(name)
            }
        };
        push(self.date.is_some(), "date");
        push(self.customer.is_some(), "customer");
        push(self.items.is_some(), "items");
        push(self.payment_terms.is_some(), "payment_terms");
        push(self.contract_no.is_some(), "contract_no");
        push(self.invoice_no.is_some(), "invoice_no");
        push(self.contract_price.is_some(), "contract_price");
        push(self.currency.is_some(), "currency");
        push(self.finance_comment.is_some(), "finance_comment");
        push(self.manager_id.is_some(), "manager_id");
        f
    }
}

/// Move a request to another status; the comment is required and goes on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangeStatus {
    pub status: DealStatus,
    #[validate(
        length(min = 1, max = 2000),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub comment: String,
}

/// Record a delivery stage (timestamped on the timeline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangeDelivery {
    pub stage: DeliveryStage,
    #[validate(length(max = 2000), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub comment: String,
}

string_enum! {
    /// What a timeline entry records.
    DealEventKind {
        Status = "status",
        Delivery = "delivery",
    }
}

/// One entry of a request's timeline: a status or delivery change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DealEvent {
    pub id: Id,
    pub kind: DealEventKind,
    pub from: Option<String>,
    pub to: String,
    pub comment: String,
    pub actor_id: Option<Id>,
    pub actor_name: Option<String>,
    pub at: DateTime<Utc>,
}

// ---------------------------------------------------------------------------------------------
// Comments and documents
// ---------------------------------------------------------------------------------------------

/// A comment on a client or a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comment {
    pub id: Id,
    pub author_id: Option<Id>,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    #[validate(
        length(min = 1, max = 5000),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub body: String,
}

/// A file attached to a client or a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Document {
    pub id: Id,
    pub category: DocumentCategory,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: Option<Id>,
    pub uploaded_by_name: String,
    pub uploaded_at: DateTime<Utc>,
}

/// Content types a document may have.
pub const DOCUMENT_CONTENT_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/csv",
    "application/zip",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];

/// A file name that is safe to store and to send back: no path, no control characters.
pub fn file_name(value: &str) -> Result<(), ValidationError> {
    let v = value.trim();
    if v.is_empty()
        || v.chars().count() > 255
        || v.contains(['/', '\\'])
        || v == "."
        || v == ".."
        || v.chars().any(char::is_control)
    {
        return Err(error(
            "file_name",
            "must be a file name without a path, at most 255 characters",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

/// The columns an import file may have (first row). `name` is required; rows are matched to
/// existing clients by `legal_id`, else by `email`.
pub const IMPORT_COLUMNS: &[&str] = &[
    "name",
    "legal_id",
    "registration_no",
    "legal_address",
    "postal_address",
    "phone",
    "email",
    "website",
    "notes",
    "contact_name",
    "contact_position",
    "contact_phone",
    "contact_email",
];

/// One row's problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    /// 1-based line in the file (the header is row 1); 0 for the file as a whole.
    pub row: u64,
    pub field: String,
    pub message: String,
}

/// What an import did, or (dry run) would do. With any error nothing is written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows read (the header not counted).
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub contacts_created: u64,
    pub errors: Vec<RowError>,
    /// Whether anything was written.
    pub applied: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_at_most_two_decimals_and_round_trips_through_minor_units() {
        assert_eq!(parse_money("1250"), Some(125_000));
        assert_eq!(parse_money("1250.5"), Some(125_050));
        assert_eq!(parse_money("0.07"), Some(7));
        assert_eq!(parse_money("1.234"), None);
        assert_eq!(parse_money("-5"), None);
        assert_eq!(parse_money("5."), None);
        assert_eq!(parse_money("1e3"), None);
        assert_eq!(format_money(125_050), "1250.50");
        assert_eq!(format_money(7), "0.07");
    }

    #[test]
    fn legal_ids_currencies_and_websites() {
        assert!(legal_id("7701234567").is_ok());
        assert!(legal_id("DE-123456").is_ok());
        assert!(legal_id("12").is_err());
        assert!(legal_id("-12345").is_err());
        assert!(legal_id("12 345 6").is_err());
        assert!(currency("EUR").is_ok());
        assert!(currency("eur").is_err());
        assert!(website("https://example.com/about").is_ok());
        assert!(website("example.com").is_ok());
        assert!(website("not a site").is_err());
    }

    #[test]
    fn a_status_change_needs_a_comment() {
        let c = ChangeStatus {
            status: DealStatus::Won,
            comment: "  ".into(),
        };
        let fields: Vec<String> = c
            .validate()
            .map_err(|e| crate::validation::field_errors(&e))
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["comment"]);
    }

    #[test]
    fn line_items_are_validated_with_their_index() {
        let d = CreateDeal {
            client_id: 1,
            date: None,
            customer: String::new(),
            items: vec![
                LineItem {
                    equipment_type: "Chiller".into(),
                    name: "AquaForce".into(),
                    sub_name: String::new(),
                    capacity: String::new(),
                    quantity: 1,
                },
                LineItem {
                    equipment_type: " ".into(),
                    name: "X".into(),
                    sub_name: String::new(),
                    capacity: String::new(),
                    quantity: 0,
                },
            ],
            status: None,
            payment_terms: None,
            contract_no: None,
            invoice_no: None,
            contract_price: Some("12.345".into()),
            currency: Some("euro".into()),
            finance_comment: None,
            manager_id: None,
        };
        let fields: Vec<String> = d
            .validate()
            .map_err(|e| crate::validation::field_errors(&e))
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        for f in [
            "contract_price",
            "currency",
            "items[1].equipment_type",
            "items[1].quantity",
        ] {
            assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
        }
    }

    #[test]
    fn enums_round_trip_and_delivery_stages_are_five_steps() {
        for s in DealStatus::ALL {
            assert_eq!(s.as_str().parse::<DealStatus>(), Ok(*s));
        }
        assert_eq!(DeliveryStage::ALL.len(), 5);
        assert_eq!(DeliveryStage::Ordered.step(), 1);
        assert_eq!(DeliveryStage::Commissioned.step(), 5);
        assert!("lost".parse::<DealStatus>().is_err());
    }

    #[test]
    fn file_names_carry_no_path() {
        assert!(file_name("offer.pdf").is_ok());
        assert!(file_name("../etc/passwd").is_err());
        assert!(file_name("").is_err());
    }
}
