//! `cargo run --release -p dealernet-bench --bin warehouse`: the stock ledger under load.
//!
//! On a fresh PostgreSQL database built by the migrations it loads a network of 50 regions with
//! 5,000 dealers, a warehouse per dealer and 2,000,000 serialised units (each with its receipt
//! entry in the ledger and the maintained balances), then measures through the HTTP API:
//!
//! 1. transfers per second with 32 concurrent clients, each moving its own serials between
//!    random dealer warehouses (every transfer: lock the unit, move it, two balance updates, a
//!    ledger entry and the audit entry, in one transaction);
//! 2. contention: 4 clients at once try to move each of 200 serials: exactly one may win each,
//!    the rest must get 409;
//! 3. the stock level of a region's subtree (100 warehouses, totals per model), p50/p95;
//! 4. a serial's timeline, p50/p95;
//!
//! and then proves there is no anomaly: the ledger check (balances equal the ledger, every
//! serial is where its last entry put it, nothing negative) over the whole database.
//!
//! Measured, not asserted. `DEALERNET_BENCH_PG` names the server (default local `postgres`),
//! `BENCH_SECS` the length of the throughput run (default 20), `BENCH_UNITS` the number of units
//! (default 2,000,000), `BENCH_LATENCY_N` the requests per latency figure (default 500).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dealernet_api::{Application, Settings};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use secrecy::SecretString;
use serde_json::{Value, json};

const SECRET: &str = "bench-secret-bench-secret-bench-secret-42";
const ADMIN: &str = "bench-admin@example.com";
const PASSWORD: &str = "bench password 2026";
const CLIENTS: usize = 32;
const REGIONS: usize = 50;
const DEALERS: usize = 5_000;
const MODELS: usize = 4;

struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn serial(g: usize) -> String {
    format!("BU{g:08}")
}

