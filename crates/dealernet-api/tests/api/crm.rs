#![allow(clippy::panic)]

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Options, PASSWORD, TestApp, spawn_app, spawn_app_tweaked};
use crate::notify_support::{due_in, eventually};

/// Creates a client as `token`; panics unless 201. Answers its id.
async fn client(app: &TestApp, token: &str, body: Value) -> i64 {
    let res = app.post("/clients").token(token).json(&body).send().await;
    if res.status != StatusCode::CREATED {
        panic!("create client failed: {} {}", res.status, res.text);
    }
    res.id()
}

/// Creates a request as `token`; panics unless 201. Answers the body.
async fn deal(app: &TestApp, token: &str, body: Value) -> Value {
    let res = app.post("/deals").token(token).json(&body).send().await;
    if res.status != StatusCode::CREATED {
        panic!("create request failed: {} {}", res.status, res.text);
    }
    res.body
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

fn texts(v: &Value, field: &str) -> Vec<String> {
    items(v)
        .iter()
        .filter_map(|i| i[field].as_str().map(str::to_string))
        .collect()
}

/// A role with "only records I am responsible for" on clients and requests.
async fn own_scope_role(app: &TestApp, code: &str, field_policies: Value) -> i64 {
    let admin = app.admin_token().await;
    let res = app
        .post("/roles")
        .token(&admin)
        .json(&json!({"code": code, "name": code, "level": 3, "scope": "own",
            "permissions": ["clients:view", "clients:create", "clients:edit", "clients:export",
                            "deals:view", "deals:create", "deals:edit", "deals:export",
                            "documents:view", "documents:create", "reminders:view", "reminders:create"],
            "field_policies": field_policies}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.id()
}

#[tokio::test]
async fn a_manager_creates_reads_changes_and_searches_clients_with_contacts() {
    let app = spawn_app().await;
    let (dealer, token, me) = app.dealer_with_admin("Alpha").await;
    let res = app
        .post("/clients")
        .token(&token)
        .json(&json!({"name": "  Nord Stroy ", "legal_id": "7701234567", "email": "Info@NordStroy.example",
            "phone": "+7 495 111-22-33", "website": "https://nordstroy.example", "legal_address": "Moscow, Tverskaya 1"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.id();
    assert_eq!(res.body["name"], "Nord Stroy");
    assert_eq!(res.body["email"], "info@nordstroy.example");
    assert_eq!(res.body["org_id"], dealer);
    assert_eq!(res.body["manager_id"], me);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));

    let contact = app
        .post(&format!("/clients/{id}/contacts"))
        .token(&token)
        .json(&json!({"name": "Ivan Petrov", "position": "Chief engineer", "email": "petrov@nordstroy.example"}))
        .send()
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.text);
    let contacts = app
        .get(&format!("/clients/{id}/contacts"))
        .token(&token)
        .send()
        .await;
    assert_eq!(contacts.body[0]["name"], "Ivan Petrov");

    // One box searches every field, contacts included; per-column filters narrow.
    client(
        &app,
        &token,
        json!({"name": "Volga Cold", "phone": "+7 846 222-33-44"}),
    )
    .await;
    for (query, expected) in [
        ("q=petrov", vec!["Nord Stroy"]),
        ("q=TVERSKAYA", vec!["Nord Stroy"]),
        ("q=846", vec!["Volga Cold"]),
        ("q=o", vec!["Nord Stroy", "Volga Cold"]),
        ("name=volga", vec!["Volga Cold"]),
        ("legal_id=77012", vec!["Nord Stroy"]),
        ("q=100%25", vec![]),
    ] {
        let list = app
            .get(&format!("/clients?{query}&sort=name"))
            .token(&token)
            .send()
            .await;
        assert_eq!(list.status, StatusCode::OK, "{query}: {}", list.text);
        assert_eq!(texts(&list.body, "name"), expected, "{query}");
        assert_eq!(list.body["total"], expected.len(), "{query}");
    }
    let page = app
        .get("/clients?sort=-name&limit=1&offset=1")
        .token(&token)
        .send()
        .await;
    assert_eq!(texts(&page.body, "name"), vec!["Nord Stroy"]);
    assert_eq!(page.body["total"], 2);
    let bad = app
        .get("/clients?limit=101&sort=password")
        .token(&token)
        .send()
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.field_errors(), vec!["limit", "sort"]);

    // Updates need the current version; stale ones change nothing.
    let stale = app
        .patch(&format!("/clients/{id}"))
        .token(&token)
        .header("if-match", "\"9\"")
        .json(&json!({"name": "Other"}))
        .send()
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let upd = app
        .patch(&format!("/clients/{id}"))
        .token(&token)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Nord Stroy Group", "website": null}))
        .send()
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.text);
    assert_eq!(upd.body["version"], 2);
    assert!(upd.body.get("website").is_none());

    // Bad input names each field and writes nothing.
    let before = app.count("clients").await;
    let invalid = app
        .post("/clients")
        .token(&token)
        .json(&json!({"name": " ", "legal_id": "1", "email": "nope", "website": "not a site", "phone": "x"}))
        .send()
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        invalid.field_errors(),
        vec!["email", "legal_id", "name", "phone", "website"]
    );
    assert_eq!(app.count("clients").await, before);

    let audit = app
        .get(&format!("/audit?entity=clients&id={id}"))
        .token(&app.admin_token().await)
        .send()
        .await;
    let actions: Vec<String> = texts(&audit.body, "action");
    assert_eq!(actions, vec!["update", "add_contact", "create"]);
}

