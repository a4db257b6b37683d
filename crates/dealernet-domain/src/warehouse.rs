//! The equipment warehouse: catalogue, warehouses and virtual locations, serialised units, the
//! stock ledger, dealer equipment orders and shipments, transfer kinds and what a dealer owes,
//! installation and warranty, repair intake, refurbishment and return to the manufacturer.
//!
//! Everything here is pure: the wire types, their validators, and the business rules that need
//! no database (serial normalisation, warranty verdicts, payment schedules, order states, parsing
//! a receiving file's rows).

use chrono::{DateTime, Days, Months, Utc};
use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationError};

use crate::Id;
use crate::problem::FieldError;
use crate::validation::{no_control_chars, not_blank};

macro_rules! wire_enum {
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
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// What a warehouse is. The first five are real places; the rest are virtual locations that
    /// every organisation node gets on first use, so that a unit is always somewhere.
    WarehouseKind {
        Central = "central",
        Regional = "regional",
        Distributor = "distributor",
        Dealer = "dealer",
        PointOfSale = "point_of_sale",
        /// Shipped to the node, not yet received.
        InTransit = "in_transit",
        /// Installed at a customer of the node.
        Installed = "installed",
        /// At the node's service bureau for repair.
        AtRepair = "at_repair",
        /// Sent back to the manufacturer.
        ReturnedToManufacturer = "returned_to_manufacturer",
        /// Written off.
        WrittenOff = "written_off",
        /// A component assembled into a kit: the kit's serial says where it is.
        InKit = "in_kit",
    }
}

impl WarehouseKind {
    pub fn is_virtual(self) -> bool {
        !matches!(
            self,
            WarehouseKind::Central
                | WarehouseKind::Regional
                | WarehouseKind::Distributor
                | WarehouseKind::Dealer
                | WarehouseKind::PointOfSale
        )
    }
}

wire_enum! {
    /// The state of a unit's goods.
    UnitCondition {
        New = "new",
        Refurbished = "refurbished",
        Used = "used",
        Defective = "defective",
    }
}

wire_enum! {
    /// How a unit passes to a dealer (seed 001): each keeps its own accounting.
    TransferKind {
        /// The dealer buys the unit: it owns it at once and pays the price by the payment term.
        Sale = "sale",
        /// The operator keeps the unit; the dealer pays rent per month and returns it at the end.
        Rent = "rent",
        /// The dealer pays the price in monthly instalments and owns the unit after the last.
        Instalments = "instalments",
        /// The operator keeps the unit; the dealer pays the price when it sells the unit, or
        /// returns it by the due date.
        Consignment = "consignment",
    }
}

wire_enum! {
    /// Why a ledger entry moved stock.
    MovementReason {
        Receipt = "receipt",
        Transfer = "transfer",
        Shipment = "shipment",
        ShipmentReceipt = "shipment_receipt",
        Installation = "installation",
        RepairIntake = "repair_intake",
        RepairReturn = "repair_return",
        Replacement = "replacement",
        Refurbishment = "refurbishment",
        ReturnToManufacturer = "return_to_manufacturer",
        WriteOff = "write_off",
        KitAssembly = "kit_assembly",
        Reversal = "reversal",
    }
}

wire_enum! {
    /// Where a dealer's equipment order is.
    OrderStatus {
        Requested = "requested",
        Approved = "approved",
        PartiallyShipped = "partially_shipped",
        Shipped = "shipped",
        Completed = "completed",
        Cancelled = "cancelled",
    }
}

impl OrderStatus {
    /// Whether the back office may still ship against the order.
    pub fn may_ship(self) -> bool {
        matches!(self, OrderStatus::Approved | OrderStatus::PartiallyShipped)
    }

    /// Whether the order may be cancelled (nothing more will be shipped; shipped units stay).
    pub fn may_cancel(self) -> bool {
        matches!(
            self,
            OrderStatus::Requested | OrderStatus::Approved | OrderStatus::PartiallyShipped
        )
    }

    /// The status after a shipment, given the lines' ordered and shipped quantities.
    pub fn after_shipment(lines: &[(i32, i32)]) -> OrderStatus {
        if lines.iter().all(|(ordered, shipped)| shipped >= ordered) {
            OrderStatus::Shipped
        } else {
            OrderStatus::PartiallyShipped
        }
    }
}

