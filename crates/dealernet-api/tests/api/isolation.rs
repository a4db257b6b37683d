use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn a_dealer_admin_cannot_read_or_change_another_dealers_users_or_nodes() {
    let app = spawn_app().await;
    let (dealer_a, token_a, _) = app.dealer_with_admin("Dealer A").await;
    let (dealer_b, _token_b, admin_b) = app.dealer_with_admin("Dealer B").await;
    let tech = app.role_id("dealer_technician").await;
    let staff_a = app
        .create_user(&token_a, "tech@a.example", dealer_a, 2, &[tech])
        .await;

    // Own records: visible.
    assert_eq!(
        app.get(&format!("/users/{staff_a}"))
            .token(&token_a)
            .send()
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/orgs/{dealer_a}"))
            .token(&token_a)
            .send()
            .await
            .status,
        StatusCode::OK
    );
    // Another dealer's: 404, never its data.
    for path in [
        format!("/users/{admin_b}"),
        format!("/orgs/{dealer_b}"),
        format!("/orgs/{}", app.root_org),
    ] {
        let res = app.get(&path).token(&token_a).send().await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert!(res.is_problem());
        assert!(!res.text.contains("Dealer B") && !res.text.contains("admin@dealer-b"));
    }
    let res = app
        .patch(&format!("/users/{admin_b}"))
        .token(&token_a)
        .json(&json!({"name": "Hijacked"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .patch(&format!("/orgs/{dealer_b}"))
        .token(&token_a)
        .json(&json!({"name": "Hijacked"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Creating inside someone else's subtree: the node "does not exist".
    let res = app
        .post("/orgs")
        .token(&token_a)
        .json(&json!({"name": "Sneaky", "kind": "sub_dealer", "parent_id": dealer_b}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.field_errors(), vec!["parent_id"]);
    let res = app.post("/users").token(&token_a).json(&json!({"email": "x@b.example", "name": "X", "password": PASSWORD, "org_id": dealer_b, "access_level": 2})).send().await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.field_errors(), vec!["org_id"]);
    // Lists show only the own subtree.
    let users = app.get("/users?limit=100").token(&token_a).send().await;
    let emails: Vec<&str> = users.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|u| u["email"].as_str()).collect())
        .unwrap_or_default();
    assert!(emails.contains(&"tech@a.example"));
    assert!(
        !emails
            .iter()
            .any(|e| e.contains("dealer-b") || *e == "root@example.com")
    );
    let orgs = app.get("/orgs?limit=100").token(&token_a).send().await;
    assert!(
        orgs.body["items"]
            .as_array()
            .is_some_and(|a| a.iter().all(|o| o["path"]
                .as_str()
                .is_some_and(|p| p.contains(&format!("/{dealer_a}/")))))
    );
    // Nothing of B changed.
    let b = app
        .get(&format!("/users/{admin_b}"))
        .token(&app.admin_token().await)
        .send()
        .await;
    assert_ne!(b.body["name"], "Hijacked");
}

#[tokio::test]
async fn a_dealer_admin_cannot_grant_above_its_own_level() {
    let app = spawn_app().await;
    let (dealer, token, _) = app.dealer_with_admin("Dealer L").await;
    let res = app.post("/users").token(&token).json(&json!({"email": "boss@l.example", "name": "Boss", "password": PASSWORD, "org_id": dealer, "access_level": 7})).send().await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert!(res.is_problem());
    let op = app.role_id("operator_manager").await;
    let res = app.post("/users").token(&token).json(&json!({"email": "boss@l.example", "name": "Boss", "password": PASSWORD, "org_id": dealer, "access_level": 3, "role_ids": [op]})).send().await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    // The roles it is offered are only those it may grant.
    let roles = app
        .get("/roles?grantable=true&limit=100")
        .token(&token)
        .send()
        .await;
    assert_eq!(roles.status, StatusCode::OK, "{}", roles.text);
    assert!(roles.body["items"].as_array().is_some_and(|a| {
        !a.is_empty()
            && a.iter()
                .all(|r| r["level"].as_i64().is_some_and(|l| l <= 3))
    }));
    assert_eq!(app.count("users").await, 2);
}
