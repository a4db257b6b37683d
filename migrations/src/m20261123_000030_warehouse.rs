//! The equipment warehouse: catalogue (models, kit recipes), warehouses on organisation nodes and
//! virtual locations, serialised units, the append-only stock ledger with its maintained balances,
//! receipts, dealer equipment orders and shipments, what dealers owe per transfer kind,
//! installations, repairs and return-to-manufacturer batches.
//!
//! Invariants held by the schema itself, on both databases:
//! - a serial exists once (`stock_units.serial` unique) and has exactly one location
//!   (`stock_units.warehouse_id NOT NULL`);
//! - a balance never goes negative (`stock_balances.quantity >= 0`);
//! - ledger entries are positive, move one unit at a time when serialised, are never updated or
//!   deleted (triggers), and each entry is reversed at most once (`reverses_id` unique).

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[&str] = &[
    "CREATE TABLE equipment_models (
        id {id},
        kind VARCHAR(50) NOT NULL,
        manufacturer VARCHAR(100) NOT NULL,
        model VARCHAR(100) NOT NULL,
        serialised {bool} NOT NULL,
        is_kit {bool} NOT NULL DEFAULT FALSE,
        warranty_months INTEGER NOT NULL CHECK (warranty_months BETWEEN 0 AND 240),
        list_price_cents BIGINT NOT NULL CHECK (list_price_cents >= 0),
        active {bool} NOT NULL DEFAULT TRUE,
        version INTEGER NOT NULL DEFAULT 1,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL,
        UNIQUE (manufacturer, model)
    )",
    "CREATE TABLE kit_components (
        kit_model_id BIGINT NOT NULL REFERENCES equipment_models(id),
        component_model_id BIGINT NOT NULL REFERENCES equipment_models(id),
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        PRIMARY KEY (kit_model_id, component_model_id),
        CHECK (kit_model_id <> component_model_id)
    )",
    "CREATE TABLE warehouses (
        id {id},
        org_id BIGINT NOT NULL REFERENCES org_nodes(id),
        kind VARCHAR(30) NOT NULL,
        name VARCHAR(200) NOT NULL,
        code VARCHAR(50) NULL UNIQUE,
        is_virtual {bool} NOT NULL,
        active {bool} NOT NULL DEFAULT TRUE,
        version INTEGER NOT NULL DEFAULT 1,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "CREATE INDEX warehouses_org ON warehouses(org_id)",
    "CREATE UNIQUE INDEX warehouses_one_virtual_per_kind ON warehouses(org_id, kind) WHERE is_virtual",
    "CREATE TABLE stock_units (
        id {id},
        serial VARCHAR(64) NOT NULL UNIQUE CHECK (length(serial) > 0),
        model_id BIGINT NOT NULL REFERENCES equipment_models(id),
        warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
        owner_org_id BIGINT NULL REFERENCES org_nodes(id),
        condition VARCHAR(20) NOT NULL,
        grade VARCHAR(10) NULL,
        discount_price_cents BIGINT NULL CHECK (discount_price_cents IS NULL OR discount_price_cents >= 0),
        kit_unit_id BIGINT NULL REFERENCES stock_units(id),
        installed_at {ts} NULL,
        warranty_until {ts} NULL,
        customer VARCHAR(200) NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "CREATE INDEX stock_units_location ON stock_units(warehouse_id, model_id)",
    "CREATE INDEX stock_units_kit ON stock_units(kit_unit_id)",
    "CREATE TABLE stock_balances (
        warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
        model_id BIGINT NOT NULL REFERENCES equipment_models(id),
        quantity BIGINT NOT NULL CHECK (quantity >= 0),
        PRIMARY KEY (warehouse_id, model_id)
    )",
    "CREATE INDEX stock_balances_model ON stock_balances(model_id)",
    "CREATE TABLE stock_ledger (
        id {id},
        at {ts} NOT NULL,
        model_id BIGINT NOT NULL REFERENCES equipment_models(id),
        unit_id BIGINT NULL REFERENCES stock_units(id),
        serial VARCHAR(64) NULL,
        quantity BIGINT NOT NULL CHECK (quantity > 0),
        from_warehouse_id BIGINT NULL REFERENCES warehouses(id),
        to_warehouse_id BIGINT NULL REFERENCES warehouses(id),
        reason VARCHAR(30) NOT NULL,
        document_kind VARCHAR(30) NULL,
        document_id BIGINT NULL,
        reverses_id BIGINT NULL UNIQUE REFERENCES stock_ledger(id),
        actor_user_id BIGINT NULL,
        actor_name VARCHAR(200) NULL,
        note VARCHAR(500) NOT NULL DEFAULT '',
        CHECK (from_warehouse_id IS NOT NULL OR to_warehouse_id IS NOT NULL),
        CHECK (from_warehouse_id IS NULL OR to_warehouse_id IS NULL OR from_warehouse_id <> to_warehouse_id),
        CHECK (unit_id IS NULL OR quantity = 1)
    )",
    "CREATE INDEX stock_ledger_unit ON stock_ledger(unit_id, id)",
    "CREATE INDEX stock_ledger_from ON stock_ledger(from_warehouse_id, id)",
    "CREATE INDEX stock_ledger_to ON stock_ledger(to_warehouse_id, id)",
    "CREATE INDEX stock_ledger_document ON stock_ledger(document_kind, document_id)",
    "CREATE TABLE stock_receipts (
        id {id},
        warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
        source VARCHAR(20) NOT NULL,
        reference VARCHAR(200) NOT NULL DEFAULT '',
        units INTEGER NOT NULL,
        created_by BIGINT NULL,
        created_at {ts} NOT NULL
    )",
    "CREATE TABLE equipment_orders (
        id {id},
        dealer_org_id BIGINT NOT NULL REFERENCES org_nodes(id),
        warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
        status VARCHAR(30) NOT NULL,
        note VARCHAR(1000) NOT NULL DEFAULT '',
        requested_by BIGINT NULL,
        approved_by BIGINT NULL,
        approved_at {ts} NULL,
        cancelled_reason VARCHAR(500) NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "CREATE INDEX equipment_orders_dealer ON equipment_orders(dealer_org_id, id)",
    "CREATE INDEX equipment_orders_status ON equipment_orders(status, id)",
    "CREATE TABLE equipment_order_lines (
        id {id},
        order_id BIGINT NOT NULL REFERENCES equipment_orders(id),
        model_id BIGINT NOT NULL REFERENCES equipment_models(id),
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        transfer_kind VARCHAR(20) NOT NULL,
        shipped_quantity INTEGER NOT NULL DEFAULT 0,
        received_quantity INTEGER NOT NULL DEFAULT 0,
        CHECK (shipped_quantity BETWEEN 0 AND quantity),
        CHECK (received_quantity BETWEEN 0 AND shipped_quantity)
    )",
    "CREATE INDEX equipment_order_lines_order ON equipment_order_lines(order_id)",
    "CREATE TABLE shipments (
        id {id},
        order_id BIGINT NOT NULL REFERENCES equipment_orders(id),
        from_warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
        transit_warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
        to_warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
        status VARCHAR(30) NOT NULL,
        shipped_by BIGINT NULL,
        shipped_at {ts} NOT NULL,
        received_by BIGINT NULL,
        received_at {ts} NULL,
        discrepancy_note VARCHAR(1000) NULL
    )",
    "CREATE INDEX shipments_order ON shipments(order_id)",
    "CREATE TABLE shipment_lines (
        id {id},
        shipment_id BIGINT NOT NULL REFERENCES shipments(id),
        order_line_id BIGINT NOT NULL REFERENCES equipment_order_lines(id),
        unit_id BIGINT NOT NULL REFERENCES stock_units(id),
        model_id BIGINT NOT NULL REFERENCES equipment_models(id),
        serial VARCHAR(64) NOT NULL,
        transfer_kind VARCHAR(20) NOT NULL,
        price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
        terms TEXT NOT NULL,
        receipt_status VARCHAR(20) NULL,
        receipt_note VARCHAR(500) NULL,
        UNIQUE (shipment_id, unit_id)
    )",
    "CREATE INDEX shipment_lines_unit ON shipment_lines(unit_id)",
    "CREATE TABLE dealer_obligations (
        id {id},
        shipment_line_id BIGINT NOT NULL REFERENCES shipment_lines(id),
        unit_id BIGINT NOT NULL REFERENCES stock_units(id),
        serial VARCHAR(64) NOT NULL,
        dealer_org_id BIGINT NOT NULL REFERENCES org_nodes(id),
        transfer_kind VARCHAR(20) NOT NULL,
        what VARCHAR(20) NOT NULL,
        seq INTEGER NOT NULL,
        amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),
        due_at {ts} NOT NULL,
        status VARCHAR(20) NOT NULL,
        settled_at {ts} NULL,
        settled_by BIGINT NULL,
        version INTEGER NOT NULL DEFAULT 1
    )",
    "CREATE INDEX dealer_obligations_dealer ON dealer_obligations(dealer_org_id, status, due_at)",
    "CREATE INDEX dealer_obligations_due ON dealer_obligations(status, due_at)",
    "CREATE TABLE installations (
        id {id},
        unit_id BIGINT NOT NULL REFERENCES stock_units(id),
        serial VARCHAR(64) NOT NULL,
        org_id BIGINT NOT NULL REFERENCES org_nodes(id),
        customer VARCHAR(200) NOT NULL,
        address VARCHAR(500) NOT NULL DEFAULT '',
        installed_at {ts} NOT NULL,
        warranty_until {ts} NOT NULL,
        installed_by BIGINT NULL,
        created_at {ts} NOT NULL
    )",
    "CREATE INDEX installations_unit ON installations(unit_id)",
    "CREATE TABLE repairs (
        id {id},
        unit_id BIGINT NOT NULL REFERENCES stock_units(id),
        serial VARCHAR(64) NOT NULL,
        service_org_id BIGINT NOT NULL REFERENCES org_nodes(id),
        came_from_warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
        complaint VARCHAR(1000) NOT NULL DEFAULT '',
        warranty {bool} NOT NULL,
        warranty_reason VARCHAR(300) NOT NULL,
        installed_at {ts} NULL,
        warranty_until {ts} NULL,
        status VARCHAR(20) NOT NULL,
        outcome VARCHAR(20) NULL,
        replacement_unit_id BIGINT NULL REFERENCES stock_units(id),
        replacement_serial VARCHAR(64) NULL,
        outcome_note VARCHAR(1000) NULL,
        created_by BIGINT NULL,
        created_at {ts} NOT NULL,
        closed_at {ts} NULL,
        version INTEGER NOT NULL DEFAULT 1
    )",
    "CREATE INDEX repairs_unit ON repairs(unit_id)",
    "CREATE INDEX repairs_service ON repairs(service_org_id, id)",
    "CREATE UNIQUE INDEX repairs_one_open_per_unit ON repairs(unit_id) WHERE status = 'open'",
    "CREATE TABLE rtm_batches (
        id {id},
        org_id BIGINT NOT NULL REFERENCES org_nodes(id),
        manufacturer VARCHAR(100) NOT NULL,
        note VARCHAR(1000) NOT NULL DEFAULT '',
        units INTEGER NOT NULL,
        created_by BIGINT NULL,
        created_at {ts} NOT NULL
    )",
    "CREATE TABLE rtm_batch_units (
        batch_id BIGINT NOT NULL REFERENCES rtm_batches(id),
        unit_id BIGINT NOT NULL REFERENCES stock_units(id),
        serial VARCHAR(64) NOT NULL,
        from_warehouse_id BIGINT NOT NULL REFERENCES warehouses(id),
        reason VARCHAR(300) NOT NULL DEFAULT '',
        PRIMARY KEY (batch_id, unit_id)
    )",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(manager, STATEMENTS).await?;
        sql::append_only(manager, "stock_ledger").await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
