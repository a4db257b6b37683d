//! `cargo run --release -p dealernet-bench --bin crm`: the CRM at scale on PostgreSQL.
//!
//! Loads `--clients` clients (default 1,000,000) and three requests per client over a tree of
//! regions and dealers (bulk SQL inside PostgreSQL, then VACUUM ANALYZE as autovacuum would), serves the API in-process and
//! measures, one request at a time, the latency of:
//! - the any-field client search (`GET /api/v1/clients?q=…`), and
//! - a filtered, sorted request list page (`GET /api/v1/deals?status=stalled&sort=-date`),
//!
//! for a region sales manager (subtree scope: a twentieth of everything) and a manager whose
//! role reaches only the records they are responsible for; then times an import of
//! `--import-rows` new clients (default 100,000) through `POST /api/v1/clients/import`.
//!
//! Needs a PostgreSQL server (loopback). Prints a Markdown table.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use dealernet_api::{Application, Settings};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use secrecy::SecretString;
use serde_json::{Value, json};

#[derive(Parser)]
struct Cli {
    /// PostgreSQL server URL without a database name.
    #[arg(
        long,
        default_value = "postgres://postgres@127.0.0.1:5432",
        env = "DEALERNET_BENCH_PG"
    )]
    pg: String,
    #[arg(long, default_value_t = 1_000_000)]
    clients: i64,
    #[arg(long, default_value_t = 3)]
    deals_per_client: i64,
    #[arg(long, default_value_t = 100_000)]
    import_rows: usize,
    /// Requests measured per scenario.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Whether the app's link to PostgreSQL is encrypted (`prefer` is the driver's default).
    #[arg(long, default_value = "prefer", env = "BENCH_PG_SSLMODE")]
    sslmode: String,
    /// Keep the benchmark database afterwards.
    #[arg(long)]
    keep: bool,
}

const PASSWORD: &str = "bench password 1";

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let name = format!("dealernet_crm_bench_{}", std::process::id());
    let admin = Database::connect(format!("{}/postgres", cli.pg)).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    let url = format!("{}/{name}?sslmode={}", cli.pg, cli.sslmode);
    let result = run(&cli, &url).await;
    if !cli.keep {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
    }
    println!("{}", result?);
    Ok(())
}

async fn exec(conn: &DatabaseConnection, sql: &str) -> Result<()> {
    conn.execute_unprepared(sql)
        .await
        .with_context(|| sql.chars().take(120).collect::<String>())?;
    Ok(())
}

/// Bulk-loads clients and requests inside PostgreSQL; answers the seconds it took.
async fn load(conn: &DatabaseConnection, cli: &Cli, first_user: i64, users: i64) -> Result<f64> {
    let started = Instant::now();
    let n = cli.clients;
    exec(
        conn,
        &format!(
            "INSERT INTO clients (name, legal_id, email, phone, legal_address, notes, org_id, manager_id,
                                  search_text, version, created_at, updated_at)
             SELECT c.name, c.legal_id, c.email, c.phone, c.address, '', u.org_id, u.id,
                    lower(c.name || ' ' || c.legal_id || ' ' || c.email || ' ' || c.phone || ' ' || c.address),
                    1, now() - (g || ' seconds')::interval, now()
             FROM generate_series(1, {n}) g
             CROSS JOIN LATERAL (SELECT
                 (ARRAY['Nord','Volga','Ural','Baltic','Sibir','Kuban','Altai','Oka'])[1 + g % 8] || ' '
                   || (ARRAY['Stroy','Cold','Thermo','Foods','Energo','Tech','Invest','Trade'])[1 + (g / 8) % 8]
                   || ' ' || g AS name,
                 '7' || lpad(g::text, 9, '0') AS legal_id,
                 'office' || g || '@client.example' AS email,
                 '+7 ' || (300 + g % 600) || ' ' || lpad((g % 10000000)::text, 7, '0') AS phone,
                 'City ' || (g % 900) || ', Street ' || (g % 97) || ' ' || (g % 200) AS address) c
             JOIN users u ON u.id = {first_user} + (g % {users})"
        ),
    )
    .await?;
    let d = n * cli.deals_per_client;
    exec(
        conn,
        &format!(
            "INSERT INTO deals (number, client_id, client_name, deal_date, customer, status, delivery_stage,
                                contract_price_minor, currency, org_id, manager_id, search_text, version,
                                created_at, updated_at)
             SELECT 'R-B-' || lpad(g::text, 9, '0'), c.id, c.name,
                    to_char(date '2023-01-01' + (g % 1000), 'YYYY-MM-DD'), '',
                    (ARRAY['preparing_offer','in_progress','stalled','won','dead'])[1 + g % 5],
                    CASE WHEN g % 5 = 3 THEN (ARRAY['ordered','in_production','shipped','delivered','commissioned'])[1 + (g / 5) % 5] END,
                    (g % 1000) * 100000, 'RUB', c.org_id, c.manager_id,
                    lower('r-b-' || lpad(g::text, 9, '0') || ' ' || c.name || ' chiller aquaforce'),
                    1, now(), now()
             FROM generate_series(1, {d}) g
             JOIN clients c ON c.id = 1 + ((g - 1) / {per})",
            per = cli.deals_per_client
        ),
    )
    .await?;
    exec(
        conn,
        &format!(
            "INSERT INTO deal_items (deal_id, position, equipment_type, name, sub_name, capacity, quantity)
             SELECT id, 0, 'Chiller', 'AquaForce', '30XA', (100 + id % 9 * 100) || ' kW', 1 FROM deals WHERE id <= {d}"
        ),
    )
    .await?;
    // What autovacuum does to a table after a bulk load: statistics, and the visibility map
    // that lets counts and id look-ups answer from the indexes alone.
    exec(conn, "VACUUM ANALYZE").await?;
    Ok(started.elapsed().as_secs_f64())
}

