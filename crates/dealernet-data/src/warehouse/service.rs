//! A unit's life after delivery: installation at a customer (starts the warranty), repair intake
//! at a service bureau with the warranty verdict, repair outcomes, refurbishment back to stock,
//! return-to-manufacturer batches, write-offs and kit assembly.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::policy::{Actor, Denied};
use dealernet_domain::warehouse::{
    AssembleKit, CloseRepair, CreateRtmBatch, Install, Installation, MovementReason, Refurbish,
    Repair, RepairIntake, RepairOutcome, RepairPreview, RepairStatus, RtmBatch, StockUnit,
    UnitCondition, WarehouseKind, WriteOff, authorize_field_work, authorize_movement, field_error,
    warranty_until, warranty_verdict,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use super::entity::{installation, kit_component, repair, rtm_batch, rtm_batch_unit, unit};
use super::ledger::{
    Move, apply, audit_moves, reload, timeline_of, unit_by_serial, unit_place, unit_wire,
};
use super::locations::{virtual_location, visible_place};
use super::{catalogue, corrupt, execute, parse_path};
use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::entities::org_node;
use crate::error::{Result, ServiceError};

fn installation_wire(m: installation::Model) -> Installation {
    Installation {
        id: m.id,
        unit_id: m.unit_id,
        serial: m.serial,
        org_id: m.org_id,
        customer: m.customer,
        address: m.address,
        installed_at: m.installed_at,
        warranty_until: m.warranty_until,
    }
}

fn repair_wire(m: repair::Model) -> Result<Repair> {
    Ok(Repair {
        id: m.id,
        unit_id: m.unit_id,
        serial: m.serial,
        service_org_id: m.service_org_id,
        complaint: m.complaint,
        warranty: m.warranty,
        warranty_reason: m.warranty_reason,
        installed_at: m.installed_at,
        warranty_until: m.warranty_until,
        status: RepairStatus::parse(&m.status).ok_or_else(|| corrupt("repair status"))?,
        outcome: m.outcome.as_deref().and_then(RepairOutcome::parse),
        replacement_serial: m.replacement_serial,
        outcome_note: m.outcome_note,
        created_at: m.created_at,
        closed_at: m.closed_at,
        version: m.version,
    })
}

pub(crate) async fn installations_of<C: ConnectionTrait>(
    conn: &C,
    unit_id: i64,
) -> Result<Vec<Installation>> {
    Ok(installation::Entity::find()
        .filter(installation::Column::UnitId.eq(unit_id))
        .order_by_asc(installation::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(installation_wire)
        .collect())
}

pub(crate) async fn repairs_of<C: ConnectionTrait>(conn: &C, unit_id: i64) -> Result<Vec<Repair>> {
    repair::Entity::find()
        .filter(repair::Column::UnitId.eq(unit_id))
        .order_by_asc(repair::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(repair_wire)
        .collect()
}

/// Records that the unit with `serial` was installed at `customer` on `installed_at`: moves it
/// from the stock it is in to its node's "installed" location and starts its warranty (the
/// model's warranty months from that date). Runs in the caller's transaction, with its audit
/// entry, so another module (e.g. installation requests) can call it as part of its own change.
pub async fn record_installation<C: ConnectionTrait>(
    txn: &C,
    ctx: Ctx<'_>,
    serial: &str,
    installed_at: DateTime<Utc>,
    customer: &str,
    address: &str,
) -> Result<Installation> {
    let actor = ctx.actor;
    if installed_at > Utc::now() + chrono::Duration::minutes(5) {
        return Err(ServiceError::field(
            "installed_at",
            "future",
            "an installation cannot be recorded in advance",
        ));
    }
    let u = unit_by_serial(txn, "serial", serial).await?;
    let at = unit_place(txn, &u).await?;
    authorize_field_work(actor, &at.path)?;
    if at.m.is_virtual {
        return Err(ServiceError::conflict(
            format!("{} is {} and cannot be installed", u.serial, at.kind),
            Some(u.id),
        ));
    }
    if u.kit_unit_id.is_some() {
        return Err(ServiceError::conflict(
            format!("{} is assembled into a kit; install the kit", u.serial),
            Some(u.id),
        ));
    }
    let model = catalogue::model(txn, u.model_id)
        .await?
        .ok_or_else(|| corrupt("unit model"))?;
    let until = warranty_until(installed_at, model.warranty_months)
        .ok_or_else(|| ServiceError::field("installed_at", "range", "is out of range"))?;
    let installed_loc = virtual_location(txn, at.m.org_id, WarehouseKind::Installed).await?;
    let now = Utc::now();
    let inst = installation::ActiveModel {
        unit_id: Set(u.id),
        serial: Set(u.serial.clone()),
        org_id: Set(at.m.org_id),
        customer: Set(customer.trim().to_string()),
        address: Set(address.trim().to_string()),
        installed_at: Set(installed_at),
        warranty_until: Set(until),
        installed_by: Set(actor.user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let entries = apply(
        txn,
        actor,
        &[
            Move::unit(&u, at.m.id, installed_loc, MovementReason::Installation)
                .doc("installation", inst.id)
                .note(customer.trim()),
        ],
    )
    .await?;
    execute(
        txn,
        "UPDATE stock_units SET installed_at = ?, warranty_until = ?, customer = ? WHERE id = ?",
        vec![
            installed_at.into(),
            until.into(),
            customer.trim().to_string().into(),
            u.id.into(),
        ],
    )
    .await?;
    audit_moves(txn, ctx, "install", Some(at.m.org_id), &entries).await?;
    Ok(installation_wire(inst))
}

/// Records an installation in its own transaction.
pub async fn install(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: Install,
) -> Result<Installation> {
    let txn = db.begin().await?;
    let out = record_installation(
        &txn,
        ctx,
        &input.serial,
        input.installed_at.unwrap_or_else(Utc::now),
        &input.customer,
        &input.address,
    )
    .await?;
    txn.commit().await?;
    Ok(out)
}

fn may_take_repairs(actor: &Actor) -> Result<()> {
    if actor.can(Resource::InstallationRequests, Action::Create)
        || actor.can(Resource::StockMovements, Action::Create)
    {
        Ok(())
    } else {
        Err(Denied::Forbidden {
            resource: Resource::InstallationRequests,
            action: Action::Create,
        }
        .into())
    }
}

/// What the repair desk sees after scanning a serial: the warranty verdict with its reason, and
/// the whole timeline when the desk's scope includes a place the unit has been.
pub async fn repair_preview(
    db: &DatabaseConnection,
    actor: &Actor,
    serial: &str,
) -> Result<RepairPreview> {
    may_take_repairs(actor)?;
    let u = unit_by_serial(db, "serial", serial)
        .await
        .map_err(|_| ServiceError::NotFound)?;
    let model = catalogue::model(db, u.model_id)
        .await?
        .ok_or_else(|| corrupt("unit model"))?;
    let warranty = warranty_verdict(u.installed_at, u.warranty_until, Utc::now());
    Ok(RepairPreview {
        serial: u.serial.clone(),
        model_id: u.model_id,
        model_name: model.label(),
        warranty,
        timeline: timeline_of(db, actor, u).await?,
    })
}

async fn service_node<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    org_id: i64,
) -> Result<dealernet_domain::org::OrgPath> {
    let org = org_node::Entity::find_by_id(org_id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let path = parse_path(&org.path)?;
    authorize_field_work(actor, &path)?;
    Ok(path)
}

/// Takes a unit in for repair at a service bureau: it moves (from a customer's installation or
/// from stock the bureau may handle) to the bureau's "at repair", with the warranty verdict.
pub async fn repair_intake(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: RepairIntake,
) -> Result<Repair> {
    let actor = ctx.actor;
    may_take_repairs(actor)?;
    let txn = db.begin().await?;
    let service_org = input.service_org_id.unwrap_or(actor.org_id);
    service_node(&txn, actor, service_org).await?;
    let u = unit_by_serial(&txn, "serial", &input.serial).await?;
    let at = unit_place(&txn, &u).await?;
    match at.kind {
        // A customer brings the unit: any bureau may take it in.
        WarehouseKind::Installed => {}
        k if k.is_virtual() => {
            return Err(ServiceError::conflict(
                format!("{} is {k} and cannot be taken in for repair", u.serial),
                Some(u.id),
            ));
        }
        _ => authorize_field_work(actor, &at.path)?,
    }
    let verdict = warranty_verdict(u.installed_at, u.warranty_until, Utc::now());
    let repair_loc = virtual_location(&txn, service_org, WarehouseKind::AtRepair).await?;
    let now = Utc::now();
    let r = repair::ActiveModel {
        unit_id: Set(u.id),
        serial: Set(u.serial.clone()),
        service_org_id: Set(service_org),
        came_from_warehouse_id: Set(at.m.id),
        complaint: Set(input.complaint.trim().to_string()),
        warranty: Set(verdict.warranty),
        warranty_reason: Set(verdict.reason.clone()),
        installed_at: Set(u.installed_at),
        warranty_until: Set(u.warranty_until),
        status: Set(RepairStatus::Open.as_str().to_string()),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        if crate::error::is_unique_violation(&e) {
            ServiceError::conflict("this unit is already in repair", None)
        } else {
            ServiceError::Db(e)
        }
    })?;
    let entries = apply(
        &txn,
        actor,
        &[Move::unit(&u, at.m.id, repair_loc, MovementReason::RepairIntake).doc("repair", r.id)],
    )
    .await?;
    audit_moves(&txn, ctx, "repair_intake", Some(service_org), &entries).await?;
    txn.commit().await?;
    repair_wire(r)
}

pub async fn get_repair(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<Repair> {
    let r = repair::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let org = org_node::Entity::find_by_id(r.service_org_id)
        .one(db)
        .await?
        .ok_or_else(|| corrupt("repair node"))?;
    let path = parse_path(&org.path)?;
    actor.authorize(
        Resource::Warehouses,
        Action::View,
        dealernet_domain::warehouse::place_ref(&path),
    )?;
    repair_wire(r)
}

/// Closes a repair with its outcome.
pub async fn close_repair(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: CloseRepair,
) -> Result<Repair> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let r = repair::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    service_node(&txn, actor, r.service_org_id).await?;
    let replacement = match (input.outcome, &input.replacement_serial) {
        (RepairOutcome::Replaced, Some(s)) => {
            Some(unit_by_serial(&txn, "replacement_serial", s).await?)
        }
        (RepairOutcome::Replaced, None) => {
            return Err(ServiceError::field(
                "replacement_serial",
                "required",
                "name the unit given in exchange",
            ));
        }
        (_, Some(_)) => {
            return Err(ServiceError::field(
                "replacement_serial",
                "not_replaced",
                "only a replacement names another unit",
            ));
        }
        (_, None) => None,
    };
    let now = Utc::now();
    let closed = execute(
        &txn,
        "UPDATE repairs SET status = 'closed', outcome = ?, replacement_unit_id = ?, \
         replacement_serial = ?, outcome_note = ?, closed_at = ?, version = version + 1 \
         WHERE id = ? AND status = 'open'",
        vec![
            input.outcome.as_str().into(),
            replacement.as_ref().map(|u| u.id).into(),
            replacement.as_ref().map(|u| u.serial.clone()).into(),
            Some(input.note.trim().to_string()).into(),
            now.into(),
            id.into(),
        ],
    )
    .await?;
    if closed != 1 {
        return Err(ServiceError::conflict(
            "this repair is already closed",
            Some(id),
        ));
    }
    let u = reload(&txn, r.unit_id).await?;
    let mut moves = Vec::new();
    match input.outcome {
        RepairOutcome::Repaired => {
            moves.push(
                Move::unit(
                    &u,
                    u.warehouse_id,
                    r.came_from_warehouse_id,
                    MovementReason::RepairReturn,
                )
                .doc("repair", r.id),
            );
        }
        RepairOutcome::Replaced | RepairOutcome::Irreparable => {
            execute(
                &txn,
                "UPDATE stock_units SET condition = 'defective' WHERE id = ?",
                vec![u.id.into()],
            )
            .await?;
        }
    }
    if let Some(rep) = &replacement {
        if rep.id == u.id {
            return Err(ServiceError::field(
                "replacement_serial",
                "same_unit",
                "must be another unit",
            ));
        }
        let rep_at = unit_place(&txn, rep).await?;
        if rep_at.m.is_virtual {
            return Err(ServiceError::conflict(
                format!("{} is {} and cannot be given out", rep.serial, rep_at.kind),
                Some(rep.id),
            ));
        }
        authorize_field_work(actor, &rep_at.path)?;
        moves.push(
            Move::unit(
                rep,
                rep_at.m.id,
                r.came_from_warehouse_id,
                MovementReason::Replacement,
            )
            .doc("repair", r.id)
            .note(format!("replaces {}", u.serial)),
        );
        // The replacement continues the broken unit's installation and warranty.
        execute(
            &txn,
            "UPDATE stock_units SET installed_at = ?, warranty_until = ?, customer = ? WHERE id = ?",
            vec![
                u.installed_at.into(),
                u.warranty_until.into(),
                u.customer.clone().into(),
                rep.id.into(),
            ],
        )
        .await?;
    }
    let entries = apply(&txn, actor, &moves).await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "close_repair",
            entity: Resource::StockMovements,
            entity_id: r.id,
            org_id: Some(r.service_org_id),
            responsible_id: None,
            before: Some(serde_json::json!({"status": "open"})),
            after: Some(serde_json::json!({
                "status": "closed", "outcome": input.outcome, "serial": u.serial,
                "replacement_serial": replacement.as_ref().map(|x| x.serial.clone()),
                "entries": entries.iter().map(|e| e.id).collect::<Vec<_>>(),
            })),
        },
    )
    .await?;
    let after = repair::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| corrupt("repair vanished"))?;
    txn.commit().await?;
    repair_wire(after)
}

/// Puts a repaired or used unit back on sale in a real warehouse, with a grade and a discount
/// price.
pub async fn refurbish(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: Refurbish,
) -> Result<StockUnit> {
    let actor = ctx.actor;
    if !matches!(
        input.condition,
        UnitCondition::Refurbished | UnitCondition::Used
    ) {
        return Err(ServiceError::field(
            "condition",
            "refurbish_condition",
            "must be refurbished or used",
        ));
    }
    let txn = db.begin().await?;
    let u = unit_by_serial(&txn, "serial", &input.serial).await?;
    let at = unit_place(&txn, &u).await?;
    authorize_field_work(actor, &at.path)?;
    if at.kind == WarehouseKind::InTransit || at.kind == WarehouseKind::InKit {
        return Err(ServiceError::conflict(
            format!("{} is {}", u.serial, at.kind),
            Some(u.id),
        ));
    }
    let open = repair::Entity::find()
        .filter(repair::Column::UnitId.eq(u.id))
        .filter(repair::Column::Status.eq(RepairStatus::Open.as_str()))
        .one(&txn)
        .await?;
    if open.is_some() {
        return Err(ServiceError::conflict(
            "close the unit's repair first",
            Some(u.id),
        ));
    }
    let to = visible_place(&txn, actor, input.warehouse_id).await?;
    authorize_field_work(actor, &to.path)?;
    if to.m.is_virtual {
        return Err(ServiceError::field(
            "warehouse_id",
            "virtual",
            "refurbished units go back to a real warehouse",
        ));
    }
    let mut entries = Vec::new();
    if at.m.id != to.m.id {
        entries = apply(
            &txn,
            actor,
            &[
                Move::unit(&u, at.m.id, to.m.id, MovementReason::Refurbishment).note(format!(
                    "{} grade {}",
                    input.condition,
                    input.grade.trim()
                )),
            ],
        )
        .await?;
    }
    execute(
        &txn,
        "UPDATE stock_units SET condition = ?, grade = ?, discount_price_cents = ?, \
         installed_at = NULL, warranty_until = NULL, customer = NULL, version = version + 1 \
         WHERE id = ?",
        vec![
            input.condition.as_str().into(),
            input.grade.trim().to_string().into(),
            input.discount_price_cents.into(),
            u.id.into(),
        ],
    )
    .await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "refurbish",
            entity: Resource::StockMovements,
            entity_id: u.id,
            org_id: Some(to.m.org_id),
            responsible_id: None,
            before: Some(
                serde_json::json!({"condition": u.condition, "warehouse_id": u.warehouse_id}),
            ),
            after: Some(serde_json::json!({
                "condition": input.condition, "grade": input.grade.trim(),
                "discount_price_cents": input.discount_price_cents, "warehouse_id": to.m.id,
                "entries": entries.iter().map(|e| e.id).collect::<Vec<_>>(),
            })),
        },
    )
    .await?;
    let out = unit_wire(&txn, reload(&txn, u.id).await?).await?;
    txn.commit().await?;
    Ok(out)
}

