use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_built_in_roles_are_seeded() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let res = app.get("/roles?limit=100").token(&admin).send().await;
    assert_eq!(res.status, StatusCode::OK);
    let codes: Vec<&str> = res.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["code"].as_str()).collect())
        .unwrap_or_default();
    for code in [
        "administrator",
        "operator_manager",
        "sales_manager",
        "contact_centre_agent",
        "dealer_admin",
        "dealer_technician",
        "seller",
        "auditor",
        "integration",
    ] {
        assert!(codes.contains(&code), "{code}");
    }
    let first = &res.body["items"][0];
    assert!(first["id"].is_i64() && first["name"].is_string() && first["permissions"].is_array());
}

#[tokio::test]
async fn an_administrator_edits_a_role_and_holders_feel_it_at_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let auditor_role = app.role_id("auditor").await;
    app.create_user(&admin, "aud@example.com", app.root_org, 4, &[auditor_role])
        .await;
    let aud = app.login("aud@example.com", crate::helpers::PASSWORD).await;
    assert_eq!(
        app.get("/orgs").token(&aud).send().await.status,
        StatusCode::FORBIDDEN
    );
    let role = app
        .get(&format!("/roles/{auditor_role}"))
        .token(&admin)
        .send()
        .await;
    let mut perms: Vec<serde_json::Value> = role.body["permissions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    perms.push(json!("orgs:view"));
    let etag = role.header("etag").unwrap_or_default();
    let res = app
        .patch(&format!("/roles/{auditor_role}"))
        .token(&admin)
        .header("if-match", &etag)
        .json(&json!({"permissions": perms}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(
        app.get("/orgs").token(&aud).send().await.status,
        StatusCode::OK
    );
    // Unknown permissions and field policies are refused with the field named.
    let res = app
        .patch(&format!("/roles/{auditor_role}"))
        .token(&admin)
        .json(&json!({"permissions": ["orgs:fly"]}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.field_errors(), vec!["permissions[0]"]);
    let res = app.patch(&format!("/roles/{auditor_role}")).token(&admin).json(&json!({"field_policies": [{"resource": "users", "field": "password_hash", "mode": "hidden"}]})).send().await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn api_keys_work_like_their_role_until_revoked() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let region = app
        .create_org(&admin, "Keyed region", "region", app.root_org)
        .await;
    let dealer = app
        .create_org(&admin, "Keyed dealer", "dealer", region)
        .await;
    let other = app
        .create_org(&admin, "Other region", "region", app.root_org)
        .await;
    let integration = app.role_id("integration").await;
    let res = app
        .post("/api-keys")
        .token(&admin)
        .json(&json!({"name": "ERP", "role_id": integration, "org_id": region}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let secret = res.body["secret"].as_str().unwrap_or("").to_string();
    let key_id = res.body["key"]["id"].as_i64().unwrap_or_default();
    assert!(secret.starts_with("dnk_"));
    // Works with either header, scoped to its node's subtree.
    let res = app
        .get(&format!("/orgs/{dealer}"))
        .header("x-api-key", &secret)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = app
        .get(&format!("/orgs/{dealer}"))
        .token(&secret)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/orgs/{other}"))
            .header("x-api-key", &secret)
            .send()
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Only what the role allows.
    assert_eq!(
        app.get("/users")
            .header("x-api-key", &secret)
            .send()
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The secret is never listed; last use is.
    let list = app.get("/api-keys").token(&admin).send().await;
    assert!(!list.text.contains(&secret));
    assert!(list.body["items"][0]["last_used_at"].is_string());
    assert_eq!(
        app.delete(&format!("/api-keys/{key_id}"))
            .token(&admin)
            .send()
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/orgs/{dealer}"))
            .header("x-api-key", &secret)
            .send()
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // A key above the creator's level cannot be made.
    let (d, token, _) = app.dealer_with_admin("Keyless").await;
    let res = app
        .post("/api-keys")
        .token(&token)
        .json(&json!({"name": "x", "role_id": integration, "org_id": d}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}
