use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn every_change_is_audited_with_who_what_when_and_where_from() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let id = app
        .create_user(&admin, "audited@example.com", app.root_org, 5, &[])
        .await;
    let res = app
        .patch(&format!("/users/{id}"))
        .token(&admin)
        .header("x-request-id", "req-audit-1")
        .json(&json!({"name": "Renamed"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let res = app
        .patch(&format!("/users/{id}"))
        .token(&admin)
        .json(&json!({"status": "blocked"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let history = app
        .get(&format!("/audit?entity=users&id={id}"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(history.status, StatusCode::OK);
    assert_eq!(history.body["total"], 3);
    let items = history.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let actions: Vec<&str> = items.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, vec!["block", "update", "create"]);
    let update = &items[1];
    assert_eq!(update["actor_user_id"], app.admin_id);
    assert_eq!(update["request_id"], "req-audit-1");
    assert_eq!(update["client_ip"], "127.0.0.1");
    assert_eq!(update["changed"], json!(["name"]));
    assert_eq!(update["before"]["name"], "User audited@example.com");
    assert_eq!(update["after"]["name"], "Renamed");
    assert!(
        !history.text.contains("argon2"),
        "password hashes never reach the audit trail"
    );
}

#[tokio::test]
async fn the_audit_trail_is_scoped_and_immutable() {
    let app = spawn_app().await;
    let (_, token_a, admin_a) = app.dealer_with_admin("Audit A").await;
    let (_, token_b, admin_b) = app.dealer_with_admin("Audit B").await;
    let own = app
        .get(&format!("/audit?entity=users&id={admin_a}"))
        .token(&token_a)
        .send()
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.body["total"], 1);
    let other = app
        .get(&format!("/audit?entity=users&id={admin_b}"))
        .token(&token_a)
        .send()
        .await;
    assert_eq!(other.body["total"], 0);
    let all = app.get("/audit?limit=100").token(&token_b).send().await;
    assert!(
        all.body["items"]
            .as_array()
            .is_some_and(|a| a.iter().all(|e| e["entity_id"] != admin_a))
    );
    // The database itself refuses to change or delete entries.
    use sea_orm::ConnectionTrait;
    assert!(
        app.db
            .execute_unprepared("UPDATE audit_log SET action = 'forged'")
            .await
            .is_err()
    );
    assert!(
        app.db
            .execute_unprepared("DELETE FROM audit_log")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_failed_change_leaves_no_audit_entry() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let before = app.count("audit_log").await;
    let res = app
        .post("/orgs")
        .token(&admin)
        .json(&json!({"name": "X", "kind": "region", "parent_id": 424_242}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("audit_log").await, before);
}
