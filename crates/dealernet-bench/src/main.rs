//! `cargo run --release -p dealernet-bench -- users`: loads 100k users over a 5,000-dealer tree
//! into a fresh PostgreSQL database, serves the API in-process, and drives
//! `GET /api/v1/users/{id}` and a scoped, filtered `GET /api/v1/users?limit=20` with wrk
//! (32 connections), next to `pgbench -S` on the same server as the reference.
//!
//! Needs `wrk` and `pgbench` on PATH and a PostgreSQL server. Loopback only; bounded in time.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use dealernet_api::{Application, Settings};
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use serde_json::json;

#[derive(Parser)]
struct Cli {
    /// PostgreSQL server URL without a database name.
    #[arg(
        long,
        default_value = "postgres://postgres@127.0.0.1:5432",
        env = "DEALERNET_BENCH_PG"
    )]
    pg: String,
    /// Seconds per wrk run.
    #[arg(long, default_value_t = 15)]
    seconds: u32,
    /// Client connections: wrk's, and pgbench's clients. The server keeps its own default pool.
    #[arg(long, default_value_t = 32)]
    connections: u32,
    /// Whether the app's link to PostgreSQL is encrypted (`prefer` is the driver's default;
    /// `disable` measures the API without TLS on loopback, as pgbench's reference runs).
    #[arg(long, default_value = "prefer", env = "BENCH_PG_SSLMODE")]
    sslmode: String,
    /// Keep the benchmark database afterwards.
    #[arg(long)]
    keep: bool,
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// Users: GET by id and a scoped, filtered list.
    Users {
        #[arg(long, default_value_t = 100_000)]
        users: usize,
        #[arg(long, default_value_t = 50)]
        regions: usize,
        #[arg(long, default_value_t = 100)]
        dealers_per_region: usize,
    },
}

struct WrkResult {
    rps: f64,
    p50: String,
    p99: String,
    errors: String,
}

fn wrk(
    url: &str,
    token: &str,
    script: Option<&PathBuf>,
    seconds: u32,
    connections: u32,
) -> Result<WrkResult> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ])
    .args(["-H", &format!("Authorization: Bearer {token}")]);
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = cmd
        .arg(url)
        .output()
        .context("running wrk (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let find = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .map(|l| l.split_whitespace().last().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    let non2xx = text
        .lines()
        .find(|l| l.contains("Non-2xx"))
        .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        .unwrap_or_else(|| "0".into());
    Ok(WrkResult {
        rps: find("Requests/sec:").parse().unwrap_or(0.0),
        p50: find("50%"),
        p99: find("99%"),
        errors: non2xx,
    })
}

fn pgbench(pg: &str, seconds: u32, connections: u32) -> Result<f64> {
    let db = "dealernet_bench_pgbench";
    let url = format!("{pg}/{db}");
    let _ = Command::new("psql")
        .arg(format!("{pg}/postgres"))
        .args(["-qc", &format!("DROP DATABASE IF EXISTS {db}")])
        .output();
    Command::new("psql")
        .arg(format!("{pg}/postgres"))
        .args(["-qc", &format!("CREATE DATABASE {db}")])
        .output()?;
    let init = Command::new("pgbench")
        .args(["-i", "-q", "-s", "10"])
        .arg(&url)
        .output()
        .context("pgbench -i")?;
    if !init.status.success() {
        bail!(
            "pgbench -i failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
    }
    let out = Command::new("pgbench")
        .args([
            "-S",
            "-n",
            "-j",
            "2",
            "-c",
            &connections.to_string(),
            "-T",
            &seconds.to_string(),
        ])
        .arg(&url)
        .output()
        .context("pgbench -S")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let _ = Command::new("psql")
        .arg(format!("{pg}/postgres"))
        .args(["-qc", &format!("DROP DATABASE IF EXISTS {db}")])
        .output();
    Ok(text
        .lines()
        .find(|l| l.starts_with("tps"))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0))
}

/// Region managers and dealer administrators the rotating list runs sign in as.
const ROTATED_REGIONS: usize = 10;
const ROTATED_DEALERS: usize = 200;

/// `n` items spread evenly over `all`.
fn spread(all: &[i64], n: usize) -> Vec<i64> {
    let step = (all.len() / n.max(1)).max(1);
    all.iter().step_by(step).take(n).copied().collect()
}

/// Signs in as `email` (every bench user has the same password) and returns the access token.
async fn login(http: &reqwest::Client, base: &str, email: &str) -> Result<String> {
    let res: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": "bench password 1"}))
        .send()
        .await?
        .json()
        .await?;
    match res["access_token"].as_str() {
        Some(t) => Ok(t.to_string()),
        None => bail!("{email} could not sign in: {res}"),
    }
}

