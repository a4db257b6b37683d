//! Building and running the application: `Application::build(settings)` binds (port 0 in tests),
//! exposes `port()`, and `run_until_stopped()` serves.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpResponse, HttpServer, ResponseError, web};
use base64::Engine;
use dealernet_data::{DatabaseConnection, bootstrap, db, idempotency, secrets};
use rand::RngCore;
use secrecy::SecretString;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{JwtKeys, LoginThrottle};
use crate::error::{ApiError, PROBLEM_JSON};
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::state::AppState;
use crate::{middleware, openapi, routes, spa};

pub struct Application {
    port: u16,
    server: Server,
    db: DatabaseConnection,
    workers: Option<crate::notify::Workers>,
    /// Follows the database's identity changes for the actor cache (PostgreSQL only).
    actor_feed: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Application {
    fn drop(&mut self) {
        if let Some(feed) = self.actor_feed.take() {
            feed.abort();
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Db(#[from] dealernet_data::error::DbErr),
    #[error("{0}")]
    Service(#[from] dealernet_data::ServiceError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

/// Connects (creating the SQLite data directory if needed) and migrates.
pub async fn connect_and_migrate(settings: &Settings) -> Result<DatabaseConnection, StartError> {
    let url = settings.effective_database_url();
    if url.starts_with("sqlite:") && settings.database_url.trim().is_empty() {
        std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
            StartError::Other(format!(
                "cannot create {}: {e}",
                settings.data_dir.display()
            ))
        })?;
    }
    let conn = db::connect(&url, settings.db_max_connections).await?;
    db::migrate(&conn).await?;
    bootstrap::ensure_foundation(&conn, &settings.operator_name).await?;
    Ok(conn)
}

async fn jwt_secret(
    settings: &Settings,
    conn: &DatabaseConnection,
) -> Result<SecretString, StartError> {
    if let Some(s) = &settings.jwt_secret {
        use secrecy::ExposeSecret;
        if s.expose_secret().len() < 32 {
            return Err(StartError::Other(
                "DEALERNET_JWT_SECRET must be at least 32 characters".into(),
            ));
        }
        return Ok(s.clone());
    }
    let value = secrets::get_or_create(conn, "jwt_hs256", || {
        let mut bytes = [0u8; 48];
        rand::rng().fill_bytes(&mut bytes);
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
    })
    .await?;
    Ok(SecretString::from(value))
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let conn = connect_and_migrate(&settings).await?;
        let secret = jwt_secret(&settings, &conn).await?;
        let jwt = JwtKeys::new(
            &secret,
            &settings.jwt_issuer,
            &settings.jwt_audience,
            settings.access_token_ttl_secs,
        );
        let metrics = Metrics::new().map_err(|e| StartError::Other(e.to_string()))?;
        let listener = TcpListener::bind(&settings.bind).map_err(|source| StartError::Bind {
            addr: settings.bind.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| StartError::Other(e.to_string()))?
            .port();
        let geocoder = Arc::new(crate::dealers::Geocoder::from_settings(&settings));
        let state = AppState {
            db: conn.clone(),
            throttle: Arc::new(LoginThrottle::new(
                settings.login_window_secs,
                settings.login_max_failures_per_account,
                settings.login_max_failures_per_ip,
            )),
            settings: Arc::new(settings),
            jwt: Arc::new(jwt),
            metrics: Arc::new(metrics),
            roles: Arc::new(Default::default()),
            actors: Arc::new(Default::default()),
            push: Arc::new(Default::default()),
            geocoder,
        };
        let actor_feed = dealernet_data::identity::actor_cache::follow_changes(
            &state.settings.effective_database_url(),
            state.actors.clone(),
        );
        let workers = crate::notify::start(conn.clone(), &state.settings, state.push.clone());
        let http_workers = state.settings.workers;
        let worker_count = if http_workers > 0 {
            http_workers
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        };
        // Each HTTP worker gets its own PostgreSQL pool (see `db::worker_pool`); the shared one
        // serves the background workers, and everything on SQLite.
        let per_worker = (state.settings.db_max_connections / worker_count as u32).max(2);
        let url = state.settings.effective_database_url();
        let data = web::Data::new(state);
        let mut server = HttpServer::new(move || match db::worker_pool(&url, per_worker) {
            Some(db) => app(web::Data::new(AppState {
                db,
                ..AppState::clone(&data)
            })),
            None => app(data.clone()),
        })
        .listen(listener)
        .map_err(|e| StartError::Other(e.to_string()))?
        .shutdown_timeout(10);
        if http_workers > 0 {
            server = server.workers(http_workers);
        }
        spawn_housekeeping(conn.clone());
        Ok(Application {
            port,
            server: server.run(),
            db: conn,
            workers: Some(workers),
            actor_feed,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Stops the background workers (scheduler, mailer, push poller); the server keeps serving.
    pub async fn stop_workers(&mut self) {
        if let Some(w) = self.workers.take() {
            w.stop().await;
        }
    }

    pub async fn run_until_stopped(mut self) -> std::io::Result<()> {
        let res = (&mut self.server).await;
        self.stop_workers().await;
        res
    }
}

fn spawn_housekeeping(conn: DatabaseConnection) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match idempotency::purge_expired(&conn).await {
                Ok(n) if n > 0 => tracing::info!(purged = n, "expired idempotency keys removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "idempotency purge failed"),
            }
        }
    });
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit)
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "PUT", "DELETE"])
        .allowed_headers([
            "authorization",
            "content-type",
            "if-match",
            "idempotency-key",
            "x-api-key",
            "x-request-id",
        ])
        .expose_headers(["etag", "location", "x-request-id", "retry-after"])
        .max_age(3600);
    for o in origins {
        cors = cors.allowed_origin(o);
    }
    cors
}

async fn api_not_found() -> HttpResponse {
    ApiError::NotFound.error_response()
}

/// The application: API under `/api/v1`, OpenAPI and docs under `/api`, metrics, and the SPA.
pub fn app(
    data: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let settings = data.settings.clone();
    let limit = settings.body_limit_bytes;
    let (app, api) = App::new()
        .app_data(data)
        .app_data(json_config(limit))
        .app_data(web::PayloadConfig::new(limit))
        .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi_with_errors())
        .service(
            scope::scope("/api/v1")
                .wrap(from_fn(middleware::idempotency))
                .wrap(from_fn(middleware::identity_changes))
                .configure(routes::configure)
                .default_service(web::to(api_not_found)),
        )
        .split_for_parts();
    let mut api = api;
    openapi::finish(&mut api);
    let spec_json = api.to_pretty_json().unwrap_or_default();
    app.route(
        "/api/openapi.json",
        web::get().to(move || {
            let body = spec_json.clone();
            async move {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(body)
            }
        }),
    )
    .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/docs/openapi.json", api))
    .route(
        "/metrics",
        web::get().to(|state: web::Data<AppState>| async move {
            HttpResponse::Ok()
                .content_type("text/plain; version=0.0.4")
                .body(state.metrics.render())
        }),
    )
    .service(web::scope("/api").default_service(web::to(api_not_found)))
    .service(spa::service(&settings.web_dir))
    .wrap(from_fn(middleware::metrics))
    .wrap(Compress::default())
    .wrap(cors(&settings.cors_origins))
    .wrap(from_fn(middleware::request_id))
}

#[allow(dead_code)]
const _: &str = PROBLEM_JSON;
