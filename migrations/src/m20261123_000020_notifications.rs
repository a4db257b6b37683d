//! Reminders, in-app notifications, notification preferences, watches on records, the e-mail
//! outbox and the single-use tickets that open the live notification stream.

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[&str] = &[
    "CREATE TABLE reminders (
        id {id},
        owner_id BIGINT NOT NULL REFERENCES users(id),
        org_id BIGINT NOT NULL REFERENCES org_nodes(id),
        title VARCHAR(200) NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        due_at {ts} NOT NULL,
        repeat_every VARCHAR(10) NOT NULL,
        target_kind VARCHAR(20) NOT NULL,
        target_id BIGINT NULL,
        target_label VARCHAR(300) NULL,
        link VARCHAR(300) NULL,
        state VARCHAR(12) NOT NULL,
        fired_at {ts} NULL,
        done_at {ts} NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "CREATE INDEX reminders_due ON reminders(state, due_at)",
    "CREATE INDEX reminders_owner ON reminders(owner_id, due_at)",
    "CREATE INDEX reminders_org ON reminders(org_id)",
    "CREATE TABLE notifications (
        id {id},
        user_id BIGINT NOT NULL REFERENCES users(id),
        kind VARCHAR(30) NOT NULL,
        title VARCHAR(300) NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        link VARCHAR(300) NULL,
        resource VARCHAR(40) NULL,
        record_id BIGINT NULL,
        in_app {bool} NOT NULL,
        push {bool} NOT NULL,
        created_at {ts} NOT NULL,
        read_at {ts} NULL
    )",
    "CREATE INDEX notifications_user ON notifications(user_id, in_app, read_at, id)",
    "CREATE INDEX notifications_created ON notifications(created_at)",
    "CREATE TABLE notification_preferences (
        user_id BIGINT NOT NULL REFERENCES users(id),
        kind VARCHAR(30) NOT NULL,
        in_app {bool} NOT NULL,
        email {bool} NOT NULL,
        push {bool} NOT NULL,
        updated_at {ts} NOT NULL,
        PRIMARY KEY (user_id, kind)
    )",
    "CREATE TABLE watches (
        user_id BIGINT NOT NULL REFERENCES users(id),
        resource VARCHAR(40) NOT NULL,
        record_id BIGINT NOT NULL,
        created_at {ts} NOT NULL,
        PRIMARY KEY (user_id, resource, record_id)
    )",
    "CREATE INDEX watches_record ON watches(resource, record_id)",
    "CREATE TABLE email_outbox (
        id {id},
        user_id BIGINT NULL REFERENCES users(id),
        to_address VARCHAR(254) NOT NULL,
        subject VARCHAR(300) NOT NULL,
        body TEXT NOT NULL,
        state VARCHAR(12) NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT NULL,
        next_attempt_at {ts} NOT NULL,
        created_at {ts} NOT NULL,
        sent_at {ts} NULL
    )",
    "CREATE INDEX email_outbox_pending ON email_outbox(state, next_attempt_at)",
    "CREATE TABLE stream_tickets (
        ticket_hash VARCHAR(64) PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users(id),
        session_id VARCHAR(36) NULL,
        expires_at {ts} NOT NULL,
        used_at {ts} NULL,
        created_at {ts} NOT NULL
    )",
    "CREATE INDEX stream_tickets_expires ON stream_tickets(expires_at)",
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
