//! The equipment warehouse: catalogue, warehouses and virtual locations, the stock ledger and its
//! balances, receiving, dealer orders and shipments, what dealers owe, installation, repair,
//! refurbishment and return to the manufacturer.
//!
//! Every movement goes through [`ledger::apply`], which in the caller's transaction
//! 1. moves each unit with `UPDATE stock_units SET warehouse_id = to WHERE id = ? AND
//!    warehouse_id = from` (unit ids ascending) — a unit someone else moved first is a 409;
//! 2. changes the balances in (warehouse, model) order, decrements as `quantity = quantity - n
//!    WHERE quantity >= n` — not enough stock is a 409, and `CHECK (quantity >= 0)` backs it;
//! 3. appends the ledger entries (the database refuses to update or delete them).
//!
//! Locks are always taken in the same order (document row, units by id, balances by key), so
//! concurrent movements on PostgreSQL wait for each other instead of deadlocking; SQLite runs one
//! writer at a time.

pub mod catalogue;
pub mod demo;
mod entity;
pub mod ledger;
pub mod locations;
pub mod orders;
pub mod receiving;
pub mod service;

use dealernet_domain::org::OrgPath;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};

use crate::error::{Result, ServiceError};

pub use service::record_installation;

/// A statement written with `?` placeholders, numbered `$1…` for PostgreSQL.
pub(crate) fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => {
            let mut out = String::with_capacity(sql.len() + 16);
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                } else {
                    out.push(c);
                }
            }
            out
        }
        _ => sql.to_string(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

pub(crate) async fn query_all<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>> {
    Ok(conn
        .query_all_raw(stmt(conn.get_database_backend(), sql, values))
        .await?)
}

pub(crate) async fn execute<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<u64> {
    Ok(conn
        .execute_raw(stmt(conn.get_database_backend(), sql, values))
        .await?
        .rows_affected())
}

pub(crate) fn get<T: sea_orm::TryGetable>(row: &QueryResult, col: &str) -> Result<T> {
    row.try_get::<T>("", col)
        .map_err(|e| ServiceError::Internal(format!("column {col}: {e}")))
}

pub(crate) fn corrupt(what: &str) -> ServiceError {
    ServiceError::Internal(format!("warehouse data: {what}"))
}

pub(crate) fn parse_path(s: &str) -> Result<OrgPath> {
    OrgPath::parse(s).map_err(|e| ServiceError::Internal(e.to_string()))
}

/// A serial as given by a caller, normalised, or a 422 naming `field`.
pub(crate) fn serial_arg(field: &str, raw: &str) -> Result<String> {
    dealernet_domain::warehouse::normalise_serial(raw)
        .map_err(|m| ServiceError::field(field, "serial", m))
}
