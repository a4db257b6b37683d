use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn an_idempotency_key_replay_creates_one_record_and_returns_the_first_answer() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body = json!({"name": "Idem region", "kind": "region", "parent_id": app.root_org});
    let first = app
        .post("/orgs")
        .token(&admin)
        .header("idempotency-key", "k-1")
        .json(&body)
        .send()
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    // The same user retries, even with a refreshed token.
    let admin2 = app.admin_token().await;
    let second = app
        .post("/orgs")
        .token(&admin2)
        .header("idempotency-key", "k-1")
        .json(&body)
        .send()
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.body, first.body);
    assert_eq!(
        second.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    let list = app.get("/orgs?q=Idem").token(&admin).send().await;
    assert_eq!(list.body["total"], 1);
    // The same key with another body is refused.
    let other = app
        .post("/orgs")
        .token(&admin)
        .header("idempotency-key", "k-1")
        .json(&json!({"name": "Other", "kind": "region", "parent_id": app.root_org}))
        .send()
        .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.code(), "idempotency_key_reused");
    assert_eq!(
        app.get("/orgs?q=Other").token(&admin).send().await.body["total"],
        0
    );
    // Client errors are remembered too: a retry with the same key gets the same answer.
    let bad = json!({"name": "", "kind": "region", "parent_id": app.root_org});
    let r1 = app
        .post("/orgs")
        .token(&admin)
        .header("idempotency-key", "k-2")
        .json(&bad)
        .send()
        .await;
    let r2 = app
        .post("/orgs")
        .token(&admin)
        .header("idempotency-key", "k-2")
        .json(&bad)
        .send()
        .await;
    assert_eq!(r1.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r2.status, r1.status);
}

#[tokio::test]
async fn concurrent_repeats_of_one_key_create_exactly_one_record() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body = json!({"name": "Race region", "kind": "region", "parent_id": app.root_org});
    let futs = (0..8).map(|_| {
        app.post("/orgs")
            .token(&admin)
            .header("idempotency-key", "race")
            .json(&body)
            .send()
    });
    let results = futures_util::future::join_all(futs).await;
    for r in &results {
        assert!(
            matches!(r.status, StatusCode::CREATED | StatusCode::CONFLICT),
            "{} {}",
            r.status,
            r.text
        );
    }
    assert_eq!(
        app.get("/orgs?q=Race").token(&admin).send().await.body["total"],
        1
    );
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let id = app
        .create_org(&admin, "Versioned", "region", app.root_org)
        .await;
    let ok = app
        .patch(&format!("/orgs/{id}"))
        .token(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "V2"}))
        .send()
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.header("etag").as_deref(), Some("\"2\""));
    let stale = app
        .patch(&format!("/orgs/{id}"))
        .token(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Lost update"}))
        .send()
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert!(stale.is_problem());
    let garbage = app
        .patch(&format!("/orgs/{id}"))
        .token(&admin)
        .header("if-match", "W/\"zzz\"")
        .json(&json!({"name": "Lost update"}))
        .send()
        .await;
    assert_eq!(garbage.status, StatusCode::PRECONDITION_FAILED);
    let now = app.get(&format!("/orgs/{id}")).token(&admin).send().await;
    assert_eq!(now.body["name"], "V2");
    assert_eq!(now.body["version"], 2);
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_problems_repeat_it() {
    let app = spawn_app().await;
    let res = app
        .get("/health")
        .header("x-request-id", "trace-123")
        .send()
        .await;
    assert_eq!(res.header("x-request-id").as_deref(), Some("trace-123"));
    let res = app.get("/me").send().await;
    let id = res.header("x-request-id").unwrap_or_default();
    assert!(!id.is_empty());
    assert_eq!(res.body["request_id"], id);
    // A hostile request id is replaced, not echoed.
    let res = app
        .get("/health")
        .header("x-request-id", "<script>")
        .send()
        .await;
    assert_ne!(res.header("x-request-id").as_deref(), Some("<script>"));
}

#[tokio::test]
async fn health_ready_and_metrics_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health").send().await.status, StatusCode::OK);
    let ready = app.get("/ready").send().await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["status"], "ok");
    let metrics = app.get("/metrics").send().await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.text.contains("dealernet_http_requests_total"),
        "{}",
        metrics.text
    );
}

#[tokio::test]
async fn the_spa_fallback_serves_a_page_for_deep_links_and_docs_are_offline() {
    let app = spawn_app().await;
    let res = app.get("/web/admin/users/42").send().await;
    assert!(res.text.contains("DealerNet"));
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    let spec = app.get("/api/openapi.json").send().await;
    assert_eq!(spec.status, StatusCode::OK);
    assert!(
        spec.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    let docs = app.get("/api/docs/").send().await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(
        !docs.text.contains("unpkg.com") && !docs.text.contains("cdn.jsdelivr"),
        "docs must work offline"
    );
}

#[test]
fn the_checked_in_openapi_spec_matches_the_code() {
    let generated = dealernet_api::openapi::document_json();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../api-spec/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        let _ = std::fs::write(&path, &generated);
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "api-spec/openapi.json is out of date; run `UPDATE_OPENAPI=1 cargo test -p dealernet-api --test api the_checked_in_openapi` (or `dealernet openapi > api-spec/openapi.json`) and commit it"
    );
    let spec: serde_json::Value = serde_json::from_str(&generated).unwrap_or_default();
    let schemes = &spec["components"]["securitySchemes"];
    assert!(schemes.get("bearer").is_some() && schemes.get("api_key").is_some());
    for path in [
        "/api/v1/auth/login",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/orgs",
        "/api/v1/roles",
        "/api/v1/audit",
        "/api/v1/me",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} missing from the spec"
        );
    }
    assert!(
        spec["paths"]["/api/v1/users"]["post"]["responses"]
            .get("422")
            .is_some()
    );
}

#[tokio::test]
async fn connections_the_server_cut_while_idle_are_replaced_before_a_request_uses_them() {
    use sea_orm::{ConnectionTrait, DbBackend};

    let app = spawn_app().await;
    let token = app.admin_token().await;
    let me = format!("/users/{}", app.admin_id);
    // Warm every worker's pool.
    for _ in 0..8 {
        assert_eq!(
            app.get(&me).token(&token).send().await.status,
            StatusCode::OK
        );
    }
    if app.db.get_database_backend() == DbBackend::Postgres {
        // What a server restart or an idle-connection timeout does to the pooled connections.
        let cut = app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Postgres,
                "SELECT COUNT(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            ))
            .await
            .ok()
            .flatten()
            .and_then(|row| row.try_get::<i64>("", "n").ok())
            .unwrap_or_default();
        assert!(cut > 0, "no pooled connection was cut");
    }
    // Rested past the ping threshold, each connection is checked and a dead one replaced.
    tokio::time::sleep(
        dealernet_data::db::PING_IF_IDLE_FOR + std::time::Duration::from_millis(300),
    )
    .await;
    for _ in 0..8 {
        let res = app.get(&me).token(&token).send().await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    }
}
