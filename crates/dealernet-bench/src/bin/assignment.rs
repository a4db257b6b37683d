//! `cargo run --release -p dealernet-bench --bin assignment`: how fast dealers are assigned.
//!
//! On a fresh PostgreSQL database it loads 5,000 dealers (then 50,000) with circular service
//! areas of 20–80 km scattered over 45–65° N, 30–90° E, and measures
//!
//! 1. one assignment decision in-process (`requests::rank`: the candidate query by the areas'
//!    bounding boxes and region codes, plus the pure scoring), sequentially, p50/p99;
//! 2. request creations with assignment per second through the HTTP API with 32 concurrent
//!    clients (each creation: insert, rank, claim a slot, offer, store the explanation, audit).
//!
//! Measured, not asserted. `DEALERNET_BENCH_PG` names the server (default local `postgres`),
//! `BENCH_SECS` the length of each throughput run (default 10), `BENCH_DECISIONS` the number of
//! in-process decisions (default 2000), `BENCH_PG_SSLMODE` the app's `sslmode` (default `prefer`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dealernet_api::{Application, Settings};
use dealernet_data::dealers::requests;
use dealernet_domain::dealers::ServiceType;
use dealernet_domain::dealers::assignment::{JobSite, Weights};
use dealernet_domain::dealers::geo::GeoPoint;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use secrecy::SecretString;
use serde_json::{Value, json};

const SECRET: &str = "bench-secret-bench-secret-bench-secret-42";
const ADMIN: &str = "bench-admin@example.com";
const PASSWORD: &str = "bench password 2026";
const CLIENTS: usize = 32;

/// A tiny deterministic generator (no dependency needed for scattering points).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn site(&mut self) -> GeoPoint {
        GeoPoint::new(45.0 + self.next() * 20.0, 30.0 + self.next() * 60.0)
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

