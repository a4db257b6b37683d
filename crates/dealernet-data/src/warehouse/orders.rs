//! Dealer equipment orders: request → approve → ship picked serials (into the dealer's "in
//! transit") → the dealer confirms receipt with discrepancies; partial shipments; cancel. Each
//! shipped unit carries its transfer kind and the schedule of what the dealer owes.

use std::collections::BTreeMap;

use chrono::Utc;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::org::OrgPath;
use dealernet_domain::policy::Actor;
use dealernet_domain::warehouse::{
    CancelOrder, ConfirmReceipt, CreateOrder, EquipmentOrder, LineReceipt, MovementReason,
    Obligation, ObligationStatus, ObligationWhat, OrderLine, OrderStatus, OrderSummary, ShipOrder,
    Shipment, ShipmentLine, ShipmentStatus, TransferKind, TransferTerms, UnitCondition,
    WarehouseKind, authorize_movement, dealer_owns_on_shipment, field_error, obligation_schedule,
    place_ref,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::entity::{obligation, order, order_line, shipment, shipment_line};
use super::ledger::{Move, apply, audit_moves, unit_by_serial};
use super::locations::{virtual_location, visible_place};
use super::{catalogue, corrupt, execute, parse_path};
use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::entities::org_node;
use crate::error::{Result, ServiceError};
use crate::scope;

async fn dealer_path<C: ConnectionTrait>(conn: &C, org_id: i64) -> Result<(OrgPath, String)> {
    let org = org_node::Entity::find_by_id(org_id)
        .one(conn)
        .await?
        .ok_or_else(|| corrupt("order without dealer"))?;
    Ok((parse_path(&org.path)?, org.name))
}

/// Loads an order the actor may `action` (404 when out of its view).
async fn load<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<(order::Model, OrgPath)> {
    let o = order::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let (path, _) = dealer_path(conn, o.dealer_org_id).await?;
    actor.authorize(Resource::EquipmentOrders, action, place_ref(&path))?;
    Ok((o, path))
}

fn status_of(o: &order::Model) -> Result<OrderStatus> {
    OrderStatus::parse(&o.status).ok_or_else(|| corrupt("order status"))
}

fn kind_of(s: &str) -> Result<TransferKind> {
    TransferKind::parse(s).ok_or_else(|| corrupt("transfer kind"))
}

fn line_wire(l: shipment_line::Model) -> Result<ShipmentLine> {
    Ok(ShipmentLine {
        id: l.id,
        shipment_id: l.shipment_id,
        order_line_id: l.order_line_id,
        unit_id: l.unit_id,
        serial: l.serial,
        model_id: l.model_id,
        transfer_kind: kind_of(&l.transfer_kind)?,
        price_cents: l.price_cents,
        terms: serde_json::from_str::<TransferTerms>(&l.terms).unwrap_or_default(),
        receipt: l.receipt_status.as_deref().and_then(LineReceipt::parse),
        receipt_note: l.receipt_note,
    })
}

/// Every shipment line of a unit, oldest first (for its timeline).
pub(crate) async fn shipment_lines_of<C: ConnectionTrait>(
    conn: &C,
    unit_id: i64,
) -> Result<Vec<ShipmentLine>> {
    shipment_line::Entity::find()
        .filter(shipment_line::Column::UnitId.eq(unit_id))
        .order_by_asc(shipment_line::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(line_wire)
        .collect()
}

async fn wire<C: ConnectionTrait>(conn: &C, o: order::Model) -> Result<EquipmentOrder> {
    let (_, dealer_name) = dealer_path(conn, o.dealer_org_id).await?;
    let wh = super::locations::place(conn, o.warehouse_id)
        .await?
        .ok_or_else(|| corrupt("order warehouse"))?;
    let mut lines = Vec::new();
    for l in order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(o.id))
        .order_by_asc(order_line::Column::Id)
        .all(conn)
        .await?
    {
        let model = catalogue::model(conn, l.model_id)
            .await?
            .ok_or_else(|| corrupt("order line model"))?;
        lines.push(OrderLine {
            id: l.id,
            model_id: l.model_id,
            model_name: model.label(),
            quantity: l.quantity,
            transfer_kind: kind_of(&l.transfer_kind)?,
            shipped_quantity: l.shipped_quantity,
            received_quantity: l.received_quantity,
        });
    }
    let mut shipments = Vec::new();
    for s in shipment::Entity::find()
        .filter(shipment::Column::OrderId.eq(o.id))
        .order_by_asc(shipment::Column::Id)
        .all(conn)
        .await?
    {
        let lines = shipment_line::Entity::find()
            .filter(shipment_line::Column::ShipmentId.eq(s.id))
            .order_by_asc(shipment_line::Column::Id)
            .all(conn)
            .await?
            .into_iter()
            .map(line_wire)
            .collect::<Result<Vec<_>>>()?;
        shipments.push(Shipment {
            id: s.id,
            order_id: s.order_id,
            from_warehouse_id: s.from_warehouse_id,
            to_warehouse_id: s.to_warehouse_id,
            status: ShipmentStatus::parse(&s.status).ok_or_else(|| corrupt("shipment status"))?,
            shipped_at: s.shipped_at,
            received_at: s.received_at,
            discrepancy_note: s.discrepancy_note,
            lines,
        });
    }
    Ok(EquipmentOrder {
        id: o.id,
        dealer_org_id: o.dealer_org_id,
        dealer_name,
        warehouse_id: o.warehouse_id,
        warehouse_name: wh.m.name,
        status: status_of(&o)?,
        note: o.note,
        cancelled_reason: o.cancelled_reason,
        lines,
        shipments,
        version: o.version,
        created_at: o.created_at,
        updated_at: o.updated_at,
    })
}

async fn audit_order<C: ConnectionTrait>(
    conn: &C,
    ctx: Ctx<'_>,
    action: &str,
    o: &order::Model,
    before: Option<&order::Model>,
    extra: serde_json::Value,
) -> Result<()> {
    let snap = |m: &order::Model| {
        serde_json::json!({"status": m.status, "warehouse_id": m.warehouse_id, "note": m.note,
            "cancelled_reason": m.cancelled_reason, "detail": extra})
    };
    audit::record(
        conn,
        ctx,
        Change {
            action,
            entity: Resource::EquipmentOrders,
            entity_id: o.id,
            org_id: Some(o.dealer_org_id),
            responsible_id: None,
            before: before.map(snap),
            after: Some(snap(o)),
        },
    )
    .await
}

/// A dealer asks for equipment for one of its warehouses.
pub async fn create(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: CreateOrder,
) -> Result<EquipmentOrder> {
    let actor = ctx.actor;
    actor.require(Resource::EquipmentOrders, Action::Create)?;
    let txn = db.begin().await?;
    let wh = visible_place(&txn, actor, input.warehouse_id).await?;
    actor.authorize_create(Resource::EquipmentOrders, &wh.path)?;
    if wh.m.is_virtual {
        return Err(ServiceError::field(
            "warehouse_id",
            "virtual",
            "equipment is delivered to a real warehouse",
        ));
    }
    let mut errors = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        match catalogue::model(&txn, l.model_id).await? {
            Some(m) if m.active && m.serialised => {}
            Some(_) => errors.push(field_error(
                &format!("lines[{i}].model_id"),
                "not_orderable",
                "only active serialised models are ordered",
            )),
            None => errors.push(field_error(
                &format!("lines[{i}].model_id"),
                "not_found",
                "no such model",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    let now = Utc::now();
    let o = order::ActiveModel {
        dealer_org_id: Set(wh.m.org_id),
        warehouse_id: Set(wh.m.id),
        status: Set(OrderStatus::Requested.as_str().to_string()),
        note: Set(input.note.trim().to_string()),
        requested_by: Set(actor.user_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for l in &input.lines {
        order_line::ActiveModel {
            order_id: Set(o.id),
            model_id: Set(l.model_id),
            quantity: Set(l.quantity),
            transfer_kind: Set(l.transfer_kind.as_str().to_string()),
            shipped_quantity: Set(0),
            received_quantity: Set(0),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let lines = serde_json::json!(
        input
            .lines
            .iter()
            .map(|l| serde_json::json!({"model_id": l.model_id, "quantity": l.quantity, "transfer_kind": l.transfer_kind}))
            .collect::<Vec<_>>()
    );
    audit_order(&txn, ctx, "create", &o, None, lines).await?;
    let out = wire(&txn, o).await?;
    txn.commit().await?;
    Ok(out)
}

pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<EquipmentOrder> {
    let (o, _) = load(db, actor, id, Action::View).await?;
    wire(db, o).await
}

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub dealer_org_id: Option<i64>,
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &OrderFilter,
    paging: Paging,
) -> Result<Page<OrderSummary>> {
    actor.require(Resource::EquipmentOrders, Action::View)?;
    let visibility = actor.visibility(Resource::EquipmentOrders, Action::View);
    let mut q = order::Entity::find().filter(scope::condition(
        &visibility,
        order::Column::DealerOrgId,
        None::<order::Column>,
    ));
    if let Some(s) = filter.status {
        q = q.filter(order::Column::Status.eq(s.as_str()));
    }
    if let Some(d) = filter.dealer_org_id {
        q = q.filter(order::Column::DealerOrgId.eq(d));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(order::Column::Id)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for o in rows {
        let lines = order_line::Entity::find()
            .filter(order_line::Column::OrderId.eq(o.id))
            .all(db)
            .await?;
        let (_, dealer_name) = dealer_path(db, o.dealer_org_id).await?;
        items.push(OrderSummary {
            id: o.id,
            dealer_org_id: o.dealer_org_id,
            dealer_name,
            warehouse_id: o.warehouse_id,
            status: status_of(&o)?,
            units_ordered: lines.iter().map(|l| i64::from(l.quantity)).sum(),
            units_shipped: lines.iter().map(|l| i64::from(l.shipped_quantity)).sum(),
            created_at: o.created_at,
        });
    }
    Ok(Page::new(items, total))
}

/// Moves an order from one of `from` states to `to`, or answers 409 naming its state.
async fn transition<C: ConnectionTrait>(
    conn: &C,
    o: &order::Model,
    from: &[OrderStatus],
    to: OrderStatus,
    extra: &str,
    values: Vec<sea_orm::Value>,
) -> Result<()> {
    let list = from
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut v = vec![to.as_str().into(), Utc::now().into()];
    v.extend(values);
    v.push(o.id.into());
    let n = execute(
        conn,
        &format!(
            "UPDATE equipment_orders SET status = ?, updated_at = ?, version = version + 1{extra} \
             WHERE id = ? AND status IN ({list})"
        ),
        v,
    )
    .await?;
    if n != 1 {
        return Err(ServiceError::conflict(
            format!("the order is {}", o.status),
            Some(o.id),
        ));
    }
    Ok(())
}

async fn reload<C: ConnectionTrait>(conn: &C, id: i64) -> Result<order::Model> {
    order::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| corrupt("order vanished"))
}

/// The back office approves a requested order.
pub async fn approve(db: &DatabaseConnection, ctx: Ctx<'_>, id: i64) -> Result<EquipmentOrder> {
    let txn = db.begin().await?;
    let (o, _) = load(&txn, ctx.actor, id, Action::Approve).await?;
    transition(
        &txn,
        &o,
        &[OrderStatus::Requested],
        OrderStatus::Approved,
        ", approved_by = ?, approved_at = ?",
        vec![ctx.actor.user_id.into(), Utc::now().into()],
    )
    .await?;
    let after = reload(&txn, id).await?;
    audit_order(
        &txn,
        ctx,
        "approve",
        &after,
        Some(&o),
        serde_json::Value::Null,
    )
    .await?;
    let out = wire(&txn, after).await?;
    txn.commit().await?;
    Ok(out)
}

/// Cancels an order: nothing more is shipped against it (units already shipped stay shipped).
pub async fn cancel(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: CancelOrder,
) -> Result<EquipmentOrder> {
    let txn = db.begin().await?;
    let (o, _) = load(&txn, ctx.actor, id, Action::Edit).await?;
    transition(
        &txn,
        &o,
        &[
            OrderStatus::Requested,
            OrderStatus::Approved,
            OrderStatus::PartiallyShipped,
        ],
        OrderStatus::Cancelled,
        ", cancelled_reason = ?",
        vec![input.reason.trim().to_string().into()],
    )
    .await?;
    let after = reload(&txn, id).await?;
    audit_order(
        &txn,
        ctx,
        "cancel",
        &after,
        Some(&o),
        serde_json::Value::Null,
    )
    .await?;
    let out = wire(&txn, after).await?;
    txn.commit().await?;
    Ok(out)
}

/// Ships picked serials against an approved order: each unit moves from the source warehouse to
/// the dealer's "in transit", with its transfer kind, price, terms and what the dealer owes.
pub async fn ship(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: ShipOrder,
) -> Result<EquipmentOrder> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let (o, _) = load(&txn, actor, id, Action::Approve).await?;
    let from = visible_place(&txn, actor, input.from_warehouse_id).await?;
    authorize_movement(actor, &from.path)?;
    if from.m.is_virtual {
        return Err(ServiceError::field(
            "from_warehouse_id",
            "virtual",
            "ship from a real warehouse",
        ));
    }
    // Lock the order first: shipments of one order run one at a time.
    let locked = execute(
        &txn,
        "UPDATE equipment_orders SET version = version + 1, updated_at = ? \
         WHERE id = ? AND status IN ('approved', 'partially_shipped')",
        vec![Utc::now().into(), o.id.into()],
    )
    .await?;
    if locked != 1 {
        return Err(ServiceError::conflict(
            format!(
                "the order is {}; only approved orders are shipped",
                o.status
            ),
            Some(o.id),
        ));
    }
    let mut lines = order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(o.id))
        .order_by_asc(order_line::Column::Id)
        .all(&txn)
        .await?;
    let mut picked = Vec::with_capacity(input.units.len());
    let mut errors = Vec::new();
    for (i, su) in input.units.iter().enumerate() {
        let field = format!("units[{i}].serial");
        let u = unit_by_serial(&txn, &field, &su.serial).await?;
        if u.kit_unit_id.is_some() {
            errors.push(field_error(
                &field,
                "in_kit",
                "is assembled into a kit; ship the kit",
            ));
            continue;
        }
        let wanted = su.transfer_kind.map(|k| k.as_str().to_string());
        let slot = lines
            .iter()
            .position(|l| {
                l.model_id == u.model_id
                    && l.shipped_quantity < l.quantity
                    && wanted.as_ref().is_none_or(|k| *k == l.transfer_kind)
            })
            .or_else(|| {
                lines
                    .iter()
                    .position(|l| l.model_id == u.model_id && l.shipped_quantity < l.quantity)
            });
        let Some(slot) = slot else {
            errors.push(field_error(
                &field,
                "not_ordered",
                format!(
                    "{} is a model the order does not ask for (or all are shipped)",
                    u.serial
                ),
            ));
            continue;
        };
        lines[slot].shipped_quantity += 1;
        picked.push((u, slot, su));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    let transit = virtual_location(&txn, o.dealer_org_id, WarehouseKind::InTransit).await?;
    let now = Utc::now();
    let s = shipment::ActiveModel {
        order_id: Set(o.id),
        from_warehouse_id: Set(from.m.id),
        transit_warehouse_id: Set(transit),
        to_warehouse_id: Set(o.warehouse_id),
        status: Set(ShipmentStatus::InTransit.as_str().to_string()),
        shipped_by: Set(actor.user_id),
        shipped_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let moves: Vec<Move> = picked
        .iter()
        .map(|(u, _, _)| {
            Move::unit(u, from.m.id, transit, MovementReason::Shipment).doc("shipment", s.id)
        })
        .collect();
    let entries = apply(&txn, actor, &moves).await?;
    for (u, slot, su) in &picked {
        let line = &lines[*slot];
        let kind = match su.transfer_kind {
            Some(k) => k,
            None => kind_of(&line.transfer_kind)?,
        };
        let model = catalogue::model(&txn, u.model_id)
            .await?
            .ok_or_else(|| corrupt("unit model"))?;
        let price = su
            .price_cents
            .or(u.discount_price_cents)
            .unwrap_or(model.list_price_cents);
        let sl = shipment_line::ActiveModel {
            shipment_id: Set(s.id),
            order_line_id: Set(line.id),
            unit_id: Set(u.id),
            model_id: Set(u.model_id),
            serial: Set(u.serial.clone()),
            transfer_kind: Set(kind.as_str().to_string()),
            price_cents: Set(price),
            terms: Set(serde_json::to_string(&su.terms).unwrap_or_else(|_| "{}".into())),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for due in obligation_schedule(kind, &su.terms, price, now) {
            obligation::ActiveModel {
                shipment_line_id: Set(sl.id),
                unit_id: Set(u.id),
                serial: Set(u.serial.clone()),
                dealer_org_id: Set(o.dealer_org_id),
                transfer_kind: Set(kind.as_str().to_string()),
                what: Set(due.what.as_str().to_string()),
                seq: Set(due.seq),
                amount_cents: Set(due.amount_cents),
                due_at: Set(due.due_at),
                status: Set(ObligationStatus::Open.as_str().to_string()),
                version: Set(1),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        if dealer_owns_on_shipment(kind) {
            execute(
                &txn,
                "UPDATE stock_units SET owner_org_id = ? WHERE id = ?",
                vec![o.dealer_org_id.into(), u.id.into()],
            )
            .await?;
        }
    }
    let mut counts: BTreeMap<i64, i32> = BTreeMap::new();
    for (_, slot, _) in &picked {
        *counts.entry(lines[*slot].id).or_default() += 1;
    }
    for (line_id, n) in counts {
        let changed = execute(
            &txn,
            "UPDATE equipment_order_lines SET shipped_quantity = shipped_quantity + ? \
             WHERE id = ? AND shipped_quantity + ? <= quantity",
            vec![n.into(), line_id.into(), n.into()],
        )
        .await?;
        if changed != 1 {
            return Err(ServiceError::conflict(
                "more units than ordered",
                Some(o.id),
            ));
        }
    }
    let status = OrderStatus::after_shipment(
        &lines
            .iter()
            .map(|l| (l.quantity, l.shipped_quantity))
            .collect::<Vec<_>>(),
    );
    execute(
        &txn,
        "UPDATE equipment_orders SET status = ? WHERE id = ?",
        vec![status.as_str().into(), o.id.into()],
    )
    .await?;
    let after = reload(&txn, o.id).await?;
    audit_order(
        &txn,
        ctx,
        "ship",
        &after,
        Some(&o),
        serde_json::json!({"shipment_id": s.id, "serials": picked.iter().map(|p| p.0.serial.clone()).collect::<Vec<_>>()}),
    )
    .await?;
    audit_moves(&txn, ctx, "ship", Some(o.dealer_org_id), &entries).await?;
    let out = wire(&txn, after).await?;
    txn.commit().await?;
    Ok(out)
}

/// The dealer confirms a shipment: every unit not listed as missing moves from "in transit" to
/// the order's warehouse (damaged ones marked defective); missing ones stay in transit.
pub async fn confirm_receipt(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    shipment_id: i64,
    input: ConfirmReceipt,
) -> Result<EquipmentOrder> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let s = shipment::Entity::find_by_id(shipment_id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let (o, _) = load(&txn, actor, s.order_id, Action::Edit).await?;
    let lines = shipment_line::Entity::find()
        .filter(shipment_line::Column::ShipmentId.eq(s.id))
        .order_by_asc(shipment_line::Column::Id)
        .all(&txn)
        .await?;
    let mut verdicts: BTreeMap<String, (LineReceipt, String)> = BTreeMap::new();
    let mut errors = Vec::new();
    for (i, d) in input.discrepancies.iter().enumerate() {
        let field = format!("discrepancies[{i}].serial");
        let serial = super::serial_arg(&field, &d.serial)?;
        if !lines.iter().any(|l| l.serial == serial) {
            errors.push(field_error(
                &field,
                "not_shipped",
                format!("{serial} is not in this shipment"),
            ));
        } else if d.receipt == LineReceipt::Received {
            errors.push(field_error(
                &format!("discrepancies[{i}].receipt"),
                "not_a_discrepancy",
                "list only missing or damaged units",
            ));
        } else if verdicts
            .insert(serial, (d.receipt, d.note.clone()))
            .is_some()
        {
            errors.push(field_error(&field, "duplicate_serial", "listed twice"));
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    let status = if verdicts.is_empty() {
        ShipmentStatus::Received
    } else {
        ShipmentStatus::ReceivedWithDiscrepancies
    };
    let now = Utc::now();
    let note = input.note.trim().to_string();
    let claimed = execute(
        &txn,
        "UPDATE shipments SET status = ?, received_at = ?, received_by = ?, discrepancy_note = ? \
         WHERE id = ? AND status = 'in_transit'",
        vec![
            status.as_str().into(),
            now.into(),
            actor.user_id.into(),
            (!note.is_empty()).then_some(note).into(),
            s.id.into(),
        ],
    )
    .await?;
    if claimed != 1 {
        return Err(ServiceError::conflict(
            "this shipment has already been confirmed",
            Some(s.id),
        ));
    }
    let mut moves = Vec::new();
    let mut received_per_line: BTreeMap<i64, i32> = BTreeMap::new();
    for l in &lines {
        let (verdict, note) = verdicts
            .get(&l.serial)
            .cloned()
            .unwrap_or((LineReceipt::Received, String::new()));
        execute(
            &txn,
            "UPDATE shipment_lines SET receipt_status = ?, receipt_note = ? WHERE id = ?",
            vec![
                verdict.as_str().into(),
                (!note.is_empty()).then_some(note.clone()).into(),
                l.id.into(),
            ],
        )
        .await?;
        if verdict == LineReceipt::Missing {
            continue;
        }
        let u = super::ledger::reload(&txn, l.unit_id).await?;
        moves.push(
            Move::unit(
                &u,
                s.transit_warehouse_id,
                s.to_warehouse_id,
                MovementReason::ShipmentReceipt,
            )
            .doc("shipment", s.id)
            .note(note),
        );
        if verdict == LineReceipt::Damaged {
            execute(
                &txn,
                "UPDATE stock_units SET condition = ? WHERE id = ?",
                vec![UnitCondition::Defective.as_str().into(), u.id.into()],
            )
            .await?;
        }
        *received_per_line.entry(l.order_line_id).or_default() += 1;
    }
    let entries = apply(&txn, actor, &moves).await?;
    for (line_id, n) in received_per_line {
        execute(
            &txn,
            "UPDATE equipment_order_lines SET received_quantity = received_quantity + ? WHERE id = ?",
            vec![n.into(), line_id.into()],
        )
        .await?;
    }
    let open = shipment::Entity::find()
        .filter(shipment::Column::OrderId.eq(o.id))
        .filter(shipment::Column::Status.eq(ShipmentStatus::InTransit.as_str()))
        .count(&txn)
        .await?;
    if open == 0 && o.status == OrderStatus::Shipped.as_str() {
        execute(
            &txn,
            "UPDATE equipment_orders SET status = 'completed', version = version + 1, updated_at = ? \
             WHERE id = ? AND status = 'shipped'",
            vec![now.into(), o.id.into()],
        )
        .await?;
    }
    let after = reload(&txn, o.id).await?;
    audit_order(
        &txn,
        ctx,
        "receive",
        &after,
        Some(&o),
        serde_json::json!({"shipment_id": s.id, "discrepancies": verdicts.iter().map(|(k, v)| (k.clone(), v.0.as_str())).collect::<Vec<_>>()}),
    )
    .await?;
    audit_moves(
        &txn,
        ctx,
        "receive_shipment",
        Some(o.dealer_org_id),
        &entries,
    )
    .await?;
    let out = wire(&txn, after).await?;
    txn.commit().await?;
    Ok(out)
}

// --- what dealers owe

async fn obligation_wire<C: ConnectionTrait>(conn: &C, m: obligation::Model) -> Result<Obligation> {
    let (_, dealer_name) = dealer_path(conn, m.dealer_org_id).await?;
    let status = ObligationStatus::parse(&m.status).ok_or_else(|| corrupt("obligation status"))?;
    Ok(Obligation {
        id: m.id,
        unit_id: m.unit_id,
        serial: m.serial,
        dealer_org_id: m.dealer_org_id,
        dealer_name,
        transfer_kind: kind_of(&m.transfer_kind)?,
        what: ObligationWhat::parse(&m.what).ok_or_else(|| corrupt("obligation"))?,
        seq: m.seq,
        amount_cents: m.amount_cents,
        due_at: m.due_at,
        overdue: status == ObligationStatus::Open && m.due_at < Utc::now(),
        status,
        settled_at: m.settled_at,
    })
}

#[derive(Debug, Clone, Default)]
pub struct ObligationFilter {
    /// Only open obligations past their due date.
    pub overdue: bool,
    pub status: Option<ObligationStatus>,
    pub dealer_org_id: Option<i64>,
    pub transfer_kind: Option<TransferKind>,
    pub serial: Option<String>,
}

/// What dealers the actor may see owe, soonest due first.
pub async fn obligations(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &ObligationFilter,
    paging: Paging,
) -> Result<Page<Obligation>> {
    actor.require(Resource::EquipmentOrders, Action::View)?;
    let visibility = actor.visibility(Resource::EquipmentOrders, Action::View);
    let mut q = obligation::Entity::find().filter(scope::condition(
        &visibility,
        obligation::Column::DealerOrgId,
        None::<obligation::Column>,
    ));
    if filter.overdue {
        q = q
            .filter(obligation::Column::Status.eq(ObligationStatus::Open.as_str()))
            .filter(obligation::Column::DueAt.lt(Utc::now()));
    }
    if let Some(s) = filter.status {
        q = q.filter(obligation::Column::Status.eq(s.as_str()));
    }
    if let Some(d) = filter.dealer_org_id {
        q = q.filter(obligation::Column::DealerOrgId.eq(d));
    }
    if let Some(k) = filter.transfer_kind {
        q = q.filter(obligation::Column::TransferKind.eq(k.as_str()));
    }
    if let Some(s) = &filter.serial {
        q = q.filter(obligation::Column::Serial.eq(super::serial_arg("serial", s)?));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_asc(obligation::Column::DueAt)
        .order_by_asc(obligation::Column::Id)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for m in rows {
        items.push(obligation_wire(db, m).await?);
    }
    Ok(Page::new(items, total))
}

/// The back office records that an obligation was met (paid, or the unit returned). The last
/// instalment passes ownership of the unit to the dealer.
pub async fn settle(db: &DatabaseConnection, ctx: Ctx<'_>, id: i64) -> Result<Obligation> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let m = obligation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let (path, _) = dealer_path(&txn, m.dealer_org_id).await?;
    actor.authorize(Resource::EquipmentOrders, Action::Approve, place_ref(&path))?;
    let now = Utc::now();
    let n = execute(
        &txn,
        "UPDATE dealer_obligations SET status = 'settled', settled_at = ?, settled_by = ?, \
         version = version + 1 WHERE id = ? AND status = 'open'",
        vec![now.into(), actor.user_id.into(), id.into()],
    )
    .await?;
    if n != 1 {
        return Err(ServiceError::conflict("already settled", Some(id)));
    }
    if m.transfer_kind == TransferKind::Instalments.as_str() {
        let open = obligation::Entity::find()
            .filter(obligation::Column::ShipmentLineId.eq(m.shipment_line_id))
            .filter(obligation::Column::Status.eq(ObligationStatus::Open.as_str()))
            .count(&txn)
            .await?;
        if open == 0 {
            execute(
                &txn,
                "UPDATE stock_units SET owner_org_id = ? WHERE id = ?",
                vec![m.dealer_org_id.into(), m.unit_id.into()],
            )
            .await?;
        }
    }
    audit::record(
        &txn,
        ctx,
        Change {
            action: "settle_obligation",
            entity: Resource::EquipmentOrders,
            entity_id: m.id,
            org_id: Some(m.dealer_org_id),
            responsible_id: None,
            before: Some(serde_json::json!({"status": m.status})),
            after: Some(serde_json::json!({"status": "settled", "serial": m.serial, "what": m.what, "seq": m.seq})),
        },
    )
    .await?;
    let after = obligation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| corrupt("obligation vanished"))?;
    let out = obligation_wire(&txn, after).await?;
    txn.commit().await?;
    Ok(out)
}