#[tokio::test]
async fn a_duplicate_legal_id_or_email_is_a_conflict_naming_the_existing_client() {
    let app = spawn_app().await;
    let (_, token, _) = app.dealer_with_admin("Alpha").await;
    let (_, token_b, _) = app.dealer_with_admin("Beta").await;
    let id = client(
        &app,
        &token,
        json!({"name": "Nord Stroy", "legal_id": "7701234567", "email": "info@nordstroy.example"}),
    )
    .await;
    for body in [
        json!({"name": "Copy", "legal_id": "7701234567"}),
        json!({"name": "Copy", "email": "INFO@nordstroy.example"}),
    ] {
        let res = app.post("/clients").token(&token).json(&body).send().await;
        assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
        assert!(res.is_problem());
        assert_eq!(res.code(), "conflict");
        assert_eq!(res.body["existing_id"], id);
        assert!(
            res.body["detail"]
                .as_str()
                .unwrap_or("")
                .contains("Nord Stroy")
        );
    }
    // Another dealer hears of the duplicate but not which client it is.
    let res = app
        .post("/clients")
        .token(&token_b)
        .json(&json!({"name": "Copy", "legal_id": "7701234567"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.body.get("existing_id").is_none());
    assert!(!res.text.contains("Nord Stroy"));
    assert_eq!(app.count("clients").await, 1);
}

#[tokio::test]
async fn another_dealers_clients_and_requests_are_not_found_and_not_listed() {
    let app = spawn_app().await;
    let (_, token_a, _) = app.dealer_with_admin("Alpha").await;
    let (_, token_b, _) = app.dealer_with_admin("Beta").await;
    let id = client(&app, &token_a, json!({"name": "Alpha client"})).await;
    let d = deal(&app, &token_a, json!({"client_id": id})).await;
    let deal_id = d["id"].as_i64().unwrap_or_default();
    for path in [
        format!("/clients/{id}"),
        format!("/clients/{id}/contacts"),
        format!("/clients/{id}/comments"),
        format!("/clients/{id}/documents"),
        format!("/deals/{deal_id}"),
        format!("/deals/{deal_id}/timeline"),
        format!("/deals/{deal_id}/comments"),
    ] {
        let res = app.get(&path).token(&token_b).send().await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}: {}", res.text);
    }
    let res = app
        .patch(&format!("/clients/{id}"))
        .token(&token_b)
        .json(&json!({"name": "Mine now"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post(&format!("/deals/{deal_id}/status"))
        .token(&token_b)
        .json(&json!({"status": "dead", "comment": "sabotage"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post("/deals")
        .token(&token_b)
        .json(&json!({"client_id": id}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.field_errors(), vec!["client_id"]);
    assert_eq!(
        app.get("/clients").token(&token_b).send().await.body["total"],
        0
    );
    assert_eq!(
        app.get("/deals").token(&token_b).send().await.body["total"],
        0
    );
    // Exporting needs its own permission, which a dealer administrator does not hold.
    let csv = app.get("/deals/export").token(&token_b).send().await;
    assert_eq!(csv.status, StatusCode::FORBIDDEN);
    // The operator's administrator sees everything.
    let admin = app.admin_token().await;
    assert_eq!(
        app.get("/clients").token(&admin).send().await.body["total"],
        1
    );
}

#[tokio::test]
async fn a_responsible_only_manager_sees_and_exports_only_own_records() {
    let app = spawn_app().await;
    let (dealer, token_admin, _) = app.dealer_with_admin("Alpha").await;
    let role = own_scope_role(&app, "own_crm", json!([])).await;
    let admin = app.admin_token().await;
    let mgr = app
        .create_user(&admin, "mgr@alpha.example", dealer, 3, &[role])
        .await;
    app.create_user(&admin, "other@alpha.example", dealer, 3, &[role])
        .await;
    let token = app.login("mgr@alpha.example", PASSWORD).await;
    let token_other = app.login("other@alpha.example", PASSWORD).await;
    let mine = client(&app, &token, json!({"name": "Mine"})).await;
    deal(&app, &token, json!({"client_id": mine})).await;
    let theirs = client(&app, &token_other, json!({"name": "Theirs"})).await;
    deal(&app, &token_other, json!({"client_id": theirs})).await;
    // The dealer's administrator's own client, with the manager not responsible.
    let admins = client(&app, &token_admin, json!({"name": "Admins"})).await;

    let list = app.get("/clients").token(&token).send().await;
    assert_eq!(texts(&list.body, "name"), vec!["Mine"]);
    let deals = app.get("/deals").token(&token).send().await;
    assert_eq!(texts(&deals.body, "client_name"), vec!["Mine"]);
    // Searching stays inside the manager's own records (the search text is only a filter there).
    let mine_number = items(&deals.body)
        .first()
        .and_then(|d| d["number"].as_str().map(str::to_string))
        .unwrap_or_default();
    for (path, expected) in [
        ("/clients?q=i".to_string(), vec!["Mine"]),
        ("/clients?q=theirs".to_string(), vec![]),
        ("/deals?q=mine".to_string(), vec!["Mine"]),
        (format!("/deals?q={mine_number}"), vec!["Mine"]),
        ("/deals?q=theirs".to_string(), vec![]),
    ] {
        let res = app.get(&path).token(&token).send().await;
        let field = if path.starts_with("/deals") {
            "client_name"
        } else {
            "name"
        };
        assert_eq!(texts(&res.body, field), expected, "{path}");
        assert_eq!(res.body["total"], expected.len(), "{path}");
    }
    for path in [format!("/clients/{theirs}"), format!("/clients/{admins}")] {
        assert_eq!(
            app.get(&path).token(&token).send().await.status,
            StatusCode::NOT_FOUND
        );
    }
    for path in ["/clients/export", "/deals/export"] {
        let csv = app.get(path).token(&token).send().await;
        assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
        assert!(csv.text.contains("Mine"), "{path}: {}", csv.text);
        assert!(!csv.text.contains("Theirs"), "{path}: {}", csv.text);
        assert!(!csv.text.contains("Admins"), "{path}: {}", csv.text);
    }
    // Making someone else responsible would hide the record from its creator: refused.
    let res = app
        .post("/clients")
        .token(&token)
        .json(&json!({"name": "Given away", "manager_id": mgr + 1}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.field_errors(), vec!["manager_id"]);
    // The dealer's administrator (subtree scope) sees all three.
    assert_eq!(
        app.get("/clients").token(&token_admin).send().await.body["total"],
        3
    );
}

#[tokio::test]
async fn requests_get_numbers_line_items_a_commented_status_timeline_and_delivery_stages() {
    let app = spawn_app().await;
    let (_, token, me) = app.dealer_with_admin("Alpha").await;
    let c = client(&app, &token, json!({"name": "Nord Stroy"})).await;
    let d = deal(
        &app,
        &token,
        json!({"client_id": c, "date": "2026-11-20", "customer": "City hospital",
            "items": [
                {"equipment_type": "Chiller", "name": "AquaForce", "sub_name": "30XA", "capacity": "500 kW", "quantity": 2},
                {"equipment_type": "Dry cooler", "name": "Guentner", "sub_name": "GFD", "capacity": "120 kW"}
            ],
            "payment_terms": "30% advance", "contract_price": "125000.5", "currency": "EUR"}),
    )
    .await;
    let id = d["id"].as_i64().unwrap_or_default();
    let number = d["number"].as_str().unwrap_or_default().to_string();
    assert_eq!(number, format!("R-2026-{id:06}"));
    assert_eq!(d["status"], "preparing_offer");
    assert_eq!(d["client_name"], "Nord Stroy");
    assert_eq!(d["manager_id"], me);
    assert_eq!(d["contract_price"], "125000.50");
    assert_eq!(d["items"][0]["quantity"], 2);
    assert_eq!(d["items"][1]["quantity"], 1);
    let second = deal(&app, &token, json!({"client_id": c})).await;
    assert_ne!(second["number"], d["number"]);

    // Each level of the line items autocompletes from before, filtered by the level above.
    deal(
        &app,
        &token,
        json!({"client_id": c, "items": [{"equipment_type": "Chiller", "name": "AquaSnap", "sub_name": "30RB", "capacity": "160 kW"}]}),
    )
    .await;
    for (query, expected) in [
        ("level=type", vec!["Chiller", "Dry cooler"]),
        ("level=type&q=chil", vec!["Chiller"]),
        (
            "level=name&equipment_type=Chiller",
            vec!["AquaForce", "AquaSnap"],
        ),
        ("level=name&equipment_type=Dry%20cooler", vec!["Guentner"]),
        (
            "level=sub_name&equipment_type=Chiller&name=AquaSnap",
            vec!["30RB"],
        ),
        (
            "level=capacity&equipment_type=Chiller&name=AquaForce&sub_name=30XA",
            vec!["500 kW"],
        ),
    ] {
        let res = app
            .get(&format!("/deals/suggestions?{query}"))
            .token(&token)
            .send()
            .await;
        assert_eq!(res.status, StatusCode::OK, "{query}: {}", res.text);
        assert_eq!(res.body, json!(expected), "{query}");
    }

    // A status change needs a comment; without one nothing changes.
    let res = app
        .post(&format!("/deals/{id}/status"))
        .token(&token)
        .json(&json!({"status": "in_progress", "comment": " "}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.field_errors(), vec!["comment"]);
    for (status, comment) in [
        ("in_progress", "Offer sent"),
        ("stalled", "Budget frozen"),
        ("won", "Contract signed"),
    ] {
        let res = app
            .post(&format!("/deals/{id}/status"))
            .token(&token)
            .json(&json!({"status": status, "comment": comment}))
            .send()
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.body["status"], status);
    }
    let res = app
        .post(&format!("/deals/{id}/status"))
        .token(&token)
        .json(&json!({"status": "won", "comment": "again"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post(&format!("/deals/{id}/status"))
        .token(&token)
        .json(&json!({"status": "lost", "comment": "x"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    for stage in ["ordered", "in_production", "shipped"] {
        let res = app
            .post(&format!("/deals/{id}/delivery"))
            .token(&token)
            .json(&json!({"stage": stage}))
            .send()
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.body["delivery_stage"], stage);
    }
    let tl = app
        .get(&format!("/deals/{id}/timeline"))
        .token(&token)
        .send()
        .await;
    let entries: Vec<(String, String, String)> = tl
        .body
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or("").to_string(),
                e["to"].as_str().unwrap_or("").to_string(),
                e["comment"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let expect = |k: &str, t: &str, c: &str| (k.to_string(), t.to_string(), c.to_string());
    assert_eq!(
        entries,
        vec![
            expect("status", "preparing_offer", "created"),
            expect("status", "in_progress", "Offer sent"),
            expect("status", "stalled", "Budget frozen"),
            expect("status", "won", "Contract signed"),
            expect("delivery", "ordered", ""),
            expect("delivery", "in_production", ""),
            expect("delivery", "shipped", ""),
        ]
    );
    assert!(tl.body[1]["at"].is_string());
    assert_eq!(tl.body[2]["from"], "in_progress");

    // Items are replaced as a whole; finance fields are checked.
    let res = app
        .patch(&format!("/deals/{id}"))
        .token(&token)
        .json(
            &json!({"items": [{"equipment_type": "Chiller", "name": "AquaForce", "quantity": 3}],
            "contract_price": "1.234"}),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.field_errors(), vec!["contract_price"]);
    let res = app
        .patch(&format!("/deals/{id}"))
        .token(&token)
        .json(
            &json!({"items": [{"equipment_type": "Chiller", "name": "AquaForce", "quantity": 3}],
            "invoice_no": "INV-77"}),
        )
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(items(&res.body).len(), 1);
    assert_eq!(res.body["invoice_no"], "INV-77");

    // The list filters across clients by status, searches line items and sorts.
    let won = app
        .get("/deals?status=won,stalled")
        .token(&token)
        .send()
        .await;
    assert_eq!(texts(&won.body, "number"), vec![number.clone()]);
    let by_item = app.get("/deals?q=aquasnap").token(&token).send().await;
    assert_eq!(by_item.body["total"], 1);
    let of_client = app
        .get(&format!("/deals?client_id={c}&sort=number"))
        .token(&token)
        .send()
        .await;
    assert_eq!(of_client.body["total"], 3);
    assert_eq!(of_client.body["items"][0]["number"], number);
    let shipped = app
        .get("/deals?delivery_stage=shipped")
        .token(&token)
        .send()
        .await;
    assert_eq!(shipped.body["total"], 1);
    // Renaming the client renames it on its requests, and their search finds the new name.
    let res = app
        .patch(&format!("/clients/{c}"))
        .token(&token)
        .json(&json!({"name": "Nord Holding"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let renamed = app
        .get("/deals?q=nord%20holding")
        .token(&token)
        .send()
        .await;
    assert_eq!(renamed.body["total"], 3, "{}", renamed.text);
    assert_eq!(renamed.body["items"][0]["client_name"], "Nord Holding");
    let bad = app.get("/deals?status=lost").token(&token).send().await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.field_errors(), vec!["status"]);

    let audit = app
        .get(&format!("/audit?entity=deals&id={id}"))
        .token(&app.admin_token().await)
        .send()
        .await;
    assert_eq!(
        texts(&audit.body, "action"),
        vec![
            "update", "delivery", "delivery", "delivery", "status", "status", "status", "create"
        ]
    );
}

#[tokio::test]
async fn a_stalled_request_of_my_region_is_found_by_organisation_subtree() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let region = app
        .create_org(&admin, "Central", "region", app.root_org)
        .await;
    let inside = app.create_org(&admin, "Inside", "dealer", region).await;
    let outside = app
        .create_org(&admin, "Outside", "dealer", app.root_org)
        .await;
    let a = client(&app, &admin, json!({"name": "In region", "org_id": inside})).await;
    let b = client(
        &app,
        &admin,
        json!({"name": "Elsewhere", "org_id": outside}),
    )
    .await;
    for c in [a, b] {
        let d = deal(&app, &admin, json!({"client_id": c, "status": "stalled"})).await;
        assert_eq!(d["org_id"], if c == a { inside } else { outside });
    }
    let res = app
        .get(&format!("/deals?status=stalled&org_id={region}"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(texts(&res.body, "client_name"), vec!["In region"]);
}

#[tokio::test]
async fn hidden_finance_fields_stay_hidden_in_reads_searches_and_exports() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let role = own_scope_role(
        &app,
        "no_money",
        json!([{"resource": "deals", "field": "contract_price", "mode": "hidden"},
               {"resource": "deals", "field": "currency", "mode": "hidden"},
               {"resource": "clients", "field": "phone", "mode": "hidden"}]),
    )
    .await;
    let user = app
        .create_user(&admin, "nomoney@example.com", app.root_org, 3, &[role])
        .await;
    let token = app.login("nomoney@example.com", PASSWORD).await;
    let c = client(
        &app,
        &admin,
        json!({"name": "Secret Price Ltd", "phone": "+7 999 123-45-67", "manager_id": user}),
    )
    .await;
    let d = deal(
        &app,
        &admin,
        json!({"client_id": c, "contract_price": "987654.32", "currency": "EUR", "manager_id": user}),
    )
    .await;
    let id = d["id"].as_i64().unwrap_or_default();
    let got = app.get(&format!("/deals/{id}")).token(&token).send().await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert!(got.body.get("contract_price").is_none());
    assert!(got.body.get("currency").is_none());
    assert!(got.body.get("payment_terms").is_some() || got.body["payment_terms"].is_null());
    let cl = app.get(&format!("/clients/{c}")).token(&token).send().await;
    assert!(cl.body.get("phone").is_none());
    // Searching a hidden field finds nothing; sorting by it is refused.
    assert_eq!(
        app.get("/clients?q=999").token(&token).send().await.body["total"],
        0
    );
    assert_eq!(
        app.get("/deals?sort=contract_price")
            .token(&token)
            .send()
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Writing a hidden field is refused naming it.
    let res = app
        .patch(&format!("/deals/{id}"))
        .token(&token)
        .json(&json!({"contract_price": "1.00"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.field_errors(), vec!["contract_price"]);
    let csv = app.get("/deals/export").token(&token).send().await;
    assert_eq!(csv.status, StatusCode::OK);
    let header = csv.text.lines().next().unwrap_or("").to_string();
    assert!(header.contains("number"), "{header}");
    assert!(!header.contains("contract_price"), "{header}");
    assert!(!csv.text.contains("987654"), "{}", csv.text);
    let csv = app.get("/clients/export").token(&token).send().await;
    assert!(csv.text.contains("Secret Price Ltd"));
    // (Not just "999": the export's timestamps may contain it.)
    assert!(!csv.text.contains("123-45-67"), "{}", csv.text);
    let xlsx = app
        .get("/deals/export?format=xlsx")
        .token(&token)
        .send()
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert_eq!(
        xlsx.header("content-type").as_deref(),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    // The administrator sees and exports the price.
    let csv = app.get("/deals/export").token(&admin).send().await;
    assert!(csv.text.contains("987654.32"), "{}", csv.text);
}

#[tokio::test]
async fn documents_are_checked_stored_downloaded_and_deleted_with_audit() {
    let dir =
        std::env::temp_dir().join(format!("dealernet-docs-{}", uuid::Uuid::new_v4().simple()));
    let docs = dir.clone();
    let app = spawn_app_tweaked(Options::default(), move |s| {
        s.documents_dir = docs.clone();
        s.document_max_bytes = 1024;
    })
    .await;
    let (_, token, _) = app.dealer_with_admin("Alpha").await;
    let (_, token_b, _) = app.dealer_with_admin("Beta").await;
    let c = client(&app, &token, json!({"name": "Nord Stroy"})).await;
    let d = deal(&app, &token, json!({"client_id": c})).await;
    let deal_id = d["id"].as_i64().unwrap_or_default();
    let pdf = b"%PDF-1.7 price calculation".to_vec();
    let res = app
        .post(&format!(
            "/deals/{deal_id}/documents?category=price_calculation&file_name=calc.pdf"
        ))
        .token(&token)
        .raw("application/pdf", pdf.clone())
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let doc = res.id();
    assert_eq!(res.body["category"], "price_calculation");
    assert_eq!(res.body["size_bytes"], pdf.len());
    assert!(res.body["uploaded_by_name"].as_str().is_some());
    assert!(res.body["uploaded_at"].is_string());

    // Empty, mislabelled, unaccepted, badly named and oversized files leave nothing behind.
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "category=invoice&file_name=a.pdf",
            "application/pdf",
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "file",
        ),
        (
            "category=invoice&file_name=a.pdf",
            "application/pdf",
            b"MZ not a pdf".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "content_type",
        ),
        (
            "category=invoice&file_name=a.exe",
            "application/x-msdownload",
            b"MZ".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "content_type",
        ),
        (
            "category=invoice&file_name=..%2Fa.pdf",
            "application/pdf",
            b"%PDF-1".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "file_name",
        ),
        (
            "category=invoice&file_name=big.pdf",
            "application/pdf",
            [b"%PDF-".to_vec(), vec![b'x'; 2000]].concat(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
        ),
        (
            "category=bribe&file_name=a.pdf",
            "application/pdf",
            b"%PDF-1".to_vec(),
            StatusCode::BAD_REQUEST,
            "category",
        ),
    ];
    for (query, ct, body, status, field) in cases {
        let res = app
            .post(&format!("/deals/{deal_id}/documents?{query}"))
            .token(&token)
            .raw(ct, body)
            .send()
            .await;
        assert_eq!(res.status, status, "{query}: {}", res.text);
        assert!(res.is_problem(), "{query}");
        if !field.is_empty() {
            assert_eq!(res.field_errors(), vec![field.to_string()], "{query}");
        }
    }
    assert_eq!(app.count("crm_documents").await, 1);
    let files = std::fs::read_dir(dir.join("deals").join(deal_id.to_string()))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(files, 1);

    let list = app
        .get(&format!("/deals/{deal_id}/documents"))
        .token(&token)
        .send()
        .await;
    assert_eq!(list.body.as_array().map(Vec::len), Some(1));
    let got = app
        .get(&format!("/documents/{doc}/content"))
        .token(&token)
        .send()
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.text.as_bytes(), pdf.as_slice());
    assert_eq!(
        got.header("content-type").as_deref(),
        Some("application/pdf")
    );
    // Another dealer can neither read, list, upload to nor delete it.
    for res in [
        app.get(&format!("/documents/{doc}/content"))
            .token(&token_b)
            .send()
            .await,
        app.delete(&format!("/documents/{doc}"))
            .token(&token_b)
            .send()
            .await,
        app.get(&format!("/deals/{deal_id}/documents"))
            .token(&token_b)
            .send()
            .await,
        app.post(&format!(
            "/clients/{c}/documents?category=other&file_name=x.txt"
        ))
        .token(&token_b)
        .raw("text/plain", "hello")
        .send()
        .await,
    ] {
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    }
    let del = app
        .delete(&format!("/documents/{doc}"))
        .token(&token)
        .send()
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(app.count("crm_documents").await, 0);
    let files = std::fs::read_dir(dir.join("deals").join(deal_id.to_string()))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(files, 0);
    let audit = app
        .get(&format!("/audit?entity=deals&id={deal_id}"))
        .token(&app.admin_token().await)
        .send()
        .await;
    let actions = texts(&audit.body, "action");
    assert_eq!(actions[..2], ["delete_document", "upload_document"]);
    let _ = std::fs::remove_dir_all(&dir);
}

async fn notifications_of(app: &TestApp, token: &str) -> Vec<(String, String)> {
    let res = app
        .get("/notifications?limit=100")
        .token(token)
        .send()
        .await;
    items(&res.body)
        .iter()
        .map(|n| {
            (
                n["kind"].as_str().unwrap_or("").to_string(),
                n["link"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn crm_events_reach_the_responsible_manager_and_watchers_but_nobody_outside_the_scope() {
    let app = spawn_app().await;
    let (dealer, token_admin, _) = app.dealer_with_admin("Alpha").await;
    let (_, token_b, _) = app.dealer_with_admin("Beta").await;
    let sales = app.role_id("dealer_admin").await;
    let manager = app
        .create_user(&token_admin, "manager@alpha.example", dealer, 3, &[sales])
        .await;
    let token_mgr = app.login("manager@alpha.example", PASSWORD).await;
    let tech = app.role_id("dealer_technician").await;
    app.create_user(&token_admin, "tech@alpha.example", dealer, 2, &[tech])
        .await;
    let token_tech = app.login("tech@alpha.example", PASSWORD).await;
    let admin = app.admin_token().await;

    let c = client(
        &app,
        &token_admin,
        json!({"name": "Nord Stroy", "manager_id": manager}),
    )
    .await;
    // The dealer's administrator registers a request the manager is responsible for.
    let d = deal(&app, &token_admin, json!({"client_id": c})).await;
    let id = d["id"].as_i64().unwrap_or_default();
    assert_eq!(d["manager_id"], manager);
    // The operator's administrator watches it; another dealer may not.
    let res = app
        .post("/watches")
        .token(&admin)
        .json(&json!({"resource": "deals", "record_id": id}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let res = app
        .post("/watches")
        .token(&token_b)
        .json(&json!({"resource": "deals", "record_id": id}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);

    app.post(&format!("/deals/{id}/status"))
        .token(&token_admin)
        .json(&json!({"status": "in_progress", "comment": "Offer sent"}))
        .send()
        .await;
    app.post(&format!("/deals/{id}/delivery"))
        .token(&token_admin)
        .json(&json!({"stage": "ordered"}))
        .send()
        .await;
    let res = app
        .post(&format!("/deals/{id}/comments"))
        .token(&token_admin)
        .json(&json!({"body": "Customer asked for a discount"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let res = app
        .post(&format!("/clients/{c}/comments"))
        .token(&token_admin)
        .json(&json!({"body": "New chief engineer"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let comments = app
        .get(&format!("/deals/{id}/comments"))
        .token(&token_mgr)
        .send()
        .await;
    assert_eq!(
        comments.body["items"][0]["body"],
        "Customer asked for a discount"
    );
    assert!(comments.body["items"][0]["author_name"].is_string());

    let link = format!("/crm/requests/{id}");
    let got = notifications_of(&app, &token_mgr).await;
    for kind in [
        "new_request",
        "status_changed",
        "delivery_changed",
        "comment_added",
    ] {
        assert!(
            got.iter().any(|(k, l)| k == kind && *l == link),
            "{kind} in {got:?}"
        );
    }
    assert!(got.contains(&("comment_added".to_string(), format!("/crm/clients/{c}"))));
    // The watcher hears of the changes after it started watching.
    let watcher = notifications_of(&app, &admin).await;
    assert!(
        watcher.iter().any(|(k, _)| k == "status_changed"),
        "{watcher:?}"
    );
    // The acting user, another dealer and a technician without CRM access hear nothing.
    assert!(notifications_of(&app, &token_admin).await.is_empty());
    assert!(notifications_of(&app, &token_b).await.is_empty());
    assert!(notifications_of(&app, &token_tech).await.is_empty());
}

#[tokio::test]
async fn reminders_on_clients_and_requests_follow_the_record_scope() {
    let app = spawn_app().await;
    let (_, token, _) = app.dealer_with_admin("Alpha").await;
    let (_, token_b, _) = app.dealer_with_admin("Beta").await;
    let c = client(&app, &token, json!({"name": "Nord Stroy"})).await;
    let d = deal(&app, &token, json!({"client_id": c})).await;
    let id = d["id"].as_i64().unwrap_or_default();
    let res = app
        .post("/reminders")
        .token(&token)
        .json(&json!({"title": "Call the client", "due_at": due_in(3_600_000), "target_kind": "client", "target_id": c}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["target_label"], "Nord Stroy");
    assert_eq!(res.body["link"], format!("/crm/clients/{c}"));
    let res = app
        .post("/reminders")
        .token(&token)
        .json(&json!({"title": "Chase the offer", "due_at": due_in(-1000), "target_kind": "deal", "target_id": id}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["link"], format!("/crm/requests/{id}"));
    assert!(
        res.body["target_label"]
            .as_str()
            .unwrap_or("")
            .starts_with(d["number"].as_str().unwrap_or("?"))
    );
    // Nobody sets a reminder on a record they cannot see (or that does not exist).
    for (kind, target) in [("client", c), ("deal", id), ("deal", id + 1000)] {
        let res = app
            .post("/reminders")
            .token(&token_b)
            .json(&json!({"title": "Spy", "due_at": due_in(60_000), "target_kind": kind, "target_id": target}))
            .send()
            .await;
        assert_eq!(
            res.status,
            StatusCode::NOT_FOUND,
            "{kind} {target}: {}",
            res.text
        );
    }
    let listed = app
        .get(&format!("/reminders?target_kind=client&target_id={c}"))
        .token(&token)
        .send()
        .await;
    assert_eq!(listed.body["total"], 1);
    // The one already due is delivered with a link to the request.
    let delivered = eventually(10, || async {
        let n = notifications_of(&app, &token).await;
        n.iter()
            .any(|(k, l)| k == "reminder" && *l == format!("/crm/requests/{id}"))
            .then_some(())
    })
    .await;
    assert!(delivered.is_some());
    assert_eq!(app.count("reminders").await, 2);
}

fn csv_of(rows: &[&str]) -> String {
    rows.join("\n")
}

async fn import(
    app: &TestApp,
    token: &str,
    body: impl Into<reqwest::Body>,
    ct: &str,
    dry: bool,
) -> crate::helpers::Res {
    app.post(&format!("/clients/import?dry_run={dry}"))
        .token(token)
        .raw(ct, body)
        .send()
        .await
}

/// The `(row, field)` of every error in an import report.
fn error_rows(report: &Value) -> Vec<(u64, String)> {
    report["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["row"].as_u64().unwrap_or(0),
                        e["field"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_import_dry_run_reports_every_row_and_a_rerun_creates_nothing_new() {
    let app = spawn_app().await;
    let (_, token, _) = app.dealer_with_admin("Alpha").await;
    let bad = csv_of(&[
        "name,legal_id,email,phone,contact_name,contact_email",
        "Good One,7701234567,one@example.com,+7 495 111-22-33,Ivan,ivan@example.com",
        ",7701234568,two@example.com,,,",
        "Bad Mail,7701234569,not-mail,,,",
        "Dup,7701234567,,,,",
        "Contactless,7701234570,,,,orphan@example.com",
    ]);
    let res = import(&app, &token, bad, "text/csv", true).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let errors = error_rows(&res.body);
    assert_eq!(
        errors,
        vec![
            (3, "name".into()),
            (4, "email".into()),
            (5, "legal_id".into()),
            (6, "contact_name".into())
        ]
    );
    assert_eq!(res.body["rows"], 5);
    assert_eq!(res.body["applied"], false);
    // Even a real run with errors writes nothing.
    let bad_again = csv_of(&["name,email", "Fine,fine@example.com", "Broken,broken"]);
    let res = import(&app, &token, bad_again, "text/csv", false).await;
    assert_eq!(res.body["applied"], false);
    assert_eq!(app.count("clients").await, 0);

    let good = csv_of(&[
        "name;legal_id;email;contact_name;contact_email",
        "Nord Stroy;7701234567;info@nord.example;Ivan Petrov;petrov@nord.example",
        "Volga Cold;6312345678;office@volga.example;;",
        "Ural Thermo;;sales@ural.example;Olga;olga@ural.example",
    ]);
    let dry = import(&app, &token, good.clone(), "text/csv; charset=utf-8", true).await;
    assert_eq!(dry.body["created"], 3, "{}", dry.text);
    assert_eq!(dry.body["applied"], false);
    assert_eq!(app.count("clients").await, 0);
    let real = import(&app, &token, good.clone(), "text/csv", false).await;
    assert_eq!(real.body["created"], 3, "{}", real.text);
    assert_eq!(real.body["contacts_created"], 2);
    assert_eq!(real.body["applied"], true);
    assert_eq!(app.count("clients").await, 3);
    assert_eq!(app.count("client_contacts").await, 2);
    // The contact is part of the any-field search, and every change has its audit entry.
    let found = app.get("/clients?q=petrov@nord").token(&token).send().await;
    assert_eq!(found.body["total"], 1, "{}", found.text);
    assert_eq!(found.body["items"][0]["name"], "Nord Stroy");
    let nord = found.body["items"][0]["id"].as_i64().unwrap_or_default();
    let history = app
        .get(&format!("/audit?entity=clients&id={nord}"))
        .token(&token)
        .send()
        .await;
    let mut actions: Vec<String> = history.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or("").to_string())
        .collect();
    actions.sort();
    assert_eq!(actions, ["add_contact", "create"], "{}", history.text);
    let again = import(&app, &token, good, "text/csv", false).await;
    assert_eq!(again.body["created"], 0, "{}", again.text);
    assert_eq!(again.body["unchanged"], 3);
    assert_eq!(again.body["contacts_created"], 0);
    assert_eq!(app.count("clients").await, 3);
    assert_eq!(app.count("client_contacts").await, 2);
    // A changed row updates the client matched by legal id (or e-mail).
    let changed = csv_of(&[
        "name,legal_id,email,phone",
        "Nord Stroy Group,7701234567,,+7 495 000-00-01",
        "Ural Thermo JSC,,sales@ural.example,",
    ]);
    let res = import(&app, &token, changed, "text/csv", false).await;
    assert_eq!(res.body["updated"], 2, "{}", res.text);
    assert_eq!(app.count("clients").await, 3);
    let found = app.get("/clients?q=group").token(&token).send().await;
    assert_eq!(found.body["items"][0]["phone"], "+7 495 000-00-01");
    // Two new rows with one e-mail (and different legal ids) are a row error; nothing is written.
    let clash = csv_of(&[
        "name,legal_id,email",
        "First New,5001000001,same@new.example",
        "Second New,5001000002,same@new.example",
    ]);
    let res = import(&app, &token, clash, "text/csv", false).await;
    assert_eq!(res.body["applied"], false, "{}", res.text);
    let rows = error_rows(&res.body);
    assert_eq!(rows, vec![(3, "email".into())], "{}", res.text);
    assert_eq!(app.count("clients").await, 3);
}

#[tokio::test]
async fn bad_import_files_give_row_errors_and_write_nothing() {
    let app = spawn_app_tweaked(Options::default(), |s| s.import_max_bytes = 16 * 1024).await;
    let (_, token, _) = app.dealer_with_admin("Alpha").await;
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    // Wrong columns.
    let res = import(&app, &token, "title,inn\nA,1", "text/csv", false).await;
    let fields: Vec<String> = res.body["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| format!("{}:{}", e["row"], e["field"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(fields, vec!["1:title", "1:inn", "1:name"]);
    // A broken workbook, an empty file.
    for (body, ct) in [
        (b"PK\x03\x04 this is not a workbook".to_vec(), xlsx),
        (vec![], "text/csv"),
        (vec![], xlsx),
        (vec![0xff, 0xfe, 0x00], "text/csv"),
    ] {
        let res = import(&app, &token, body, ct, false).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.body["errors"][0]["row"], 0, "{}", res.text);
        assert_eq!(res.body["errors"][0]["field"], "file");
        assert_eq!(res.body["applied"], false);
    }
    // Too large, and not a spreadsheet at all.
    let res = import(&app, &token, "name\n".repeat(5000), "text/csv", false).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    let res = import(&app, &token, "{}", "application/json", false).await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(app.count("clients").await, 0);

    // A real XLSX workbook imports (and reports a bad row by its line).
    let table = dealernet_data::crm::export::Table {
        header: vec!["name", "legal_id", "email"],
        rows: vec![
            vec![
                "Nord Stroy".into(),
                "7701234567".into(),
                "info@nord.example".into(),
            ],
            vec!["Baltic".into(), "7812345670".into(), "bad".into()],
        ],
    };
    let bytes = dealernet_data::crm::export::to_xlsx(&table, "clients").unwrap_or_default();
    let res = import(&app, &token, bytes, xlsx, false).await;
    assert_eq!(res.body["errors"][0]["row"], 3, "{}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "email");
    assert_eq!(app.count("clients").await, 0);
    let table = dealernet_data::crm::export::Table {
        header: table.header.clone(),
        rows: vec![table.rows[0].clone()],
    };
    let bytes = dealernet_data::crm::export::to_xlsx(&table, "clients").unwrap_or_default();
    let res = import(&app, &token, bytes, xlsx, false).await;
    assert_eq!(res.body["created"], 1, "{}", res.text);
    assert_eq!(app.count("clients").await, 1);
}

#[tokio::test]
async fn a_subtree_search_follows_its_records_when_their_node_moves() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let sales = app.role_id("sales_manager").await;
    let north = app
        .create_org(&admin, "North", "region", app.root_org)
        .await;
    let south = app
        .create_org(&admin, "South", "region", app.root_org)
        .await;
    let dist = app.create_org(&admin, "Dist", "distributor", north).await;
    let dealer = app.create_org(&admin, "Delta", "dealer", dist).await;
    app.create_user(&admin, "n@search.example", north, 6, &[sales])
        .await;
    app.create_user(&admin, "s@search.example", south, 6, &[sales])
        .await;
    let n = app.login("n@search.example", PASSWORD).await;
    let s = app.login("s@search.example", PASSWORD).await;
    let id = client(
        &app,
        &admin,
        json!({"name": "Polar Frost", "phone": "+7 812 555-00-11", "org_id": dealer}),
    )
    .await;
    deal(&app, &admin, json!({"client_id": id})).await;
    // Decoys: the same words outside both regions' subtrees.
    client(&app, &admin, json!({"name": "Polar Frost Root"})).await;

    let found = |token: String, path: &'static str| {
        let app = &app;
        async move { app.get(path).token(&token).send().await.body["total"].clone() }
    };
    assert_eq!(found(n.clone(), "/clients?q=polar%20frost").await, 1);
    assert_eq!(found(n.clone(), "/clients?q=555-00").await, 1);
    assert_eq!(found(n.clone(), "/deals?q=polar").await, 1);
    assert_eq!(found(s.clone(), "/clients?q=polar").await, 0);
    assert_eq!(found(s.clone(), "/deals?q=polar").await, 0);

    // The distributor moves to the south: its dealer's records go with it.
    let moved = app
        .patch(&format!("/orgs/{dist}"))
        .token(&admin)
        .json(&json!({"parent_id": south}))
        .send()
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(found(n.clone(), "/clients?q=polar").await, 0);
    assert_eq!(found(n.clone(), "/deals?q=polar").await, 0);
    assert_eq!(found(s.clone(), "/clients?q=polar%20frost").await, 1);
    assert_eq!(found(s.clone(), "/deals?q=polar").await, 1);
    // The record itself changes node as well.
    let res = app
        .patch(&format!("/clients/{id}"))
        .token(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"org_id": north}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(found(n.clone(), "/clients?q=polar").await, 1);
    assert_eq!(found(s.clone(), "/clients?q=polar").await, 0);
}

#[tokio::test]
async fn a_search_counts_its_matches_up_to_a_cap_and_says_when_it_stopped() {
    let app = spawn_app().await;
    let (_, token, _) = app.dealer_with_admin("Alpha").await;
    let mut rows = vec!["name,email".to_string()];
    rows.extend((0..1_050).map(|i| format!("Capped Co {i:04},office{i}@capped.example")));
    let res = import(&app, &token, rows.join("\n"), "text/csv", false).await;
    assert_eq!(res.body["created"], 1_050, "{}", res.text);

    // A search counts up to 1,000 matches past the offset and says it stopped there.
    let first = app
        .get("/clients?q=capped&sort=name")
        .token(&token)
        .send()
        .await;
    assert_eq!(first.body["total"], 1_000, "{}", first.text);
    assert_eq!(first.body["total_capped"], true);
    assert_eq!(
        texts(&first.body, "name").first().map(String::as_str),
        Some("Capped Co 0000")
    );
    assert_eq!(items(&first.body).len(), 20);
    // Further on, the count reaches the end and is exact again.
    let last = app
        .get("/clients?q=capped&sort=name&offset=1000&limit=100")
        .token(&token)
        .send()
        .await;
    assert_eq!(last.body["total"], 1_050, "{}", last.text);
    assert_eq!(last.body["total_capped"], false);
    assert_eq!(
        texts(&last.body, "name").last().map(String::as_str),
        Some("Capped Co 1049")
    );
    assert_eq!(items(&last.body).len(), 50);
    // A narrower search, and a list without free text, count exactly.
    let one = app
        .get("/clients?q=capped%20co%201049")
        .token(&token)
        .send()
        .await;
    assert_eq!(one.body["total"], 1, "{}", one.text);
    assert_eq!(one.body["total_capped"], false);
    let all = app.get("/clients").token(&token).send().await;
    assert_eq!(all.body["total"], 1_050, "{}", all.text);
    assert_eq!(all.body["total_capped"], false);
    // A one-letter word at the start of a term is still part of what must match.
    let prefixed = app.get("/clients?q=o%20capped").token(&token).send().await;
    assert_eq!(prefixed.body["total"], 0, "{}", prefixed.text);
    let prefixed = app
        .get("/clients?q=o%20co%201049")
        .token(&token)
        .send()
        .await;
    assert_eq!(prefixed.body["total"], 0, "{}", prefixed.text);
    let prefixed = app
        .get("/clients?q=d%20co%201049")
        .token(&token)
        .send()
        .await;
    assert_eq!(prefixed.body["total"], 1, "{}", prefixed.text);
}
