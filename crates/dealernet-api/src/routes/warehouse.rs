//! The equipment warehouse: catalogue, warehouses, stock and its ledger, receiving, transfers,
//! dealer orders and shipments, what dealers owe, installation, repair, refurbishment and return
//! to the manufacturer. Ledger entries have no update or delete route: corrections are reversals.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use dealernet_data::warehouse::{catalogue, ledger, locations, orders, receiving, service};
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::warehouse::{
    AssembleKit, BalanceCheck, CancelOrder, CloseRepair, ConfirmReceipt, CreateEquipmentModel,
    CreateOrder, CreateRtmBatch, CreateWarehouse, EquipmentModel, EquipmentOrder, Install,
    Installation, LedgerEntry, Movement, MovementReason, Obligation, ObligationStatus, OrderStatus,
    OrderSummary, ReceiptResult, Receive, Refurbish, Repair, RepairIntake, RepairPreview, Reverse,
    RtmBatch, ShipOrder, StockReport, StockUnit, Timeline, Transfer, TransferKind, UnitCondition,
    Warehouse, WarehouseKind, WriteOff,
};
use serde::Deserialize;
use utoipa::IntoParams;

use super::created;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ValidJson, ValidQuery};
use crate::state::AppState;

fn paging(limit: Option<u64>, offset: Option<u64>) -> Result<Paging, ApiError> {
    Paging::parse(limit, offset).map_err(|e| ApiError::BadRequest {
        code: dealernet_domain::ErrorCode::InvalidQuery,
        detail: "invalid query parameters".into(),
        errors: vec![e],
    })
}

// --- catalogue

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModelQuery {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// Text in manufacturer, model or type.
    pub q: Option<String>,
    pub kind: Option<String>,
    pub is_kit: Option<bool>,
}

/// The catalogue of equipment models and kits.
#[utoipa::path(tag = "warehouse", params(ModelQuery), responses((status = 200, body = Page<EquipmentModel>)))]
#[get("/equipment-models")]
pub async fn list_models(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<ModelQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let filter = catalogue::ModelFilter {
        q: q.q,
        kind: q.kind,
        is_kit: q.is_kit,
    };
    let page = catalogue::list(&state.db, &auth.actor, &filter, paging(q.limit, q.offset)?).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Add a model (or a kit, listing its components) to the catalogue.
#[utoipa::path(tag = "warehouse", request_body = CreateEquipmentModel, responses((status = 201, body = EquipmentModel)))]
#[post("/equipment-models")]
pub async fn create_model(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreateEquipmentModel>,
) -> ApiResult<HttpResponse> {
    let m = catalogue::create(&state.db, auth.ctx(), body.0).await?;
    Ok(created(
        format!("/api/v1/equipment-models/{}", m.id),
        Some(m.version),
        &m,
    ))
}

#[utoipa::path(tag = "warehouse", responses((status = 200, body = EquipmentModel)))]
#[get("/equipment-models/{id}")]
pub async fn get_model(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(catalogue::get(&state.db, &auth.actor, id.into_inner()).await?))
}

// --- warehouses

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WarehouseQuery {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// Only warehouses in this organisation node's subtree.
    pub org_id: Option<i64>,
    pub kind: Option<WarehouseKind>,
    /// Include virtual locations (in transit, installed, at repair…).
    pub include_virtual: Option<bool>,
    pub q: Option<String>,
}

/// Warehouses you may see, in tree order.
#[utoipa::path(tag = "warehouse", params(WarehouseQuery), responses((status = 200, body = Page<Warehouse>)))]
#[get("/warehouses")]
pub async fn list_warehouses(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<WarehouseQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let filter = locations::WarehouseFilter {
        within_org: q.org_id,
        kind: q.kind,
        include_virtual: q.include_virtual.unwrap_or(false),
        q: q.q,
    };
    let page = locations::list(&state.db, &auth.actor, &filter, paging(q.limit, q.offset)?).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Open a warehouse on an organisation node.
#[utoipa::path(tag = "warehouse", request_body = CreateWarehouse, responses((status = 201, body = Warehouse)))]
#[post("/warehouses")]
pub async fn create_warehouse(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreateWarehouse>,
) -> ApiResult<HttpResponse> {
    let w = locations::create(&state.db, auth.ctx(), body.0).await?;
    Ok(created(
        format!("/api/v1/warehouses/{}", w.id),
        Some(w.version),
        &w,
    ))
}

/// One warehouse (404 when outside your scope).
#[utoipa::path(tag = "warehouse", responses((status = 200, body = Warehouse)))]
#[get("/warehouses/{id}")]
pub async fn get_warehouse(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(locations::get(&state.db, &auth.actor, id.into_inner()).await?))
}

