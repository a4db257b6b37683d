//! `cargo xtask` — DealerNet's build tasks.
//!
//! - `build-web [--dev]`: the SPA into `frontend/dist/` (cargo → wasm-bindgen as a library →
//!   wasm-opt from npm's `binaryen` when `e2e/node_modules` has it → content-hashed files +
//!   `index.html` + `frontend/public/*` + `build-report.json`).
//! - `start [--demo] [-- serve args]`: build-web, then the release server (`dealernet serve`).
//! - `e2e [--headed] [-- playwright args]`: build-web and the server, start it on a fresh
//!   database in a temporary directory, run the Playwright suite in `e2e/` against Debian's
//!   chromium.
//!
//! Nothing here downloads from anywhere but the package registries (crates.io, npm).

use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use sha2::{Digest, Sha256};

/// The marker in `frontend/index.html` that the script and preload tags replace.
const APP_MARKER: &str = "<!-- dealernet:app -->";
/// Oldest npm `binaryen` whose wasm-opt handles rustc's output (Debian's 108 breaks modules).
const MIN_WASM_OPT: u32 = 116;
/// The WebAssembly features rustc 1.95 enables by default for wasm32-unknown-unknown
/// (`rustc --print cfg --target wasm32-unknown-unknown`); wasm-opt must accept all of them.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
];
const CHROMIUM: &str = "/usr/bin/chromium";
const E2E_ADMIN_EMAIL: &str = "admin@e2e.example";
const E2E_ADMIN_NAME: &str = "E2E Admin";
const E2E_ADMIN_PASSWORD: &str = "E2e-admin-pass-2026";

#[derive(Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    about = "DealerNet build tasks"
)]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the SPA into frontend/dist (size-optimised release build).
    BuildWeb {
        /// Build with the dev profile and skip wasm-opt (faster, larger).
        #[arg(long)]
        dev: bool,
    },
    /// Build the SPA and start the release server: the whole product on one port.
    Start {
        /// Load the demo data set first (`dealernet serve --demo`).
        #[arg(long)]
        demo: bool,
        /// More arguments for `dealernet serve`.
        #[arg(last = true)]
        rest: Vec<String>,
    },
    /// Browser end-to-end tests against the real server on a fresh database.
    E2e {
        /// Show the browser (needs a display).
        #[arg(long)]
        headed: bool,
        /// More arguments for `playwright test` (e.g. a spec file or `-g <title>`).
        #[arg(last = true)]
        rest: Vec<String>,
    },
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    let root = workspace_root()?;
    match cli.command {
        Task::BuildWeb { dev } => build_web(&root, dev).map(|_| ExitCode::SUCCESS),
        Task::Start { demo, rest } => start(&root, demo, &rest),
        Task::E2e { headed, rest } => e2e(&root, headed, &rest).map(|()| ExitCode::SUCCESS),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn workspace_root() -> Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("xtask lives one level below the workspace root")
}

/// The cargo that runs us (`$CARGO`), so nested builds use the same toolchain.
fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root);
    cmd
}

/// Runs a command with inherited stdio and fails unless it succeeds.
fn status(cmd: &mut Command, what: &str) -> Result<()> {
    let st = cmd
        .status()
        .with_context(|| format!("could not start {what}"))?;
    if !st.success() {
        bail!("{what} failed ({st})");
    }
    Ok(())
}

/// The build directory, as cargo resolves it (`CARGO_TARGET_DIR`, `build.target-dir`, default).
fn target_dir(root: &Path) -> Result<PathBuf> {
    let out = cargo(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .context("could not run cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed ({})", out.status);
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("reading cargo metadata's output")?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata reports no target_directory")
}

fn secs(since: Instant) -> String {
    format!("{:.0} s", since.elapsed().as_secs_f64())
}

fn secs_between(from: Instant, to: Instant) -> String {
    format!("{:.0} s", (to - from).as_secs_f64())
}

fn kib(n: usize) -> String {
    format!("{:.1} KiB", n as f64 / 1024.0)
}

fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?.len())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            fs::copy(entry.path(), &dest)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Writes a file through a temporary name, so a running server never serves half of it.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Random hex for throwaway secrets and names: the OS's randomness (`/dev/urandom`, std's
/// randomly keyed hasher) and the clock, through SHA-256.
fn random_hex(len: usize) -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut out = String::new();
    let mut counter = 0u64;
    while out.len() < len {
        let mut h = Sha256::new();
        let mut os = [0u8; 32];
        if let Ok(mut f) = fs::File::open("/dev/urandom") {
            let _ = f.read_exact(&mut os);
        }
        h.update(os);
        let mut keyed = std::collections::hash_map::RandomState::new().build_hasher();
        keyed.write_u64(counter);
        h.update(keyed.finish().to_le_bytes());
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        h.update(nanos.to_le_bytes());
        h.update(std::process::id().to_le_bytes());
        out.push_str(&hex::encode(h.finalize()));
        counter += 1;
    }
    out.truncate(len);
    out
}