fn rtm_wire(b: rtm_batch::Model, serials: Vec<String>) -> RtmBatch {
    RtmBatch {
        id: b.id,
        org_id: b.org_id,
        manufacturer: b.manufacturer,
        note: b.note,
        serials,
        created_at: b.created_at,
    }
}

/// Sends defective units of one manufacturer back to it, as one batch document.
pub async fn create_rtm_batch(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: CreateRtmBatch,
) -> Result<RtmBatch> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let mut units = Vec::new();
    let mut manufacturer: Option<String> = None;
    let mut errors = Vec::new();
    for (i, s) in input.serials.iter().enumerate() {
        let field = format!("serials[{i}]");
        let u = unit_by_serial(&txn, &field, s).await?;
        let at = unit_place(&txn, &u).await?;
        authorize_movement(actor, &at.path)?;
        let model = catalogue::model(&txn, u.model_id)
            .await?
            .ok_or_else(|| corrupt("unit model"))?;
        if u.condition != UnitCondition::Defective.as_str() {
            errors.push(field_error(
                &field,
                "not_defective",
                format!("{} is not defective", u.serial),
            ));
        } else if at.kind == WarehouseKind::ReturnedToManufacturer
            || at.kind == WarehouseKind::WrittenOff
            || at.kind == WarehouseKind::InTransit
        {
            errors.push(field_error(
                &field,
                "unavailable",
                format!("{} is {}", u.serial, at.kind),
            ));
        } else if manufacturer
            .as_ref()
            .is_some_and(|m| *m != model.manufacturer)
        {
            errors.push(field_error(
                &field,
                "other_manufacturer",
                "a batch goes to one manufacturer",
            ));
        }
        manufacturer.get_or_insert(model.manufacturer.clone());
        units.push((u, at));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    let manufacturer = manufacturer
        .ok_or_else(|| ServiceError::field("serials", "required", "name at least one serial"))?;
    let rtm = virtual_location(&txn, actor.org_id, WarehouseKind::ReturnedToManufacturer).await?;
    let now = Utc::now();
    let b = rtm_batch::ActiveModel {
        org_id: Set(actor.org_id),
        manufacturer: Set(manufacturer),
        note: Set(input.note.trim().to_string()),
        units: Set(i32::try_from(units.len()).unwrap_or(i32::MAX)),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut moves = Vec::new();
    for (u, at) in &units {
        rtm_batch_unit::ActiveModel {
            batch_id: Set(b.id),
            unit_id: Set(u.id),
            serial: Set(u.serial.clone()),
            from_warehouse_id: Set(at.m.id),
            reason: Set(input.note.trim().to_string()),
        }
        .insert(&txn)
        .await?;
        moves.push(
            Move::unit(u, at.m.id, rtm, MovementReason::ReturnToManufacturer)
                .doc("rtm_batch", b.id),
        );
    }
    let entries = apply(&txn, actor, &moves).await?;
    audit_moves(
        &txn,
        ctx,
        "return_to_manufacturer",
        Some(actor.org_id),
        &entries,
    )
    .await?;
    txn.commit().await?;
    Ok(rtm_wire(
        b,
        units.into_iter().map(|(u, _)| u.serial).collect(),
    ))
}

pub async fn get_rtm_batch(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<RtmBatch> {
    let b = rtm_batch::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let org = org_node::Entity::find_by_id(b.org_id)
        .one(db)
        .await?
        .ok_or_else(|| corrupt("batch node"))?;
    actor.authorize(
        Resource::StockMovements,
        Action::View,
        dealernet_domain::warehouse::place_ref(&parse_path(&org.path)?),
    )?;
    let serials = rtm_batch_unit::Entity::find()
        .filter(rtm_batch_unit::Column::BatchId.eq(id))
        .order_by_asc(rtm_batch_unit::Column::Serial)
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.serial)
        .collect();
    Ok(rtm_wire(b, serials))
}

/// Writes a unit off: it moves to its node's "written off" location.
pub async fn write_off(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: WriteOff,
) -> Result<StockUnit> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let u = unit_by_serial(&txn, "serial", &input.serial).await?;
    let at = unit_place(&txn, &u).await?;
    authorize_movement(actor, &at.path)?;
    if matches!(
        at.kind,
        WarehouseKind::WrittenOff | WarehouseKind::ReturnedToManufacturer | WarehouseKind::InKit
    ) {
        return Err(ServiceError::conflict(
            format!("{} is {}", u.serial, at.kind),
            Some(u.id),
        ));
    }
    let to = virtual_location(&txn, at.m.org_id, WarehouseKind::WrittenOff).await?;
    let entries = apply(
        &txn,
        actor,
        &[Move::unit(&u, at.m.id, to, MovementReason::WriteOff).note(input.reason.trim())],
    )
    .await?;
    audit_moves(&txn, ctx, "write_off", Some(at.m.org_id), &entries).await?;
    let out = unit_wire(&txn, reload(&txn, u.id).await?).await?;
    txn.commit().await?;
    Ok(out)
}

