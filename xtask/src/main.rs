//! `cargo xtask` — DealerNet's build tasks.
//!
//! - `build-web`: the release SPA into `frontend/dist/` (cargo → wasm-bindgen as a library →
//!   wasm-opt from npm's `binaryen` when installed → content-hashed files + `index.html`).
//! - `start [--demo]`: build-web, then the release server on the embedded SQLite database.
//! - `e2e`: build-web and the server, start it on a fresh database, run the Playwright suite.
//!
//! Nothing here downloads from anywhere but the package registries.

use std::fs;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use sha2::{Digest, Sha256};

#[derive(Parser)]
#[command(name = "xtask", about = "DealerNet build tasks")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the SPA into frontend/dist (release, size-optimised).
    BuildWeb {
        /// Debug build without wasm-opt (faster, larger).
        #[arg(long)]
        dev: bool,
    },
    /// Build everything and start the product on the embedded SQLite database.
    Start {
        /// Load the demo data set.
        #[arg(long)]
        demo: bool,
        /// More arguments for `dealernet serve`.
        #[arg(last = true)]
        rest: Vec<String>,
    },
    /// Browser end-to-end tests against the real server on a fresh database.
    E2e {
        /// Extra arguments for `playwright test` (e.g. a file name or `--headed`).
        #[arg(last = true)]
        rest: Vec<String>,
    },
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let root = workspace_root()?;
    match Cli::parse().command {
        Task::BuildWeb { dev } => build_web(&root, dev).map(|_| ()),
        Task::Start { demo, rest } => start(&root, demo, &rest),
        Task::E2e { rest } => e2e(&root, &rest),
    }
}

fn workspace_root() -> Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .context("xtask lives one level below the workspace root")
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn status(cmd: &mut Command, what: &str) -> Result<()> {
    let st = cmd.status().with_context(|| format!("starting {what}"))?;
    if !st.success() {
        bail!("{what} failed ({st})");
    }
    Ok(())
}

fn target_dir(root: &Path) -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        let p = PathBuf::from(dir);
        return Ok(if p.is_absolute() { p } else { root.join(p) });
    }
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .context("cargo metadata")?;
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("cargo metadata output")?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata has no target_directory")
}

fn ensure_wasm_target() -> Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match out {
        Ok(o)
            if String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == "wasm32-unknown-unknown") =>
        {
            Ok(())
        }
        Ok(_) => status(
            Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
            "rustup target add wasm32-unknown-unknown",
        ),
        // No rustup: trust that the toolchain has the target.
        Err(_) => Ok(()),
    }
}

/// wasm-opt from npm's `binaryen` (version 116+); Debian's older one breaks modules, so no PATH lookup.
fn wasm_opt(root: &Path) -> Option<PathBuf> {
    let bin = root.join("e2e/node_modules/.bin/wasm-opt");
    let out = Command::new(&bin).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let version: u32 = text.split_whitespace().nth(2)?.parse().ok()?;
    (version >= 116).then_some(bin)
}

fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?.len())
}

fn kib(n: usize) -> String {
    format!("{:.1} KiB", n as f64 / 1024.0)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}