// --- stock, ledger, check

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StockQuery {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub warehouse_id: Option<i64>,
    /// Every warehouse in this organisation node's subtree.
    pub org_id: Option<i64>,
    pub model_id: Option<i64>,
    pub include_virtual: Option<bool>,
}

/// Stock levels by warehouse and model, with totals per model over everything that matches.
#[utoipa::path(tag = "warehouse", params(StockQuery), responses((status = 200, body = StockReport)))]
#[get("/stock")]
pub async fn stock(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<StockQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let filter = ledger::StockFilter {
        warehouse_id: q.warehouse_id,
        within_org: q.org_id,
        model_id: q.model_id,
        include_virtual: q.include_virtual.unwrap_or(false),
    };
    let report = ledger::stock(&state.db, &auth.actor, &filter, paging(q.limit, q.offset)?).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub warehouse_id: Option<i64>,
    pub model_id: Option<i64>,
    /// Serials starting with this text.
    pub serial: Option<String>,
    pub condition: Option<UnitCondition>,
}

/// Serialised units in warehouses you may see.
#[utoipa::path(tag = "warehouse", params(UnitQuery), responses((status = 200, body = Page<StockUnit>)))]
#[get("/stock/units")]
pub async fn units(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<UnitQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let filter = ledger::UnitFilter {
        warehouse_id: q.warehouse_id,
        model_id: q.model_id,
        serial_prefix: q.serial,
        condition: q.condition,
    };
    let page = ledger::units(&state.db, &auth.actor, &filter, paging(q.limit, q.offset)?).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A serial's whole story: movements, shipments, installations, repairs and its warranty.
/// Readable when your scope includes any place it has been.
#[utoipa::path(tag = "warehouse", responses((status = 200, body = Timeline)))]
#[get("/stock/units/{serial}/timeline")]
pub async fn timeline(
    state: web::Data<AppState>,
    auth: Authenticated,
    serial: web::Path<String>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(ledger::timeline(&state.db, &auth.actor, &serial).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub warehouse_id: Option<i64>,
    pub serial: Option<String>,
    pub model_id: Option<i64>,
    pub reason: Option<MovementReason>,
}

/// Ledger entries touching warehouses you may see, newest first. Entries are immutable.
#[utoipa::path(tag = "warehouse", params(LedgerQuery), responses((status = 200, body = Page<LedgerEntry>)))]
#[get("/stock/ledger")]
pub async fn list_ledger(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<LedgerQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let filter = ledger::LedgerFilter {
        warehouse_id: q.warehouse_id,
        serial: q.serial,
        model_id: q.model_id,
        reason: q.reason,
    };
    let page = ledger::list(&state.db, &auth.actor, &filter, paging(q.limit, q.offset)?).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Correct an entry by writing its reversal (the entry itself never changes).
#[utoipa::path(tag = "warehouse", request_body = Reverse, responses(
    (status = 201, body = Movement),
    (status = 409, description = "Already reversed, or the stock has moved on", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[post("/stock/ledger/{id}/reverse")]
pub async fn reverse(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ValidJson<Reverse>,
) -> ApiResult<HttpResponse> {
    let m = ledger::reverse(&state.db, auth.ctx(), id.into_inner(), body.0).await?;
    Ok(HttpResponse::Created().json(m))
}

/// Prove that the maintained balances equal the ledger and that every unit is where its last
/// entry put it (roles that see all stock).
#[utoipa::path(tag = "warehouse", responses((status = 200, body = BalanceCheck)))]
#[get("/stock/check")]
pub async fn check(state: web::Data<AppState>, auth: Authenticated) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(ledger::check(&state.db, &auth.actor).await?))
}

// --- receiving and moving

/// Receive stock from the manufacturer: serials per serialised model, quantities otherwise.
/// Duplicate or invalid serials fail the whole receipt, each named.
#[utoipa::path(tag = "warehouse", request_body = Receive, responses((status = 201, body = ReceiptResult)))]
#[post("/stock/receipts")]
pub async fn receive(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<Receive>,
) -> ApiResult<HttpResponse> {
    let r = receiving::receive(&state.db, auth.ctx(), body.0).await?;
    Ok(HttpResponse::Created().json(r))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    pub warehouse_id: i64,
    /// The model of rows without a model column.
    pub model_id: Option<i64>,
    /// The delivery note or ERP document number.
    pub reference: Option<String>,
}

/// Receive an ERP file of serials: CSV (`text/csv`; columns `serial[,model]`, model as id or
/// `manufacturer model`) or XLSX (first sheet, same columns). Every failing row is reported as
/// `rows[N]` and then nothing is received.
#[utoipa::path(tag = "warehouse", params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "CSV text, or an XLSX workbook sent as application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 201, body = ReceiptResult)))]
#[post("/stock/receipts/import")]
pub async fn import(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    q: ValidQuery<ImportQuery>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let ct = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let format = match ct.as_str() {
        "text/csv" | "text/plain" => receiving::FileFormat::Csv,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            receiving::FileFormat::Xlsx
        }
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                "send text/csv or an XLSX workbook".into(),
            ));
        }
    };
    let q = q.0;
    if q.reference
        .as_ref()
        .is_some_and(|r| r.chars().count() > 200)
    {
        return Err(ApiError::field(
            "reference",
            "length",
            "must be at most 200 characters long",
        ));
    }
    let rows = receiving::read_file(format, &body)?;
    let r = receiving::import(
        &state.db,
        auth.ctx(),
        q.warehouse_id,
        q.model_id,
        q.reference.as_deref().unwrap_or(""),
        rows,
    )
    .await?;
    Ok(HttpResponse::Created().json(r))
}