wire_enum! {
    ShipmentStatus {
        InTransit = "in_transit",
        Received = "received",
        ReceivedWithDiscrepancies = "received_with_discrepancies",
    }
}

wire_enum! {
    /// What the dealer confirmed for one shipped unit.
    LineReceipt {
        Received = "received",
        Missing = "missing",
        Damaged = "damaged",
    }
}

wire_enum! {
    /// What a dealer owes for a unit.
    ObligationWhat {
        /// Pay the price (sale).
        Payment = "payment",
        /// One instalment.
        Instalment = "instalment",
        /// One month's rent.
        Rent = "rent",
        /// Return the unit (end of rent or consignment) — or, for consignment, pay for it.
        Return = "return",
    }
}

wire_enum! {
    ObligationStatus {
        Open = "open",
        Settled = "settled",
    }
}

wire_enum! {
    RepairStatus {
        Open = "open",
        Closed = "closed",
    }
}

wire_enum! {
    RepairOutcome {
        Repaired = "repaired",
        Replaced = "replaced",
        Irreparable = "irreparable",
    }
}

fn rule(code: &'static str, message: &'static str) -> ValidationError {
    let mut e = ValidationError::new(code);
    e.message = Some(std::borrow::Cow::Borrowed(message));
    e
}

pub const MAX_SERIAL_LEN: usize = 64;

/// A serial as stored: trimmed and upper-cased; 1–64 letters, digits, `-`, `_`, `.` or `/`.
pub fn normalise_serial(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim().to_ascii_uppercase();
    if s.is_empty() {
        return Err("is empty");
    }
    if s.len() > MAX_SERIAL_LEN {
        return Err("is longer than 64 characters");
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
    {
        return Err("may only contain letters, digits, -, _, . and /");
    }
    Ok(s)
}

/// Validator rule for one serial.
pub fn serial(value: &str) -> Result<(), ValidationError> {
    normalise_serial(value)
        .map(|_| ())
        .map_err(|m| rule("serial", m))
}

/// Validator rule for a list of serials: each valid, none repeated.
pub fn serial_list(values: &[String]) -> Result<(), ValidationError> {
    let mut seen = std::collections::BTreeSet::new();
    for v in values {
        let s = normalise_serial(v).map_err(|m| rule("serial", m))?;
        if !seen.insert(s) {
            return Err(rule("duplicate_serial", "lists a serial twice"));
        }
    }
    Ok(())
}

fn physical_kind(kind: &WarehouseKind) -> Result<(), ValidationError> {
    if kind.is_virtual() {
        return Err(rule(
            "virtual_kind",
            "virtual locations are created by the system",
        ));
    }
    Ok(())
}

/// The last moment of a unit's warranty: `months` after installation.
pub fn warranty_until(installed_at: DateTime<Utc>, months: i32) -> Option<DateTime<Utc>> {
    installed_at.checked_add_months(Months::new(u32::try_from(months.max(0)).ok()?))
}

/// Whether a unit brought for repair is a warranty case, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WarrantyVerdict {
    pub warranty: bool,
    /// A sentence saying why: installed on …, warranty until ….
    pub reason: String,
    pub installed_at: Option<DateTime<Utc>>,
    pub warranty_until: Option<DateTime<Utc>>,
}

/// The warranty verdict at `now` for a unit installed at `installed_at` with warranty to `until`.
pub fn warranty_verdict(
    installed_at: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> WarrantyVerdict {
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    let (warranty, reason) = match (installed_at, until) {
        (None, _) | (_, None) => (
            false,
            "never recorded as installed at a customer, so its warranty has not started".into(),
        ),
        (Some(i), Some(u)) if now <= u => (
            true,
            format!("installed on {}, under warranty until {}", day(i), day(u)),
        ),
        (Some(i), Some(u)) => (
            false,
            format!("installed on {}, warranty ended on {}", day(i), day(u)),
        ),
    };
    WarrantyVerdict {
        warranty,
        reason,
        installed_at,
        warranty_until: until,
    }
}

/// The terms of one shipped unit; which fields apply depends on the transfer kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TransferTerms {
    /// Sale and consignment: days to pay (sale, default 30) or to pay or return (consignment,
    /// default 90).
    #[validate(range(min = 1, max = 730))]
    #[serde(default)]
    pub days: Option<u32>,
    /// Instalments: how many monthly payments (default 6).
    #[validate(range(min = 2, max = 60))]
    #[serde(default)]
    pub instalments: Option<u32>,
    /// Rent: how many months (default 12).
    #[validate(range(min = 1, max = 60))]
    #[serde(default)]
    pub rent_months: Option<u32>,
    /// Rent: the monthly fee in cents (default: the price / 24, at least 1).
    #[validate(range(min = 0, max = 100_000_000))]
    #[serde(default)]
    pub rent_cents_per_month: Option<i64>,
}