struct Stats {
    p50: f64,
    p95: f64,
    max: f64,
    total: Value,
}

async fn measure(
    http: &reqwest::Client,
    token: &str,
    urls: &[String],
    samples: usize,
) -> Result<Stats> {
    let mut times = Vec::with_capacity(samples);
    let mut total = Value::Null;
    for i in 0..samples {
        let url = &urls[i % urls.len()];
        let started = Instant::now();
        let res = http.get(url).bearer_auth(token).send().await?;
        let status = res.status();
        let body: Value = res.json().await?;
        times.push(started.elapsed());
        if !status.is_success() {
            bail!("{url}: {status} {body}");
        }
        if i == 0 {
            total = body["total"].clone();
        }
    }
    times.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(times[((times.len() as f64 * q).ceil() as usize).saturating_sub(1)]);
    Ok(Stats {
        p50: at(0.50),
        p95: at(0.95),
        max: at(1.0),
        total,
    })
}

async fn run(cli: &Cli, url: &str) -> Result<String> {
    let settings = Settings {
        database_url: url.to_string(),
        bind: "127.0.0.1:0".into(),
        jwt_secret: Some(SecretString::from(
            "bench-secret-bench-secret-bench-secret-42",
        )),
        db_max_connections: 8,
        workers: 2,
        log_level: "warn".into(),
        web_dir: PathBuf::from("/nonexistent"),
        scheduler_enabled: false,
        import_max_bytes: 64 * 1024 * 1024,
        ..Settings::default()
    };
    let conn = dealernet_api::startup::connect_and_migrate(&settings).await?;
    let root = dealernet_data::bootstrap::ensure_foundation(&conn, "Operator").await?;
    let regions = 20;
    let fx = dealernet_data::fixtures::load_users(&conn, root, regions, 50, 5_000).await?;
    let load_secs = load(&conn, cli, fx.first_user_id, fx.users).await?;
    dealernet_data::bootstrap::create_admin(
        &conn,
        "bench-admin@bench.example",
        "Bench Admin",
        PASSWORD,
    )
    .await?;

    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    let login = |email: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let res: Value = http
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"email": email, "password": PASSWORD}))
                .send()
                .await?
                .json()
                .await?;
            Ok::<String, anyhow::Error>(
                res["access_token"].as_str().unwrap_or_default().to_string(),
            )
        }
    };
    let admin = login("bench-admin@bench.example".into()).await?;
    let roles: Value = http
        .get(format!("{base}/api/v1/roles?limit=100"))
        .bearer_auth(&admin)
        .send()
        .await?
        .json()
        .await?;
    let role = |code: &str| {
        roles["items"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["code"] == code))
            .and_then(|r| r["id"].as_i64())
            .unwrap_or_default()
    };
    // A region's sales manager (subtree scope) and a manager who sees only their own records.
    let own_role: Value = http
        .post(format!("{base}/api/v1/roles"))
        .bearer_auth(&admin)
        .json(
            &json!({"code": "crm_own", "name": "CRM, own records", "level": 3, "scope": "own",
            "permissions": ["clients:view", "clients:export", "deals:view", "deals:export"]}),
        )
        .send()
        .await?
        .json()
        .await?;
    let region0 = fx.regions.first().copied().unwrap_or(root);
    let mut users = Vec::new();
    for (email, org, level, role_id) in [
        ("region@bench.example", region0, 6, role("sales_manager")),
        (
            "own@bench.example",
            fx.dealers.first().copied().unwrap_or(root),
            3,
            own_role["id"].as_i64().unwrap_or_default(),
        ),
    ] {
        let res = http
            .post(format!("{base}/api/v1/users"))
            .bearer_auth(&admin)
            .json(
                &json!({"email": email, "name": email, "password": PASSWORD, "org_id": org,
                "access_level": level, "role_ids": [role_id]}),
            )
            .send()
            .await?;
        if !res.status().is_success() {
            bail!("creating {email}: {}", res.text().await?);
        }
        let v: Value = res.json().await?;
        users.push(v["id"].as_i64().unwrap_or_default());
    }
    // The "own" manager takes over one fixture user's book (about clients / users records).
    exec(
        &conn,
        &format!(
            "UPDATE clients SET manager_id = {own} WHERE manager_id = {first};
             UPDATE deals SET manager_id = {own} WHERE manager_id = {first}",
            own = users[1],
            first = fx.first_user_id
        ),
    )
    .await?;
    exec(&conn, "VACUUM ANALYZE clients").await?;
    exec(&conn, "VACUUM ANALYZE deals").await?;
    let region = login("region@bench.example".into()).await?;
    let own = login("own@bench.example".into()).await?;

    let terms = [
        "thermo 12",
        "office77@",
        "street 42 1",
        "+7 495",
        "volga cold 31",
        "7777712345",
        "baltic",
        "altai invest 9",
    ];
    let search: Vec<String> = terms
        .iter()
        .map(|t| format!("{base}/api/v1/clients?limit=20&q={}", urlencode(t)))
        .collect();
    let deals: Vec<String> = ["stalled", "won", "in_progress"]
        .iter()
        .map(|s| format!("{base}/api/v1/deals?limit=20&status={s}&sort=-date"))
        .collect();
    let deal_search: Vec<String> = ["r-b-0000123", "nord stroy 1", "aquaforce"]
        .iter()
        .map(|t| format!("{base}/api/v1/deals?limit=20&q={}&sort=-date", urlencode(t)))
        .collect();
    // Warm up the caches.
    for (token, urls) in [
        (&region, &search),
        (&region, &deals),
        (&own, &search),
        (&own, &deals),
    ] {
        measure(&http, token, urls, 10).await?;
    }
    let mut rows = Vec::new();
    for (who, token) in [
        ("region sales manager (subtree)", &region),
        ("own-records manager", &own),
    ] {
        for (what, urls) in [
            ("any-field client search", &search),
            ("requests: status filter, sorted by date", &deals),
            ("requests: search, sorted by date", &deal_search),
        ] {
            let s = measure(&http, token, urls, cli.samples).await?;
            // As it is measured, so a later failure loses nothing.
            eprintln!(
                "{who} | {what}: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
                s.p50, s.p95, s.max
            );
            rows.push((who, what, s));
        }
    }

    // Import: new clients with a contact each, through the API.
    let mut csv = String::from("name,legal_id,email,phone,contact_name,contact_email\n");
    for i in 0..cli.import_rows {
        let _ = writeln!(
            csv,
            "Imported Client {i},IMP{i:08},imp{i}@import.example,+7 812 {:07},Contact {i},contact{i}@import.example",
            i % 10_000_000
        );
    }
    let bytes = csv.len();
    let started = Instant::now();
    let res = http
        .post(format!("{base}/api/v1/clients/import?dry_run=false"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(csv)
        .timeout(Duration::from_secs(900))
        .send()
        .await?;
    let import_secs = started.elapsed().as_secs_f64();
    let report: Value = res.json().await?;
    if report["applied"] != true {
        bail!("import did not apply: {report}");
    }

    let mut r = String::new();
    let _ = writeln!(
        r,
        "DealerNet CRM benchmark: {} clients, {} requests, {} regions × 50 dealers, 5,000 managers; PostgreSQL, one request at a time, {} samples",
        cli.clients,
        cli.clients * cli.deals_per_client,
        regions,
        cli.samples
    );
    let _ = writeln!(r, "bulk load (SQL) and VACUUM ANALYZE: {load_secs:.1} s");
    let _ = writeln!(
        r,
        "| who | what | matching (first query) | p50 ms | p95 ms | max ms |"
    );
    let _ = writeln!(r, "|---|---|---|---|---|---|");
    for (who, what, s) in rows {
        let _ = writeln!(
            r,
            "| {who} | {what} | {} | {:.1} | {:.1} | {:.1} |",
            s.total, s.p50, s.p95, s.max
        );
    }
    let _ = writeln!(
        r,
        "import of {} rows ({:.1} MB CSV, a contact each): {import_secs:.1} s — created {}, contacts {}",
        cli.import_rows,
        bytes as f64 / 1e6,
        report["created"],
        report["contacts_created"]
    );
    Ok(r)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