#[tokio::main]
async fn main() -> Result<()> {
    let pg = std::env::var("DEALERNET_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let secs: u64 = env_num("BENCH_SECS", 10);
    let decisions: usize = env_num("BENCH_DECISIONS", 2000);
    let name = format!("dealernet_bench_assignment_{}", std::process::id());
    let admin = Database::connect(format!("{pg}/postgres")).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    // `BENCH_PG_SSLMODE` (default `prefer`, the driver's own) says whether the app's loopback
    // link to PostgreSQL is encrypted.
    let sslmode = std::env::var("BENCH_PG_SSLMODE").unwrap_or_else(|_| "prefer".into());
    let result = run(&format!("{pg}/{name}?sslmode={sslmode}"), secs, decisions).await;
    let _ = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
    result
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run(url: &str, secs: u64, decisions: usize) -> Result<()> {
    let settings = Settings {
        database_url: url.to_string(),
        bind: "127.0.0.1:0".into(),
        jwt_secret: Some(SecretString::from(SECRET)),
        db_max_connections: 32,
        log_level: "warn".into(),
        web_dir: PathBuf::from("/nonexistent"),
        ..Settings::default()
    };
    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    let root = dealernet_data::bootstrap::ensure_foundation(&db, "Operator").await?;
    dealernet_data::bootstrap::create_admin(&db, ADMIN, "Bench Admin", PASSWORD).await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()?;
    let login: Value = http
        .post(format!("{base}/auth/login"))
        .json(&json!({"email": ADMIN, "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["access_token"]
        .as_str()
        .context("no access token")?
        .to_string();
    println!("assignment benchmark (PostgreSQL, this build's profile)");
    let mut loaded = 0;
    for target in [5_000usize, 50_000] {
        let started = Instant::now();
        load_dealers(&db, root, loaded, target).await?;
        // The loader writes the rows by SQL; file their areas under the grid as the API would.
        dealernet_data::dealers::profiles::refile_all(&db).await?;
        db.execute_unprepared("ANALYZE dealer_cells").await?;
        loaded = target;
        println!(
            "\n{target} dealers loaded in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        decide_latency(&db, decisions, target as u64).await?;
        throughput(&http, &base, &token, secs, target as u64).await?;
    }
    Ok(())
}

/// Adds dealers `from+1 ..= to` (org nodes under the root and their profiles) in bulk SQL.
async fn load_dealers(db: &DatabaseConnection, root: i64, from: usize, to: usize) -> Result<()> {
    for sql in [
        format!("SELECT setseed({})", 0.1 + from as f64 / 1e6),
        format!(
            "INSERT INTO org_nodes (parent_id, kind, name, code, path, depth, active, version, created_at, updated_at) \
             SELECT {root}, 'dealer', 'Bench dealer ' || g, NULL, '/pending/' || g, 1, TRUE, 1, now(), now() \
             FROM generate_series({}, {to}) g",
            from + 1
        ),
        format!(
            "UPDATE org_nodes SET path = '/{root}/' || id || '/' WHERE path LIKE '/pending/%'"
        ),
        "INSERT INTO dealers (org_id, legal_name, tax_id, legal_address, contacts, offers_installation, \
           offers_repair, territory, area_min_lat, area_max_lat, area_min_lon, area_max_lon, base_lat, \
           base_lon, rating, capacity, open_jobs, working_hours, status, search_text, version, \
           created_at, updated_at) \
         SELECT id, name || ' LLC', '7700000000', '', '[]', TRUE, id % 3 = 0, \
           json_build_object('region_codes', json_build_array(), 'areas', json_build_array( \
             json_build_object('kind', 'circle', 'center', json_build_object('lat', lat, 'lon', lon), \
               'radius_km', r)))::text, \
           lat - r / 111.32, lat + r / 111.32, \
           lon - r / (111.32 * cos(radians(lat))), lon + r / (111.32 * cos(radians(lat))), \
           lat, lon, ((id % 50) / 10.0)::float8, 100, 0, '[]', \
           CASE WHEN id % 20 = 0 THEN 'suspended' ELSE 'active' END, lower(name), 1, now(), now() \
         FROM (SELECT n.id, n.name, 45 + random() * 20 AS lat, 30 + random() * 60 AS lon, \
                 20 + random() * 60 AS r \
               FROM org_nodes n LEFT JOIN dealers d ON d.org_id = n.id \
               WHERE n.kind = 'dealer' AND d.id IS NULL) x"
            .to_string(),
        "ANALYZE org_nodes".into(),
        "ANALYZE dealers".into(),
    ] {
        db.execute_unprepared(&sql)
            .await
            .with_context(|| sql.chars().take(80).collect::<String>())?;
    }
    Ok(())
}

async fn decide_latency(db: &DatabaseConnection, n: usize, dealers: u64) -> Result<()> {
    let mut rng = Lcg(dealers);
    let mut ms = Vec::with_capacity(n);
    let mut candidates = 0usize;
    let mut excluded = 0usize;
    for _ in 0..n {
        let site = JobSite {
            location: rng.site(),
            region_code: None,
            service: ServiceType::Installation,
        };
        let t = Instant::now();
        let (d, _) = requests::rank(db, &site, &[], Weights::default()).await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        candidates += d.candidates.len();
        excluded += d.excluded.len();
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "  one decision in-process ({n} sites, sequential): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; \
         {:.1} candidates and {:.1} exclusions listed per decision",
        pct(&ms, 0.5),
        pct(&ms, 0.99),
        ms.last().copied().unwrap_or(0.0),
        candidates as f64 / n as f64,
        excluded as f64 / n as f64,
    );
    Ok(())
}

async fn throughput(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    secs: u64,
    seed: u64,
) -> Result<()> {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let assigned = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (http, base, token) = (http.clone(), base.to_string(), token.to_string());
        let (ok, failed, assigned) = (ok.clone(), failed.clone(), assigned.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Lcg(seed * 1000 + c as u64);
            let mut lat_ms = Vec::new();
            while Instant::now() < deadline {
                let p = rng.site();
                let body = json!({
                    "customer": {"kind": "private", "name": "Bench Customer"},
                    "address": "Bench street 1",
                    "location": {"lat": p.lat, "lon": p.lon},
                    "service": "installation",
                });
                let t = Instant::now();
                let res = http
                    .post(format!("{base}/installation-requests"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let v: Value = r.json().await.unwrap_or(Value::Null);
                        lat_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                        ok.fetch_add(1, Ordering::Relaxed);
                        if v["status"] == "offered" {
                            assigned.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat_ms
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let n = ok.load(Ordering::Relaxed);
    println!(
        "  creations with assignment via the API ({CLIENTS} clients, {secs} s): {:.0}/s \
         ({n} created, {} offered to a dealer, {} failed); latency p50 {:.1} ms, p99 {:.1} ms",
        n as f64 / elapsed,
        assigned.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        pct(&all, 0.5),
        pct(&all, 0.99),
    );
    if n == 0 {
        bail!("no request was created");
    }
    Ok(())
}
