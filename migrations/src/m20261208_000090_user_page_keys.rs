//! A scoped users page is chosen by sorting the scope's matches when they are few (see
//! `dealernet_data::identity::users::SORT_MATCHES_MAX`). With the name and the id in the
//! `(org_id, status)` index, the matches and their names are read from the index alone,
//! without visiting the table. The old index is a prefix of the new one, so it goes.

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[&str] = &[
    "CREATE INDEX users_org_status_name ON users(org_id, status, name, id)",
    "DROP INDEX users_org_status",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(manager, STATEMENTS).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
