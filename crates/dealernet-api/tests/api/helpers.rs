//! `spawn_app` and friends.

use std::path::PathBuf;

use dealernet_api::{Application, Settings};
use dealernet_data::DatabaseConnection;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use serde_json::{Value, json};

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
pub const ADMIN_EMAIL: &str = "root@example.com";
pub const PASSWORD: &str = "correct horse 42";

enum Db {
    Sqlite { dir: PathBuf },
    Postgres { admin_url: String, name: String },
}

pub struct TestApp {
    pub address: String,
    pub db: DatabaseConnection,
    pub http: reqwest::Client,
    pub admin_id: i64,
    pub root_org: i64,
    /// The database this app runs on, for starting more instances on it.
    pub database_url: String,
    database: Db,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        match &self.database {
            Db::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Db::Postgres { admin_url, name } => {
                let admin_url = admin_url.clone();
                let name = name.clone();
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async move {
                        if let Ok(conn) = Database::connect(format!("{admin_url}/postgres")).await {
                            let _ = conn
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

pub struct Options {
    pub login_max_failures_per_account: u32,
    pub login_max_failures_per_ip: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            login_max_failures_per_account: 100,
            login_max_failures_per_ip: 1000,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(opts: Options) -> TestApp {
    spawn_app_tweaked(opts, |_| {}).await
}

/// Like [`spawn_app_with`], with last changes to the settings (scheduler ticks, SMTP sink…).
#[allow(clippy::expect_used)]
pub async fn spawn_app_tweaked(opts: Options, tweak: impl Fn(&mut Settings)) -> TestApp {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let (url, database) = match std::env::var("DEALERNET_TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let base = base.trim_end_matches('/').to_string();
            let name = format!("dealernet_test_{unique}");
            let admin = Database::connect(format!("{base}/postgres"))
                .await
                .expect("connect to PostgreSQL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            (
                format!("{base}/{name}"),
                Db::Postgres {
                    admin_url: base,
                    name,
                },
            )
        }
        _ => {
            let dir = std::env::temp_dir().join(format!("dealernet-test-{unique}"));
            std::fs::create_dir_all(&dir).expect("create temp dir");
            (
                format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
                Db::Sqlite { dir },
            )
        }
    };
    let mut settings = Settings {
        database_url: url.clone(),
        bind: "127.0.0.1:0".into(),
        jwt_secret: Some(SecretString::from(JWT_SECRET)),
        web_dir: PathBuf::from("/nonexistent-web-dir"),
        db_max_connections: 8,
        workers: 2,
        login_max_failures_per_account: opts.login_max_failures_per_account,
        login_max_failures_per_ip: opts.login_max_failures_per_ip,
        body_limit_bytes: 256 * 1024,
        ..Settings::default()
    };
    tweak(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("build the application");
    let port = app.port();
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    let admin_id =
        dealernet_data::bootstrap::create_admin(&db, ADMIN_EMAIL, "Root Admin", PASSWORD)
            .await
            .expect("create admin");
    let root_org = dealernet_data::bootstrap::ensure_foundation(&db, "Operator")
        .await
        .expect("root");
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        db,
        http: reqwest::Client::new(),
        admin_id,
        root_org,
        database_url: url,
        database,
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Res {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    pub fn is_problem(&self) -> bool {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/problem+json"))
            && self.body["status"].as_u64() == Some(u64::from(self.status.as_u16()))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    pub fn id(&self) -> i64 {
        self.body["id"].as_i64().unwrap_or_default()
    }

    pub fn field_errors(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A request under construction.
pub struct Req<'a> {
    app: &'a TestApp,
    rb: reqwest::RequestBuilder,
}

impl Req<'_> {
    pub fn token(mut self, token: &str) -> Self {
        self.rb = self.rb.bearer_auth(token);
        self
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.rb = self.rb.header(k, v);
        self
    }
    pub fn json(mut self, body: &Value) -> Self {
        self.rb = self.rb.json(body);
        self
    }
    pub fn raw(mut self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        self.rb = self.rb.header("content-type", content_type).body(body);
        self
    }
    #[allow(clippy::expect_used)]
    pub async fn send(self) -> Res {
        let _ = self.app;
        let res = self.rb.send().await.expect("request failed");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("read body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Res {
            status,
            headers,
            body,
            text,
        }
    }
}

impl TestApp {
    pub fn req(&self, method: Method, path: &str) -> Req<'_> {
        let url = if path.starts_with("/api/")
            || path.starts_with("/metrics")
            || !path.starts_with('/')
        {
            format!("{}{}", self.address, path)
        } else if path.starts_with("/web") {
            format!("{}{}", self.address, path.trim_start_matches("/web"))
        } else {
            format!("{}/api/v1{}", self.address, path)
        };
        Req {
            app: self,
            rb: self.http.request(method, url),
        }
    }

    pub fn get(&self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }
    pub fn post(&self, path: &str) -> Req<'_> {
        self.req(Method::POST, path)
    }
    pub fn patch(&self, path: &str) -> Req<'_> {
        self.req(Method::PATCH, path)
    }
    pub fn delete(&self, path: &str) -> Req<'_> {
        self.req(Method::DELETE, path)
    }

    pub async fn login_res(&self, email: &str, password: &str) -> Res {
        self.post("/auth/login")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
    }

    /// Signs in and returns the token answer.
    #[allow(clippy::panic)]
    pub async fn login_tokens(&self, email: &str, password: &str) -> Value {
        let res = self.login_res(email, password).await;
        if res.status != StatusCode::OK {
            panic!("login {email} failed: {} {}", res.status, res.text);
        }
        res.body
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        self.login_tokens(email, password).await["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, PASSWORD).await
    }

    pub async fn role_id(&self, code: &str) -> i64 {
        let token = self.admin_token().await;
        let res = self.get("/roles?limit=100").token(&token).send().await;
        res.body["items"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["code"] == code))
            .and_then(|r| r["id"].as_i64())
            .unwrap_or_default()
    }

    /// Creates a node as `token`'s user; panics unless 201.
    #[allow(clippy::panic)]
    pub async fn create_org(&self, token: &str, name: &str, kind: &str, parent: i64) -> i64 {
        let res = self
            .post("/orgs")
            .token(token)
            .json(&json!({"name": name, "kind": kind, "parent_id": parent}))
            .send()
            .await;
        if res.status != StatusCode::CREATED {
            panic!("create org {name} failed: {} {}", res.status, res.text);
        }
        res.id()
    }

    /// Creates a user as `token`'s user; panics unless 201.
    #[allow(clippy::panic)]
    pub async fn create_user(
        &self,
        token: &str,
        email: &str,
        org: i64,
        level: i64,
        roles: &[i64],
    ) -> i64 {
        let res = self
            .post("/users")
            .token(token)
            .json(
                &json!({"email": email, "name": format!("User {email}"), "password": PASSWORD,
                "org_id": org, "access_level": level, "role_ids": roles}),
            )
            .send()
            .await;
        if res.status != StatusCode::CREATED {
            panic!("create user {email} failed: {} {}", res.status, res.text);
        }
        res.id()
    }

    /// A dealer node under the root with a dealer administrator; returns (dealer org, admin token, admin id).
    pub async fn dealer_with_admin(&self, name: &str) -> (i64, String, i64) {
        let admin = self.admin_token().await;
        let dealer = self.create_org(&admin, name, "dealer", self.root_org).await;
        let role = self.role_id("dealer_admin").await;
        let email = format!("admin@{}.example", name.to_lowercase().replace(' ', "-"));
        let id = self.create_user(&admin, &email, dealer, 3, &[role]).await;
        let token = self.login(&email, PASSWORD).await;
        (dealer, token, id)
    }

    pub async fn count(&self, table: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .ok()
            .flatten();
        row.and_then(|r| r.try_get::<i64>("", "n").ok())
            .unwrap_or(-1)
    }
}
