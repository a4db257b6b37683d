use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn an_administrator_creates_reads_lists_and_edits_a_user() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let role = app.role_id("sales_manager").await;
    let region = app
        .create_org(&admin, "North", "region", app.root_org)
        .await;
    let res = app
        .post("/users")
        .token(&admin)
        .json(&json!({"email": "Sales@Example.com", "name": "Sasha", "password": PASSWORD, "org_id": region,
            "access_level": 6, "role_ids": [role], "phone": "+7 900 123-45-67"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.id();
    assert_eq!(res.body["email"], "sales@example.com");
    assert_eq!(res.body["roles"][0]["code"], "sales_manager");
    assert_eq!(res.header("location"), Some(format!("/api/v1/users/{id}")));
    assert!(res.body.get("password").is_none() && res.body.get("password_hash").is_none());

    let got = app.get(&format!("/users/{id}")).token(&admin).send().await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("etag"), Some("\"1\"".into()));

    let list = app
        .get("/users?q=sasha&sort=-created_at&limit=5")
        .token(&admin)
        .send()
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0]["id"], id);
    let by_org = app
        .get(&format!("/users?org_id={region}"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(by_org.body["total"], 1);
    let by_role = app
        .get(&format!("/users?role_id={role}&status=active"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(by_role.body["total"], 1);

    let upd = app
        .patch(&format!("/users/{id}"))
        .token(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Alexandra", "phone": null}))
        .send()
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.text);
    assert_eq!(upd.body["name"], "Alexandra");
    assert!(upd.body.get("phone").is_none());
    assert_eq!(upd.header("etag"), Some("\"2\"".into()));
}

#[tokio::test]
async fn a_duplicate_email_is_a_409_naming_the_existing_user() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let id = app
        .create_user(&admin, "dup@example.com", app.root_org, 5, &[])
        .await;
    let res = app
        .post("/users")
        .token(&admin)
        .json(&json!({"email": "DUP@example.com", "name": "Again", "password": PASSWORD, "org_id": app.root_org, "access_level": 5}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.is_problem());
    assert_eq!(res.body["existing_id"], id);
}

#[tokio::test]
async fn roles_are_granted_and_revoked_with_the_full_new_set() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let tech = app.role_id("dealer_technician").await;
    let seller = app.role_id("seller").await;
    let id = app
        .create_user(&admin, "t@example.com", app.root_org, 2, &[tech])
        .await;
    let res = app
        .patch(&format!("/users/{id}"))
        .token(&admin)
        .json(&json!({"role_ids": [seller]}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let codes: Vec<&str> = res.body["roles"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes, vec!["seller"]);
    // A role above the user's level is refused with the field named.
    let admin_role = app.role_id("administrator").await;
    let res = app
        .patch(&format!("/users/{id}"))
        .token(&admin)
        .json(&json!({"role_ids": [admin_role]}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.field_errors(), vec!["role_ids"]);
}

#[tokio::test]
async fn an_administrator_resets_a_password_and_the_old_sessions_end() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let id = app
        .create_user(
            &admin,
            "forgot@example.com",
            app.root_org,
            4,
            &[app.role_id("auditor").await],
        )
        .await;
    let old = app.login("forgot@example.com", PASSWORD).await;
    let res = app
        .post(&format!("/users/{id}/password"))
        .token(&admin)
        .json(&json!({"password": "brand new pass 9"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    assert_eq!(
        app.get("/me").token(&old).send().await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login_res("forgot@example.com", "brand new pass 9")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn nobody_changes_their_own_status_or_roles() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let res = app
        .patch(&format!("/users/{}", app.admin_id))
        .token(&admin)
        .json(&json!({"status": "blocked"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.is_problem());
}

#[tokio::test]
async fn me_can_be_updated_with_the_same_validation() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let res = app
        .patch("/me")
        .token(&admin)
        .json(&json!({"phone": "abc"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.field_errors(), vec!["phone"]);
    let res = app
        .patch("/me")
        .token(&admin)
        .json(&json!({"name": "Renamed", "phone": "+44 20 7946 0000"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["name"], "Renamed");
}

#[tokio::test]
async fn hidden_fields_are_absent_and_read_only_fields_are_refused_by_name() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    // The contact centre may not see seller codes.
    let agent_role = app.role_id("contact_centre_agent").await;
    app.create_user(&admin, "agent@example.com", app.root_org, 5, &[agent_role])
        .await;
    let seller = app
        .post("/users")
        .token(&admin)
        .json(&json!({"email": "s@example.com", "name": "S", "password": PASSWORD, "org_id": app.root_org,
            "access_level": 1, "seller_code": "S-0042"}))
        .send()
        .await;
    assert_eq!(seller.body["seller_code"], "S-0042");
    let agent = app.login("agent@example.com", PASSWORD).await;
    // The agent has no users:view, so give it a role with users:view by editing a custom role.
    let res = app
        .post("/roles")
        .token(&admin)
        .json(
            &json!({"code": "cc_plus", "name": "CC plus", "level": 5, "scope": "all",
            "permissions": ["users:view", "users:edit"],
            "field_policies": [{"resource": "users", "field": "seller_code", "mode": "hidden"},
                               {"resource": "users", "field": "email", "mode": "read_only"}]}),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let custom = res.id();
    let me_id = app.get("/me").token(&agent).send().await.id();
    let res = app
        .patch(&format!("/users/{me_id}"))
        .token(&admin)
        .json(&json!({"role_ids": [custom]}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let agent = app.login("agent@example.com", PASSWORD).await;
    let sid = seller.id();
    let got = app.get(&format!("/users/{sid}")).token(&agent).send().await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert!(got.body.get("seller_code").is_none(), "{}", got.text);
    assert_eq!(got.body["email"], "s@example.com");
    let list = app.get("/users?q=S-0042").token(&agent).send().await;
    assert_eq!(
        list.body["total"], 0,
        "a hidden field is not searchable either"
    );
    let me = app.get("/me").token(&agent).send().await;
    assert!(me.body["field_restrictions"].as_array().is_some_and(|a| {
        a.iter()
            .any(|f| f["field"] == "seller_code" && f["mode"] == "hidden")
    }));
    let res = app
        .patch(&format!("/users/{sid}"))
        .token(&agent)
        .json(&json!({"email": "x@example.com"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.code(), "read_only_field");
    assert_eq!(res.field_errors(), vec!["email"]);
    let unchanged = app.get(&format!("/users/{sid}")).token(&admin).send().await;
    assert_eq!(unchanged.body["email"], "s@example.com");
}

#[tokio::test]
async fn a_users_page_keeps_its_order_its_total_and_every_users_roles() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let sales = app.role_id("sales_manager").await;
    let auditor = app.role_id("auditor").await;
    let region = app
        .create_org(&admin, "Paging", "region", app.root_org)
        .await;
    // Names sort as d, c, b, a by e-mail prefix; two of them hold two roles.
    let mut ids = vec![];
    for (email, roles) in [
        ("d@page.example", vec![sales, auditor]),
        ("c@page.example", vec![]),
        ("b@page.example", vec![auditor]),
        ("a@page.example", vec![auditor, sales]),
    ] {
        ids.push(app.create_user(&admin, email, region, 6, &roles).await);
    }
    let page = app
        .get(&format!(
            "/users?org_id={region}&sort=-name&limit=2&offset=1"
        ))
        .token(&admin)
        .send()
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.body["total"], 4);
    let items = page.body["items"].as_array().cloned().unwrap_or_default();
    let got: Vec<_> = items.iter().map(|u| u["id"].as_i64()).collect();
    assert_eq!(got, vec![Some(ids[1]), Some(ids[2])], "{}", page.text);
    assert_eq!(items[0]["roles"], json!([]));
    assert_eq!(items[1]["roles"][0]["code"], "auditor");
    assert_eq!(items[0]["org_name"], "Paging");

    let first = app
        .get(&format!("/users?org_id={region}&sort=-name&limit=1"))
        .token(&admin)
        .send()
        .await;
    let roles: Vec<_> = first.body["items"][0]["roles"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| r["code"].as_str().map(str::to_string))
        .collect();
    // Highest level first, each role once.
    assert_eq!(
        roles,
        vec![Some("sales_manager".into()), Some("auditor".into())]
    );
    let last = app
        .get(&format!(
            "/users?org_id={region}&sort=name&limit=1&offset=0"
        ))
        .token(&admin)
        .send()
        .await;
    assert_eq!(last.body["items"][0]["id"], ids[3]);
    assert_eq!(
        last.body["items"][0]["roles"].as_array().map(Vec::len),
        Some(2)
    );

    let past = app
        .get(&format!("/users?org_id={region}&limit=20&offset=40"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(past.status, StatusCode::OK);
    assert_eq!(past.body["total"], 4);
    assert_eq!(past.body["items"], json!([]));
    let none = app
        .get("/users?q=nobody-matches-this&limit=20")
        .token(&admin)
        .send()
        .await;
    assert_eq!(none.body["total"], 0);
}

/// The ids of `GET /users?{query}` and of the same page straight from SQL.
async fn page_and_reference(
    app: &crate::helpers::TestApp,
    token: &str,
    query: &str,
    filter: &str,
    order: &str,
) -> (Vec<i64>, Vec<i64>, i64) {
    use sea_orm::ConnectionTrait;
    let res = app
        .get(&format!("/users?{query}"))
        .token(token)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{query}: {}", res.text);
    let got = res.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|u| u["id"].as_i64())
        .collect();
    let sql = format!("SELECT id FROM users WHERE {filter} ORDER BY {order} LIMIT 20 OFFSET 100");
    let want = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.try_get::<i64>("", "id").ok())
        .collect();
    (got, want, res.body["total"].as_i64().unwrap_or(-1))
}

#[tokio::test]
#[allow(clippy::expect_used)]
async fn a_deep_users_page_is_the_page_sql_gives_for_every_sort_and_scope() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    // 5,100 users over 2 regions × 3 dealers, every tenth blocked, names and e-mails interleaved
    // over the dealers: the page past 100 must be exactly SQL's, with the id breaking ties.
    let fx = dealernet_data::fixtures::load_users(&app.db, app.root_org, 2, 3, 5_100)
        .await
        .expect("fixture");
    let region = fx.regions[0];
    let in_region =
        format!("org_id IN (SELECT id FROM org_nodes WHERE parent_id = {region} OR id = {region})");
    for (query, filter, order, total) in [
        ("sort=name", "1 = 1", "name, id", 5_101),
        ("sort=-name", "1 = 1", "name DESC, id", 5_101),
        (
            "status=active&sort=name",
            "status = 'active'",
            "name, id",
            4_591,
        ),
        (
            "status=active&sort=-name",
            "status = 'active'",
            "name DESC, id",
            4_591,
        ),
        (
            "status=active&sort=email",
            "status = 'active'",
            "email, id",
            4_591,
        ),
        (
            "status=active&sort=-access_level",
            "status = 'active'",
            "access_level DESC, id",
            4_591,
        ),
        (
            "status=active&sort=created_at",
            "status = 'active'",
            "created_at, id",
            4_591,
        ),
        (
            &format!("org_id={region}&sort=-email"),
            &in_region,
            "email DESC, id",
            2_550,
        ),
    ] {
        let (got, want, n) = page_and_reference(
            &app,
            &admin,
            &format!("{query}&limit=20&offset=100"),
            filter,
            order,
        )
        .await;
        assert_eq!(n, total, "{query}");
        assert_eq!(got.len(), 20, "{query}");
        assert_eq!(got, want, "{query}");
    }
}