/// One thing a dealer owes, as the schedule computes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub what: ObligationWhat,
    pub seq: i32,
    pub amount_cents: i64,
    pub due_at: DateTime<Utc>,
}

/// Who owns a unit passed to a dealer right after shipment: the dealer (`true`) or still the
/// operator (`false`). Instalments pass ownership after the last payment.
pub fn dealer_owns_on_shipment(kind: TransferKind) -> bool {
    matches!(kind, TransferKind::Sale)
}

/// What the dealer owes for one unit and when, from the shipment date.
pub fn obligation_schedule(
    kind: TransferKind,
    terms: &TransferTerms,
    price_cents: i64,
    shipped_at: DateTime<Utc>,
) -> Vec<Due> {
    let price = price_cents.max(0);
    let after_days = |d: u32| {
        shipped_at
            .checked_add_days(Days::new(u64::from(d)))
            .unwrap_or(shipped_at)
    };
    let after_months = |m: u32| {
        shipped_at
            .checked_add_months(Months::new(m))
            .unwrap_or(shipped_at)
    };
    match kind {
        TransferKind::Sale => vec![Due {
            what: ObligationWhat::Payment,
            seq: 1,
            amount_cents: price,
            due_at: after_days(terms.days.unwrap_or(30)),
        }],
        TransferKind::Consignment => vec![Due {
            what: ObligationWhat::Return,
            seq: 1,
            amount_cents: price,
            due_at: after_days(terms.days.unwrap_or(90)),
        }],
        TransferKind::Instalments => {
            let n = terms.instalments.unwrap_or(6).max(1);
            let each = price / i64::from(n);
            let last = price - each * i64::from(n - 1);
            (1..=n)
                .map(|k| Due {
                    what: ObligationWhat::Instalment,
                    seq: k as i32,
                    amount_cents: if k == n { last } else { each },
                    due_at: after_months(k),
                })
                .collect()
        }
        TransferKind::Rent => {
            let months = terms.rent_months.unwrap_or(12).max(1);
            let fee = terms
                .rent_cents_per_month
                .unwrap_or_else(|| (price / 24).max(1));
            let mut dues: Vec<Due> = (1..=months)
                .map(|k| Due {
                    what: ObligationWhat::Rent,
                    seq: k as i32,
                    amount_cents: fee,
                    due_at: after_months(k - 1),
                })
                .collect();
            dues.push(Due {
                what: ObligationWhat::Return,
                seq: months as i32 + 1,
                amount_cents: 0,
                due_at: after_months(months),
            });
            dues
        }
    }
}

/// One row of a receiving file, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    /// 1-based row number in the file (the header, when present, is row 1).
    pub row: usize,
    pub serial: String,
    /// The model column, when present: a model id or `manufacturer model`.
    pub model: Option<String>,
}

/// Splits CSV text (comma, semicolon or tab separated; optional header row starting with
/// `serial`; double quotes allowed) into rows of serial and optional model.
pub fn parse_serial_csv(text: &str) -> Vec<FileRow> {
    let text = text.trim_start_matches('\u{feff}');
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let sep = [',', ';', '\t']
            .into_iter()
            .find(|c| line.contains(*c))
            .unwrap_or(',');
        let cells: Vec<String> = line
            .split(sep)
            .map(|c| c.trim().trim_matches('"').trim().to_string())
            .collect();
        out.push(cells_to_row(i + 1, &cells));
    }
    drop_header(out)
}

/// Rows from a spreadsheet's cells (first column serial, optional second column model).
pub fn rows_from_cells(rows: Vec<Vec<String>>) -> Vec<FileRow> {
    let out = rows
        .into_iter()
        .enumerate()
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .map(|(i, cells)| cells_to_row(i + 1, &cells))
        .collect();
    drop_header(out)
}

fn cells_to_row(row: usize, cells: &[String]) -> FileRow {
    FileRow {
        row,
        serial: cells.first().cloned().unwrap_or_default(),
        model: cells
            .get(1)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
    }
}

