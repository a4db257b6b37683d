//! The dealer network: dealer profiles on organisation nodes (with their region codes, rating
//! history and load), points of sale, installation and repair requests, their assignment
//! decisions and the dealers' rejections.
//!
//! Invariants kept by the schema: one profile per node; a rating between 0 and 5; a dealer's
//! open jobs between 0 and its capacity (so no race can push a dealer over capacity); a request
//! that is offered or accepted always names its dealer; one rejection per dealer and request.

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[&str] = &[
    "CREATE TABLE dealers (
        id {id},
        org_id BIGINT NOT NULL UNIQUE REFERENCES org_nodes(id),
        legal_name VARCHAR(300) NOT NULL,
        tax_id VARCHAR(12) NOT NULL,
        legal_address VARCHAR(500) NOT NULL DEFAULT '',
        contacts TEXT NOT NULL DEFAULT '[]',
        offers_installation {bool} NOT NULL,
        offers_repair {bool} NOT NULL,
        territory TEXT NOT NULL DEFAULT '{}',
        area_min_lat DOUBLE PRECISION NULL,
        area_max_lat DOUBLE PRECISION NULL,
        area_min_lon DOUBLE PRECISION NULL,
        area_max_lon DOUBLE PRECISION NULL,
        base_lat DOUBLE PRECISION NULL,
        base_lon DOUBLE PRECISION NULL,
        rating DOUBLE PRECISION NOT NULL CHECK (rating >= 0 AND rating <= 5),
        capacity INTEGER NOT NULL CHECK (capacity >= 0),
        open_jobs INTEGER NOT NULL DEFAULT 0 CHECK (open_jobs >= 0 AND open_jobs <= capacity),
        working_hours TEXT NOT NULL DEFAULT '[]',
        status VARCHAR(12) NOT NULL CHECK (status IN ('active', 'suspended')),
        search_text VARCHAR(1000) NOT NULL DEFAULT '',
        version INTEGER NOT NULL DEFAULT 1,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "CREATE INDEX dealers_area ON dealers(area_min_lat, area_max_lat, area_min_lon, area_max_lon)",
    "CREATE INDEX dealers_rating ON dealers(rating)",
    "CREATE TABLE dealer_regions (
        dealer_id BIGINT NOT NULL REFERENCES dealers(id),
        region_code VARCHAR(12) NOT NULL,
        PRIMARY KEY (region_code, dealer_id)
    )",
    "CREATE INDEX dealer_regions_dealer ON dealer_regions(dealer_id)",
    "CREATE TABLE dealer_rating_changes (
        id {id},
        dealer_id BIGINT NOT NULL REFERENCES dealers(id),
        from_rating DOUBLE PRECISION NULL,
        to_rating DOUBLE PRECISION NOT NULL,
        reason VARCHAR(1000) NOT NULL,
        changed_by VARCHAR(200) NULL,
        at {ts} NOT NULL
    )",
    "CREATE INDEX dealer_rating_changes_dealer ON dealer_rating_changes(dealer_id, id)",
    "CREATE TABLE points_of_sale (
        id {id},
        dealer_id BIGINT NOT NULL REFERENCES dealers(id),
        org_id BIGINT NOT NULL REFERENCES org_nodes(id),
        name VARCHAR(200) NOT NULL,
        address VARCHAR(500) NOT NULL,
        region_code VARCHAR(12) NULL,
        lat DOUBLE PRECISION NULL,
        lon DOUBLE PRECISION NULL,
        geocoded {bool} NOT NULL DEFAULT FALSE,
        opening_hours TEXT NOT NULL DEFAULT '[]',
        attachments TEXT NOT NULL DEFAULT '[]',
        search_text VARCHAR(800) {c} NOT NULL DEFAULT '',
        version INTEGER NOT NULL DEFAULT 1,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "CREATE INDEX points_of_sale_org ON points_of_sale(org_id, name)",
    "CREATE INDEX points_of_sale_dealer ON points_of_sale(dealer_id)",
    "CREATE INDEX points_of_sale_name ON points_of_sale(name)",
    "CREATE INDEX points_of_sale_location ON points_of_sale(lat, lon)",
    "CREATE TABLE installation_requests (
        id {id},
        org_id BIGINT NOT NULL REFERENCES org_nodes(id),
        customer_kind VARCHAR(10) NOT NULL CHECK (customer_kind IN ('client', 'private')),
        client_id BIGINT NULL,
        customer_name VARCHAR(200) NULL,
        customer_phone VARCHAR(40) NULL,
        address VARCHAR(500) NOT NULL,
        lat DOUBLE PRECISION NOT NULL,
        lon DOUBLE PRECISION NOT NULL,
        region_code VARCHAR(12) NULL,
        service VARCHAR(20) NOT NULL,
        equipment TEXT NOT NULL DEFAULT '[]',
        window_from {ts} NULL,
        window_to {ts} NULL,
        notes TEXT NOT NULL DEFAULT '',
        status VARCHAR(12) NOT NULL CHECK (status IN ('unassigned', 'offered', 'accepted', 'completed')),
        dealer_id BIGINT NULL REFERENCES dealers(id),
        offered_at {ts} NULL,
        offer_expires_at {ts} NULL,
        first_offered_at {ts} NULL,
        accepted_at {ts} NULL,
        accepted_by BIGINT NULL REFERENCES users(id),
        completed_at {ts} NULL,
        completion TEXT NULL,
        created_by BIGINT NULL REFERENCES users(id),
        version INTEGER NOT NULL DEFAULT 1,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL,
        CHECK (status NOT IN ('offered', 'accepted') OR dealer_id IS NOT NULL)
    )",
    "CREATE INDEX installation_requests_org ON installation_requests(org_id, id)",
    "CREATE INDEX installation_requests_due ON installation_requests(status, offer_expires_at)",
    "CREATE INDEX installation_requests_dealer ON installation_requests(dealer_id, status)",
    "CREATE INDEX installation_requests_created ON installation_requests(created_at)",
    "CREATE TABLE assignment_decisions (
        id {id},
        request_id BIGINT NOT NULL REFERENCES installation_requests(id),
        trigger_kind VARCHAR(12) NOT NULL,
        dealer_id BIGINT NULL REFERENCES dealers(id),
        explanation TEXT NOT NULL,
        others_outside INTEGER NOT NULL DEFAULT 0,
        override_reason VARCHAR(1000) NULL,
        decided_by VARCHAR(200) NULL,
        decided_at {ts} NOT NULL
    )",
    "CREATE INDEX assignment_decisions_request ON assignment_decisions(request_id, id)",
    "CREATE TABLE job_rejections (
        id {id},
        request_id BIGINT NOT NULL REFERENCES installation_requests(id),
        dealer_id BIGINT NOT NULL REFERENCES dealers(id),
        reason VARCHAR(30) NOT NULL,
        note VARCHAR(1000) NOT NULL DEFAULT '',
        rejected_by BIGINT NULL REFERENCES users(id),
        at {ts} NOT NULL,
        UNIQUE (request_id, dealer_id)
    )",
    "CREATE INDEX job_rejections_at ON job_rejections(at)",
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