/// Assembles a kit in a warehouse: its components (exactly the recipe) move to the node's
/// "in kits" location and point at the new kit unit, which gets its own serial.
pub async fn assemble_kit(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: AssembleKit,
) -> Result<StockUnit> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let wh = visible_place(&txn, actor, input.warehouse_id).await?;
    authorize_movement(actor, &wh.path)?;
    let kit = catalogue::model(&txn, input.kit_model_id)
        .await?
        .filter(|m| m.is_kit)
        .ok_or_else(|| ServiceError::field("kit_model_id", "not_a_kit", "no such kit model"))?;
    let recipe: BTreeMap<i64, i32> = kit_component::Entity::find()
        .filter(kit_component::Column::KitModelId.eq(kit.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|c| (c.component_model_id, c.quantity))
        .collect();
    let mut given: BTreeMap<i64, i32> = BTreeMap::new();
    let mut comps = Vec::new();
    for (i, s) in input.component_serials.iter().enumerate() {
        let field = format!("component_serials[{i}]");
        let u = unit_by_serial(&txn, &field, s).await?;
        if u.warehouse_id != wh.m.id || u.kit_unit_id.is_some() {
            return Err(ServiceError::field(
                &field,
                "not_here",
                format!("{} is not loose in this warehouse", u.serial),
            ));
        }
        *given.entry(u.model_id).or_default() += 1;
        comps.push(u);
    }
    if given != recipe {
        return Err(ServiceError::field(
            "component_serials",
            "recipe",
            "the components do not match the kit's recipe",
        ));
    }
    let serial = super::serial_arg("serial", &input.serial)?;
    let now = Utc::now();
    let k = unit::ActiveModel {
        serial: Set(serial.clone()),
        model_id: Set(kit.id),
        warehouse_id: Set(wh.m.id),
        owner_org_id: Set(Some(wh.m.org_id)),
        condition: Set(UnitCondition::New.as_str().to_string()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        if crate::error::is_unique_violation(&e) {
            ServiceError::conflict(format!("{serial} is already registered"), None)
        } else {
            ServiceError::Db(e)
        }
    })?;
    let in_kit = virtual_location(&txn, wh.m.org_id, WarehouseKind::InKit).await?;
    let mut moves = vec![Move {
        model_id: kit.id,
        unit: Some((k.id, k.serial.clone())),
        quantity: 1,
        from: None,
        to: wh.m.id,
        reason: MovementReason::KitAssembly,
        document: Some(("kit", k.id)),
        reverses: None,
        note: String::new(),
    }];
    for c in &comps {
        moves.push(
            Move::unit(c, wh.m.id, in_kit, MovementReason::KitAssembly)
                .doc("kit", k.id)
                .note(format!("into kit {serial}")),
        );
    }
    let entries = apply(&txn, actor, &moves).await?;
    for c in &comps {
        execute(
            &txn,
            "UPDATE stock_units SET kit_unit_id = ? WHERE id = ?",
            vec![k.id.into(), c.id.into()],
        )
        .await?;
    }
    audit_moves(&txn, ctx, "assemble_kit", Some(wh.m.org_id), &entries).await?;
    let out = unit_wire(&txn, reload(&txn, k.id).await?).await?;
    txn.commit().await?;
    Ok(out)
}