fn drop_header(mut rows: Vec<FileRow>) -> Vec<FileRow> {
    if rows
        .first()
        .is_some_and(|r| r.serial.trim().eq_ignore_ascii_case("serial"))
    {
        rows.remove(0);
    }
    rows
}

// ---------------------------------------------------------------------------------------------
// Wire types

/// One component of a kit recipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KitComponent {
    pub model_id: Id,
    #[validate(range(min = 1, max = 100))]
    pub quantity: i32,
}

/// An equipment model of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EquipmentModel {
    pub id: Id,
    /// Type of equipment, e.g. `receiver`, `dish`, `cam_module`, `kit`.
    pub kind: String,
    pub manufacturer: String,
    pub model: String,
    /// Whether each unit has a serial (units are tracked one by one).
    pub serialised: bool,
    /// A kit: assembled from `components`, with its own serial.
    pub is_kit: bool,
    pub warranty_months: i32,
    pub list_price_cents: i64,
    pub components: Vec<KitComponent>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

/// Add a model to the catalogue. A kit lists its components and is always serialised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateEquipmentModel {
    #[validate(
        length(min = 1, max = 50),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub kind: String,
    #[validate(
        length(min = 1, max = 100),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub manufacturer: String,
    #[validate(
        length(min = 1, max = 100),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub model: String,
    #[serde(default = "yes")]
    pub serialised: bool,
    #[validate(range(min = 0, max = 240))]
    pub warranty_months: i32,
    #[validate(range(min = 0, max = 100_000_000_000i64))]
    pub list_price_cents: i64,
    /// Non-empty for a kit.
    #[validate(nested, length(max = 20))]
    #[serde(default)]
    pub components: Vec<KitComponent>,
}

fn yes() -> bool {
    true
}

/// A warehouse or virtual location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warehouse {
    pub id: Id,
    pub org_id: Id,
    pub org_name: String,
    pub org_path: String,
    pub kind: WarehouseKind,
    pub name: String,
    pub code: Option<String>,
    pub is_virtual: bool,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

/// Open a warehouse on an organisation node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWarehouse {
    pub org_id: Id,
    #[validate(custom(function = "physical_kind"))]
    pub kind: WarehouseKind,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub name: String,
    #[validate(length(min = 1, max = 50), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub code: Option<String>,
}

/// A serialised unit where it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockUnit {
    pub id: Id,
    pub serial: String,
    pub model_id: Id,
    /// `manufacturer model`.
    pub model_name: String,
    pub warehouse_id: Id,
    pub warehouse_name: String,
    pub warehouse_kind: WarehouseKind,
    /// The node that owns the unit (the operator's root until a sale or the last instalment).
    pub owner_org_id: Option<Id>,
    pub condition: UnitCondition,
    pub grade: Option<String>,
    pub discount_price_cents: Option<i64>,
    /// The kit this unit is assembled into.
    pub kit_unit_id: Option<Id>,
    /// For a kit: its components' serials.
    pub component_serials: Vec<String>,
    pub installed_at: Option<DateTime<Utc>>,
    pub warranty_until: Option<DateTime<Utc>>,
    pub customer: Option<String>,
    pub version: i32,
}

/// One immutable ledger entry: a movement of stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerEntry {
    pub id: Id,
    pub at: DateTime<Utc>,
    pub model_id: Id,
    pub unit_id: Option<Id>,
    pub serial: Option<String>,
    pub quantity: i64,
    /// Absent for a receipt from outside.
    pub from_warehouse_id: Option<Id>,
    pub from_name: Option<String>,
    pub to_warehouse_id: Option<Id>,
    pub to_name: Option<String>,
    pub reason: MovementReason,
    /// The document that caused it: `receipt`, `shipment`, `installation`, `repair`, `rtm_batch`…
    pub document_kind: Option<String>,
    pub document_id: Option<Id>,
    /// For a correction: the entry it reverses.
    pub reverses_id: Option<Id>,
    pub actor_name: Option<String>,
    pub note: String,
}

/// Stock of one model in one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockLevel {
    pub warehouse_id: Id,
    pub warehouse_name: String,
    pub warehouse_kind: WarehouseKind,
    pub org_id: Id,
    pub model_id: Id,
    pub model_name: String,
    pub quantity: i64,
}

