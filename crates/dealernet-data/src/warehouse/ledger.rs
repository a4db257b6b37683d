//! The stock ledger: the one way stock moves ([`apply`]), transfers, corrections by reversal,
//! stock levels, unit lists, the per-serial timeline and the check that balances equal the
//! ledger.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::policy::{Actor, Denied, Visibility};
use dealernet_domain::warehouse::{
    BalanceCheck, BalanceMismatch, LedgerEntry, ModelTotal, Movement, MovementReason, Reverse,
    StockLevel, StockReport, StockUnit, Timeline, Transfer, UnitCondition, WarehouseKind,
    authorize_movement, place_ref, warranty_verdict,
};
use sea_orm::sea_query::{Alias, Expr, Order, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::entity::{balance, equipment_model, ledger, unit, warehouse};
use super::locations::{Place, place, visible_ids, visible_pair, visible_place};
use super::{catalogue, corrupt, execute, get, query_all, serial_arg};
use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::error::{Result, ServiceError};
use crate::scope;

/// One movement to write.
#[derive(Debug, Clone)]
pub(crate) struct Move {
    pub model_id: i64,
    /// A serialised unit (quantity 1), with its serial.
    pub unit: Option<(i64, String)>,
    pub quantity: i64,
    /// `None`: arriving from outside (a receipt; the unit row was just inserted there).
    pub from: Option<i64>,
    pub to: i64,
    pub reason: MovementReason,
    pub document: Option<(&'static str, i64)>,
    pub reverses: Option<i64>,
    pub note: String,
}

impl Move {
    pub fn unit(u: &unit::Model, from: i64, to: i64, reason: MovementReason) -> Self {
        Move {
            model_id: u.model_id,
            unit: Some((u.id, u.serial.clone())),
            quantity: 1,
            from: Some(from),
            to,
            reason,
            document: None,
            reverses: None,
            note: String::new(),
        }
    }

    pub fn doc(mut self, kind: &'static str, id: i64) -> Self {
        self.document = Some((kind, id));
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }
}

/// Writes movements in the caller's transaction: units, then balances, then ledger entries, each
/// in a fixed order. A unit that is no longer where `from` says, or a balance that would go
/// negative, is a conflict and the caller's transaction must roll back.
pub(crate) async fn apply<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    moves: &[Move],
) -> Result<Vec<ledger::Model>> {
    apply_with(conn, actor, moves, false).await
}

/// [`apply`]; with `units_moved`, the caller has already moved (and so locked) every unit.
async fn apply_with<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    moves: &[Move],
    units_moved: bool,
) -> Result<Vec<ledger::Model>> {
    let now = Utc::now();
    let mut unit_moves: Vec<&Move> = moves
        .iter()
        .filter(|m| m.unit.is_some() && !units_moved)
        .collect();
    unit_moves.sort_by_key(|m| m.unit.as_ref().map(|u| u.0));
    for m in &unit_moves {
        let (Some((unit_id, serial)), Some(from)) = (&m.unit, m.from) else {
            continue;
        };
        let moved = execute(
            conn,
            "UPDATE stock_units SET warehouse_id = ?, version = version + 1, updated_at = ? \
             WHERE id = ? AND warehouse_id = ?",
            vec![m.to.into(), now.into(), (*unit_id).into(), from.into()],
        )
        .await?;
        if moved != 1 {
            return Err(ServiceError::conflict(
                format!("unit {serial} is not in warehouse {from} (any more)"),
                Some(*unit_id),
            ));
        }
    }
    let mut deltas: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for m in moves {
        if m.quantity <= 0 {
            return Err(ServiceError::field(
                "quantity",
                "range",
                "must be a positive number",
            ));
        }
        if let Some(from) = m.from {
            *deltas.entry((from, m.model_id)).or_default() -= m.quantity;
        }
        *deltas.entry((m.to, m.model_id)).or_default() += m.quantity;
    }
    for ((wh, model), delta) in deltas {
        if delta < 0 {
            let n = -delta;
            let changed = execute(
                conn,
                "UPDATE stock_balances SET quantity = quantity - ? \
                 WHERE warehouse_id = ? AND model_id = ? AND quantity >= ?",
                vec![n.into(), wh.into(), model.into(), n.into()],
            )
            .await?;
            if changed != 1 {
                return Err(ServiceError::conflict(
                    format!("warehouse {wh} has fewer than {n} of model {model}"),
                    None,
                ));
            }
        } else if delta > 0 {
            execute(
                conn,
                "INSERT INTO stock_balances (warehouse_id, model_id, quantity) VALUES (?, ?, ?) \
                 ON CONFLICT (warehouse_id, model_id) \
                 DO UPDATE SET quantity = stock_balances.quantity + excluded.quantity",
                vec![wh.into(), model.into(), delta.into()],
            )
            .await?;
        }
    }
    let mut out = Vec::with_capacity(moves.len());
    for m in moves {
        let e = ledger::ActiveModel {
            at: Set(now),
            model_id: Set(m.model_id),
            unit_id: Set(m.unit.as_ref().map(|u| u.0)),
            serial: Set(m.unit.as_ref().map(|u| u.1.clone())),
            quantity: Set(m.quantity),
            from_warehouse_id: Set(m.from),
            to_warehouse_id: Set(Some(m.to)),
            reason: Set(m.reason.as_str().to_string()),
            document_kind: Set(m.document.map(|d| d.0.to_string())),
            document_id: Set(m.document.map(|d| d.1)),
            reverses_id: Set(m.reverses),
            actor_user_id: Set(actor.user_id),
            actor_name: Set(Some(actor.name.clone())),
            note: Set(m.note.clone()),
            ..Default::default()
        }
        .insert(conn)
        .await
        .map_err(|e| {
            if crate::error::is_unique_violation(&e) {
                ServiceError::conflict("this entry has already been reversed", m.reverses)
            } else {
                ServiceError::Db(e)
            }
        })?;
        out.push(e);
    }
    Ok(out)
}