// ---------------------------------------------------------------------------------------------
// build-web

fn ensure_wasm_target(root: &Path) -> Result<()> {
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(root)
        .output();
    match listed {
        Ok(o)
            if o.status.success()
                && String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l.trim() == "wasm32-unknown-unknown") =>
        {
            Ok(())
        }
        Ok(o) if o.status.success() => {
            println!("web: adding the wasm32-unknown-unknown target");
            status(
                Command::new("rustup")
                    .args(["target", "add", "wasm32-unknown-unknown"])
                    .current_dir(root),
                "rustup target add wasm32-unknown-unknown",
            )
        }
        // No rustup (a distribution's Rust): trust that the target is there, cargo will say.
        _ => Ok(()),
    }
}

/// wasm-opt from npm's `binaryen` in `e2e/node_modules` if it is new enough, with its version.
/// Deliberately no PATH lookup: Debian's binaryen 108 produces broken modules.
fn wasm_opt(root: &Path) -> Option<(PathBuf, u32)> {
    let bin = root.join("e2e/node_modules/.bin/wasm-opt");
    let out = Command::new(&bin).arg("--version").output().ok()?;
    // "wasm-opt version 132 (version_132)"
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let version: u32 = text.split_whitespace().nth(2)?.parse().ok()?;
    (version >= MIN_WASM_OPT).then_some((bin, version))
}

/// Runs `wasm-opt -Oz` on `wasm` in place. wasm-opt takes half a minute on the SPA, so its output
/// is kept in `cache`, keyed by the input and the optimiser: an unchanged SPA is not optimised again.
fn optimise(bin: &Path, version: u32, wasm: &Path, cache: &Path) -> Result<()> {
    let mut key = Sha256::new();
    key.update(fs::read(wasm)?);
    key.update(version.to_le_bytes());
    key.update(WASM_FEATURES.join(" "));
    let cached = cache.join(format!("{}.wasm", hex::encode(&key.finalize()[..12])));
    if cached.is_file() {
        fs::copy(&cached, wasm).context("reusing the cached wasm-opt output")?;
        println!("web: wasm-opt output reused (unchanged module)");
        return Ok(());
    }
    let started = Instant::now();
    let before = fs::metadata(wasm)?.len();
    let optimised = wasm.with_extension("opt.wasm");
    status(
        Command::new(bin)
            .arg("-Oz")
            .args(WASM_FEATURES)
            .arg(wasm)
            .arg("-o")
            .arg(&optimised),
        "wasm-opt",
    )?;
    fs::rename(&optimised, wasm)?;
    let after = fs::metadata(wasm)?.len();
    println!(
        "web: wasm-opt {version} -Oz: {} → {} in {}",
        kib(usize::try_from(before)?),
        kib(usize::try_from(after)?),
        secs(started)
    );
    if cache.exists() {
        fs::remove_dir_all(cache)?;
    }
    fs::create_dir_all(cache)?;
    fs::copy(wasm, &cached)?;
    Ok(())
}

/// Leaflet (the maps of the dealer pages) from npm's package in `e2e/node_modules` into
/// `dist/vendor/leaflet/`: served by the app itself, no CDN. Without it the maps show a note.
fn copy_leaflet(root: &Path, dist: &Path) -> Result<()> {
    let from = root.join("e2e/node_modules/leaflet/dist");
    if !from.join("leaflet.js").is_file() {
        println!("web: no leaflet in e2e/node_modules (`npm ci` in e2e/ adds it); maps stay empty");
        return Ok(());
    }
    let to = dist.join("vendor/leaflet");
    fs::create_dir_all(&to)?;
    for file in ["leaflet.js", "leaflet.css"] {
        fs::copy(from.join(file), to.join(file))
            .with_context(|| format!("copying leaflet's {file}"))?;
    }
    if from.join("images").is_dir() {
        copy_dir(&from.join("images"), &to.join("images"))?;
    }
    Ok(())
}

