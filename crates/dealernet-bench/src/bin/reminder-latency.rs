//! `cargo run --release -p dealernet-bench --bin reminder-latency`: how late reminders reach the
//! user. Two application instances (default settings: 1 s scheduler tick, 500 ms push poll)
//! share a fresh PostgreSQL database; one user has a live stream open on the instance that does
//! NOT run the scheduler, so every event crosses instances. Reminders fall due spread over a
//! window; for each one the report gives the delay from its due time to (a) the notification
//! row being written and (b) the event arriving on the stream. Measured, not asserted.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use dealernet_api::{Application, Settings};
use sea_orm::{ConnectionTrait, Database, Statement};
use secrecy::SecretString;
use serde_json::{Value, json};

const SECRET: &str = "bench-secret-bench-secret-bench-secret-42";

fn settings(url: &str, scheduler: bool) -> Settings {
    Settings {
        database_url: url.to_string(),
        bind: "127.0.0.1:0".into(),
        jwt_secret: Some(SecretString::from(SECRET)),
        db_max_connections: 8,
        workers: 2,
        log_level: "warn".into(),
        web_dir: PathBuf::from("/nonexistent"),
        scheduler_enabled: scheduler,
        ..Settings::default()
    }
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summary(name: &str, mut ms: Vec<i64>) -> String {
    ms.sort_unstable();
    format!(
        "{name}: n={} p50={} ms p95={} ms p99={} ms max={} ms",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.95),
        percentile(&ms, 0.99),
        ms.last().copied().unwrap_or(0)
    )
}

#[tokio::main]
async fn main() -> Result<()> {
    let pg = std::env::var("DEALERNET_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let count: usize = std::env::var("REMINDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let name = format!("dealernet_bench_reminders_{}", std::process::id());
    let admin = Database::connect(format!("{pg}/postgres")).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    // `BENCH_PG_SSLMODE` (default `prefer`, the driver's own) says whether the app's loopback
    // link to PostgreSQL is encrypted.
    let sslmode = std::env::var("BENCH_PG_SSLMODE").unwrap_or_else(|_| "prefer".into());
    let result = run(&format!("{pg}/{name}?sslmode={sslmode}"), count).await;
    let _ = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
    println!("{}", result?);
    Ok(())
}

async fn run(url: &str, count: usize) -> Result<String> {
    // The stream instance first (it migrates), then the scheduler instance.
    let streamer = Application::build(settings(url, false)).await?;
    let stream_port = streamer.port();
    let db = streamer.db().clone();
    tokio::spawn(streamer.run_until_stopped());
    let scheduler = Application::build(settings(url, true)).await?;
    let api_port = scheduler.port();
    tokio::spawn(scheduler.run_until_stopped());
    dealernet_data::bootstrap::create_admin(&db, "bench@example.com", "Bench", "bench password 42")
        .await?;

    let http = reqwest::Client::new();
    let api = format!("http://127.0.0.1:{api_port}/api/v1");
    let login: Value = http
        .post(format!("{api}/auth/login"))
        .json(&json!({"email": "bench@example.com", "password": "bench password 42"}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["access_token"]
        .as_str()
        .context("no token")?
        .to_string();
    let ticket: Value = http
        .post(format!("{api}/notifications/stream-ticket"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let t = ticket["ticket"].as_str().context("no ticket")?;
    let mut stream = http
        .get(format!(
            "http://127.0.0.1:{stream_port}/api/v1/notifications/stream?ticket={t}"
        ))
        .send()
        .await?;
    if !stream.status().is_success() {
        bail!("stream: {}", stream.status());
    }

    // Reminders due over a 20-second window starting 5 s from now.
    let start = Utc::now() + chrono::Duration::seconds(5);
    let mut due: HashMap<i64, DateTime<Utc>> = HashMap::new();
    for i in 0..count {
        let at = start + chrono::Duration::milliseconds((i as i64 * 20_000) / count.max(1) as i64);
        let r: Value = http
            .post(format!("{api}/reminders"))
            .bearer_auth(&token)
            .json(&json!({"title": format!("R{i}"), "due_at": at}))
            .send()
            .await?
            .json()
            .await?;
        due.insert(r["id"].as_i64().context("no reminder id")?, at);
    }

    let mut pushed_ms = Vec::with_capacity(count);
    let mut buffer = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while pushed_ms.len() < count && tokio::time::Instant::now() < deadline {
        let Ok(Ok(Some(bytes))) =
            tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await
        else {
            continue;
        };
        let arrived = Utc::now();
        buffer.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if !block.contains("event: notification") {
                continue;
            }
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap_or("{}");
            let n: Value = serde_json::from_str(data).unwrap_or_default();
            if let Some(at) = n["record_id"].as_i64().and_then(|id| due.get(&id)) {
                pushed_ms.push((arrived - *at).num_milliseconds());
            }
        }
    }

    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT n.record_id, n.created_at FROM notifications n WHERE n.kind = 'reminder'",
        ))
        .await?;
    let mut written_ms = Vec::with_capacity(rows.len());
    for r in rows {
        let id: Option<i64> = r.try_get("", "record_id")?;
        let at: DateTime<Utc> = r.try_get("", "created_at")?;
        if let Some(d) = id.and_then(|id| due.get(&id)) {
            written_ms.push((at - *d).num_milliseconds());
        }
    }
    let delivered = written_ms.len();
    Ok(format!(
        "reminder latency, {count} reminders due over 20 s, 2 instances on PostgreSQL, scheduler tick 1 s, push poll 500 ms\n\
         delivered exactly once: {}\n{}\n{}",
        delivered == count,
        summary("due -> notification written", written_ms),
        summary("due -> event on the stream (other instance)", pushed_ms),
    ))
}