/// Looks a unit up by serial (`field` names the input for a 422 when it is unknown).
pub(crate) async fn unit_by_serial<C: ConnectionTrait>(
    conn: &C,
    field: &str,
    raw: &str,
) -> Result<unit::Model> {
    let serial = serial_arg(field, raw)?;
    unit::Entity::find()
        .filter(unit::Column::Serial.eq(serial.as_str()))
        .one(conn)
        .await?
        .ok_or_else(|| {
            ServiceError::field(
                field,
                "unknown_serial",
                format!("no unit has serial {serial}"),
            )
        })
}

async fn names<C: ConnectionTrait>(conn: &C, ids: BTreeSet<i64>) -> Result<BTreeMap<i64, String>> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    Ok(warehouse::Entity::find()
        .filter(warehouse::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|w| (w.id, w.name))
        .collect())
}

pub(crate) async fn entries_wire<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<ledger::Model>,
) -> Result<Vec<LedgerEntry>> {
    let ids: BTreeSet<i64> = rows
        .iter()
        .flat_map(|r| [r.from_warehouse_id, r.to_warehouse_id])
        .flatten()
        .collect();
    let names = names(conn, ids).await?;
    entries_named(rows, &names)
}

/// [`entries_wire`] when the caller already knows every warehouse's name.
fn entries_named(
    rows: Vec<ledger::Model>,
    names: &BTreeMap<i64, String>,
) -> Result<Vec<LedgerEntry>> {
    rows.into_iter()
        .map(|r| {
            Ok(LedgerEntry {
                id: r.id,
                at: r.at,
                model_id: r.model_id,
                unit_id: r.unit_id,
                serial: r.serial,
                quantity: r.quantity,
                from_name: r.from_warehouse_id.and_then(|w| names.get(&w).cloned()),
                from_warehouse_id: r.from_warehouse_id,
                to_name: r.to_warehouse_id.and_then(|w| names.get(&w).cloned()),
                to_warehouse_id: r.to_warehouse_id,
                reason: MovementReason::parse(&r.reason).ok_or_else(|| corrupt("reason"))?,
                document_kind: r.document_kind,
                document_id: r.document_id,
                reverses_id: r.reverses_id,
                actor_name: r.actor_name,
                note: r.note,
            })
        })
        .collect()
}