/// Builds the SPA into `frontend/dist/` and returns that directory.
fn build_web(root: &Path, dev: bool) -> Result<PathBuf> {
    let started = Instant::now();
    let frontend = root.join("frontend");
    let template_path = frontend.join("index.html");
    let template = fs::read_to_string(&template_path)
        .with_context(|| format!("reading {}", template_path.display()))?;
    if !template.contains(APP_MARKER) {
        bail!(
            "{} lacks the marker {APP_MARKER} where the script tags go",
            template_path.display()
        );
    }
    ensure_wasm_target(root)?;

    let (profile, profile_dir) = if dev {
        ("dev", "debug")
    } else {
        ("web", "web")
    };
    status(
        cargo(root).args([
            "build",
            "-p",
            "dealernet-frontend",
            "--lib",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            profile,
        ]),
        "building the SPA (cargo build -p dealernet-frontend)",
    )?;
    let compiled = Instant::now();

    let target = target_dir(root)?;
    let input = target
        .join("wasm32-unknown-unknown")
        .join(profile_dir)
        .join("dealernet_frontend.wasm");
    let staging = target.join("dealernet-web-staging");
    if staging.exists() {
        fs::remove_dir_all(&staging).with_context(|| format!("clearing {}", staging.display()))?;
    }
    fs::create_dir_all(&staging)?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .web(true)
        .map_err(|e| anyhow::anyhow!("wasm-bindgen: {e:#}"))?
        .typescript(false)
        .debug(dev)
        .remove_name_section(!dev)
        .remove_producers_section(!dev)
        .omit_default_module_path(true)
        .out_name("app")
        .generate(&staging)
        .map_err(|e| anyhow::anyhow!("wasm-bindgen on {}: {e:#}", input.display()))?;

    let wasm_path = staging.join("app_bg.wasm");
    let mut optimiser = None;
    if !dev {
        match wasm_opt(root) {
            Some((bin, version)) => {
                optimise(
                    &bin,
                    version,
                    &wasm_path,
                    &target.join("dealernet-wasm-opt-cache"),
                )?;
                optimiser = Some(version);
            }
            None => println!(
                "web: no wasm-opt ≥ {MIN_WASM_OPT} in e2e/node_modules (`npm ci` in e2e/ adds npm's \
                 binaryen); the module stays unoptimised (larger)"
            ),
        }
    }

    let js = fs::read(staging.join("app.js")).context("reading wasm-bindgen's app.js")?;
    let wasm = fs::read(&wasm_path).context("reading wasm-bindgen's app_bg.wasm")?;
    let mut hasher = Sha256::new();
    hasher.update(&js);
    hasher.update(&wasm);
    let hash = hex::encode(&hasher.finalize()[..8]);
    let js_name = format!("app-{hash}.js");
    let wasm_name = format!("app-{hash}_bg.wasm");

    // New files first and index.html last, then the old app-* files go: a server running on
    // frontend/dist keeps serving a consistent app throughout.
    let dist = frontend.join("dist");
    fs::create_dir_all(&dist).with_context(|| format!("creating {}", dist.display()))?;
    write_atomic(&dist.join(&wasm_name), &wasm)?;
    write_atomic(&dist.join(&js_name), &js)?;
    let snippets = dist.join("snippets");
    if snippets.exists() {
        fs::remove_dir_all(&snippets)?;
    }
    if staging.join("snippets").is_dir() {
        copy_dir(&staging.join("snippets"), &snippets)?;
    }
    let public = frontend.join("public");
    if public.is_dir() {
        copy_dir(&public, &dist)?;
    }
    copy_leaflet(root, &dist)?;
    let tags = format!(
        "<link rel=\"modulepreload\" href=\"/{js_name}\">\n  \
         <link rel=\"preload\" href=\"/{wasm_name}\" as=\"fetch\" type=\"application/wasm\" crossorigin>\n  \
         <script type=\"module\">import init from '/{js_name}'; init({{ module_or_path: '/{wasm_name}' }});</script>"
    );
    write_atomic(
        &dist.join("index.html"),
        template.replace(APP_MARKER, &tags).as_bytes(),
    )?;
    for entry in fs::read_dir(&dist)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("app-") && name != js_name && name != wasm_name {
            fs::remove_file(dist.join(name.as_ref()))?;
        }
    }

    let (wasm_gz, js_gz) = (gzip_len(&wasm)?, gzip_len(&js)?);
    let line = format!(
        "web: wasm {} (gzip {}), js {} (gzip {}), total gzip {}",
        kib(wasm.len()),
        kib(wasm_gz),
        kib(js.len()),
        kib(js_gz),
        kib(wasm_gz + js_gz),
    );
    println!("{line}");
    println!(
        "web: profile {profile}, {}; cargo {}, total {}; into {}",
        optimiser.map_or_else(
            || "no wasm-opt".to_string(),
            |v| format!("wasm-opt {v} -Oz")
        ),
        secs_between(started, compiled),
        secs(started),
        dist.display()
    );
    let report = serde_json::json!({
        "summary": line,
        "profile": profile,
        "wasm_opt": optimiser,
        "hash": hash,
        "wasm": { "file": wasm_name, "bytes": wasm.len(), "gzip_bytes": wasm_gz },
        "js": { "file": js_name, "bytes": js.len(), "gzip_bytes": js_gz },
        "total_gzip_bytes": wasm_gz + js_gz,
        "build_seconds": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    });
    write_atomic(
        &dist.join("build-report.json"),
        &serde_json::to_vec_pretty(&report)?,
    )?;
    Ok(dist)
}