/// The total of one model over the warehouses listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelTotal {
    pub model_id: Id,
    pub model_name: String,
    pub quantity: i64,
}

/// Stock levels of a warehouse subtree (one page) and the totals per model over all of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockReport {
    pub items: Vec<StockLevel>,
    pub total: u64,
    pub totals: Vec<ModelTotal>,
}

/// Units of one model arriving, by serial (serialised models) or by quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceiveLine {
    pub model_id: Id,
    #[validate(length(max = 5000), custom(function = "serial_list"))]
    #[serde(default)]
    pub serials: Vec<String>,
    /// For models without serials.
    #[validate(range(min = 1, max = 1_000_000))]
    #[serde(default)]
    pub quantity: Option<i64>,
}

/// Receive stock from the manufacturer into a warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Receive {
    pub warehouse_id: Id,
    /// The delivery note or invoice number.
    #[validate(length(max = 200), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub reference: String,
    #[validate(nested, length(min = 1, max = 100))]
    pub lines: Vec<ReceiveLine>,
}

/// What a receipt did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptResult {
    pub receipt_id: Id,
    pub units: i64,
    pub entries: i64,
}

/// A quantity of a model without serials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuantityLine {
    pub model_id: Id,
    #[validate(range(min = 1, max = 1_000_000))]
    pub quantity: i64,
}

/// Move stock between two warehouses the caller may move stock in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub from_warehouse_id: Id,
    pub to_warehouse_id: Id,
    #[validate(length(max = 1000), custom(function = "serial_list"))]
    #[serde(default)]
    pub serials: Vec<String>,
    #[validate(nested, length(max = 100))]
    #[serde(default)]
    pub items: Vec<QuantityLine>,
    #[validate(length(max = 500), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub note: String,
}

/// What a movement wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Movement {
    pub entries: Vec<LedgerEntry>,
}

/// Reverse a ledger entry (the only correction there is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Reverse {
    #[validate(
        length(min = 1, max = 500),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub reason: String,
}

/// One warehouse and model where the maintained balance and the ledger disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BalanceMismatch {
    pub warehouse_id: Id,
    pub model_id: Id,
    pub balance: i64,
    pub ledger: i64,
    /// Serialised models: the units recorded at the warehouse.
    pub units: Option<i64>,
}

/// Proof that the balances equal the ledger and that every unit is where its last entry put it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BalanceCheck {
    pub ok: bool,
    pub entries: i64,
    pub balances: i64,
    pub units: i64,
    pub mismatches: Vec<BalanceMismatch>,
    /// Serials whose location differs from their last ledger entry's destination.
    pub misplaced_serials: Vec<String>,
    pub negative_balances: i64,
}

/// Everything known about one serial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timeline {
    pub unit: StockUnit,
    pub warranty: WarrantyVerdict,
    /// Every movement, oldest first (a component's include its kit's movements).
    pub entries: Vec<LedgerEntry>,
    pub installations: Vec<Installation>,
    pub repairs: Vec<Repair>,
    pub shipments: Vec<ShipmentLine>,
}

// --- orders and shipments

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrderLineInput {
    pub model_id: Id,
    #[validate(range(min = 1, max = 10_000))]
    pub quantity: i32,
    /// The transfer kind asked for (the back office may ship another per unit).
    #[serde(default = "sale")]
    pub transfer_kind: TransferKind,
}

fn sale() -> TransferKind {
    TransferKind::Sale
}