#[tokio::main]
async fn main() -> Result<()> {
    let pg = std::env::var("DEALERNET_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let name = format!("dealernet_bench_warehouse_{}", std::process::id());
    let admin = Database::connect(format!("{pg}/postgres")).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    // The app reaches PostgreSQL over loopback; `BENCH_PG_SSLMODE` (default `prefer`, the
    // driver's own default) says whether that link is encrypted.
    let sslmode = std::env::var("BENCH_PG_SSLMODE").unwrap_or_else(|_| "prefer".into());
    let result = run(&format!("{pg}/{name}?sslmode={sslmode}")).await;
    let _ = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
    result
}

/// What the loader made: ids the clients need.
struct Network {
    regions: Vec<i64>,
    /// Dealer warehouses in load order; unit `g` (1-based) starts in `dealer_whs[(g-1) % n]`.
    dealer_whs: Vec<i64>,
    units: usize,
}

async fn run(url: &str) -> Result<()> {
    let secs: u64 = env_num("BENCH_SECS", 20);
    let units: usize = env_num("BENCH_UNITS", 2_000_000);
    let latency_n: usize = env_num("BENCH_LATENCY_N", 500);
    let settings = Settings {
        database_url: url.to_string(),
        bind: "127.0.0.1:0".into(),
        jwt_secret: Some(SecretString::from(SECRET)),
        db_max_connections: 40,
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
    println!("warehouse benchmark (PostgreSQL, this build's profile)");

    let started = Instant::now();
    let net = load(&db, root, units).await?;
    println!(
        "loaded {REGIONS} regions, {} dealer warehouses, {} serialised units with their receipt \
         entries and balances in {:.1} s",
        net.dealer_whs.len(),
        net.units,
        started.elapsed().as_secs_f64()
    );

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS * 4)
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
    let net = Arc::new(net);

    // Warm the pool and the caches a little before measuring.
    throughput(&http, &base, &token, &net, 2, 7, false).await?;
    let moved = throughput(&http, &base, &token, &net, secs, 1, true).await?;
    let contended = contention(&http, &base, &token, &net, moved).await?;
    latency(&http, &base, &token, &net, latency_n).await?;

    let t = Instant::now();
    let check = dealernet_data::warehouse::ledger::check_unscoped(&db).await?;
    println!(
        "\nledger check over {} entries, {} balances, {} units in {:.1} s: {} \
         ({} mismatched balances, {} misplaced serials, {} negative balances)",
        check.entries,
        check.balances,
        check.units,
        t.elapsed().as_secs_f64(),
        if check.ok { "no anomaly" } else { "ANOMALIES" },
        check.mismatches.len(),
        check.misplaced_serials.len(),
        check.negative_balances,
    );
    if !check.ok || contended > 0 {
        bail!("anomalies found");
    }
    Ok(())
}

/// Loads the network in bulk SQL, as an ERP migration would.
async fn load(db: &DatabaseConnection, root: i64, units: usize) -> Result<Network> {
    let now = "now()";
    let statements = vec![
        format!(
            "INSERT INTO org_nodes (parent_id, kind, name, code, path, depth, active, version, created_at, updated_at) \
             SELECT {root}, 'region', 'Bench region ' || g, 'BR-' || g, '/pending/' || g, 1, TRUE, 1, {now}, {now} \
             FROM generate_series(1, {REGIONS}) g"
        ),
        format!("UPDATE org_nodes SET path = '/{root}/' || id || '/' WHERE path LIKE '/pending/%'"),
        format!(
            "INSERT INTO org_nodes (parent_id, kind, name, code, path, depth, active, version, created_at, updated_at) \
             SELECT r.id, 'dealer', 'Bench dealer ' || g, 'BD-' || g, '/pending/' || g, 2, TRUE, 1, {now}, {now} \
             FROM generate_series(1, {DEALERS}) g \
             JOIN org_nodes r ON r.kind = 'region' AND r.code = 'BR-' || (1 + (g - 1) % {REGIONS})"
        ),
        "UPDATE org_nodes d SET path = r.path || d.id || '/' FROM org_nodes r \
         WHERE d.parent_id = r.id AND d.path LIKE '/pending/%'"
            .into(),
        format!(
            "INSERT INTO warehouses (org_id, kind, name, code, is_virtual, active, version, created_at, updated_at) \
             VALUES ({root}, 'central', 'Central warehouse', 'WH-CENTRAL', FALSE, TRUE, 1, {now}, {now})"
        ),
        format!(
            "INSERT INTO warehouses (org_id, kind, name, code, is_virtual, active, version, created_at, updated_at) \
             SELECT id, 'dealer', name || ' stock', 'WH-' || code, FALSE, TRUE, 1, {now}, {now} \
             FROM org_nodes WHERE kind = 'dealer' ORDER BY id"
        ),
        format!(
            "INSERT INTO equipment_models (kind, manufacturer, model, serialised, is_kit, warranty_months, \
               list_price_cents, active, version, created_at, updated_at) \
             SELECT 'receiver', 'Bench', 'Model ' || g, TRUE, FALSE, 12, 500000, TRUE, 1, {now}, {now} \
             FROM generate_series(1, {MODELS}) g"
        ),
        // Unit g sits in the ((g-1) % n)-th dealer warehouse, of model ((g-1) / n) % 4.
        format!(
            "INSERT INTO stock_units (serial, model_id, warehouse_id, owner_org_id, condition, version, created_at, updated_at) \
             SELECT 'BU' || lpad(g::text, 8, '0'), m.id, w.id, NULL, 'new', 1, {now}, {now} \
             FROM generate_series(1, {units}) g \
             JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM warehouses WHERE kind = 'dealer') w \
               ON w.i = (g - 1) % {DEALERS} \
             JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM equipment_models WHERE manufacturer = 'Bench') m \
               ON m.i = ((g - 1) / {DEALERS}) % {MODELS} \
             ORDER BY g"
        ),
        format!(
            "INSERT INTO stock_ledger (at, model_id, unit_id, serial, quantity, from_warehouse_id, to_warehouse_id, \
               reason, document_kind, document_id, actor_name, note) \
             SELECT {now}, model_id, id, serial, 1, NULL, warehouse_id, 'receipt', NULL, NULL, 'ERP migration', '' \
             FROM stock_units ORDER BY id"
        ),
        "INSERT INTO stock_balances (warehouse_id, model_id, quantity) \
         SELECT warehouse_id, model_id, COUNT(*) FROM stock_units GROUP BY warehouse_id, model_id"
            .into(),
        "ANALYZE".into(),
    ];
    for sql in statements {
        db.execute_unprepared(&sql)
            .await
            .with_context(|| sql.chars().take(100).collect::<String>())?;
    }
    let ids = |sql: &'static str| async move {
        let rows = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await?;
        rows.iter()
            .map(|r| r.try_get::<i64>("", "id").map_err(anyhow::Error::from))
            .collect::<Result<Vec<i64>>>()
    };
    let regions =
        ids("SELECT id FROM org_nodes WHERE kind = 'region' AND code LIKE 'BR-%' ORDER BY id")
            .await?;
    let dealer_whs = ids("SELECT id FROM warehouses WHERE kind = 'dealer' ORDER BY id").await?;
    if dealer_whs.len() != DEALERS || regions.len() != REGIONS {
        bail!(
            "the loader made {} regions and {} warehouses",
            regions.len(),
            dealer_whs.len()
        );
    }
    Ok(Network {
        regions,
        dealer_whs,
        units,
    })
}