/// Move units (by serial) and quantities between two real warehouses.
#[utoipa::path(tag = "warehouse", request_body = Transfer, responses(
    (status = 201, body = Movement),
    (status = 409, description = "A unit is no longer there, or not enough stock", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[post("/stock/transfers")]
pub async fn transfer(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<Transfer>,
) -> ApiResult<HttpResponse> {
    let m = ledger::transfer(&state.db, auth.ctx(), body.0).await?;
    Ok(HttpResponse::Created().json(m))
}

/// Record that a unit was installed at a customer: starts its warranty.
#[utoipa::path(tag = "warehouse", request_body = Install, responses((status = 201, body = Installation)))]
#[post("/stock/installations")]
pub async fn install(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<Install>,
) -> ApiResult<HttpResponse> {
    let i = service::install(&state.db, auth.ctx(), body.0).await?;
    Ok(HttpResponse::Created().json(i))
}

/// Write a unit off.
#[utoipa::path(tag = "warehouse", request_body = WriteOff, responses((status = 201, body = StockUnit)))]
#[post("/stock/write-offs")]
pub async fn write_off(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<WriteOff>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(service::write_off(&state.db, auth.ctx(), body.0).await?))
}

/// Put a repaired or used unit back on sale with a grade and a discount price.
#[utoipa::path(tag = "warehouse", request_body = Refurbish, responses((status = 201, body = StockUnit)))]
#[post("/stock/refurbishments")]
pub async fn refurbish(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<Refurbish>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(service::refurbish(&state.db, auth.ctx(), body.0).await?))
}

/// Assemble a kit from component units; the kit gets its own serial.
#[utoipa::path(tag = "warehouse", request_body = AssembleKit, responses((status = 201, body = StockUnit)))]
#[post("/stock/kits")]
pub async fn assemble_kit(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<AssembleKit>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(service::assemble_kit(&state.db, auth.ctx(), body.0).await?))
}

// --- repairs and returns

/// Scan a serial at the repair desk: is it a warranty case, and why; its history when your scope
/// includes a place it has been.
#[utoipa::path(tag = "warehouse", responses((status = 200, body = RepairPreview)))]
#[get("/stock/repairs/intake/{serial}")]
pub async fn repair_preview(
    state: web::Data<AppState>,
    auth: Authenticated,
    serial: web::Path<String>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(service::repair_preview(&state.db, &auth.actor, &serial).await?))
}

/// Take a unit in for repair at a service bureau.
#[utoipa::path(tag = "warehouse", request_body = RepairIntake, responses((status = 201, body = Repair)))]
#[post("/stock/repairs")]
pub async fn repair_intake(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<RepairIntake>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(service::repair_intake(&state.db, auth.ctx(), body.0).await?))
}

#[utoipa::path(tag = "warehouse", responses((status = 200, body = Repair)))]
#[get("/stock/repairs/{id}")]
pub async fn get_repair(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(
        HttpResponse::Ok()
            .json(service::get_repair(&state.db, &auth.actor, id.into_inner()).await?),
    )
}

/// Close a repair: repaired, replaced (with the replacement's serial) or irreparable.
#[utoipa::path(tag = "warehouse", request_body = CloseRepair, responses((status = 200, body = Repair)))]
#[post("/stock/repairs/{id}/close")]
pub async fn close_repair(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ValidJson<CloseRepair>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(service::close_repair(&state.db, auth.ctx(), id.into_inner(), body.0).await?))
}

/// Send defective units of one manufacturer back, as one batch document.
#[utoipa::path(tag = "warehouse", request_body = CreateRtmBatch, responses((status = 201, body = RtmBatch)))]
#[post("/stock/rtm-batches")]
pub async fn create_rtm_batch(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreateRtmBatch>,
) -> ApiResult<HttpResponse> {
    let b = service::create_rtm_batch(&state.db, auth.ctx(), body.0).await?;
    Ok(created(
        format!("/api/v1/stock/rtm-batches/{}", b.id),
        None,
        &b,
    ))
}

