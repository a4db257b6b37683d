//! Connecting to SQLite or PostgreSQL and migrating.

use std::time::Duration;

use dealernet_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

/// Connects to `url` (`sqlite://…` or `postgres://…`).
///
/// SQLite runs in WAL mode with foreign keys on and one pooled connection: SQLite serialises
/// writers anyway, and one connection makes every transaction start without lock upgrades that
/// could fail under concurrency. PostgreSQL gets a real pool, whose connections are pinged on
/// check-out only after [`PING_IF_IDLE_FOR`] of rest.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_string());
    let is_sqlite = url.starts_with("sqlite:");
    opts.max_connections(if is_sqlite { 1 } else { max_connections.max(2) })
        .min_connections(1)
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    let db = Database::connect(opts).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        for pragma in [
            "PRAGMA journal_mode = WAL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA busy_timeout = 5000",
            "PRAGMA synchronous = NORMAL",
        ] {
            db.execute_unprepared(pragma).await?;
        }
    }
    Ok(db)
}

/// A pooled PostgreSQL connection idle this long is pinged before it is handed out.
///
/// sqlx pings every connection it hands out by default: a round trip to the server before each
/// query, as long as the query itself for a by-id read. A connection in steady use is known to be
/// alive (sqlx also pings it when it comes back to the pool, so a broken one never returns); one
/// that has rested may have been cut by a server restart, a proxy or a firewall, so it is still
/// checked, and replaced if dead.
pub const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// A PostgreSQL pool for one HTTP worker thread, or `None` where the shared pool must serve
/// (SQLite, or no async runtime on the calling thread).
///
/// A socket belongs to the runtime that opened it: when a worker's request runs a query on a
/// connection another runtime opened, every read and write wakes that other runtime's thread
/// first, and the context switches cost more than the query. The pool is lazy, so each
/// connection is opened by (and stays with) the worker thread that first needs it.
pub fn worker_pool(url: &str, max_connections: u32) -> Option<DatabaseConnection> {
    use sea_orm::SqlxPostgresConnector;
    use sea_orm::sqlx::ConnectOptions as _;
    use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};

    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return None;
    }
    // The pool's maintenance task is spawned on the current runtime.
    tokio::runtime::Handle::try_current().ok()?;
    let options = url
        .parse::<PgConnectOptions>()
        .ok()?
        .disable_statement_logging();
    let pool = PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .min_connections(0)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IF_IDLE_FOR {
                    sea_orm::sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .acquire_timeout(Duration::from_secs(30))
        .connect_lazy_with(options);
    Some(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// A cheap query that proves the database answers.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.ping().await
}