/// Where unit `g` started.
fn home(net: &Network, g: usize) -> i64 {
    net.dealer_whs[(g - 1) % net.dealer_whs.len()]
}

/// 32 clients moving their own serials (client c owns units c+1, c+1+32, …) from where they are
/// to a random other dealer warehouse. Returns how many units it moved (all of the first ones of
/// each client) so the next phase uses units nobody touched.
async fn throughput(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    net: &Arc<Network>,
    secs: u64,
    seed: u64,
    report: bool,
) -> Result<usize> {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    // Each client walks its own stride of units, starting past the warm-up's.
    let offset = if report { 0 } else { net.units / 2 };
    for c in 0..CLIENTS {
        let (http, base, token, net) = (
            http.clone(),
            base.to_string(),
            token.to_string(),
            net.clone(),
        );
        let (ok, failed) = (ok.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Lcg(seed * 1000 + c as u64);
            let mut lat_ms = Vec::new();
            let mut at: HashMap<usize, i64> = HashMap::new();
            let mut k = 0usize;
            let mut first_error: Option<String> = None;
            while Instant::now() < deadline {
                // Revisit earlier units now and then, so some move twice or more.
                let g = if k > 10 && rng.below(4) == 0 {
                    offset + c + 1 + CLIENTS * rng.below(k)
                } else {
                    k += 1;
                    offset + c + 1 + CLIENTS * (k - 1)
                };
                if g > net.units {
                    break;
                }
                let from = at.get(&g).copied().unwrap_or_else(|| home(&net, g));
                let mut to = net.dealer_whs[rng.below(net.dealer_whs.len())];
                if to == from {
                    to = net.dealer_whs
                        [(rng.below(net.dealer_whs.len() - 1) + 1) % net.dealer_whs.len()];
                }
                if to == from {
                    continue;
                }
                let body = json!({
                    "from_warehouse_id": from,
                    "to_warehouse_id": to,
                    "serials": [serial(g)],
                    "note": "bench",
                });
                let t = Instant::now();
                let res = http
                    .post(format!("{base}/stock/transfers"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let _ = r.bytes().await;
                        lat_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                        ok.fetch_add(1, Ordering::Relaxed);
                        at.insert(g, to);
                    }
                    Ok(r) => {
                        let status = r.status();
                        let text = r.text().await.unwrap_or_default();
                        first_error.get_or_insert(format!("{status}: {text}"));
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        first_error.get_or_insert(e.to_string());
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            (lat_ms, k, first_error)
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    let mut furthest = 0;
    let mut errors = Vec::new();
    for t in tasks {
        let (lat, k, err) = t.await?;
        all.extend(lat);
        furthest = furthest.max(k);
        errors.extend(err);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let n = ok.load(Ordering::Relaxed);
    let f = failed.load(Ordering::Relaxed);
    if report {
        println!(
            "\ntransfers via the API ({CLIENTS} clients, {secs} s): {:.0}/s sustained \
             ({n} moved, {f} failed); latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
            n as f64 / elapsed,
            pct(&all, 0.5),
            pct(&all, 0.95),
            pct(&all, 0.99),
        );
    }
    if let Some(e) = errors.first() {
        println!("  first failure: {e}");
    }
    if f > 0 {
        bail!("{f} transfers of uncontended serials failed");
    }
    Ok(furthest * CLIENTS)
}

/// 4 clients at once try to move each of 200 untouched serials to four different places:
/// exactly one must win, the others must get 409. Returns the number of anomalies.
async fn contention(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    net: &Arc<Network>,
    moved: usize,
) -> Result<usize> {
    let mut anomalies = 0;
    let mut wins = 0;
    let mut conflicts = 0;
    let first = moved + CLIENTS + 1;
    let n = 200;
    for i in 0..n {
        let g = first + i * 7;
        if g > net.units / 2 {
            break;
        }
        let from = home(net, g);
        let mut racers = Vec::new();
        for r in 1..=4usize {
            let to =
                net.dealer_whs[((g - 1) % net.dealer_whs.len() + r * 13) % net.dealer_whs.len()];
            let (http, url, token) = (
                http.clone(),
                format!("{base}/stock/transfers"),
                token.to_string(),
            );
            let body =
                json!({"from_warehouse_id": from, "to_warehouse_id": to, "serials": [serial(g)]});
            racers.push(tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            }));
        }
        let mut won = 0;
        for r in racers {
            match r.await? {
                201 => won += 1,
                409 => conflicts += 1,
                other => {
                    println!("  contention: unexpected status {other} for {}", serial(g));
                    anomalies += 1;
                }
            }
        }
        wins += won;
        if won != 1 {
            println!("  contention: {} was moved {won} times", serial(g));
            anomalies += 1;
        }
    }
    println!(
        "contention (4 clients race for each of {n} serials): {wins} moves won, {conflicts} got 409, \
         {anomalies} anomalies"
    );
    Ok(anomalies)
}

async fn timed_get(http: &reqwest::Client, url: &str, token: &str) -> Result<(f64, Value)> {
    let t = Instant::now();
    let r = http.get(url).bearer_auth(token).send().await?;
    let status = r.status();
    let body: Value = r.json().await?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    if !status.is_success() {
        bail!("GET {url}: {status} {body}");
    }
    Ok((ms, body))
}

fn line(what: &str, ms: &mut [f64]) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{what}: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms ({} requests, sequential)",
        pct(ms, 0.5),
        pct(ms, 0.95),
        pct(ms, 0.99),
        ms.len()
    );
}

async fn latency(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    net: &Arc<Network>,
    n: usize,
) -> Result<()> {
    let mut rng = Lcg(99);
    println!();
    // A region's subtree: 100 dealer warehouses × 4 models, first page and totals per model.
    let mut ms = Vec::with_capacity(n);
    let mut units_seen = 0i64;
    for _ in 0..n {
        let region = net.regions[rng.below(net.regions.len())];
        let (t, body) = timed_get(
            http,
            &format!("{base}/stock?org_id={region}&limit=50"),
            token,
        )
        .await?;
        ms.push(t);
        units_seen += body["totals"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m["quantity"].as_i64()).sum::<i64>())
            .unwrap_or(0);
    }
    line(
        &format!(
            "stock of a region's subtree (100 warehouses, {:.0} units on average)",
            units_seen as f64 / n as f64
        ),
        &mut ms,
    );
    // One warehouse.
    let mut ms = Vec::with_capacity(n);
    for _ in 0..n {
        let w = net.dealer_whs[rng.below(net.dealer_whs.len())];
        ms.push(
            timed_get(http, &format!("{base}/stock?warehouse_id={w}"), token)
                .await?
                .0,
        );
    }
    line("stock of one warehouse", &mut ms);
    // The whole network (5,000 warehouses), fewer times.
    let mut ms = Vec::new();
    for _ in 0..(n / 10).max(5) {
        ms.push(
            timed_get(http, &format!("{base}/stock?limit=50"), token)
                .await?
                .0,
        );
    }
    line("stock of the whole network (5,000 warehouses)", &mut ms);
    // A serial's timeline, over units that moved (the first ones) and units that did not.
    let mut ms = Vec::with_capacity(n);
    for i in 0..n {
        let g = if i % 2 == 0 {
            1 + rng.below(CLIENTS * 50)
        } else {
            1 + rng.below(net.units)
        };
        let (t, body) = timed_get(
            http,
            &format!("{base}/stock/units/{}/timeline", serial(g)),
            token,
        )
        .await?;
        if body["entries"].as_array().is_none_or(|e| e.is_empty()) {
            bail!("the timeline of {} is empty", serial(g));
        }
        ms.push(t);
    }
    line("a serial's timeline", &mut ms);
    Ok(())
}