// ---------------------------------------------------------------------------------------------
// start

fn start(root: &Path, demo: bool, rest: &[String]) -> Result<ExitCode> {
    build_web(root, false)?;
    let mut cmd = cargo(root);
    cmd.args(["run", "--release", "-p", "dealernet-server", "--", "serve"]);
    if demo {
        cmd.arg("--demo");
    }
    cmd.args(rest);
    // Replace this process: Ctrl-C and the exit code then belong to the server alone.
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        let err = cmd.exec();
        Err(err).context("could not start cargo run -p dealernet-server")
    }
    #[cfg(not(unix))]
    {
        let st = cmd
            .status()
            .context("could not start cargo run -p dealernet-server")?;
        Ok(st
            .code()
            .map_or(ExitCode::FAILURE, |c| ExitCode::from(c as u8)))
    }
}

// ---------------------------------------------------------------------------------------------
// e2e

/// Kills the server (and waits for it) however the e2e run ends.
struct ServerGuard(Child);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> Result<Self> {
        let path = std::env::temp_dir().join(format!("{prefix}{}", random_hex(12)));
        // create_dir (not _all) fails if it exists: the directory is ours alone.
        fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// `GET /api/v1/health` answers 200.
fn healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!(
        "GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = Vec::new();
    let mut buf = [0u8; 64];
    while head.len() < 12 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    head.starts_with(b"HTTP/1.1 200")
}

/// `npm ci` in e2e/ when node_modules is missing or older than package-lock.json.
fn npm_ci_if_needed(e2e_dir: &Path) -> Result<()> {
    let lock = e2e_dir.join("package-lock.json");
    let installed = e2e_dir.join("node_modules/.package-lock.json");
    let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = match (mtime(&lock), mtime(&installed)) {
        (Some(l), Some(i)) => i >= l && e2e_dir.join("node_modules/.bin/playwright").exists(),
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    let started = Instant::now();
    println!("e2e: npm ci in e2e/ (Playwright's test runner and binaryen's wasm-opt)");
    let mut cmd = Command::new("npm");
    cmd.args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .current_dir(e2e_dir);
    match cmd.status() {
        Ok(st) if st.success() => {
            println!("e2e: npm ci done in {}", secs(started));
            Ok(())
        }
        Ok(st) => bail!("npm ci in e2e/ failed ({st})"),
        Err(e) => Err(e).context(
            "could not run npm: install Node.js 20 or newer (e.g. `apt-get install -y nodejs npm`)",
        ),
    }
}

fn e2e(root: &Path, headed: bool, rest: &[String]) -> Result<()> {
    let started = Instant::now();
    let e2e_dir = root.join("e2e");
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| CHROMIUM.to_string());
    if !Path::new(&chromium).is_file() {
        bail!(
            "no chromium at {chromium}. Install Debian's: `apt-get update && apt-get install -y chromium` \
             (or point CHROMIUM_PATH at a Chromium/Chrome binary). Playwright's own browser download \
             is not used."
        );
    }
    // npm first: it brings the wasm-opt that the release SPA build uses.
    npm_ci_if_needed(&e2e_dir)?;
    let dist = build_web(root, false)?;
    let step = Instant::now();
    status(
        cargo(root).args(["build", "-p", "dealernet-server", "--bin", "dealernet"]),
        "building the server (cargo build -p dealernet-server)",
    )?;
    println!("e2e: server built in {}", secs(step));
    let server = target_dir(root)?.join("debug").join("dealernet");

    let work = TempDir::new("dealernet-e2e-")?;
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let results = e2e_dir.join("test-results");
    fs::create_dir_all(&results)?;
    let server_log = results.join("server.log");
    let jwt_secret = random_hex(48);
    let server_cmd = |args: &[&str]| {
        let mut c = Command::new(&server);
        c.args(args)
            .env("DEALERNET_DATA_DIR", &work.0)
            .env(
                "DEALERNET_DATABASE_URL",
                format!("sqlite://{}?mode=rwc", work.0.join("e2e.db").display()),
            )
            .env("DEALERNET_BIND", format!("127.0.0.1:{port}"))
            .env("DEALERNET_WEB_DIR", &dist)
            .env("DEALERNET_JWT_SECRET", &jwt_secret)
            .env("DEALERNET_LOG_LEVEL", "warn")
            .env_remove("DEALERNET_CONFIG")
            .env_remove("RUST_LOG")
            // No dealernet.toml from the developer's checkout gets read.
            .current_dir(&work.0);
        c
    };
    status(&mut server_cmd(&["migrate"]), "dealernet migrate")?;
    status(
        &mut server_cmd(&[
            "create-admin",
            "--email",
            E2E_ADMIN_EMAIL,
            "--name",
            E2E_ADMIN_NAME,
            "--password",
            E2E_ADMIN_PASSWORD,
        ]),
        "dealernet create-admin",
    )?;
    // The demo network gives the pages realistic content (and the suite more to trip over).
    status(&mut server_cmd(&["seed-demo"]), "dealernet seed-demo")?;

    let log = fs::File::create(&server_log)
        .with_context(|| format!("creating {}", server_log.display()))?;
    let child = server_cmd(&["serve"])
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .spawn()
        .context("could not start dealernet serve")?;
    let mut guard = ServerGuard(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !healthy(port) {
        let exited = guard.0.try_wait()?;
        if exited.is_some() || Instant::now() > deadline {
            let log = fs::read_to_string(&server_log).unwrap_or_default();
            let why = exited.map_or_else(
                || "did not answer GET /api/v1/health with 200 within 30 s".to_string(),
                |st| format!("exited ({st})"),
            );
            bail!(
                "the server {why}; its log ({}):\n{log}",
                server_log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "e2e: server at {base} (log: e2e/test-results/server.log); running playwright after {}",
        secs(started)
    );

    let playwright = e2e_dir.join("node_modules/.bin/playwright");
    let mut cmd = Command::new(&playwright);
    cmd.arg("test");
    if headed {
        cmd.arg("--headed");
    }
    let st = cmd
        .args(rest)
        .env("BASE_URL", &base)
        .env("CHROMIUM_PATH", &chromium)
        .env("E2E_ADMIN_EMAIL", E2E_ADMIN_EMAIL)
        .env("E2E_ADMIN_PASSWORD", E2E_ADMIN_PASSWORD)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .current_dir(&e2e_dir)
        .status()
        .with_context(|| format!("could not start {}", playwright.display()))?;
    drop(guard);
    if !st.success() {
        bail!(
            "the browser tests failed ({st}) after {}. Screenshots and traces: e2e/test-results/artifacts \
             (open a trace with `cd e2e && npx playwright show-trace <trace.zip>`); the server's log: \
             e2e/test-results/server.log",
            secs(started)
        );
    }
    println!("e2e: all green in {}", secs(started));
    Ok(())
}