#[utoipa::path(tag = "warehouse", responses((status = 200, body = RtmBatch)))]
#[get("/stock/rtm-batches/{id}")]
pub async fn get_rtm_batch(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(service::get_rtm_batch(&state.db, &auth.actor, id.into_inner()).await?))
}

// --- dealer orders

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub status: Option<OrderStatus>,
    pub dealer_org_id: Option<i64>,
}

/// Equipment orders of dealers you may see, newest first.
#[utoipa::path(tag = "warehouse", params(OrderQuery), responses((status = 200, body = Page<OrderSummary>)))]
#[get("/equipment-orders")]
pub async fn list_orders(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<OrderQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let filter = orders::OrderFilter {
        status: q.status,
        dealer_org_id: q.dealer_org_id,
    };
    let page = orders::list(&state.db, &auth.actor, &filter, paging(q.limit, q.offset)?).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A dealer asks for equipment, delivered to one of its warehouses.
#[utoipa::path(tag = "warehouse", request_body = CreateOrder, responses((status = 201, body = EquipmentOrder)))]
#[post("/equipment-orders")]
pub async fn create_order(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreateOrder>,
) -> ApiResult<HttpResponse> {
    let o = orders::create(&state.db, auth.ctx(), body.0).await?;
    Ok(created(
        format!("/api/v1/equipment-orders/{}", o.id),
        Some(o.version),
        &o,
    ))
}

/// One order with its lines and shipments.
#[utoipa::path(tag = "warehouse", responses((status = 200, body = EquipmentOrder)))]
#[get("/equipment-orders/{id}")]
pub async fn get_order(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(orders::get(&state.db, &auth.actor, id.into_inner()).await?))
}

/// The back office approves a requested order.
#[utoipa::path(tag = "warehouse", responses((status = 200, body = EquipmentOrder)))]
#[post("/equipment-orders/{id}/approve")]
pub async fn approve_order(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(orders::approve(&state.db, auth.ctx(), id.into_inner()).await?))
}

/// Cancel an order: nothing more is shipped against it.
#[utoipa::path(tag = "warehouse", request_body = CancelOrder, responses((status = 200, body = EquipmentOrder)))]
#[post("/equipment-orders/{id}/cancel")]
pub async fn cancel_order(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ValidJson<CancelOrder>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(orders::cancel(&state.db, auth.ctx(), id.into_inner(), body.0).await?))
}

/// Ship picked serials against an approved order (partial shipments allowed): they move to the
/// dealer's "in transit", each with its transfer kind and terms.
#[utoipa::path(tag = "warehouse", request_body = ShipOrder, responses(
    (status = 201, body = EquipmentOrder),
    (status = 409, description = "A unit is no longer in the source warehouse, or the order cannot ship", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[post("/equipment-orders/{id}/shipments")]
pub async fn ship_order(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ValidJson<ShipOrder>,
) -> ApiResult<HttpResponse> {
    let o = orders::ship(&state.db, auth.ctx(), id.into_inner(), body.0).await?;
    Ok(HttpResponse::Created().json(o))
}

/// The dealer confirms a shipment, listing missing or damaged units.
#[utoipa::path(tag = "warehouse", request_body = ConfirmReceipt, responses((status = 200, body = EquipmentOrder)))]
#[post("/shipments/{id}/receive")]
pub async fn receive_shipment(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ValidJson<ConfirmReceipt>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(orders::confirm_receipt(&state.db, auth.ctx(), id.into_inner(), body.0).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ObligationQuery {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// Only open obligations past their due date.
    pub overdue: Option<bool>,
    pub status: Option<ObligationStatus>,
    pub dealer_org_id: Option<i64>,
    pub transfer_kind: Option<TransferKind>,
    pub serial: Option<String>,
}

/// What dealers owe per unit (sale payments, instalments, rent, returns), soonest due first;
/// `overdue=true` is the overdue list.
#[utoipa::path(tag = "warehouse", params(ObligationQuery), responses((status = 200, body = Page<Obligation>)))]
#[get("/obligations")]
pub async fn list_obligations(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<ObligationQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let filter = orders::ObligationFilter {
        overdue: q.overdue.unwrap_or(false),
        status: q.status,
        dealer_org_id: q.dealer_org_id,
        transfer_kind: q.transfer_kind,
        serial: q.serial,
    };
    let page =
        orders::obligations(&state.db, &auth.actor, &filter, paging(q.limit, q.offset)?).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Record that an obligation was met (paid, or the unit returned).
#[utoipa::path(tag = "warehouse", responses((status = 200, body = Obligation)))]
#[post("/obligations/{id}/settle")]
pub async fn settle_obligation(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(orders::settle(&state.db, auth.ctx(), id.into_inner()).await?))
}
