//! Importing clients and their contacts from CSV or XLSX.
//!
//! The file's first row names the columns ([`IMPORT_COLUMNS`]; `name` is required). Each row is
//! checked with the same validators as the API; a row is matched to an existing client by legal
//! id, else by e-mail, and updated (only fields the row fills), otherwise created. A contact
//! given on the row is added unless the client already has one with that e-mail (or name).
//! Re-running the same file therefore creates nothing new.
//!
//! The whole import runs in one transaction. A dry run, or any row with an error, rolls it back:
//! the report lists every row's error and nothing is written.

use std::collections::HashMap;
use std::io::Cursor;

use dealernet_domain::FieldError;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::crm::{
    ContactInput, CreateClient, IMPORT_COLUMNS, ImportReport, RowError, UpdateClient,
};
use sea_orm::{DatabaseConnection, TransactionTrait};
use validator::Validate;

use super::clients;
use crate::context::Ctx;
use crate::error::{Result, ServiceError};

/// The file formats an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

/// A parsed file: the header and the data rows (cells as text).
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn file_error(message: impl Into<String>) -> RowError {
    RowError {
        row: 0,
        field: "file".into(),
        message: message.into(),
    }
}

fn read_csv(bytes: &[u8]) -> std::result::Result<Table, RowError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| file_error("the file is not UTF-8 text; save the CSV as UTF-8"))?;
    let text = text.trim_start_matches('\u{feff}');
    let delimiter = match text.lines().next() {
        Some(first) if first.matches(';').count() > first.matches(',').count() => b';',
        _ => b',',
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
        Some(Err(e)) => return Err(file_error(format!("the header cannot be read: {e}"))),
        None => return Err(file_error("the file has no header row")),
    };
    let mut rows = Vec::new();
    for (i, rec) in records.enumerate() {
        match rec {
            Ok(r) => rows.push(r.iter().map(str::to_string).collect()),
            Err(e) => {
                return Err(RowError {
                    row: i as u64 + 2,
                    field: "file".into(),
                    message: format!("the row cannot be read: {e}"),
                });
            }
        }
    }
    Ok(Table { header, rows })
}

fn cell_text(c: &calamine::Data) -> String {
    use calamine::Data;
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Int(i) => i.to_string(),
        other => other.to_string(),
    }
}

fn read_xlsx(bytes: &[u8]) -> std::result::Result<Table, RowError> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e| file_error(format!("the file is not a readable XLSX workbook: {e}")))?;
    let Some(sheet) = wb.sheet_names().first().cloned() else {
        return Err(file_error("the workbook has no sheets"));
    };
    let range = wb
        .worksheet_range(&sheet)
        .map_err(|e| file_error(format!("the sheet `{sheet}` cannot be read: {e}")))?;
    let mut it = range.rows();
    let Some(first) = it.next() else {
        return Err(file_error("the sheet has no header row"));
    };
    let header = first
        .iter()
        .map(|c| cell_text(c).trim().to_lowercase())
        .collect();
    let rows = it.map(|r| r.iter().map(cell_text).collect()).collect();
    Ok(Table { header, rows })
}

/// Checks the header: known columns only, each once, `name` present. Answers column indexes.
fn columns(header: &[String]) -> std::result::Result<HashMap<&'static str, usize>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut map = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        match IMPORT_COLUMNS.iter().find(|c| *c == h) {
            Some(c) => {
                if map.insert(*c, i).is_some() {
                    errors.push(RowError {
                        row: 1,
                        field: h.clone(),
                        message: format!("the column `{h}` appears twice"),
                    });
                }
            }
            None => errors.push(RowError {
                row: 1,
                field: h.clone(),
                message: format!(
                    "unknown column `{h}`; the columns are {}",
                    IMPORT_COLUMNS.join(", ")
                ),
            }),
        }
    }
    if !map.contains_key("name") {
        errors.push(RowError {
            row: 1,
            field: "name".into(),
            message: "the required column `name` is missing".into(),
        });
    }
    if errors.is_empty() {
        Ok(map)
    } else {
        Err(errors)
    }
}

/// One error per field of a row (the first rule that failed).
fn row_errors(row: u64, errs: Vec<FieldError>, prefix: &str) -> Vec<RowError> {
    let mut seen = std::collections::HashSet::new();
    errs.into_iter()
        .filter(|e| seen.insert(e.field.clone()))
        .map(|e| RowError {
            row,
            field: format!("{prefix}{}", e.field),
            message: e.message,
        })
        .collect()
}

