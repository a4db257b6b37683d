//! CRM: client organisations and their contacts, requests (deals) with their equipment line
//! items and their status/delivery timeline, comments and documents on clients and requests.
//!
//! Invariants held by the schema: a legal id and an e-mail name at most one client; a request
//! number is unique; a request's status and delivery stage are one of the known values; a line
//! item belongs to exactly one request and disappears with it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[&str] = &[
    "CREATE TABLE clients (
        id {id},
        name VARCHAR(300) NOT NULL,
        legal_id VARCHAR(40) NULL,
        registration_no VARCHAR(40) NULL,
        legal_address VARCHAR(500) NULL,
        postal_address VARCHAR(500) NULL,
        phone VARCHAR(40) NULL,
        email VARCHAR(254) NULL,
        website VARCHAR(300) NULL,
        notes TEXT NOT NULL DEFAULT '',
        org_id BIGINT NOT NULL REFERENCES org_nodes(id),
        manager_id BIGINT NULL REFERENCES users(id),
        search_text TEXT NOT NULL DEFAULT '',
        version INTEGER NOT NULL DEFAULT 1,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "CREATE UNIQUE INDEX clients_legal_id ON clients(legal_id) WHERE legal_id IS NOT NULL",
    "CREATE UNIQUE INDEX clients_email ON clients(email) WHERE email IS NOT NULL",
    "CREATE INDEX clients_org_name ON clients(org_id, name, id)",
    "CREATE INDEX clients_manager_name ON clients(manager_id, name, id)",
    "CREATE INDEX clients_name ON clients(name, id)",
    "CREATE TABLE client_contacts (
        id {id},
        client_id BIGINT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        name VARCHAR(200) NOT NULL,
        position VARCHAR(200) NULL,
        phone VARCHAR(40) NULL,
        email VARCHAR(254) NULL,
        notes TEXT NOT NULL DEFAULT '',
        version INTEGER NOT NULL DEFAULT 1,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "CREATE INDEX client_contacts_client ON client_contacts(client_id, name)",
    "CREATE INDEX client_contacts_email ON client_contacts(email)",
    "CREATE TABLE deals (
        id {id},
        number VARCHAR(30) NOT NULL,
        client_id BIGINT NOT NULL REFERENCES clients(id),
        client_name VARCHAR(300) NOT NULL,
        deal_date VARCHAR(10) NOT NULL,
        customer VARCHAR(300) NOT NULL DEFAULT '',
        status VARCHAR(20) NOT NULL
            CHECK (status IN ('preparing_offer', 'in_progress', 'stalled', 'won', 'dead')),
        delivery_stage VARCHAR(20) NULL
            CHECK (delivery_stage IS NULL OR delivery_stage IN
                ('ordered', 'in_production', 'shipped', 'delivered', 'commissioned')),
        payment_terms VARCHAR(500) NULL,
        contract_no VARCHAR(60) NULL,
        invoice_no VARCHAR(60) NULL,
        contract_price_minor BIGINT NULL CHECK (contract_price_minor IS NULL OR contract_price_minor >= 0),
        currency VARCHAR(3) NULL,
        finance_comment TEXT NULL,
        org_id BIGINT NOT NULL REFERENCES org_nodes(id),
        manager_id BIGINT NULL REFERENCES users(id),
        search_text TEXT NOT NULL DEFAULT '',
        version INTEGER NOT NULL DEFAULT 1,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "CREATE UNIQUE INDEX deals_number ON deals(number)",
    "CREATE INDEX deals_client ON deals(client_id, deal_date, id)",
    "CREATE INDEX deals_org_status ON deals(org_id, status, deal_date, id)",
    "CREATE INDEX deals_manager_status ON deals(manager_id, status, deal_date, id)",
    "CREATE INDEX deals_status_date ON deals(status, deal_date, id)",
    "CREATE INDEX deals_date ON deals(deal_date, id)",
    "CREATE TABLE deal_items (
        id {id},
        deal_id BIGINT NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        equipment_type VARCHAR(120) NOT NULL,
        name VARCHAR(200) NOT NULL,
        sub_name VARCHAR(200) NOT NULL DEFAULT '',
        capacity VARCHAR(60) NOT NULL DEFAULT '',
        quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity > 0)
    )",
    "CREATE INDEX deal_items_deal ON deal_items(deal_id, position)",
    "CREATE INDEX deal_items_levels ON deal_items(equipment_type, name, sub_name, capacity)",
    "CREATE TABLE deal_events (
        id {id},
        deal_id BIGINT NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
        kind VARCHAR(10) NOT NULL CHECK (kind IN ('status', 'delivery')),
        from_value VARCHAR(20) NULL,
        to_value VARCHAR(20) NOT NULL,
        comment TEXT NOT NULL DEFAULT '',
        actor_id BIGINT NULL REFERENCES users(id),
        actor_name VARCHAR(200) NULL,
        at {ts} NOT NULL
    )",
    "CREATE INDEX deal_events_deal ON deal_events(deal_id, at, id)",
    "CREATE TABLE crm_comments (
        id {id},
        resource VARCHAR(20) NOT NULL CHECK (resource IN ('clients', 'deals')),
        record_id BIGINT NOT NULL,
        author_id BIGINT NULL REFERENCES users(id),
        author_name VARCHAR(200) NOT NULL,
        body TEXT NOT NULL,
        created_at {ts} NOT NULL
    )",
    "CREATE INDEX crm_comments_record ON crm_comments(resource, record_id, id)",
    "CREATE TABLE crm_documents (
        id {id},
        resource VARCHAR(20) NOT NULL CHECK (resource IN ('clients', 'deals')),
        record_id BIGINT NOT NULL,
        category VARCHAR(30) NOT NULL,
        file_name VARCHAR(255) NOT NULL,
        content_type VARCHAR(120) NOT NULL,
        size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),
        storage_key VARCHAR(200) NOT NULL,
        sha256 VARCHAR(64) NOT NULL,
        uploaded_by BIGINT NULL REFERENCES users(id),
        uploaded_by_name VARCHAR(200) NOT NULL,
        uploaded_at {ts} NOT NULL
    )",
    "CREATE UNIQUE INDEX crm_documents_key ON crm_documents(storage_key)",
    "CREATE INDEX crm_documents_record ON crm_documents(resource, record_id, id)",
];

/// Trigram indexes for the any-field search on PostgreSQL, when `pg_trgm` can be enabled (it
/// needs the right to create the extension; without it searches still work, by scanning).
const POSTGRES_SEARCH: &str = "DO $$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm not available: CRM search scans';
    END;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX clients_search ON clients USING gin (search_text gin_trgm_ops);
        CREATE INDEX deals_search ON deals USING gin (search_text gin_trgm_ops);
    END IF;
END $$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(manager, STATEMENTS).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(POSTGRES_SEARCH)
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