/// A dealer asks for equipment, to be delivered to one of its warehouses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    pub warehouse_id: Id,
    #[validate(length(max = 1000), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub note: String,
    #[validate(nested, length(min = 1, max = 50))]
    pub lines: Vec<OrderLineInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderLine {
    pub id: Id,
    pub model_id: Id,
    pub model_name: String,
    pub quantity: i32,
    pub transfer_kind: TransferKind,
    pub shipped_quantity: i32,
    pub received_quantity: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShipmentLine {
    pub id: Id,
    pub shipment_id: Id,
    pub order_line_id: Id,
    pub unit_id: Id,
    pub serial: String,
    pub model_id: Id,
    pub transfer_kind: TransferKind,
    pub price_cents: i64,
    pub terms: TransferTerms,
    pub receipt: Option<LineReceipt>,
    pub receipt_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shipment {
    pub id: Id,
    pub order_id: Id,
    pub from_warehouse_id: Id,
    pub to_warehouse_id: Id,
    pub status: ShipmentStatus,
    pub shipped_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
    pub discrepancy_note: Option<String>,
    pub lines: Vec<ShipmentLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EquipmentOrder {
    pub id: Id,
    pub dealer_org_id: Id,
    pub dealer_name: String,
    pub warehouse_id: Id,
    pub warehouse_name: String,
    pub status: OrderStatus,
    pub note: String,
    pub cancelled_reason: Option<String>,
    pub lines: Vec<OrderLine>,
    pub shipments: Vec<Shipment>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An order in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderSummary {
    pub id: Id,
    pub dealer_org_id: Id,
    pub dealer_name: String,
    pub warehouse_id: Id,
    pub status: OrderStatus,
    pub units_ordered: i64,
    pub units_shipped: i64,
    pub created_at: DateTime<Utc>,
}

/// One unit to ship, with its transfer kind and terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShipUnit {
    #[validate(custom(function = "serial"))]
    pub serial: String,
    /// Default: the kind the order line asked for.
    #[serde(default)]
    pub transfer_kind: Option<TransferKind>,
    /// Default: the model's list price (or the discount price of a refurbished unit).
    #[validate(range(min = 0, max = 100_000_000_000i64))]
    #[serde(default)]
    pub price_cents: Option<i64>,
    #[validate(nested)]
    #[serde(default)]
    pub terms: TransferTerms,
}

/// Ship picked serials against an approved order (a partial shipment is fine).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShipOrder {
    pub from_warehouse_id: Id,
    #[validate(
        nested,
        length(min = 1, max = 1000),
        custom(function = "distinct_ship_serials")
    )]
    pub units: Vec<ShipUnit>,
}

fn distinct_ship_serials(units: &[ShipUnit]) -> Result<(), ValidationError> {
    let serials: Vec<String> = units.iter().map(|u| u.serial.clone()).collect();
    serial_list(&serials)
}

/// One shipped unit the dealer did not receive intact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Discrepancy {
    #[validate(custom(function = "serial"))]
    pub serial: String,
    /// `missing` (stays in transit) or `damaged` (received, marked defective).
    pub receipt: LineReceipt,
    #[validate(length(max = 500), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub note: String,
}

/// The dealer confirms a shipment; every unit not listed arrived intact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfirmReceipt {
    #[validate(nested, length(max = 1000))]
    #[serde(default)]
    pub discrepancies: Vec<Discrepancy>,
    #[validate(length(max = 1000), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelOrder {
    #[validate(
        length(min = 1, max = 500),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub reason: String,
}

/// What a dealer owes for a unit, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Obligation {
    pub id: Id,
    pub unit_id: Id,
    pub serial: String,
    pub dealer_org_id: Id,
    pub dealer_name: String,
    pub transfer_kind: TransferKind,
    pub what: ObligationWhat,
    pub seq: i32,
    pub amount_cents: i64,
    pub due_at: DateTime<Utc>,
    pub status: ObligationStatus,
    pub overdue: bool,
    pub settled_at: Option<DateTime<Utc>>,
}

// --- installation, repair, refurbishment, return to manufacturer

/// Record that a unit was installed at a customer: starts its warranty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Install {
    #[validate(custom(function = "serial"))]
    pub serial: String,
    #[validate(
        length(min = 1, max = 200),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub customer: String,
    #[validate(length(max = 500), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub address: String,
    /// Default: now. Not in the future.
    #[serde(default)]
    pub installed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Installation {
    pub id: Id,
    pub unit_id: Id,
    pub serial: String,
    pub org_id: Id,
    pub customer: String,
    pub address: String,
    pub installed_at: DateTime<Utc>,
    pub warranty_until: DateTime<Utc>,
}

/// What the repair desk sees after scanning a serial, before taking the unit in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepairPreview {
    pub serial: String,
    pub model_id: Id,
    pub model_name: String,
    pub warranty: WarrantyVerdict,
    /// The unit's timeline when the caller's scope includes a place in it.
    pub timeline: Option<Timeline>,
}

