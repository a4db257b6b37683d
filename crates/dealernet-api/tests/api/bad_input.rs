use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn bad_bodies_are_4xx_problems_and_write_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let users_before = app.count("users").await;
    let audit_before = app.count("audit_log").await;
    let huge = "x".repeat(100_000);
    let valid = json!({"email": "ok@example.com", "name": "Ok", "password": PASSWORD, "org_id": app.root_org, "access_level": 3});
    let with = |k: &str, v: serde_json::Value| {
        let mut b = valid.clone();
        b[k] = v;
        b.to_string()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        ("malformed JSON", "{\"email\": ".into(), "application/json"),
        ("not an object", "[1,2,3]".into(), "application/json"),
        ("empty body", String::new(), "application/json"),
        (
            "wrong type",
            with("access_level", json!("high")),
            "application/json",
        ),
        (
            "wrong type for id",
            with("org_id", json!({"id": 1})),
            "application/json",
        ),
        (
            "NUL byte",
            with("name", json!("Bad\u{0}Name")),
            "application/json",
        ),
        ("huge string", with("name", json!(huge)), "application/json"),
        (
            "out of range level",
            with("access_level", json!(99)),
            "application/json",
        ),
        (
            "negative level",
            with("access_level", json!(-1)),
            "application/json",
        ),
        (
            "integer overflow",
            valid.to_string().replace(
                &format!("\"org_id\":{}", app.root_org),
                "\"org_id\":99999999999999999999999",
            ),
            "application/json",
        ),
        (
            "unknown field",
            with("is_superuser", json!(true)),
            "application/json",
        ),
        (
            "missing field",
            json!({"email": "ok@example.com"}).to_string(),
            "application/json",
        ),
        (
            "bad e-mail",
            with("email", json!("not-an-email")),
            "application/json",
        ),
        (
            "weak password",
            with("password", json!("short")),
            "application/json",
        ),
        (
            "form encoded",
            "email=a".into(),
            "application/x-www-form-urlencoded",
        ),
        (
            "invalid UTF-8",
            String::from_utf8_lossy(b"{\"name\": \"\xff\xfe\"}").into_owned(),
            "application/json",
        ),
    ];
    for (what, body, ct) in cases {
        let res = app.post("/users").token(&admin).raw(ct, body).send().await;
        assert!(
            res.status.is_client_error(),
            "{what}: {} {}",
            res.status,
            res.text
        );
        assert!(res.is_problem(), "{what}: {}", res.text);
    }
    // The failing field is named.
    let res = app
        .post("/users")
        .token(&admin)
        .raw("application/json", with("access_level", json!("high")))
        .send()
        .await;
    assert_eq!(res.field_errors(), vec!["access_level"]);
    let res = app
        .post("/users")
        .token(&admin)
        .raw("application/json", with("is_superuser", json!(true)))
        .send()
        .await;
    assert_eq!(res.field_errors(), vec!["is_superuser"]);
    let res = app
        .post("/users")
        .token(&admin)
        .raw("application/json", with("name", json!("Bad\u{0}Name")))
        .send()
        .await;
    assert_eq!(res.field_errors(), vec!["name"]);
    // A body over the limit is 413.
    let res = app
        .post("/users")
        .token(&admin)
        .raw("application/json", with("name", json!("y".repeat(400_000))))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.is_problem());
    assert_eq!(app.count("users").await, users_before);
    assert_eq!(app.count("audit_log").await, audit_before);
}

#[tokio::test]
async fn bad_query_parameters_and_paths_are_4xx_problems() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for path in [
        "/users?limit=0",
        "/users?limit=101",
        "/users?limit=abc",
        "/users?offset=-1",
        "/users?sort=password_hash",
        "/users?status=sleeping",
        "/orgs?kind=planet",
        "/audit?entity=nothing",
        "/users/abc",
        "/users/99999999999999999999",
    ] {
        let res = app.get(path).token(&admin).send().await;
        assert!(res.status.is_client_error(), "{path}: {}", res.status);
        assert!(res.is_problem(), "{path}: {}", res.text);
    }
    let res = app.get("/users?limit=500").token(&admin).send().await;
    assert_eq!(res.field_errors(), vec!["limit"]);
}

#[tokio::test]
async fn unknown_api_paths_are_404_problems_not_the_spa() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/nothing-here").send().await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.is_problem());
    let res = app.get("/api/whatever").send().await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.is_problem());
}