/// Imports (or, with `dry_run`, checks) a file of clients and contacts.
pub async fn run(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    format: Format,
    bytes: &[u8],
    dry_run: bool,
) -> Result<ImportReport> {
    let actor = ctx.actor;
    actor.require(Resource::Clients, Action::Create)?;
    let mut report = ImportReport {
        dry_run,
        ..Default::default()
    };
    if bytes.is_empty() {
        report.errors.push(file_error("the file is empty"));
        return Ok(report);
    }
    let table = match format {
        Format::Csv => read_csv(bytes),
        Format::Xlsx => read_xlsx(bytes),
    };
    let table = match table {
        Ok(t) => t,
        Err(e) => {
            report.errors.push(e);
            return Ok(report);
        }
    };
    let cols = match columns(&table.header) {
        Ok(c) => c,
        Err(errs) => {
            report.errors = errs;
            return Ok(report);
        }
    };
    let get = |row: &[String], col: &str| -> Option<String> {
        cols.get(col)
            .and_then(|i| row.get(*i))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    // Parse and validate every row first.
    let mut parsed = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (i, row) in table.rows.iter().enumerate() {
        let line = i as u64 + 2;
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        report.rows += 1;
        let client = CreateClient {
            name: get(row, "name").unwrap_or_default(),
            legal_id: get(row, "legal_id"),
            registration_no: get(row, "registration_no"),
            legal_address: get(row, "legal_address"),
            postal_address: get(row, "postal_address"),
            phone: get(row, "phone"),
            email: get(row, "email"),
            website: get(row, "website"),
            notes: get(row, "notes").unwrap_or_default(),
            org_id: None,
            manager_id: None,
        };
        let mut errs = Vec::new();
        if let Err(e) = client.validate() {
            errs.extend(row_errors(
                line,
                dealernet_domain::validation::field_errors(&e),
                "",
            ));
        }
        let contact = get(row, "contact_name").map(|name| ContactInput {
            name,
            position: get(row, "contact_position"),
            phone: get(row, "contact_phone"),
            email: get(row, "contact_email"),
            notes: String::new(),
        });
        if contact.is_none()
            && (get(row, "contact_email").is_some() || get(row, "contact_phone").is_some())
        {
            errs.push(RowError {
                row: line,
                field: "contact_name".into(),
                message: "a contact needs a name".into(),
            });
        }
        if let Some(c) = &contact
            && let Err(e) = c.validate()
        {
            errs.extend(row_errors(
                line,
                dealernet_domain::validation::field_errors(&e),
                "contact_",
            ));
        }
        let key = client
            .legal_id
            .clone()
            .map(|l| format!("legal:{l}"))
            .or_else(|| {
                client
                    .email
                    .clone()
                    .map(|e| format!("email:{}", e.to_lowercase()))
            });
        if let Some(k) = &key
            && let Some(first) = seen.insert(k.clone(), line)
        {
            errs.push(RowError {
                row: line,
                field: if k.starts_with("legal:") {
                    "legal_id"
                } else {
                    "email"
                }
                .into(),
                message: format!("the same client as row {first}"),
            });
        }
        if errs.is_empty() {
            parsed.push((line, client, contact));
        } else {
            report.errors.extend(errs);
        }
    }
    if !report.errors.is_empty() {
        return Ok(report);
    }
    // Apply in one transaction; roll back on a dry run or any error. Rows are matched to the
    // clients that exist in a few look-ups; existing ones are updated one by one, new ones are
    // inserted a few hundred per statement.
    let txn = db.begin().await?;
    let legal_ids: Vec<String> = parsed
        .iter()
        .filter_map(|(_, c, _)| c.legal_id.clone())
        .collect();
    let emails: Vec<String> = parsed
        .iter()
        .filter_map(|(_, c, _)| c.email.as_ref().map(|e| e.to_lowercase()))
        .collect();
    let [by_legal, by_email] = clients::find_by_keys(&txn, &legal_ids, &emails).await?;
    let mut fresh = Vec::new();
    for (line, input, contact) in parsed {
        let existing = input
            .legal_id
            .as_deref()
            .and_then(|l| by_legal.get(l))
            .or_else(|| {
                input
                    .email
                    .as_deref()
                    .and_then(|e| by_email.get(&e.to_lowercase()))
            });
        let Some(found) = existing else {
            fresh.push((line, input, contact));
            continue;
        };
        let upd = UpdateClient {
            name: Some(input.name.clone()),
            legal_id: input.legal_id.clone().map(Some),
            registration_no: input.registration_no.clone().map(Some),
            legal_address: input.legal_address.clone().map(Some),
            postal_address: input.postal_address.clone().map(Some),
            phone: input.phone.clone().map(Some),
            email: input.email.clone().map(Some),
            website: input.website.clone().map(Some),
            notes: Some(input.notes.clone()).filter(|n| !n.is_empty()),
            org_id: None,
            manager_id: None,
        };
        match clients::apply_update(&txn, ctx, found.id, &upd, None).await {
            Ok((m, changed)) => {
                if changed {
                    report.updated += 1;
                } else {
                    report.unchanged += 1;
                }
                if let Some(c) = contact
                    && !clients::has_contact(&txn, m.id, &c.name, c.email.as_deref()).await?
                {
                    clients::insert_contact(&txn, ctx, m.id, m.org_id, m.manager_id, &c).await?;
                    report.contacts_created += 1;
                }
            }
            Err(ServiceError::Db(e)) => return Err(ServiceError::Db(e)),
            Err(ServiceError::Internal(e)) => return Err(ServiceError::Internal(e)),
            Err(e) => report.errors.extend(describe(line, e)),
        }
    }
    if !fresh.is_empty() {
        insert_fresh(&txn, ctx, fresh, report.updated > 0, &mut report).await?;
    }
    if dry_run || !report.errors.is_empty() {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
        report.applied = true;
    }
    Ok(report)
}

/// Creates the rows no client matched, after checking that no two of them (nor a client an
/// earlier row of this import just changed) share a legal id or an e-mail.
async fn insert_fresh<C: sea_orm::ConnectionTrait>(
    txn: &C,
    ctx: Ctx<'_>,
    fresh: Vec<(u64, CreateClient, Option<ContactInput>)>,
    recheck: bool,
    report: &mut ImportReport,
) -> Result<()> {
    // Per key (field, its name in messages, value → first row holding it).
    let mut keys: [(&str, &str, HashMap<String, u64>); 2] = [
        ("legal_id", "legal id", HashMap::new()),
        ("email", "e-mail", HashMap::new()),
    ];
    for (line, input, _) in &fresh {
        let values = [
            input.legal_id.clone(),
            input.email.as_ref().map(|e| e.to_lowercase()),
        ];
        for ((field, label, rows), value) in keys.iter_mut().zip(values) {
            if let Some(value) = value
                && let Some(first) = rows.insert(value, *line)
            {
                report.errors.push(RowError {
                    row: *line,
                    field: (*field).into(),
                    message: format!("row {first} has the same {label}"),
                });
            }
        }
    }
    if recheck {
        let values = keys
            .each_ref()
            .map(|(_, _, rows)| rows.keys().cloned().collect::<Vec<_>>());
        let taken = clients::find_by_keys(txn, &values[0], &values[1]).await?;
        for ((field, label, rows), taken) in keys.iter().zip(taken) {
            for (value, m) in taken {
                if let Some(line) = rows.get(&value) {
                    report.errors.push(RowError {
                        row: *line,
                        field: (*field).into(),
                        message: format!(
                            "a client with the {label} {value} already exists (#{})",
                            m.id
                        ),
                    });
                }
            }
        }
    }
    if !report.errors.is_empty() {
        return Ok(());
    }
    let place = match clients::placement(txn, ctx.actor, None, None).await {
        Ok(p) => p,
        Err(e @ (ServiceError::Db(_) | ServiceError::Internal(_))) => return Err(e),
        Err(e) => {
            report.errors.push(file_error(e.to_string()));
            return Ok(());
        }
    };
    let rows: Vec<(&CreateClient, Option<&ContactInput>)> =
        fresh.iter().map(|(_, c, k)| (c, k.as_ref())).collect();
    report.created += clients::insert_many(txn, ctx, &place, &rows).await?;
    report.contacts_created += rows.iter().filter(|(_, k)| k.is_some()).count() as u64;
    Ok(())
}

fn describe(line: u64, e: ServiceError) -> Vec<RowError> {
    match e {
        ServiceError::Validation(errs) => row_errors(line, errs, ""),
        ServiceError::NotFound | ServiceError::Denied(_) => vec![RowError {
            row: line,
            field: "legal_id".into(),
            message: "this client exists but you may not change it".into(),
        }],
        ServiceError::Conflict { detail, .. } => vec![RowError {
            row: line,
            field: "email".into(),
            message: detail,
        }],
        other => vec![RowError {
            row: line,
            field: "row".into(),
            message: other.to_string(),
        }],
    }
}