pub(crate) async fn unit_wire<C: ConnectionTrait>(conn: &C, u: unit::Model) -> Result<StockUnit> {
    let model = catalogue::model(conn, u.model_id)
        .await?
        .ok_or_else(|| corrupt("unit without model"))?;
    let wh = warehouse::Entity::find_by_id(u.warehouse_id)
        .one(conn)
        .await?
        .ok_or_else(|| corrupt("unit without warehouse"))?;
    let component_serials = if model.is_kit {
        unit::Entity::find()
            .filter(unit::Column::KitUnitId.eq(u.id))
            .order_by_asc(unit::Column::Serial)
            .all(conn)
            .await?
            .into_iter()
            .map(|c| c.serial)
            .collect()
    } else {
        vec![]
    };
    Ok(StockUnit {
        id: u.id,
        serial: u.serial,
        model_id: u.model_id,
        model_name: model.label(),
        warehouse_id: u.warehouse_id,
        warehouse_name: wh.name,
        warehouse_kind: WarehouseKind::parse(&wh.kind).ok_or_else(|| corrupt("kind"))?,
        owner_org_id: u.owner_org_id,
        condition: UnitCondition::parse(&u.condition).ok_or_else(|| corrupt("condition"))?,
        grade: u.grade,
        discount_price_cents: u.discount_price_cents,
        kit_unit_id: u.kit_unit_id,
        component_serials,
        installed_at: u.installed_at,
        warranty_until: u.warranty_until,
        customer: u.customer,
        version: u.version,
    })
}

fn audit_movement(entries: &[ledger::Model], action: &str) -> Option<serde_json::Value> {
    let _ = action;
    Some(serde_json::json!({
        "entries": entries.iter().map(|e| serde_json::json!({
            "id": e.id, "model_id": e.model_id, "serial": e.serial, "quantity": e.quantity,
            "from": e.from_warehouse_id, "to": e.to_warehouse_id, "reason": e.reason,
        })).collect::<Vec<_>>()
    }))
}

/// Writes the audit entry of a movement document.
pub(crate) async fn audit_moves<C: ConnectionTrait>(
    conn: &C,
    ctx: Ctx<'_>,
    action: &str,
    org_id: Option<i64>,
    entries: &[ledger::Model],
) -> Result<()> {
    let Some(first) = entries.first() else {
        return Ok(());
    };
    audit::record(
        conn,
        ctx,
        Change {
            action,
            entity: Resource::StockMovements,
            entity_id: first.id,
            org_id,
            responsible_id: None,
            before: None,
            after: audit_movement(entries, action),
        },
    )
    .await
}

/// Moves serialised units and quantities between two warehouses the actor may move stock in.
pub async fn transfer(db: &DatabaseConnection, ctx: Ctx<'_>, input: Transfer) -> Result<Movement> {
    let actor = ctx.actor;
    if input.serials.is_empty() && input.items.is_empty() {
        return Err(ServiceError::field(
            "serials",
            "required",
            "name at least one serial or one item",
        ));
    }
    if input.from_warehouse_id == input.to_warehouse_id {
        return Err(ServiceError::field(
            "to_warehouse_id",
            "same_warehouse",
            "must differ from the source warehouse",
        ));
    }
    let txn = db.begin().await?;
    let (from, to) =
        visible_pair(&txn, actor, input.from_warehouse_id, input.to_warehouse_id).await?;
    authorize_movement(actor, &from.path)?;
    authorize_movement(actor, &to.path)?;
    if to.m.is_virtual || from.m.is_virtual {
        return Err(ServiceError::field(
            "to_warehouse_id",
            "virtual",
            "transfers run between real warehouses; virtual locations change through their documents",
        ));
    }
    if let ([serial], []) = (input.serials.as_slice(), input.items.as_slice()) {
        // The common case, one scanned unit: find and move it in one statement.
        let entries = transfer_one(&txn, actor, &from, &to, serial, &input.note).await?;
        audit_moves(&txn, ctx, "transfer", Some(from.m.org_id), &entries).await?;
        txn.commit().await?;
        return Ok(Movement {
            entries: entries_named(entries, &place_names(&from, &to))?,
        });
    }
    let mut moves = Vec::new();
    for (i, s) in input.serials.iter().enumerate() {
        let u = unit_by_serial(&txn, &format!("serials[{i}]"), s).await?;
        if u.kit_unit_id.is_some() {
            return Err(ServiceError::field(
                &format!("serials[{i}]"),
                "in_kit",
                "is assembled into a kit; move the kit",
            ));
        }
        moves.push(Move::unit(&u, from.m.id, to.m.id, MovementReason::Transfer).note(&input.note));
    }
    for (i, it) in input.items.iter().enumerate() {
        let m = catalogue::model(&txn, it.model_id).await?.ok_or_else(|| {
            ServiceError::field(
                &format!("items[{i}].model_id"),
                "not_found",
                "no such model",
            )
        })?;
        if m.serialised {
            return Err(ServiceError::field(
                &format!("items[{i}].model_id"),
                "serialised",
                "is serialised: move it by serial",
            ));
        }
        moves.push(Move {
            model_id: m.id,
            unit: None,
            quantity: it.quantity,
            from: Some(from.m.id),
            to: to.m.id,
            reason: MovementReason::Transfer,
            document: None,
            reverses: None,
            note: input.note.clone(),
        });
    }
    let entries = apply(&txn, actor, &moves).await?;
    audit_moves(&txn, ctx, "transfer", Some(from.m.org_id), &entries).await?;
    txn.commit().await?;
    Ok(Movement {
        entries: entries_named(entries, &place_names(&from, &to))?,
    })
}