/// A wrk script that sends `path` as each of `tokens` in turn, at random.
fn rotating_script(name: &str, tokens: &[String], path: &str) -> Result<PathBuf> {
    let script =
        std::env::temp_dir().join(format!("dealernet-bench-{name}-{}.lua", std::process::id()));
    let list: Vec<String> = tokens.iter().map(|t| format!("\"{t}\"")).collect();
    std::fs::write(
        &script,
        format!(
            "local tokens = {{{}}}\nrequest = function()\n  return wrk.format(\"GET\", \"{path}\", {{[\"Authorization\"] = \"Bearer \" .. tokens[math.random(#tokens)]}})\nend\n",
            list.join(",")
        ),
    )?;
    Ok(script)
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let What::Users {
        users,
        regions,
        dealers_per_region,
    } = cli.what;
    let name = format!("dealernet_bench_{}", std::process::id());
    let admin = Database::connect(format!("{}/postgres", cli.pg)).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    let url = format!("{}/{name}?sslmode={}", cli.pg, cli.sslmode);
    let result = run(&cli, &url, users, regions, dealers_per_region).await;
    if !cli.keep {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
    }
    let report = result?;
    println!("{report}");
    Ok(())
}

async fn run(
    cli: &Cli,
    url: &str,
    users: usize,
    regions: usize,
    dealers_per_region: usize,
) -> Result<String> {
    let settings = Settings {
        database_url: url.to_string(),
        bind: "127.0.0.1:0".into(),
        jwt_secret: Some(SecretString::from(
            "bench-secret-bench-secret-bench-secret-42",
        )),
        workers: 2,
        log_level: "warn".into(),
        web_dir: PathBuf::from("/nonexistent"),
        ..Settings::default()
    };
    let conn = dealernet_api::startup::connect_and_migrate(&settings).await?;
    let root = dealernet_data::bootstrap::ensure_foundation(&conn, "Operator").await?;
    let started = Instant::now();
    let fx = dealernet_data::fixtures::load_users(&conn, root, regions, dealers_per_region, users)
        .await?;
    let load_secs = started.elapsed().as_secs_f64();
    dealernet_data::bootstrap::create_admin(
        &conn,
        "bench-admin@bench.example",
        "Bench Admin",
        "bench password 1",
    )
    .await?;

    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    // A sales manager of region 0: subtree scope over its dealers' users.
    let admin_token = login(&http, &base, "bench-admin@bench.example").await?;
    let roles: serde_json::Value = http
        .get(format!("{base}/api/v1/roles?limit=100"))
        .bearer_auth(&admin_token)
        .send()
        .await?
        .json()
        .await?;
    let sales = roles["items"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["code"] == "sales_manager"))
        .and_then(|r| r["id"].as_i64())
        .unwrap_or_default();
    let dealer_admin = roles["items"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["code"] == "dealer_admin"))
        .and_then(|r| r["id"].as_i64())
        .unwrap_or_default();
    let place = |email: String, org: i64, level: i16, role: i64| {
        let http = http.clone();
        let base = base.clone();
        let admin_token = admin_token.clone();
        async move {
            let created = http
                .post(format!("{base}/api/v1/users"))
                .bearer_auth(&admin_token)
                .json(&json!({"email": email, "name": format!("Bench {email}"), "password": "bench password 1",
                    "org_id": org, "access_level": level, "role_ids": [role]}))
                .send()
                .await?;
            if !created.status().is_success() {
                bail!("creating {email} failed: {}", created.text().await?);
            }
            Ok(())
        }
    };
    let region0 = fx.regions.first().copied().unwrap_or(root);
    place("manager@bench.example".into(), region0, 6, sales).await?;
    let token = login(&http, &base, "manager@bench.example").await?;
    // A dealer administrator: the most common scope, one dealer's users.
    let dealer0 = fx.dealers.first().copied().unwrap_or(root);
    place("dealer@bench.example".into(), dealer0, 3, dealer_admin).await?;
    let dealer_token = login(&http, &base, "dealer@bench.example").await?;
    // Many callers, each with its own scope, as a network's managers and dealers sign in: the
    // list's statement differs per scope, and region 0's users happen to lead the name order.
    let mut region_tokens = Vec::new();
    for (k, region) in spread(&fx.regions, ROTATED_REGIONS).into_iter().enumerate() {
        let email = format!("manager{k}@bench.example");
        place(email.clone(), region, 6, sales).await?;
        region_tokens.push(login(&http, &base, &email).await?);
    }
    let mut dealer_tokens = Vec::new();
    for (k, dealer) in spread(&fx.dealers, ROTATED_DEALERS).into_iter().enumerate() {
        let email = format!("dealer{k}@bench.example");
        place(email.clone(), dealer, 3, dealer_admin).await?;
        dealer_tokens.push(login(&http, &base, &email).await?);
    }

    // Ids in region 0: users are spread round-robin over the dealers, region 0 owns the first ones.
    let dealers = fx.dealers.len().max(1);
    let ids: Vec<String> = (0..users)
        .filter(|n| n % dealers < dealers_per_region)
        .take(2000)
        .map(|n| (fx.first_user_id + n as i64).to_string())
        .collect();
    let script = std::env::temp_dir().join(format!("dealernet-bench-{}.lua", std::process::id()));
    std::fs::write(
        &script,
        format!(
            "local ids = {{{}}}\nrequest = function()\n  return wrk.format(nil, \"/api/v1/users/\" .. ids[math.random(#ids)])\nend\n",
            ids.join(",")
        ),
    )?;
    let check = http
        .get(format!(
            "{base}/api/v1/users/{}",
            ids.first().cloned().unwrap_or_default()
        ))
        .bearer_auth(&token)
        .send()
        .await?;
    if !check.status().is_success() {
        bail!(
            "the scoped manager cannot read its users: {}",
            check.status()
        );
    }

    let health = wrk(
        &format!("{base}/api/v1/health"),
        &token,
        None,
        cli.seconds,
        cli.connections,
    )?;
    let by_id = wrk(
        &format!("{base}/api/v1/users/0"),
        &token,
        Some(&script),
        cli.seconds,
        cli.connections,
    )?;
    let list_url = format!("{base}/api/v1/users?limit=20&status=active&sort=name");
    let list = wrk(&list_url, &token, None, cli.seconds, cli.connections)?;
    let dealer_list = wrk(&list_url, &dealer_token, None, cli.seconds, cli.connections)?;
    let list_path = "/api/v1/users?limit=20&status=active&sort=name";
    let regions_script = rotating_script("regions", &region_tokens, list_path)?;
    let regions_list = wrk(
        &list_url,
        &token,
        Some(&regions_script),
        cli.seconds,
        cli.connections,
    )?;
    let dealers_script = rotating_script("dealers", &dealer_tokens, list_path)?;
    let dealers_list = wrk(
        &list_url,
        &token,
        Some(&dealers_script),
        cli.seconds,
        cli.connections,
    )?;
    let _ = std::fs::remove_file(&regions_script);
    let _ = std::fs::remove_file(&dealers_script);
    let pg = pgbench(&cli.pg, cli.seconds, cli.connections)?;
    let _ = std::fs::remove_file(&script);

    let mut r = String::new();
    let _ = writeln!(
        r,
        "DealerNet users benchmark: {} users, {} regions × {} dealers, {} client connections \
         (server pool: {} database connections, the default), {} s per run",
        fx.users,
        regions,
        dealers_per_region,
        cli.connections,
        Settings::default().db_max_connections,
        cli.seconds
    );
    let _ = writeln!(r, "fixture load: {load_secs:.1} s");
    let _ = writeln!(r, "| run | req/s | p50 | p99 | non-2xx | vs pgbench -S |");
    let _ = writeln!(r, "|---|---|---|---|---|---|");
    let regions_row = format!(
        "same list, {} region managers in turn (one region each)",
        region_tokens.len()
    );
    let dealers_row = format!(
        "same list, {} dealer administrators in turn (one dealer each)",
        dealer_tokens.len()
    );
    for (what, w) in [
        (
            "GET /api/v1/health (no database; the HTTP ceiling)",
            &health,
        ),
        ("GET /api/v1/users/{id} (region manager)", &by_id),
        (
            "GET /api/v1/users?limit=20&status=active&sort=name, region 0's manager (2,000 users in scope)",
            &list,
        ),
        (
            "same list, dealer 0's administrator (20 users in scope)",
            &dealer_list,
        ),
        (&regions_row, &regions_list),
        (&dealers_row, &dealers_list),
    ] {
        let _ = writeln!(
            r,
            "| {what} | {:.0} | {} | {} | {} | {:.0}% |",
            w.rps,
            w.p50,
            w.p99,
            w.errors,
            if pg > 0.0 { 100.0 * w.rps / pg } else { 0.0 }
        );
    }
    let _ = writeln!(r, "| pgbench -S (reference) | {pg:.0} | | | | 100% |");
    Ok(r)
}
