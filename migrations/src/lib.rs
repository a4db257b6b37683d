//! DealerNet's migrations, applied in order by [`Migrator`] at start and by `dealernet migrate`.
//!
//! Rules: one migration per file, named `mYYYYMMDD_NNNNNN_what.rs`; an applied migration is
//! never edited — a change is a new migration. DDL is written once, in [`sql::Dialect`]
//! placeholders, so SQLite and PostgreSQL get the same schema with their own types.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_identity;
mod m20261123_000002_user_list_indexes;
mod m20261123_000010_crm;
mod m20261123_000020_notifications;
mod m20261123_000030_warehouse;
mod m20261123_000040_dealers;
mod m20261207_000050_dealer_cells;
mod m20261207_000060_identity_changes;
mod m20261207_000070_decision_compression;
mod m20261207_000080_scope_search;
mod m20261208_000090_user_page_keys;
pub mod sql;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_identity::Migration),
            Box::new(m20261123_000002_user_list_indexes::Migration),
            Box::new(m20261123_000010_crm::Migration),
            Box::new(m20261123_000020_notifications::Migration),
            Box::new(m20261123_000030_warehouse::Migration),
            Box::new(m20261123_000040_dealers::Migration),
            Box::new(m20261207_000050_dealer_cells::Migration),
            Box::new(m20261207_000060_identity_changes::Migration),
            Box::new(m20261207_000070_decision_compression::Migration),
            Box::new(m20261207_000080_scope_search::Migration),
            Box::new(m20261208_000090_user_page_keys::Migration),
        ]
    }
}
