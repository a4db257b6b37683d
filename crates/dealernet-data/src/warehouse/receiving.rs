//! Receiving stock from the manufacturer: by hand, or from an ERP file of serials (CSV or XLSX).
//! A file is checked whole first — every failing row is reported — and then received in one
//! transaction, so nothing is ever half-imported.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use dealernet_domain::FieldError;
use dealernet_domain::warehouse::{
    FileRow, MovementReason, ReceiptResult, Receive, UnitCondition, authorize_movement,
    field_error, normalise_serial,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, TransactionTrait,
};

use super::entity::{equipment_model, receipt, unit};
use super::ledger::{Move, apply, audit_moves};
use super::locations::{Place, visible_place};
use crate::context::Ctx;
use crate::error::{Result, ServiceError, is_unique_violation};

/// The kind of file sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

/// Reads the rows of an XLSX workbook's first sheet.
fn xlsx_rows(bytes: &[u8]) -> Result<Vec<FileRow>> {
    use calamine::{Reader, Xlsx};
    let bad = |m: String| ServiceError::field("file", "unreadable", m);
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e| bad(format!("not an XLSX file: {e}")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| bad("the workbook has no sheet".into()))?
        .map_err(|e| bad(format!("the first sheet cannot be read: {e}")))?;
    let rows = range
        .rows()
        .map(|r| r.iter().map(cell_text).collect::<Vec<String>>())
        .collect();
    Ok(dealernet_domain::warehouse::rows_from_cells(rows))
}

fn cell_text(c: &calamine::Data) -> String {
    match c {
        calamine::Data::Float(f) if f.fract() == 0.0 => format!("{f:.0}"),
        other => other.to_string(),
    }
}

/// Parses a receiving file into rows.
pub fn read_file(format: FileFormat, bytes: &[u8]) -> Result<Vec<FileRow>> {
    match format {
        FileFormat::Csv => {
            let text = std::str::from_utf8(bytes).map_err(|_| {
                ServiceError::field("file", "encoding", "a CSV file must be UTF-8 text")
            })?;
            Ok(dealernet_domain::warehouse::parse_serial_csv(text))
        }
        FileFormat::Xlsx => xlsx_rows(bytes),
    }
}

struct Arrival {
    serial: String,
    model: equipment_model::Model,
}

async fn check_new_serials<C: ConnectionTrait>(
    conn: &C,
    serials: &[(String, String)],
) -> Result<Vec<FieldError>> {
    // (field, serial) pairs; one query per 500 serials.
    let mut errors = Vec::new();
    for chunk in serials.chunks(500) {
        let list: Vec<String> = chunk.iter().map(|(_, s)| s.clone()).collect();
        let existing: BTreeSet<String> = unit::Entity::find()
            .filter(unit::Column::Serial.is_in(list))
            .all(conn)
            .await?
            .into_iter()
            .map(|u| u.serial)
            .collect();
        for (field, s) in chunk {
            if existing.contains(s) {
                errors.push(field_error(
                    field,
                    "duplicate_serial",
                    format!("{s} is already registered"),
                ));
            }
        }
    }
    Ok(errors)
}

async fn receive_checked<C: ConnectionTrait>(
    txn: &C,
    ctx: Ctx<'_>,
    wh: &Place,
    source: &str,
    reference: &str,
    arrivals: Vec<Arrival>,
    quantities: Vec<(equipment_model::Model, i64)>,
) -> Result<ReceiptResult> {
    let now = Utc::now();
    let units_count = arrivals.len() as i64 + quantities.iter().map(|q| q.1).sum::<i64>();
    let doc = receipt::ActiveModel {
        warehouse_id: Set(wh.m.id),
        source: Set(source.to_string()),
        reference: Set(reference.trim().to_string()),
        units: Set(i32::try_from(units_count).unwrap_or(i32::MAX)),
        created_by: Set(ctx.actor.user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let mut moves = Vec::with_capacity(arrivals.len() + quantities.len());
    for a in arrivals {
        let u = unit::ActiveModel {
            serial: Set(a.serial.clone()),
            model_id: Set(a.model.id),
            warehouse_id: Set(wh.m.id),
            owner_org_id: Set(Some(wh.m.org_id)),
            condition: Set(UnitCondition::New.as_str().to_string()),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                ServiceError::conflict(format!("{} is already registered", a.serial), None)
            } else {
                ServiceError::Db(e)
            }
        })?;
        moves.push(Move {
            model_id: a.model.id,
            unit: Some((u.id, u.serial)),
            quantity: 1,
            from: None,
            to: wh.m.id,
            reason: MovementReason::Receipt,
            document: Some(("receipt", doc.id)),
            reverses: None,
            note: String::new(),
        });
    }
    for (m, q) in quantities {
        moves.push(Move {
            model_id: m.id,
            unit: None,
            quantity: q,
            from: None,
            to: wh.m.id,
            reason: MovementReason::Receipt,
            document: Some(("receipt", doc.id)),
            reverses: None,
            note: String::new(),
        });
    }
    let entries = apply(txn, ctx.actor, &moves).await?;
    audit_moves(txn, ctx, "receive", Some(wh.m.org_id), &entries).await?;
    Ok(ReceiptResult {
        receipt_id: doc.id,
        units: units_count,
        entries: entries.len() as i64,
    })
}

