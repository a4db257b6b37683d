//! Runtime settings. The server binary fills them from a config file and `DEALERNET_*`
//! environment variables; tests build them directly.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `sqlite://…` or `postgres://…`. Empty: an SQLite file in `data_dir`.
    pub database_url: String,
    /// Where the embedded database and other local state live.
    pub data_dir: PathBuf,
    /// Address to listen on, e.g. `127.0.0.1:8080` (port 0 picks a free port).
    pub bind: String,
    /// HMAC secret for access tokens. Empty: generated on first start and kept in the database.
    pub jwt_secret: Option<SecretString>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// Lifetime of access tokens in seconds (at most 900).
    pub access_token_ttl_secs: i64,
    /// The built SPA. Missing: `/` explains how to build it.
    pub web_dir: PathBuf,
    pub log_format: LogFormat,
    /// `tracing` filter, e.g. `info,dealernet_api=debug`.
    pub log_level: String,
    /// Origins allowed by CORS; empty: same-origin only.
    pub cors_origins: Vec<String>,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// PostgreSQL connections in all, shared out among the HTTP workers; default four per core.
    /// More than that only queues the work inside the server: on two cores, 32 connections
    /// tripled the p99 latency of a by-id read against 8, for no more throughput.
    pub db_max_connections: u32,
    /// Failed logins allowed per account, and per client address, within `login_window_secs`.
    pub login_max_failures_per_account: u32,
    pub login_max_failures_per_ip: u32,
    pub login_window_secs: u64,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
    /// Name of the operator root node created on first start.
    pub operator_name: String,
    /// Reminders, notifications and e-mail (see `crate::notify`).
    pub scheduler_enabled: bool,
    /// How often the scheduler looks for due reminders and queued e-mails, in milliseconds.
    pub scheduler_tick_ms: u64,
    /// How often each instance looks for new notifications to push live, in milliseconds.
    pub push_poll_ms: u64,
    /// Seconds between heartbeats (and session checks) on the live notification stream.
    pub stream_heartbeat_secs: u64,
    /// SMTP server for e-mail notifications (plain SMTP, e.g. a local relay); empty: none sent.
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_from: String,
    /// Public address of the web app, put before the links in e-mails.
    pub public_url: String,
    /// Dealer assignment (see `crate::dealers`): the weights of distance, rating and free
    /// capacity, the distance at which the distance factor reaches 0, how long a dealer has to
    /// answer an offer, and how often expired offers are looked for.
    pub assignment_weight_distance: f64,
    pub assignment_weight_rating: f64,
    pub assignment_weight_load: f64,
    pub assignment_max_distance_km: f64,
    pub assignment_offer_timeout_secs: u64,
    pub assignment_tick_ms: u64,
    /// A Nominatim-compatible geocoder, e.g. `https://nominatim.example.org`; empty: none.
    pub geocoder_url: String,
    /// Map tiles for the web app, e.g. `https://tile.example.org/{z}/{x}/{y}.png`; empty: maps
    /// are drawn without tiles.
    pub map_tile_url: String,
    /// CRM: where documents are stored (a local directory; empty: `<data_dir>/documents`).
    pub documents_dir: PathBuf,
    /// CRM: largest document accepted, in bytes.
    pub document_max_bytes: usize,
    /// CRM: largest import file accepted, in bytes.
    pub import_max_bytes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: String::new(),
            data_dir: PathBuf::from("data"),
            bind: "127.0.0.1:8080".into(),
            jwt_secret: None,
            jwt_issuer: "dealernet".into(),
            jwt_audience: "dealernet-api".into(),
            access_token_ttl_secs: 900,
            web_dir: PathBuf::from("frontend/dist"),
            log_format: LogFormat::Pretty,
            log_level: "info".into(),
            cors_origins: Vec::new(),
            body_limit_bytes: 1024 * 1024,
            db_max_connections: 4 * std::thread::available_parallelism()
                .map_or(2, |n| n.get() as u32),
            login_max_failures_per_account: 5,
            login_max_failures_per_ip: 30,
            login_window_secs: 900,
            trust_forwarded_for: false,
            workers: 0,
            operator_name: "Operator".into(),
            scheduler_enabled: true,
            scheduler_tick_ms: 1000,
            push_poll_ms: 500,
            stream_heartbeat_secs: 15,
            smtp_host: String::new(),
            smtp_port: 25,
            smtp_from: "DealerNet <noreply@dealernet.local>".into(),
            public_url: String::new(),
            assignment_weight_distance: 0.4,
            assignment_weight_rating: 0.3,
            assignment_weight_load: 0.3,
            assignment_max_distance_km: 100.0,
            assignment_offer_timeout_secs: 1800,
            assignment_tick_ms: 1000,
            geocoder_url: String::new(),
            map_tile_url: String::new(),
            documents_dir: PathBuf::new(),
            document_max_bytes: 10 * 1024 * 1024,
            import_max_bytes: 20 * 1024 * 1024,
        }
    }
}

impl Settings {
    /// Where CRM documents live: `documents_dir`, or `<data_dir>/documents`.
    pub fn effective_documents_dir(&self) -> PathBuf {
        if self.documents_dir.as_os_str().is_empty() {
            self.data_dir.join("documents")
        } else {
            self.documents_dir.clone()
        }
    }

    /// The database URL, defaulting to `<data_dir>/dealernet.db` (created on first run).
    pub fn effective_database_url(&self) -> String {
        if self.database_url.trim().is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("dealernet.db").display()
            )
        } else {
            self.database_url.clone()
        }
    }
}