/// Take a unit in for repair at a service bureau.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RepairIntake {
    #[validate(custom(function = "serial"))]
    pub serial: String,
    /// The service bureau's node (default: the caller's).
    #[serde(default)]
    pub service_org_id: Option<Id>,
    #[validate(length(max = 1000), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub complaint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Repair {
    pub id: Id,
    pub unit_id: Id,
    pub serial: String,
    pub service_org_id: Id,
    pub complaint: String,
    pub warranty: bool,
    pub warranty_reason: String,
    pub installed_at: Option<DateTime<Utc>>,
    pub warranty_until: Option<DateTime<Utc>>,
    pub status: RepairStatus,
    pub outcome: Option<RepairOutcome>,
    pub replacement_serial: Option<String>,
    pub outcome_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// Close a repair. `repaired` returns the unit where it came from; `replaced` sends
/// `replacement_serial` (from the bureau's stock) there instead and keeps the broken unit at the
/// bureau as defective; `irreparable` keeps it there as defective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CloseRepair {
    pub outcome: RepairOutcome,
    #[validate(custom(function = "serial"))]
    #[serde(default)]
    pub replacement_serial: Option<String>,
    #[validate(length(max = 1000), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub note: String,
}

/// Put a repaired or used unit back on sale with a grade and a discount price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Refurbish {
    #[validate(custom(function = "serial"))]
    pub serial: String,
    pub warehouse_id: Id,
    /// `refurbished` or `used`.
    pub condition: UnitCondition,
    #[validate(
        length(min = 1, max = 10),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub grade: String,
    #[validate(range(min = 0, max = 100_000_000_000i64))]
    pub discount_price_cents: i64,
}

/// Send defective units back to their manufacturer, as one batch document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateRtmBatch {
    #[validate(length(min = 1, max = 500), custom(function = "serial_list"))]
    pub serials: Vec<String>,
    #[validate(length(max = 1000), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RtmBatch {
    pub id: Id,
    pub org_id: Id,
    pub manufacturer: String,
    pub note: String,
    pub serials: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// Write a unit off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WriteOff {
    #[validate(custom(function = "serial"))]
    pub serial: String,
    #[validate(
        length(min = 1, max = 500),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub reason: String,
}

/// Assemble a kit from component units in one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssembleKit {
    pub kit_model_id: Id,
    pub warehouse_id: Id,
    #[validate(custom(function = "serial"))]
    pub serial: String,
    #[validate(length(min = 1, max = 50), custom(function = "serial_list"))]
    pub component_serials: Vec<String>,
}