/// Builds the SPA into `frontend/dist/` and returns that directory.
fn build_web(root: &Path, dev: bool) -> Result<PathBuf> {
    let started = Instant::now();
    ensure_wasm_target()?;
    let profile = if dev { "dev" } else { "web" };
    status(
        cargo()
            .args([
                "build",
                "-p",
                "dealernet-frontend",
                "--target",
                "wasm32-unknown-unknown",
                "--profile",
                profile,
            ])
            .current_dir(root),
        "building the SPA",
    )?;
    let target = target_dir(root)?;
    let profile_dir = if dev { "debug" } else { "web" };
    let input = target
        .join("wasm32-unknown-unknown")
        .join(profile_dir)
        .join("dealernet_frontend.wasm");
    let staging = target.join("web-bindgen");
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    fs::create_dir_all(&staging)?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .web(true)?
        .typescript(false)
        .debug(dev)
        .out_name("app")
        .generate(&staging)
        .map_err(|e| anyhow::anyhow!("wasm-bindgen: {e}"))?;
    let wasm_path = staging.join("app_bg.wasm");
    if !dev {
        match wasm_opt(root) {
            Some(bin) => {
                let optimised = staging.join("app_opt.wasm");
                status(
                    Command::new(bin)
                        .arg("-Oz")
                        .args([
                            "--enable-bulk-memory",
                            "--enable-nontrapping-float-to-int",
                            "--enable-sign-ext",
                            "--enable-mutable-globals",
                            "--enable-reference-types",
                            "--enable-multivalue",
                        ])
                        .arg(&wasm_path)
                        .arg("-o")
                        .arg(&optimised),
                    "wasm-opt",
                )?;
                fs::rename(&optimised, &wasm_path)?;
            }
            None => println!(
                "web: wasm-opt not installed (npm ci in e2e/ adds it); keeping the unoptimised module"
            ),
        }
    }
    let js = fs::read(staging.join("app.js"))?;
    let wasm = fs::read(&wasm_path)?;
    let mut hasher = Sha256::new();
    hasher.update(&js);
    hasher.update(&wasm);
    let hash = hex::encode(&hasher.finalize()[..8]);

    let dist = root.join("frontend/dist");
    if dist.exists() {
        fs::remove_dir_all(&dist)?;
    }
    fs::create_dir_all(&dist)?;
    let js_name = format!("app-{hash}.js");
    let wasm_name = format!("app-{hash}_bg.wasm");
    fs::write(dist.join(&js_name), &js)?;
    fs::write(dist.join(&wasm_name), &wasm)?;
    let snippets = staging.join("snippets");
    if snippets.is_dir() {
        copy_dir(&snippets, &dist.join("snippets"))?;
    }
    copy_dir(&root.join("frontend/public"), &dist)?;
    let template = fs::read_to_string(root.join("frontend/index.html"))?;
    let marker = "<!-- dealernet:app -->";
    if !template.contains(marker) {
        bail!("frontend/index.html lacks the {marker} marker");
    }
    let tags = format!(
        "<link rel=\"modulepreload\" href=\"/{js_name}\">\n  \
         <link rel=\"preload\" href=\"/{wasm_name}\" as=\"fetch\" type=\"application/wasm\" crossorigin>\n  \
         <script type=\"module\">import init from '/{js_name}'; init({{ module_or_path: '/{wasm_name}' }});</script>"
    );
    fs::write(dist.join("index.html"), template.replace(marker, &tags))?;

    let (wasm_gz, js_gz) = (gzip_len(&wasm)?, gzip_len(&js)?);
    let css = fs::read(root.join("frontend/public/app.css")).unwrap_or_default();
    let css_gz = gzip_len(&css)?;
    println!(
        "web: wasm {} (gzip {}), js {} (gzip {}), css gzip {}; wasm + js gzip {} — built in {:.0} s into frontend/dist",
        kib(wasm.len()),
        kib(wasm_gz),
        kib(js.len()),
        kib(js_gz),
        kib(css_gz),
        kib(wasm_gz + js_gz),
        started.elapsed().as_secs_f64()
    );
    let report = serde_json::json!({
        "profile": profile,
        "wasm_bytes": wasm.len(), "wasm_gzip_bytes": wasm_gz,
        "js_bytes": js.len(), "js_gzip_bytes": js_gz,
        "css_gzip_bytes": css_gz,
        "total_gzip_bytes": wasm_gz + js_gz,
    });
    fs::write(
        dist.join("build-report.json"),
        serde_json::to_vec_pretty(&report)?,
    )?;
    Ok(dist)
}