fn place_names(from: &Place, to: &Place) -> BTreeMap<i64, String> {
    BTreeMap::from([
        (from.m.id, from.m.name.clone()),
        (to.m.id, to.m.name.clone()),
    ])
}

/// Moves one serialised unit from `from` to `to`: the conditional update finds, locks and moves
/// it at once; only when it matches nothing do further reads say why (unknown serial, part of a
/// kit, somewhere else), and nothing has moved.
async fn transfer_one<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    from: &Place,
    to: &Place,
    raw: &str,
    note: &str,
) -> Result<Vec<ledger::Model>> {
    let field = "serials[0]";
    let serial = serial_arg(field, raw)?;
    let rows = query_all(
        conn,
        "UPDATE stock_units SET warehouse_id = ?, version = version + 1, updated_at = ? \
         WHERE serial = ? AND warehouse_id = ? AND kit_unit_id IS NULL \
         RETURNING id, model_id",
        vec![
            to.m.id.into(),
            Utc::now().into(),
            serial.as_str().into(),
            from.m.id.into(),
        ],
    )
    .await?;
    let Some(row) = rows.first() else {
        let u = unit_by_serial(conn, field, &serial).await?;
        if u.kit_unit_id.is_some() {
            return Err(ServiceError::field(
                field,
                "in_kit",
                "is assembled into a kit; move the kit",
            ));
        }
        return Err(ServiceError::conflict(
            format!("unit {serial} is not in warehouse {} (any more)", from.m.id),
            Some(u.id),
        ));
    };
    let m = Move {
        model_id: get(row, "model_id")?,
        unit: Some((get(row, "id")?, serial)),
        quantity: 1,
        from: Some(from.m.id),
        to: to.m.id,
        reason: MovementReason::Transfer,
        document: None,
        reverses: None,
        note: note.to_string(),
    };
    apply_with(conn, actor, &[m], true).await
}

/// Corrects a ledger entry by writing its mirror image (the entry itself never changes).
pub async fn reverse(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    entry_id: i64,
    input: Reverse,
) -> Result<Movement> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let e = ledger::Entity::find_by_id(entry_id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let (Some(from_id), Some(to_id)) = (e.from_warehouse_id, e.to_warehouse_id) else {
        return Err(ServiceError::conflict(
            "a receipt is corrected by a write-off, not a reversal",
            Some(e.id),
        ));
    };
    if e.reverses_id.is_some() {
        return Err(ServiceError::conflict(
            "this entry is itself a reversal",
            Some(e.id),
        ));
    }
    for wid in [from_id, to_id] {
        let p = place(&txn, wid)
            .await?
            .ok_or_else(|| corrupt("entry warehouse"))?;
        actor.authorize(Resource::Warehouses, Action::View, place_ref(&p.path))?;
        actor.authorize(
            Resource::StockMovements,
            Action::Approve,
            place_ref(&p.path),
        )?;
    }
    let m = Move {
        model_id: e.model_id,
        unit: match (e.unit_id, &e.serial) {
            (Some(u), Some(s)) => Some((u, s.clone())),
            _ => None,
        },
        quantity: e.quantity,
        from: Some(to_id),
        to: from_id,
        reason: MovementReason::Reversal,
        document: Some(("ledger", e.id)),
        reverses: Some(e.id),
        note: input.reason.trim().to_string(),
    };
    let entries = apply(&txn, actor, &[m]).await?;
    audit_moves(&txn, ctx, "reverse", None, &entries).await?;
    let entries = entries_wire(&txn, entries).await?;
    txn.commit().await?;
    Ok(Movement { entries })
}

