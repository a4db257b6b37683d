//! The foundation: organisation tree, roles, users, sessions, API keys, audit trail,
//! idempotency records and server secrets.

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const STATEMENTS: &[&str] = &[
    "CREATE TABLE org_nodes (
        id {id},
        parent_id BIGINT NULL REFERENCES org_nodes(id),
        kind VARCHAR(20) NOT NULL,
        name VARCHAR(200) NOT NULL,
        code VARCHAR(50) NULL UNIQUE,
        path VARCHAR(400) {c} NOT NULL UNIQUE,
        depth INTEGER NOT NULL,
        active {bool} NOT NULL DEFAULT TRUE,
        version INTEGER NOT NULL DEFAULT 1,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "CREATE INDEX org_nodes_parent ON org_nodes(parent_id)",
    "CREATE INDEX org_nodes_kind_path ON org_nodes(kind, path)",
    "CREATE TABLE roles (
        id {id},
        code VARCHAR(50) NOT NULL UNIQUE,
        name VARCHAR(100) NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        level SMALLINT NOT NULL,
        scope VARCHAR(20) NOT NULL,
        permissions TEXT NOT NULL,
        field_policies TEXT NOT NULL,
        back_office {bool} NOT NULL DEFAULT FALSE,
        builtin {bool} NOT NULL DEFAULT FALSE,
        version INTEGER NOT NULL DEFAULT 1,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "CREATE TABLE users (
        id {id},
        email VARCHAR(254) NOT NULL UNIQUE,
        name VARCHAR(200) NOT NULL,
        phone VARCHAR(40) NULL,
        org_id BIGINT NOT NULL REFERENCES org_nodes(id),
        access_level SMALLINT NOT NULL CHECK (access_level BETWEEN 1 AND 8),
        status VARCHAR(20) NOT NULL,
        seller_code VARCHAR(32) NULL UNIQUE,
        password_hash VARCHAR(200) NOT NULL,
        last_login_at {ts} NULL,
        created_by BIGINT NULL REFERENCES users(id),
        version INTEGER NOT NULL DEFAULT 1,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "CREATE INDEX users_org ON users(org_id)",
    "CREATE INDEX users_name ON users(name)",
    "CREATE INDEX users_created_at ON users(created_at)",
    "CREATE TABLE user_roles (
        user_id BIGINT NOT NULL REFERENCES users(id),
        role_id BIGINT NOT NULL REFERENCES roles(id),
        granted_by BIGINT NULL REFERENCES users(id),
        granted_at {ts} NOT NULL,
        PRIMARY KEY (user_id, role_id)
    )",
    "CREATE INDEX user_roles_role ON user_roles(role_id)",
    "CREATE TABLE auth_sessions (
        id VARCHAR(36) PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users(id),
        created_at {ts} NOT NULL,
        last_used_at {ts} NOT NULL,
        expires_at {ts} NOT NULL,
        revoked_at {ts} NULL,
        revoked_reason VARCHAR(50) NULL,
        user_agent VARCHAR(300) NULL,
        ip VARCHAR(64) NULL
    )",
    "CREATE INDEX auth_sessions_user ON auth_sessions(user_id)",
    "CREATE TABLE refresh_tokens (
        id {id},
        session_id VARCHAR(36) NOT NULL REFERENCES auth_sessions(id),
        token_hash VARCHAR(64) NOT NULL UNIQUE,
        created_at {ts} NOT NULL,
        used_at {ts} NULL
    )",
    "CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id)",
    "CREATE TABLE api_keys (
        id {id},
        name VARCHAR(100) NOT NULL,
        prefix VARCHAR(20) NOT NULL UNIQUE,
        secret_hash VARCHAR(64) NOT NULL,
        role_id BIGINT NOT NULL REFERENCES roles(id),
        org_id BIGINT NOT NULL REFERENCES org_nodes(id),
        created_by BIGINT NULL REFERENCES users(id),
        created_at {ts} NOT NULL,
        last_used_at {ts} NULL,
        revoked_at {ts} NULL
    )",
    "CREATE INDEX api_keys_org ON api_keys(org_id)",
    "CREATE TABLE audit_log (
        id {id},
        at {ts} NOT NULL,
        actor_user_id BIGINT NULL,
        actor_api_key_id BIGINT NULL,
        actor_name VARCHAR(200) NULL,
        action VARCHAR(50) NOT NULL,
        entity VARCHAR(50) NOT NULL,
        entity_id BIGINT NOT NULL,
        org_id BIGINT NULL,
        responsible_id BIGINT NULL,
        before_json TEXT NULL,
        after_json TEXT NULL,
        changed TEXT NOT NULL,
        request_id VARCHAR(64) NULL,
        client_ip VARCHAR(64) NULL
    )",
    "CREATE INDEX audit_log_entity ON audit_log(entity, entity_id, id)",
    "CREATE INDEX audit_log_org ON audit_log(org_id, id)",
    "CREATE TABLE idempotency_keys (
        id {id},
        actor VARCHAR(64) NOT NULL,
        idem_key VARCHAR(200) NOT NULL,
        method VARCHAR(10) NOT NULL,
        path VARCHAR(500) NOT NULL,
        request_hash VARCHAR(64) NOT NULL,
        status_code INTEGER NULL,
        response_headers TEXT NULL,
        response_body TEXT NULL,
        created_at {ts} NOT NULL,
        UNIQUE (actor, idem_key)
    )",
    "CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at)",
    "CREATE TABLE app_secrets (
        name VARCHAR(50) PRIMARY KEY,
        value TEXT NOT NULL,
        created_at {ts} NOT NULL
    )",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(manager, STATEMENTS).await?;
        sql::append_only(manager, "audit_log").await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