/// Turns per-field problems found outside `validator` into the shared field error.
pub fn field_error(field: &str, code: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        code: code.into(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Who may move stock: thin rules over the policy, shared by every warehouse service.

/// The policy's view of a warehouse: records of the warehouse module belong to its node.
pub fn place_ref(path: &crate::org::OrgPath) -> crate::policy::RecordRef<'_> {
    crate::policy::RecordRef {
        org_path: path,
        responsible_id: None,
    }
}

/// May the actor move stock into or out of a warehouse on the node at `path`? A warehouse the
/// actor cannot see is 404; one it sees but may not move stock in is 403.
pub fn authorize_movement(
    actor: &crate::policy::Actor,
    path: &crate::org::OrgPath,
) -> Result<(), crate::policy::Denied> {
    use crate::access::{Action, Resource};
    actor.authorize(Resource::Warehouses, Action::View, place_ref(path))?;
    actor.authorize_create(Resource::StockMovements, path)
}

/// May the actor record field work (installation, repair intake and outcome, refurbishment) on a
/// unit at a warehouse of the node at `path`? Stock movers may, and so may whoever records
/// installation requests there (a dealer's administrator).
pub fn authorize_field_work(
    actor: &crate::policy::Actor,
    path: &crate::org::OrgPath,
) -> Result<(), crate::policy::Denied> {
    use crate::access::{Action, Resource};
    actor.authorize(Resource::Warehouses, Action::View, place_ref(path))?;
    actor
        .authorize_create(Resource::StockMovements, path)
        .or_else(|_| actor.authorize_create(Resource::InstallationRequests, path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn serials_are_trimmed_upper_cased_and_checked() {
        assert_eq!(normalise_serial("  sn-001 "), Ok("SN-001".into()));
        assert!(normalise_serial("   ").is_err());
        assert!(normalise_serial("has space").is_err());
        assert!(normalise_serial(&"X".repeat(65)).is_err());
        assert!(serial_list(&["a1".into(), "A1".into()]).is_err());
        assert!(serial_list(&["a1".into(), "a2".into()]).is_ok());
    }

    #[test]
    fn warranty_runs_the_models_months_from_installation() {
        let installed = at(2026, 1, 31);
        let until = warranty_until(installed, 12);
        assert_eq!(until, Some(at(2027, 1, 31)));
        let v = warranty_verdict(Some(installed), until, at(2026, 6, 1));
        assert!(v.warranty);
        assert!(v.reason.contains("2026-01-31") && v.reason.contains("2027-01-31"));
        let late = warranty_verdict(Some(installed), until, at(2027, 2, 1));
        assert!(!late.warranty);
        assert!(late.reason.contains("ended"));
        let never = warranty_verdict(None, None, at(2027, 2, 1));
        assert!(!never.warranty);
        assert!(never.reason.contains("never"));
    }

    #[test]
    fn instalments_add_up_to_the_price_and_fall_monthly() {
        let shipped = at(2026, 1, 15);
        let terms = TransferTerms {
            instalments: Some(3),
            ..Default::default()
        };
        let dues = obligation_schedule(TransferKind::Instalments, &terms, 1000, shipped);
        assert_eq!(dues.len(), 3);
        assert_eq!(dues.iter().map(|d| d.amount_cents).sum::<i64>(), 1000);
        assert_eq!(dues[0].due_at, at(2026, 2, 15));
        assert_eq!(dues[2].due_at, at(2026, 4, 15));
        assert!(!dealer_owns_on_shipment(TransferKind::Instalments));
        assert!(dealer_owns_on_shipment(TransferKind::Sale));
    }

    #[test]
    fn rent_is_monthly_then_the_unit_is_due_back() {
        let shipped = at(2026, 1, 15);
        let terms = TransferTerms {
            rent_months: Some(2),
            rent_cents_per_month: Some(500),
            ..Default::default()
        };
        let dues = obligation_schedule(TransferKind::Rent, &terms, 24_000, shipped);
        assert_eq!(dues.len(), 3);
        assert_eq!(dues[0].what, ObligationWhat::Rent);
        assert_eq!(dues[0].due_at, shipped);
        assert_eq!(dues[2].what, ObligationWhat::Return);
        assert_eq!(dues[2].due_at, at(2026, 3, 15));
    }

    #[test]
    fn sale_and_consignment_have_one_due_date() {
        let shipped = at(2026, 1, 1);
        let sale = obligation_schedule(TransferKind::Sale, &TransferTerms::default(), 99, shipped);
        assert_eq!(sale.len(), 1);
        assert_eq!(sale[0].due_at, at(2026, 1, 31));
        let cons = obligation_schedule(
            TransferKind::Consignment,
            &TransferTerms {
                days: Some(10),
                ..Default::default()
            },
            99,
            shipped,
        );
        assert_eq!(cons[0].what, ObligationWhat::Return);
        assert_eq!(cons[0].due_at, at(2026, 1, 11));
    }

    #[test]
    fn csv_rows_keep_their_numbers_and_drop_the_header() {
        let rows = parse_serial_csv("serial;model\r\nA1;3\n\n\"b2\"\nC3,  \n");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[0].model.as_deref(), Some("3"));
        assert_eq!(rows[1].serial, "b2");
        assert_eq!(rows[1].row, 4);
        assert_eq!(rows[2].model, None);
    }

    #[test]
    fn orders_ship_only_when_approved_and_finish_when_all_lines_are_shipped() {
        assert!(!OrderStatus::Requested.may_ship());
        assert!(OrderStatus::Approved.may_ship());
        assert!(!OrderStatus::Cancelled.may_cancel());
        assert_eq!(
            OrderStatus::after_shipment(&[(3, 3), (2, 1)]),
            OrderStatus::PartiallyShipped
        );
        assert_eq!(
            OrderStatus::after_shipment(&[(3, 3), (2, 2)]),
            OrderStatus::Shipped
        );
    }

    #[test]
    fn virtual_locations_cannot_be_created_by_hand() {
        assert!(WarehouseKind::InTransit.is_virtual());
        assert!(!WarehouseKind::Dealer.is_virtual());
        assert!(physical_kind(&WarehouseKind::WrittenOff).is_err());
        for k in WarehouseKind::ALL {
            assert_eq!(WarehouseKind::parse(k.as_str()), Some(*k));
        }
    }
}