fn start(root: &Path, demo: bool, rest: &[String]) -> Result<()> {
    build_web(root, false)?;
    let mut cmd = cargo();
    cmd.args(["run", "--release", "-p", "dealernet-server", "--", "serve"])
        .current_dir(root);
    if demo {
        cmd.arg("--demo");
    }
    cmd.args(rest);
    status(&mut cmd, "dealernet serve")
}

/// Kills the server however the e2e run ends.
struct ServerGuard(Child);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn random_secret() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h = Sha256::new();
    h.update(nanos.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    hex::encode(h.finalize())
}

fn healthy(port: u16) -> bool {
    use std::io::Read as _;
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 16];
    s.read(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.1 200")
}

fn e2e(root: &Path, rest: &[String]) -> Result<()> {
    let e2e_dir = root.join("e2e");
    // npm first: it brings wasm-opt for the release SPA.
    if !e2e_dir.join("node_modules/.bin/playwright").exists() {
        status(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
                .current_dir(&e2e_dir),
            "npm ci in e2e/",
        )?;
    }
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        bail!(
            "no chromium at {chromium}: install it with `apt-get install -y chromium` (or set CHROMIUM_PATH)"
        );
    }
    let dist = build_web(root, false)?;
    status(
        cargo()
            .args(["build", "-p", "dealernet-server"])
            .current_dir(root),
        "building the server",
    )?;
    let server = target_dir(root)?.join("debug/dealernet");

    let work = std::env::temp_dir().join(format!(
        "dealernet-e2e-{}-{}",
        std::process::id(),
        random_secret().get(..8).unwrap_or("x")
    ));
    fs::create_dir_all(&work)?;
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let results = e2e_dir.join("test-results");
    fs::create_dir_all(&results)?;
    let (admin_email, admin_password) = ("admin@e2e.example", "E2e-admin-pass-2026");
    let server_cmd = |args: &[&str]| {
        let mut c = Command::new(&server);
        c.args(args)
            .env("DEALERNET_DATA_DIR", &work)
            .env(
                "DEALERNET_DATABASE_URL",
                format!("sqlite://{}?mode=rwc", work.join("e2e.db").display()),
            )
            .env("DEALERNET_BIND", format!("127.0.0.1:{port}"))
            .env("DEALERNET_WEB_DIR", &dist)
            .env("DEALERNET_JWT_SECRET", random_secret())
            .env("DEALERNET_LOG_LEVEL", "warn")
            .env("DEALERNET_LOG_FORMAT", "json")
            .current_dir(&work);
        c
    };
    let outcome = (|| -> Result<()> {
        status(&mut server_cmd(&["migrate"]), "dealernet migrate")?;
        status(
            &mut server_cmd(&[
                "create-admin",
                "--email",
                admin_email,
                "--name",
                "E2E Admin",
                "--password",
                admin_password,
            ]),
            "dealernet create-admin",
        )?;
        status(&mut server_cmd(&["seed-demo"]), "dealernet seed-demo")?;
        let log = fs::File::create(results.join("server.log"))?;
        let child = server_cmd(&["serve"])
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .context("starting dealernet serve")?;
        let _guard = ServerGuard(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !healthy(port) {
            if Instant::now() > deadline {
                let log = fs::read_to_string(results.join("server.log")).unwrap_or_default();
                bail!("the server did not become healthy in 30 s; its log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        println!("e2e: server at {base}, running playwright");
        let st = Command::new(e2e_dir.join("node_modules/.bin/playwright"))
            .arg("test")
            .args(rest)
            .env("BASE_URL", &base)
            .env("CHROMIUM_PATH", &chromium)
            .env("E2E_ADMIN_EMAIL", admin_email)
            .env("E2E_ADMIN_PASSWORD", admin_password)
            .current_dir(&e2e_dir)
            .status()
            .context("starting playwright")?;
        if !st.success() {
            bail!(
                "browser tests failed; screenshots and traces are in e2e/test-results/artifacts, the server log in e2e/test-results/server.log"
            );
        }
        Ok(())
    })();
    let _ = fs::remove_dir_all(&work);
    outcome
}
