//! Assignment explanations (every candidate and exclusion with its factors, often more than the
//! 2 kB at which PostgreSQL compresses a value) are compressed with lz4 instead of the default
//! pglz: measured on 50,000 dealers, pglz was the largest single cost of a request creation in
//! the database. Rows already written keep their compression until rewritten. A server built
//! without lz4 keeps pglz. SQLite does not compress and needs nothing here.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES: &str = "DO $$
BEGIN
    ALTER TABLE assignment_decisions ALTER COLUMN explanation SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available; assignment explanations stay compressed with pglz';
END $$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(POSTGRES)
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
