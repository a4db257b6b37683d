//! CSV and XLSX exports of clients and requests. The records come from the scoped, redacted
//! list queries; a column whose field the actor's field policy hides is left out altogether.

use dealernet_domain::access::{FieldMode, Resource};
use dealernet_domain::crm::{Client, Deal};
use dealernet_domain::policy::Actor;

use crate::error::{Result, ServiceError};

/// A rectangular export: header and rows of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

fn visible_columns(actor: &Actor, resource: Resource, all: &[&'static str]) -> Vec<&'static str> {
    all.iter()
        .copied()
        .filter(|c| actor.access.field_mode(resource, c) != Some(FieldMode::Hidden))
        .collect()
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

pub const CLIENT_COLUMNS: &[&str] = &[
    "id",
    "name",
    "legal_id",
    "registration_no",
    "legal_address",
    "postal_address",
    "phone",
    "email",
    "website",
    "notes",
    "org_name",
    "manager_name",
    "created_at",
];

pub fn clients(actor: &Actor, items: &[Client]) -> Table {
    let header = visible_columns(actor, Resource::Clients, CLIENT_COLUMNS);
    let rows = items
        .iter()
        .map(|c| {
            header
                .iter()
                .map(|col| match *col {
                    "id" => c.id.to_string(),
                    "name" => c.name.clone(),
                    "legal_id" => opt(&c.legal_id),
                    "registration_no" => opt(&c.registration_no),
                    "legal_address" => opt(&c.legal_address),
                    "postal_address" => opt(&c.postal_address),
                    "phone" => opt(&c.phone),
                    "email" => opt(&c.email),
                    "website" => opt(&c.website),
                    "notes" => c.notes.clone(),
                    "org_name" => opt(&c.org_name),
                    "manager_name" => opt(&c.manager_name),
                    "created_at" => c.created_at.to_rfc3339(),
                    _ => String::new(),
                })
                .collect()
        })
        .collect();
    Table { header, rows }
}

pub const DEAL_COLUMNS: &[&str] = &[
    "number",
    "date",
    "client_name",
    "customer",
    "items",
    "status",
    "delivery_stage",
    "payment_terms",
    "contract_no",
    "invoice_no",
    "contract_price",
    "currency",
    "finance_comment",
    "manager_name",
    "updated_at",
];

pub fn deals(actor: &Actor, items: &[Deal]) -> Table {
    let header = visible_columns(actor, Resource::Deals, DEAL_COLUMNS);
    let rows = items
        .iter()
        .map(|d| {
            header
                .iter()
                .map(|col| match *col {
                    "number" => d.number.clone(),
                    "date" => d.date.to_string(),
                    "client_name" => d.client_name.clone(),
                    "customer" => d.customer.clone(),
                    "items" => d
                        .items
                        .iter()
                        .map(|i| {
                            let mut s = format!("{} {}", i.equipment_type, i.name);
                            for part in [&i.sub_name, &i.capacity] {
                                if !part.is_empty() {
                                    s.push(' ');
                                    s.push_str(part);
                                }
                            }
                            format!("{s} ×{}", i.quantity)
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                    "status" => d.status.as_str().to_string(),
                    "delivery_stage" => d
                        .delivery_stage
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    "payment_terms" => opt(&d.payment_terms),
                    "contract_no" => opt(&d.contract_no),
                    "invoice_no" => opt(&d.invoice_no),
                    "contract_price" => opt(&d.contract_price),
                    "currency" => opt(&d.currency),
                    "finance_comment" => opt(&d.finance_comment),
                    "manager_name" => opt(&d.manager_name),
                    "updated_at" => d.updated_at.to_rfc3339(),
                    _ => String::new(),
                })
                .collect()
        })
        .collect();
    Table { header, rows }
}

/// CSV (UTF-8 with a byte-order mark, so spreadsheet programs read Cyrillic right).
pub fn to_csv(table: &Table) -> Result<Vec<u8>> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let csv_err = |e: csv::Error| ServiceError::Internal(format!("writing CSV: {e}"));
        w.write_record(&table.header).map_err(csv_err)?;
        for r in &table.rows {
            // Cells that a spreadsheet would run as a formula are quoted with a leading '.
            let safe: Vec<String> = r
                .iter()
                .map(|c| {
                    if c.starts_with(['=', '+', '-', '@']) && c.parse::<f64>().is_err() {
                        format!("'{c}")
                    } else {
                        c.clone()
                    }
                })
                .collect();
            w.write_record(&safe).map_err(csv_err)?;
        }
        w.flush()
            .map_err(|e| ServiceError::Internal(format!("writing CSV: {e}")))?;
    }
    Ok(out)
}

/// An XLSX workbook with one sheet.
pub fn to_xlsx(table: &Table, sheet: &str) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| ServiceError::Internal(format!("writing XLSX: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(err)?;
    let bold = Format::new().set_bold();
    for (c, h) in table.header.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(u16::MAX);
        ws.write_string_with_format(0, col, *h, &bold)
            .map_err(err)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let line = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, v) in row.iter().enumerate() {
            let col = u16::try_from(c).unwrap_or(u16::MAX);
            ws.write_string(line, col, v).map_err(err)?;
        }
    }
    wb.save_to_buffer().map_err(err)
}