/// Receives stock by hand: serials per serialised model, quantities for the rest.
pub async fn receive(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: Receive,
) -> Result<ReceiptResult> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let wh = visible_place(&txn, actor, input.warehouse_id).await?;
    authorize_movement(actor, &wh.path)?;
    if wh.m.is_virtual {
        return Err(ServiceError::field(
            "warehouse_id",
            "virtual",
            "receive into a real warehouse",
        ));
    }
    let mut errors = Vec::new();
    let mut arrivals = Vec::new();
    let mut quantities = Vec::new();
    let mut to_check = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, line) in input.lines.iter().enumerate() {
        let Some(model) = super::catalogue::model(&txn, line.model_id).await? else {
            errors.push(field_error(
                &format!("lines[{i}].model_id"),
                "not_found",
                "no such model",
            ));
            continue;
        };
        if model.serialised {
            if line.serials.is_empty() || line.quantity.is_some() {
                errors.push(field_error(
                    &format!("lines[{i}].serials"),
                    "serials_required",
                    "a serialised model is received by serial, without a quantity",
                ));
                continue;
            }
            for (j, raw) in line.serials.iter().enumerate() {
                let field = format!("lines[{i}].serials[{j}]");
                match normalise_serial(raw) {
                    Ok(s) if !seen.insert(s.clone()) => errors.push(field_error(
                        &field,
                        "duplicate_serial",
                        format!("{s} is listed twice"),
                    )),
                    Ok(s) => {
                        to_check.push((field, s.clone()));
                        arrivals.push(Arrival {
                            serial: s,
                            model: model.clone(),
                        });
                    }
                    Err(m) => errors.push(field_error(&field, "serial", m)),
                }
            }
        } else {
            match (line.quantity, line.serials.is_empty()) {
                (Some(q), true) if q > 0 => quantities.push((model, q)),
                _ => errors.push(field_error(
                    &format!("lines[{i}].quantity"),
                    "quantity_required",
                    "a model without serials is received by a positive quantity",
                )),
            }
        }
    }
    errors.extend(check_new_serials(&txn, &to_check).await?);
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    let out = receive_checked(
        &txn,
        ctx,
        &wh,
        "manual",
        &input.reference,
        arrivals,
        quantities,
    )
    .await?;
    txn.commit().await?;
    Ok(out)
}

/// Receives a file of serials into a warehouse. `default_model` applies to rows without a model
/// column. Every failing row is reported as `rows[N]` (N = the row number in the file) and then
/// nothing is received.
pub async fn import(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    warehouse_id: i64,
    default_model: Option<i64>,
    reference: &str,
    rows: Vec<FileRow>,
) -> Result<ReceiptResult> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let wh = visible_place(&txn, actor, warehouse_id).await?;
    authorize_movement(actor, &wh.path)?;
    if wh.m.is_virtual {
        return Err(ServiceError::field(
            "warehouse_id",
            "virtual",
            "receive into a real warehouse",
        ));
    }
    if rows.is_empty() {
        return Err(ServiceError::field(
            "file",
            "empty",
            "the file has no serials",
        ));
    }
    if rows.len() > 50_000 {
        return Err(ServiceError::field(
            "file",
            "too_many_rows",
            "at most 50,000 rows per file",
        ));
    }
    let models = equipment_model::Entity::find().all(&txn).await?;
    let by_id: BTreeMap<i64, &equipment_model::Model> = models.iter().map(|m| (m.id, m)).collect();
    let by_name: BTreeMap<String, &equipment_model::Model> = models
        .iter()
        .map(|m| (m.label().to_lowercase(), m))
        .collect();
    if let Some(d) = default_model
        && !by_id.contains_key(&d)
    {
        return Err(ServiceError::field(
            "model_id",
            "not_found",
            "no such model",
        ));
    }
    let mut errors = Vec::new();
    let mut arrivals = Vec::new();
    let mut to_check = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        let field = format!("rows[{}]", r.row);
        let model = match &r.model {
            Some(text) => text
                .parse::<i64>()
                .ok()
                .and_then(|id| by_id.get(&id))
                .or_else(|| by_name.get(&text.to_lowercase())),
            None => default_model.and_then(|id| by_id.get(&id)),
        };
        let Some(model) = model.copied() else {
            errors.push(field_error(
                &field,
                "unknown_model",
                match &r.model {
                    Some(t) => format!("row {}: no model `{t}` in the catalogue", r.row),
                    None => format!("row {}: no model column and no default model", r.row),
                },
            ));
            continue;
        };
        if !model.serialised {
            errors.push(field_error(
                &field,
                "not_serialised",
                format!("row {}: {} has no serials", r.row, model.label()),
            ));
            continue;
        }
        let serial = match normalise_serial(&r.serial) {
            Ok(s) => s,
            Err(m) => {
                errors.push(field_error(
                    &field,
                    "serial",
                    format!("row {}: the serial {m}", r.row),
                ));
                continue;
            }
        };
        if let Some(first) = seen.get(&serial) {
            errors.push(field_error(
                &field,
                "duplicate_in_file",
                format!("row {}: {serial} is also on row {first}", r.row),
            ));
            continue;
        }
        seen.insert(serial.clone(), r.row);
        to_check.push((field, serial.clone()));
        arrivals.push(Arrival {
            serial,
            model: model.clone(),
        });
    }
    for mut e in check_new_serials(&txn, &to_check).await? {
        let row = e.field.trim_start_matches("rows[").trim_end_matches(']');
        e.message = format!("row {row}: {}", e.message);
        errors.push(e);
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| {
            e.field
                .trim_start_matches("rows[")
                .trim_end_matches(']')
                .parse::<usize>()
                .unwrap_or(0)
        });
        return Err(ServiceError::Validation(errors));
    }
    let out = receive_checked(&txn, ctx, &wh, "file", reference, arrivals, vec![]).await?;
    txn.commit().await?;
    Ok(out)
}