#[derive(Debug, Clone, Default)]
pub struct LedgerFilter {
    pub warehouse_id: Option<i64>,
    pub serial: Option<String>,
    pub model_id: Option<i64>,
    pub reason: Option<MovementReason>,
}

/// Ledger entries touching a warehouse the actor may see, newest first.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &LedgerFilter,
    paging: Paging,
) -> Result<Page<LedgerEntry>> {
    actor.require(Resource::StockMovements, Action::View)?;
    let visibility = actor.visibility(Resource::StockMovements, Action::View);
    let mut q = ledger::Entity::find();
    if let Some(ids) = visible_ids(&visibility) {
        q = q.filter(
            Condition::any()
                .add(ledger::Column::FromWarehouseId.in_subquery(ids.clone()))
                .add(ledger::Column::ToWarehouseId.in_subquery(ids)),
        );
    }
    if let Some(w) = filter.warehouse_id {
        q = q.filter(
            Condition::any()
                .add(ledger::Column::FromWarehouseId.eq(w))
                .add(ledger::Column::ToWarehouseId.eq(w)),
        );
    }
    if let Some(s) = &filter.serial {
        q = q.filter(ledger::Column::Serial.eq(serial_arg("serial", s)?));
    }
    if let Some(m) = filter.model_id {
        q = q.filter(ledger::Column::ModelId.eq(m));
    }
    if let Some(r) = filter.reason {
        q = q.filter(ledger::Column::Reason.eq(r.as_str()));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(ledger::Column::Id)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    Ok(Page::new(entries_wire(db, rows).await?, total))
}

#[derive(Debug, Clone, Default)]
pub struct StockFilter {
    /// One warehouse.
    pub warehouse_id: Option<i64>,
    /// Every warehouse in this node's subtree.
    pub within_org: Option<i64>,
    pub model_id: Option<i64>,
    /// Include virtual locations (in transit, installed…).
    pub include_virtual: bool,
}

/// Stock levels (non-zero balances) of the warehouses the actor may see, with totals per model.
pub async fn stock(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &StockFilter,
    paging: Paging,
) -> Result<StockReport> {
    actor.require(Resource::Warehouses, Action::View)?;
    let visibility = actor.visibility(Resource::Warehouses, Action::View);
    let mut cond = Condition::all()
        .add(Expr::col((balance::Entity, balance::Column::Quantity)).gt(0))
        .add(scope::condition(
            &visibility,
            warehouse::Column::OrgId,
            None::<warehouse::Column>,
        ));
    if let Some(w) = filter.warehouse_id {
        visible_place(db, actor, w).await?;
        cond = cond.add(Expr::col((balance::Entity, balance::Column::WarehouseId)).eq(w));
    }
    if let Some(root) = filter.within_org {
        let path = crate::orgs::path(db, root)
            .await?
            .ok_or(ServiceError::NotFound)?;
        actor.authorize(Resource::Orgs, Action::View, place_ref(&path))?;
        cond = cond.add(warehouse::Column::OrgId.in_subquery(scope::subtree_ids(&path)));
    }
    if let Some(m) = filter.model_id {
        cond = cond.add(Expr::col((balance::Entity, balance::Column::ModelId)).eq(m));
    }
    if !filter.include_virtual {
        cond = cond.add(Expr::col((warehouse::Entity, warehouse::Column::IsVirtual)).eq(false));
    }
    let base = Query::select()
        .from(balance::Entity)
        .inner_join(
            warehouse::Entity,
            Expr::col((warehouse::Entity, warehouse::Column::Id))
                .equals((balance::Entity, balance::Column::WarehouseId)),
        )
        .inner_join(
            equipment_model::Entity,
            Expr::col((equipment_model::Entity, equipment_model::Column::Id))
                .equals((balance::Entity, balance::Column::ModelId)),
        )
        .cond_where(cond)
        .to_owned();
    let backend = db.get_database_backend();

    let count_q = base
        .clone()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .to_owned();
    let total: i64 = match db.query_one_raw(backend.build(&count_q)).await? {
        Some(r) => get(&r, "n")?,
        None => 0,
    };

    let page_q = base
        .clone()
        .expr_as(
            Expr::col((balance::Entity, balance::Column::WarehouseId)),
            Alias::new("warehouse_id"),
        )
        .expr_as(
            Expr::col((warehouse::Entity, warehouse::Column::Name)),
            Alias::new("warehouse_name"),
        )
        .expr_as(
            Expr::col((warehouse::Entity, warehouse::Column::Kind)),
            Alias::new("warehouse_kind"),
        )
        .expr_as(
            Expr::col((warehouse::Entity, warehouse::Column::OrgId)),
            Alias::new("org_id"),
        )
        .expr_as(
            Expr::col((balance::Entity, balance::Column::ModelId)),
            Alias::new("model_id"),
        )
        .expr_as(
            Expr::col((
                equipment_model::Entity,
                equipment_model::Column::Manufacturer,
            )),
            Alias::new("manufacturer"),
        )
        .expr_as(
            Expr::col((equipment_model::Entity, equipment_model::Column::Model)),
            Alias::new("model"),
        )
        .expr_as(
            Expr::col((balance::Entity, balance::Column::Quantity)),
            Alias::new("quantity"),
        )
        .order_by((warehouse::Entity, warehouse::Column::Name), Order::Asc)
        .order_by((balance::Entity, balance::Column::WarehouseId), Order::Asc)
        .order_by(
            (
                equipment_model::Entity,
                equipment_model::Column::Manufacturer,
            ),
            Order::Asc,
        )
        .order_by(
            (equipment_model::Entity, equipment_model::Column::Model),
            Order::Asc,
        )
        .limit(paging.limit)
        .offset(paging.offset)
        .to_owned();
    let mut items = Vec::new();
    for r in db.query_all_raw(backend.build(&page_q)).await? {
        let kind: String = get(&r, "warehouse_kind")?;
        items.push(StockLevel {
            warehouse_id: get(&r, "warehouse_id")?,
            warehouse_name: get(&r, "warehouse_name")?,
            warehouse_kind: WarehouseKind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
            org_id: get(&r, "org_id")?,
            model_id: get(&r, "model_id")?,
            model_name: format!(
                "{} {}",
                get::<String>(&r, "manufacturer")?,
                get::<String>(&r, "model")?
            ),
            quantity: get(&r, "quantity")?,
        });
    }

    let totals_q = base
        .clone()
        .expr_as(
            Expr::col((balance::Entity, balance::Column::ModelId)),
            Alias::new("model_id"),
        )
        .expr_as(
            Expr::col((
                equipment_model::Entity,
                equipment_model::Column::Manufacturer,
            )),
            Alias::new("manufacturer"),
        )
        .expr_as(
            Expr::col((equipment_model::Entity, equipment_model::Column::Model)),
            Alias::new("model"),
        )
        .expr_as(
            Expr::cust("CAST(SUM(stock_balances.quantity) AS BIGINT)"),
            Alias::new("quantity"),
        )
        .group_by_col((balance::Entity, balance::Column::ModelId))
        .group_by_col((
            equipment_model::Entity,
            equipment_model::Column::Manufacturer,
        ))
        .group_by_col((equipment_model::Entity, equipment_model::Column::Model))
        .order_by(
            (
                equipment_model::Entity,
                equipment_model::Column::Manufacturer,
            ),
            Order::Asc,
        )
        .order_by(
            (equipment_model::Entity, equipment_model::Column::Model),
            Order::Asc,
        )
        .to_owned();
    let mut totals = Vec::new();
    for r in db.query_all_raw(backend.build(&totals_q)).await? {
        totals.push(ModelTotal {
            model_id: get(&r, "model_id")?,
            model_name: format!(
                "{} {}",
                get::<String>(&r, "manufacturer")?,
                get::<String>(&r, "model")?
            ),
            quantity: get(&r, "quantity")?,
        });
    }
    Ok(StockReport {
        items,
        total: u64::try_from(total).unwrap_or_default(),
        totals,
    })
}

#[derive(Debug, Clone, Default)]
pub struct UnitFilter {
    pub warehouse_id: Option<i64>,
    pub model_id: Option<i64>,
    /// Serials starting with this text.
    pub serial_prefix: Option<String>,
    pub condition: Option<UnitCondition>,
}

/// Units in warehouses the actor may see, by serial.
pub async fn units(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &UnitFilter,
    paging: Paging,
) -> Result<Page<StockUnit>> {
    actor.require(Resource::Warehouses, Action::View)?;
    let visibility = actor.visibility(Resource::Warehouses, Action::View);
    let mut q = unit::Entity::find();
    if let Some(ids) = visible_ids(&visibility) {
        q = q.filter(unit::Column::WarehouseId.in_subquery(ids));
    }
    if let Some(w) = filter.warehouse_id {
        visible_place(db, actor, w).await?;
        q = q.filter(unit::Column::WarehouseId.eq(w));
    }
    if let Some(m) = filter.model_id {
        q = q.filter(unit::Column::ModelId.eq(m));
    }
    if let Some(c) = filter.condition {
        q = q.filter(unit::Column::Condition.eq(c.as_str()));
    }
    if let Some(p) = filter
        .serial_prefix
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let p = p.to_ascii_uppercase();
        // Serials are [A-Z0-9-_./]: escape the LIKE wildcard `_` and nothing else is special.
        let escaped = p
            .replace('\\', "\\\\")
            .replace('_', "\\_")
            .replace('%', "\\%");
        q = q.filter(
            Expr::col((unit::Entity, unit::Column::Serial))
                .like(sea_orm::sea_query::LikeExpr::new(format!("{escaped}%")).escape('\\')),
        );
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_asc(unit::Column::Serial)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for u in rows {
        items.push(unit_wire(db, u).await?);
    }
    Ok(Page::new(items, total))
}

/// Whether the actor's scope includes any place the unit has been (or is).
pub(crate) async fn may_read_history<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    u: &unit::Model,
    entries: &[ledger::Model],
) -> Result<bool> {
    if actor.visibility(Resource::StockMovements, Action::View) == Visibility::All {
        return Ok(true);
    }
    if !actor.can(Resource::StockMovements, Action::View) {
        return Ok(false);
    }
    let mut ids: BTreeSet<i64> = entries
        .iter()
        .flat_map(|e| [e.from_warehouse_id, e.to_warehouse_id])
        .flatten()
        .collect();
    ids.insert(u.warehouse_id);
    for id in ids {
        if let Some(p) = place(conn, id).await?
            && actor
                .authorize(Resource::StockMovements, Action::View, place_ref(&p.path))
                .is_ok()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

async fn history<C: ConnectionTrait>(conn: &C, u: &unit::Model) -> Result<Vec<ledger::Model>> {
    // A component's history includes its kit's movements while it was assembled.
    let mut ids = vec![u.id];
    if let Some(k) = u.kit_unit_id {
        ids.push(k);
    }
    Ok(ledger::Entity::find()
        .filter(ledger::Column::UnitId.is_in(ids))
        .order_by_asc(ledger::Column::Id)
        .all(conn)
        .await?)
}

pub(crate) async fn timeline_of<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    u: unit::Model,
) -> Result<Option<Timeline>> {
    let entries = history(conn, &u).await?;
    if !may_read_history(conn, actor, &u, &entries).await? {
        return Ok(None);
    }
    let installations = super::service::installations_of(conn, u.id).await?;
    let repairs = super::service::repairs_of(conn, u.id).await?;
    let shipments = super::orders::shipment_lines_of(conn, u.id).await?;
    let warranty = warranty_verdict(u.installed_at, u.warranty_until, Utc::now());
    Ok(Some(Timeline {
        unit: unit_wire(conn, u).await?,
        warranty,
        entries: entries_wire(conn, entries).await?,
        installations,
        repairs,
        shipments,
    }))
}

/// One serial's whole story, for anyone whose scope includes a place in it (404 otherwise).
pub async fn timeline(db: &DatabaseConnection, actor: &Actor, serial: &str) -> Result<Timeline> {
    actor.require(Resource::StockMovements, Action::View)?;
    let serial = serial_arg("serial", serial)?;
    let u = unit::Entity::find()
        .filter(unit::Column::Serial.eq(serial.as_str()))
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    timeline_of(db, actor, u)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// Proves that every maintained balance equals the sum of the ledger, that serialised balances
/// equal the units recorded there, and that every unit is where its last entry put it.
pub async fn check<C: ConnectionTrait>(conn: &C, actor: &Actor) -> Result<BalanceCheck> {
    if actor.visibility(Resource::StockMovements, Action::View) != Visibility::All {
        return Err(
            Denied::Rule("only a role that sees all stock may run the check".into()).into(),
        );
    }
    check_unscoped(conn).await
}

/// [`check`] without the policy (for tests, the benchmark and operators' tools).
pub async fn check_unscoped<C: ConnectionTrait>(conn: &C) -> Result<BalanceCheck> {
    let ledger_rows = query_all(
        conn,
        "SELECT w AS warehouse_id, model_id, CAST(SUM(q) AS BIGINT) AS qty FROM ( \
           SELECT to_warehouse_id AS w, model_id, quantity AS q FROM stock_ledger WHERE to_warehouse_id IS NOT NULL \
           UNION ALL \
           SELECT from_warehouse_id AS w, model_id, -quantity AS q FROM stock_ledger WHERE from_warehouse_id IS NOT NULL \
         ) t GROUP BY w, model_id",
        vec![],
    )
    .await?;
    let mut from_ledger: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for r in &ledger_rows {
        from_ledger.insert(
            (get(r, "warehouse_id")?, get(r, "model_id")?),
            get(r, "qty")?,
        );
    }
    let balances = balance::Entity::find().all(conn).await?;
    let mut from_balances: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    let mut negative = 0;
    for b in &balances {
        if b.quantity < 0 {
            negative += 1;
        }
        from_balances.insert((b.warehouse_id, b.model_id), b.quantity);
    }
    let unit_rows = query_all(
        conn,
        "SELECT warehouse_id, model_id, COUNT(*) AS n FROM stock_units GROUP BY warehouse_id, model_id",
        vec![],
    )
    .await?;
    let mut from_units: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for r in &unit_rows {
        from_units.insert((get(r, "warehouse_id")?, get(r, "model_id")?), get(r, "n")?);
    }
    let serialised: BTreeSet<i64> = equipment_model::Entity::find()
        .filter(equipment_model::Column::Serialised.eq(true))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    let keys: BTreeSet<(i64, i64)> = from_ledger
        .keys()
        .chain(from_balances.keys())
        .chain(from_units.keys())
        .copied()
        .collect();
    let mut mismatches = Vec::new();
    for key in keys {
        let l = from_ledger.get(&key).copied().unwrap_or(0);
        let b = from_balances.get(&key).copied().unwrap_or(0);
        let units = serialised
            .contains(&key.1)
            .then(|| from_units.get(&key).copied().unwrap_or(0));
        if l != b || units.is_some_and(|u| u != b) {
            mismatches.push(BalanceMismatch {
                warehouse_id: key.0,
                model_id: key.1,
                balance: b,
                ledger: l,
                units,
            });
        }
    }
    let misplaced = query_all(
        conn,
        "SELECT u.serial AS serial FROM stock_units u \
         JOIN stock_ledger e ON e.id = (SELECT MAX(id) FROM stock_ledger x WHERE x.unit_id = u.id) \
         WHERE e.to_warehouse_id <> u.warehouse_id \
         UNION ALL \
         SELECT u.serial AS serial FROM stock_units u \
         WHERE NOT EXISTS (SELECT 1 FROM stock_ledger x WHERE x.unit_id = u.id) \
         ORDER BY serial LIMIT 100",
        vec![],
    )
    .await?
    .iter()
    .map(|r| get::<String>(r, "serial"))
    .collect::<Result<Vec<_>>>()?;
    let entries = ledger::Entity::find().count(conn).await? as i64;
    let units = unit::Entity::find().count(conn).await? as i64;
    Ok(BalanceCheck {
        ok: mismatches.is_empty() && misplaced.is_empty() && negative == 0,
        entries,
        balances: balances.len() as i64,
        units,
        mismatches,
        misplaced_serials: misplaced,
        negative_balances: negative,
    })
}

/// The place a unit is in, with its node.
pub(crate) async fn unit_place<C: ConnectionTrait>(conn: &C, u: &unit::Model) -> Result<Place> {
    place(conn, u.warehouse_id)
        .await?
        .ok_or_else(|| corrupt("unit without warehouse"))
}

/// Re-reads a unit inside the transaction (after it moved).
pub(crate) async fn reload<C: ConnectionTrait>(conn: &C, id: i64) -> Result<unit::Model> {
    unit::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| corrupt("unit vanished"))
}

/// Counts entries, for tests and the benchmark.
pub async fn entry_count(db: &DatabaseConnection) -> Result<u64> {
    Ok(ledger::Entity::find().count(db).await?)
}
