#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{Res, TestApp, spawn_app};

/// A catalogue, a central warehouse on the root and a dealer with its own warehouse.
struct Stockroom {
    admin: String,
    receiver: i64,
    dish: i64,
    cable: i64,
    central: i64,
    dealer_org: i64,
    dealer_token: String,
    dealer_wh: i64,
}

#[track_caller]
fn ok(res: &Res, status: StatusCode) {
    assert_eq!(res.status, status, "{}", res.text);
}

async fn model(app: &TestApp, token: &str, body: Value) -> i64 {
    let res = app
        .post("/equipment-models")
        .token(token)
        .json(&body)
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
    res.id()
}

async fn warehouse(app: &TestApp, token: &str, org: i64, kind: &str, name: &str) -> i64 {
    let res = app
        .post("/warehouses")
        .token(token)
        .json(&json!({"org_id": org, "kind": kind, "name": name}))
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
    res.id()
}

async fn stockroom(app: &TestApp, dealer: &str) -> Stockroom {
    let admin = app.admin_token().await;
    let receiver = model(
        app,
        &admin,
        json!({"kind": "receiver", "manufacturer": "Acme", "model": "SAT-100", "warranty_months": 12, "list_price_cents": 12000}),
    )
    .await;
    let dish = model(
        app,
        &admin,
        json!({"kind": "dish", "manufacturer": "Acme", "model": "Dish-60", "warranty_months": 24, "list_price_cents": 5000}),
    )
    .await;
    let cable = model(
        app,
        &admin,
        json!({"kind": "cable", "manufacturer": "Wire Co", "model": "RG6", "serialised": false, "warranty_months": 0, "list_price_cents": 100}),
    )
    .await;
    let central = warehouse(app, &admin, app.root_org, "central", "Central").await;
    let (dealer_org, dealer_token, _) = app.dealer_with_admin(dealer).await;
    let dealer_wh = warehouse(
        app,
        &admin,
        dealer_org,
        "dealer",
        &format!("{dealer} stock"),
    )
    .await;
    Stockroom {
        admin,
        receiver,
        dish,
        cable,
        central,
        dealer_org,
        dealer_token,
        dealer_wh,
    }
}

async fn receive(app: &TestApp, s: &Stockroom, wh: i64, model: i64, serials: &[&str]) {
    let res = app
        .post("/stock/receipts")
        .token(&s.admin)
        .json(&json!({"warehouse_id": wh, "reference": "DN-1", "lines": [{"model_id": model, "serials": serials}]}))
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
}

async fn check_ok(app: &TestApp, token: &str) -> Value {
    let res = app.get("/stock/check").token(token).send().await;
    ok(&res, StatusCode::OK);
    assert_eq!(res.body["ok"], true, "{}", res.text);
    res.body
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .expect("query")
        .expect("row");
    row.try_get::<i64>("", "n").expect("n")
}

async fn location(app: &TestApp, token: &str, serial: &str) -> Value {
    let res = app
        .get(&format!("/stock/units/{serial}/timeline"))
        .token(token)
        .send()
        .await;
    ok(&res, StatusCode::OK);
    res.body
}

async fn order(app: &TestApp, s: &Stockroom, lines: Value) -> Value {
    let res = app
        .post("/equipment-orders")
        .token(&s.dealer_token)
        .json(&json!({"warehouse_id": s.dealer_wh, "note": "for the shop", "lines": lines}))
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
    res.body
}

#[tokio::test]
async fn a_dealer_orders_the_back_office_ships_the_dealer_receives_installs_and_brings_a_unit_for_warranty_repair()
 {
    let app = spawn_app().await;
    let s = stockroom(&app, "Orbit").await;
    receive(
        &app,
        &s,
        s.central,
        s.receiver,
        &["rx-1", "RX-2", "RX-3", "RX-4"],
    )
    .await;

    let o = order(
        &app,
        &s,
        json!([{"model_id": s.receiver, "quantity": 3, "transfer_kind": "sale"}]),
    )
    .await;
    let oid = o["id"].as_i64().unwrap();
    assert_eq!(o["status"], "requested");

    // The dealer cannot approve or ship its own order.
    let res = app
        .post(&format!("/equipment-orders/{oid}/approve"))
        .token(&s.dealer_token)
        .send()
        .await;
    ok(&res, StatusCode::FORBIDDEN);
    // Shipping before approval is a conflict.
    let res = app
        .post(&format!("/equipment-orders/{oid}/shipments"))
        .token(&s.admin)
        .json(&json!({"from_warehouse_id": s.central, "units": [{"serial": "RX-1"}]}))
        .send()
        .await;
    ok(&res, StatusCode::CONFLICT);
    let res = app
        .post(&format!("/equipment-orders/{oid}/approve"))
        .token(&s.admin)
        .send()
        .await;
    ok(&res, StatusCode::OK);
    assert_eq!(res.body["status"], "approved");

    // A partial shipment, then the rest.
    let res = app
        .post(&format!("/equipment-orders/{oid}/shipments"))
        .token(&s.admin)
        .json(&json!({"from_warehouse_id": s.central, "units": [{"serial": "rx-1"}, {"serial": "RX-2", "transfer_kind": "consignment"}]}))
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
    assert_eq!(res.body["status"], "partially_shipped");
    let res = app
        .post(&format!("/equipment-orders/{oid}/shipments"))
        .token(&s.admin)
        .json(&json!({"from_warehouse_id": s.central, "units": [{"serial": "RX-3", "transfer_kind": "instalments", "terms": {"instalments": 3}}]}))
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
    assert_eq!(res.body["status"], "shipped");
    let shipments = res.body["shipments"].as_array().unwrap().clone();
    assert_eq!(shipments.len(), 2);
    let timeline = location(&app, &s.admin, "RX-1").await;
    assert_eq!(timeline["unit"]["warehouse_kind"], "in_transit");
    // A fourth unit is more than ordered.
    let res = app
        .post(&format!("/equipment-orders/{oid}/shipments"))
        .token(&s.admin)
        .json(&json!({"from_warehouse_id": s.central, "units": [{"serial": "RX-4"}]}))
        .send()
        .await;
    assert!(
        res.status == StatusCode::CONFLICT || res.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text
    );

    // The dealer receives the first shipment with RX-2 missing, then the second intact.
    let first = shipments[0]["id"].as_i64().unwrap();
    let second = shipments[1]["id"].as_i64().unwrap();
    let res = app
        .post(&format!("/shipments/{first}/receive"))
        .token(&s.dealer_token)
        .json(&json!({"discrepancies": [{"serial": "RX-2", "receipt": "missing", "note": "box empty"}]}))
        .send()
        .await;
    ok(&res, StatusCode::OK);
    let res2 = app
        .post(&format!("/shipments/{first}/receive"))
        .token(&s.dealer_token)
        .json(&json!({}))
        .send()
        .await;
    ok(&res2, StatusCode::CONFLICT);
    let res = app
        .post(&format!("/shipments/{second}/receive"))
        .token(&s.dealer_token)
        .json(&json!({}))
        .send()
        .await;
    ok(&res, StatusCode::OK);
    assert_eq!(res.body["status"], "completed");
    assert_eq!(
        res.body["shipments"][0]["status"],
        "received_with_discrepancies"
    );
    assert_eq!(res.body["shipments"][0]["lines"][1]["receipt"], "missing");
    assert_eq!(res.body["lines"][0]["received_quantity"], 2);

    // The dealer sees its stock: two receivers in its warehouse, one still in transit.
    let res = app
        .get(&format!("/stock?warehouse_id={}", s.dealer_wh))
        .token(&s.dealer_token)
        .send()
        .await;
    ok(&res, StatusCode::OK);
    assert_eq!(res.body["totals"][0]["quantity"], 2);
    let rx2 = location(&app, &s.dealer_token, "RX-2").await;
    assert_eq!(rx2["unit"]["warehouse_kind"], "in_transit");

    // Sale: the dealer owns RX-1 at once; instalments: the operator keeps RX-3 until paid.
    let rx1 = location(&app, &s.dealer_token, "RX-1").await;
    assert_eq!(rx1["unit"]["owner_org_id"], s.dealer_org);
    let rx3 = location(&app, &s.dealer_token, "RX-3").await;
    assert_eq!(rx3["unit"]["owner_org_id"], app.root_org);
    let owed = app
        .get("/obligations?serial=RX-3")
        .token(&s.dealer_token)
        .send()
        .await;
    ok(&owed, StatusCode::OK);
    assert_eq!(owed.body["total"], 3);
    let sum: i64 = owed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["amount_cents"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, 12000);

    // Installed a month ago: the warranty runs the model's 12 months from then.
    let installed_at = (chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339();
    let res = app
        .post("/stock/installations")
        .token(&s.dealer_token)
        .json(&json!({"serial": "RX-1", "customer": "Ivan Petrov", "address": "Lenina 1", "installed_at": installed_at}))
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
    assert!(
        res.body["warranty_until"].as_str().unwrap() > res.body["installed_at"].as_str().unwrap()
    );
    // Installing it again is a conflict: it is at the customer now.
    let again = app
        .post("/stock/installations")
        .token(&s.dealer_token)
        .json(&json!({"serial": "RX-1", "customer": "Someone"}))
        .send()
        .await;
    ok(&again, StatusCode::CONFLICT);

    // Brought for repair: the desk sees a warranty case and why.
    let preview = app
        .get("/stock/repairs/intake/rx-1")
        .token(&s.dealer_token)
        .send()
        .await;
    ok(&preview, StatusCode::OK);
    assert_eq!(preview.body["warranty"]["warranty"], true);
    assert!(
        preview.body["warranty"]["reason"]
            .as_str()
            .unwrap()
            .contains("under warranty until")
    );
    assert!(
        preview.body["timeline"]["entries"]
            .as_array()
            .unwrap()
            .len()
            >= 4
    );
    let res = app
        .post("/stock/repairs")
        .token(&s.dealer_token)
        .json(&json!({"serial": "RX-1", "complaint": "no signal"}))
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
    assert_eq!(res.body["warranty"], true);
    let repair = res.id();
    let twice = app
        .post("/stock/repairs")
        .token(&s.dealer_token)
        .json(&json!({"serial": "RX-1"}))
        .send()
        .await;
    ok(&twice, StatusCode::CONFLICT);

    // Replaced with RX-3 from the dealer's stock: both serials recorded; RX-3 continues the
    // warranty at the customer and RX-1 stays at the bureau as defective.
    let res = app
        .post(&format!("/stock/repairs/{repair}/close"))
        .token(&s.dealer_token)
        .json(&json!({"outcome": "replaced", "replacement_serial": "RX-3"}))
        .send()
        .await;
    ok(&res, StatusCode::OK);
    assert_eq!(res.body["replacement_serial"], "RX-3");
    let rx3 = location(&app, &s.dealer_token, "RX-3").await;
    assert_eq!(rx3["unit"]["warehouse_kind"], "installed");
    assert_eq!(rx3["unit"]["customer"], "Ivan Petrov");
    let rx1 = location(&app, &s.dealer_token, "RX-1").await;
    assert_eq!(rx1["unit"]["condition"], "defective");
    assert_eq!(rx1["unit"]["warehouse_kind"], "at_repair");
    let reasons: Vec<&str> = rx1["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "receipt",
            "shipment",
            "shipment_receipt",
            "installation",
            "repair_intake"
        ]
    );
    assert_eq!(rx1["repairs"][0]["outcome"], "replaced");
    assert_eq!(rx1["installations"][0]["customer"], "Ivan Petrov");

    // The back office sends RX-1 back to the manufacturer in a batch.
    let res = app
        .post("/stock/rtm-batches")
        .token(&s.admin)
        .json(&json!({"serials": ["RX-1"], "note": "no signal"}))
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
    assert_eq!(res.body["manufacturer"], "Acme");
    let rx1 = location(&app, &s.admin, "RX-1").await;
    assert_eq!(rx1["unit"]["warehouse_kind"], "returned_to_manufacturer");

    check_ok(&app, &s.admin).await;
    // Every movement left an audit entry.
    assert!(
        scalar(
            &app,
            "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'stock_movements'"
        )
        .await
            >= 7
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_shipments_of_one_serial_let_exactly_one_through() {
    let app = spawn_app().await;
    let s = stockroom(&app, "Rush").await;
    receive(&app, &s, s.central, s.receiver, &["HOT-1"]).await;
    let o = order(&app, &s, json!([{"model_id": s.receiver, "quantity": 64}])).await;
    let oid = o["id"].as_i64().unwrap();
    ok(
        &app.post(&format!("/equipment-orders/{oid}/approve"))
            .token(&s.admin)
            .send()
            .await,
        StatusCode::OK,
    );
    let body = json!({"from_warehouse_id": s.central, "units": [{"serial": "HOT-1"}]});
    let path = format!("/equipment-orders/{oid}/shipments");
    let results =
        join_all((0..64).map(|_| app.post(&path).token(&s.admin).json(&body).send())).await;
    let created = results
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let conflicts = results
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT)
        .count();
    assert_eq!(
        created,
        1,
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(
        conflicts,
        63,
        "{:?}",
        results
            .iter()
            .find(|r| r.status != StatusCode::CREATED && r.status != StatusCode::CONFLICT)
            .map(|r| &r.text)
    );
    assert!(
        results
            .iter()
            .filter(|r| r.status == StatusCode::CONFLICT)
            .all(|r| r.is_problem() && r.code() == "conflict")
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) AS n FROM stock_ledger WHERE reason = 'shipment'"
        )
        .await,
        1
    );
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) AS n FROM shipment_lines").await,
        1
    );
    let got = app
        .get(&format!("/equipment-orders/{oid}"))
        .token(&s.admin)
        .send()
        .await;
    assert_eq!(got.body["lines"][0]["shipped_quantity"], 1);
    check_ok(&app, &s.admin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_workers_making_a_thousand_random_transfers_never_go_negative_nor_duplicate_a_serial()
{
    let app = spawn_app().await;
    let s = stockroom(&app, "Chaos").await;
    let mut whs = vec![s.central, s.dealer_wh];
    for name in ["North", "South"] {
        whs.push(warehouse(&app, &s.admin, app.root_org, "regional", name).await);
    }
    let serials: Vec<String> = (0..40).map(|i| format!("U-{i:03}")).collect();
    for (i, chunk) in serials.chunks(10).enumerate() {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        receive(&app, &s, whs[i], s.receiver, &refs).await;
    }
    for wh in &whs {
        let res = app
            .post("/stock/receipts")
            .token(&s.admin)
            .json(&json!({"warehouse_id": wh, "lines": [{"model_id": s.cable, "quantity": 50}]}))
            .send()
            .await;
        ok(&res, StatusCode::CREATED);
    }
    let workers = (0..50u64).map(|w| {
        let app = &app;
        let s = &s;
        let whs = &whs;
        let serials = &serials;
        async move {
            let mut seed = w.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let mut next = move |n: usize| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((seed >> 33) as usize) % n
            };
            let mut statuses = Vec::new();
            for _ in 0..20 {
                let from = whs[next(whs.len())];
                let mut to = whs[next(whs.len())];
                if to == from {
                    to = whs[(whs.iter().position(|w| *w == from).unwrap_or(0) + 1) % whs.len()];
                }
                let body = if next(2) == 0 {
                    json!({"from_warehouse_id": from, "to_warehouse_id": to, "serials": [serials[next(serials.len())]]})
                } else {
                    json!({"from_warehouse_id": from, "to_warehouse_id": to, "items": [{"model_id": s.cable, "quantity": 1 + next(30)}]})
                };
                let res = app.post("/stock/transfers").token(&s.admin).json(&body).send().await;
                statuses.push((res.status, res.text));
            }
            statuses
        }
    });
    let all: Vec<(StatusCode, String)> = join_all(workers).await.into_iter().flatten().collect();
    assert_eq!(all.len(), 1000);
    let moved = all.iter().filter(|r| r.0 == StatusCode::CREATED).count();
    let refused = all.iter().filter(|r| r.0 == StatusCode::CONFLICT).count();
    assert_eq!(
        moved + refused,
        1000,
        "{:?}",
        all.iter()
            .find(|r| r.0 != StatusCode::CREATED && r.0 != StatusCode::CONFLICT)
    );
    assert!(moved > 100, "only {moved} transfers went through");

    let check = check_ok(&app, &s.admin).await;
    assert_eq!(check["negative_balances"], 0);
    assert_eq!(check["units"], 40);
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) AS n FROM stock_balances WHERE quantity < 0"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(&app, "SELECT COUNT(DISTINCT serial) AS n FROM stock_units").await,
        40
    );
    let cable_total = scalar(
        &app,
        &format!(
            "SELECT CAST(SUM(quantity) AS BIGINT) AS n FROM stock_balances WHERE model_id = {}",
            s.cable
        ),
    )
    .await;
    assert_eq!(cable_total, 200);
    let receivers = scalar(
        &app,
        &format!(
            "SELECT CAST(SUM(quantity) AS BIGINT) AS n FROM stock_balances WHERE model_id = {}",
            s.receiver
        ),
    )
    .await;
    assert_eq!(receivers, 40);
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) AS n FROM stock_ledger WHERE reason = 'transfer'"
        )
        .await,
        i64::try_from(
            all.iter()
                .filter(|r| r.0 == StatusCode::CREATED)
                .map(|r| {
                    serde_json::from_str::<Value>(&r.1)
                        .map(|v| v["entries"].as_array().map_or(0, Vec::len))
                        .unwrap_or(0)
                })
                .sum::<usize>()
        )
        .unwrap()
    );
}

#[tokio::test]
async fn ledger_entries_cannot_be_changed_through_the_api_nor_in_the_database() {
    let app = spawn_app().await;
    let s = stockroom(&app, "Stone").await;
    receive(&app, &s, s.central, s.receiver, &["IMM-1"]).await;
    let entries = app
        .get("/stock/ledger?serial=IMM-1")
        .token(&s.admin)
        .send()
        .await;
    ok(&entries, StatusCode::OK);
    let id = entries.body["items"][0]["id"].as_i64().unwrap();
    for res in [
        app.patch(&format!("/stock/ledger/{id}"))
            .token(&s.admin)
            .json(&json!({"quantity": 5}))
            .send()
            .await,
        app.delete(&format!("/stock/ledger/{id}"))
            .token(&s.admin)
            .send()
            .await,
    ] {
        assert!(
            res.status == StatusCode::NOT_FOUND || res.status == StatusCode::METHOD_NOT_ALLOWED,
            "{}",
            res.text
        );
    }
    let update = app
        .db
        .execute_unprepared("UPDATE stock_ledger SET quantity = 5")
        .await;
    assert!(update.is_err(), "the database let a ledger entry change");
    let delete = app.db.execute_unprepared("DELETE FROM stock_ledger").await;
    assert!(delete.is_err(), "the database let a ledger entry go");
    // The schema itself refuses a negative balance and a second copy of a serial.
    let negative = app
        .db
        .execute_unprepared("UPDATE stock_balances SET quantity = -1")
        .await;
    assert!(negative.is_err());
    let dup = app
        .db
        .execute_unprepared(&format!(
            "INSERT INTO stock_units (serial, model_id, warehouse_id, condition, version, created_at, updated_at) \
             VALUES ('IMM-1', {}, {}, 'new', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            s.receiver, s.dealer_wh
        ))
        .await;
    assert!(dup.is_err());
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) AS n FROM stock_ledger").await,
        1
    );

    // Corrections are reversing entries, once.
    let wh2 = warehouse(&app, &s.admin, app.root_org, "regional", "East").await;
    let moved = app
        .post("/stock/transfers")
        .token(&s.admin)
        .json(
            &json!({"from_warehouse_id": s.central, "to_warehouse_id": wh2, "serials": ["IMM-1"]}),
        )
        .send()
        .await;
    ok(&moved, StatusCode::CREATED);
    let entry = moved.body["entries"][0]["id"].as_i64().unwrap();
    let rev = app
        .post(&format!("/stock/ledger/{entry}/reverse"))
        .token(&s.admin)
        .json(&json!({"reason": "wrong warehouse"}))
        .send()
        .await;
    ok(&rev, StatusCode::CREATED);
    assert_eq!(rev.body["entries"][0]["reverses_id"], entry);
    assert_eq!(rev.body["entries"][0]["to_warehouse_id"], s.central);
    let again = app
        .post(&format!("/stock/ledger/{entry}/reverse"))
        .token(&s.admin)
        .json(&json!({"reason": "again"}))
        .send()
        .await;
    ok(&again, StatusCode::CONFLICT);
    // A dealer may not reverse.
    let dealer = app
        .post(&format!("/stock/ledger/{entry}/reverse"))
        .token(&s.dealer_token)
        .json(&json!({"reason": "mine"}))
        .send()
        .await;
    assert!(dealer.status == StatusCode::NOT_FOUND || dealer.status == StatusCode::FORBIDDEN);
    check_ok(&app, &s.admin).await;
}

#[tokio::test]
async fn bad_input_is_refused_with_clear_errors_and_moves_nothing() {
    let app = spawn_app().await;
    let s = stockroom(&app, "Careful").await;
    let (other_org, other_token, _) = app.dealer_with_admin("Other").await;
    let other_wh = warehouse(&app, &s.admin, other_org, "dealer", "Other stock").await;
    receive(&app, &s, s.central, s.receiver, &["OK-1", "OK-2"]).await;
    receive(&app, &s, other_wh, s.receiver, &["THEIRS-1"]).await;
    let before = scalar(&app, "SELECT COUNT(*) AS n FROM stock_ledger").await;

    // Unknown serial: 422 naming it.
    let res = app
        .post("/stock/transfers")
        .token(&s.admin)
        .json(&json!({"from_warehouse_id": s.central, "to_warehouse_id": s.dealer_wh, "serials": ["OK-1", "NOPE-9"]}))
        .send()
        .await;
    ok(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.is_problem());
    assert_eq!(res.field_errors(), ["serials[1]"]);
    // A serial that is not in the source warehouse: 409, and OK-1 did not move either.
    let res = app
        .post("/stock/transfers")
        .token(&s.admin)
        .json(&json!({"from_warehouse_id": s.dealer_wh, "to_warehouse_id": s.central, "serials": ["OK-1"]}))
        .send()
        .await;
    ok(&res, StatusCode::CONFLICT);
    // Negative and zero quantities: 422.
    for q in [-5, 0] {
        let res = app
            .post("/stock/transfers")
            .token(&s.admin)
            .json(&json!({"from_warehouse_id": s.central, "to_warehouse_id": s.dealer_wh, "items": [{"model_id": s.cable, "quantity": q}]}))
            .send()
            .await;
        ok(&res, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.field_errors(), ["items[0].quantity"]);
    }
    // More than in stock: 409.
    let res = app
        .post("/stock/transfers")
        .token(&s.admin)
        .json(&json!({"from_warehouse_id": s.central, "to_warehouse_id": s.dealer_wh, "items": [{"model_id": s.cable, "quantity": 1}]}))
        .send()
        .await;
    ok(&res, StatusCode::CONFLICT);
    // A dealer moving stock out of another dealer's warehouse: 404, as if it did not exist.
    let res = app
        .post("/stock/transfers")
        .token(&s.dealer_token)
        .json(&json!({"from_warehouse_id": other_wh, "to_warehouse_id": s.dealer_wh, "serials": ["THEIRS-1"]}))
        .send()
        .await;
    ok(&res, StatusCode::NOT_FOUND);
    let res = app
        .get(&format!("/warehouses/{other_wh}"))
        .token(&s.dealer_token)
        .send()
        .await;
    ok(&res, StatusCode::NOT_FOUND);
    let res = app
        .get("/stock/units/THEIRS-1/timeline")
        .token(&s.dealer_token)
        .send()
        .await;
    ok(&res, StatusCode::NOT_FOUND);
    // The other dealer may see its own warehouse, but not move stock (no permission): 403.
    let res = app
        .post("/stock/transfers")
        .token(&other_token)
        .json(&json!({"from_warehouse_id": other_wh, "to_warehouse_id": other_wh, "serials": ["THEIRS-1"]}))
        .send()
        .await;
    ok(&res, StatusCode::UNPROCESSABLE_ENTITY);
    // Ordering into another dealer's warehouse: 404.
    let res = app
        .post("/equipment-orders")
        .token(&s.dealer_token)
        .json(
            &json!({"warehouse_id": other_wh, "lines": [{"model_id": s.receiver, "quantity": 1}]}),
        )
        .send()
        .await;
    ok(&res, StatusCode::NOT_FOUND);
    // Orders with negative quantities and receipts with duplicate serials: 422 naming the field.
    let res = app
        .post("/equipment-orders")
        .token(&s.dealer_token)
        .json(&json!({"warehouse_id": s.dealer_wh, "lines": [{"model_id": s.receiver, "quantity": -3}]}))
        .send()
        .await;
    ok(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.field_errors(), ["lines[0].quantity"]);
    let res = app
        .post("/stock/receipts")
        .token(&s.admin)
        .json(&json!({"warehouse_id": s.central, "lines": [{"model_id": s.receiver, "serials": ["NEW-1", "OK-2"]}]}))
        .send()
        .await;
    ok(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.field_errors(), ["lines[0].serials[1]"]);
    assert_eq!(res.body["errors"][0]["code"], "duplicate_serial");
    // A receipt into a warehouse that does not exist: 404.
    let res = app
        .post("/stock/receipts")
        .token(&s.admin)
        .json(&json!({"warehouse_id": 999_999, "lines": [{"model_id": s.receiver, "serials": ["NEW-2"]}]}))
        .send()
        .await;
    ok(&res, StatusCode::NOT_FOUND);

    assert_eq!(
        scalar(&app, "SELECT COUNT(*) AS n FROM stock_ledger").await,
        before
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) AS n FROM stock_units WHERE serial LIKE 'NEW-%'"
        )
        .await,
        0
    );
    let ok1 = location(&app, &s.admin, "OK-1").await;
    assert_eq!(ok1["unit"]["warehouse_id"], s.central);
    check_ok(&app, &s.admin).await;
}

#[tokio::test]
async fn a_receiving_file_is_refused_row_by_row_and_nothing_is_half_imported() {
    let app = spawn_app().await;
    let s = stockroom(&app, "Files").await;
    receive(&app, &s, s.central, s.receiver, &["OLD-1"]).await;
    let csv = "serial,model\nF-1\nF-2,Acme Dish-60\nold-1\nF-1\nbad serial!\nF-3,Wire Co RG6\nF-4,Nobody X\n";
    let path = format!(
        "/stock/receipts/import?warehouse_id={}&model_id={}&reference=ERP-7",
        s.central, s.receiver
    );
    let res = app
        .post(&path)
        .token(&s.admin)
        .raw("text/csv", csv)
        .send()
        .await;
    ok(&res, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = res.field_errors();
    assert_eq!(
        fields,
        ["rows[4]", "rows[5]", "rows[6]", "rows[7]", "rows[8]"]
    );
    let codes: Vec<&str> = res.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "duplicate_serial",
            "duplicate_in_file",
            "serial",
            "not_serialised",
            "unknown_model"
        ]
    );
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) AS n FROM stock_units").await,
        1
    );

    let good = "serial;model\nF-1\nF-2;Acme Dish-60\nF-3\n";
    let res = app
        .post(&path)
        .token(&s.admin)
        .raw("text/csv; charset=utf-8", good)
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
    assert_eq!(res.body["units"], 3);
    let dish = location(&app, &s.admin, "F-2").await;
    assert_eq!(dish["unit"]["model_id"], s.dish);
    // A dealer may not receive into the central warehouse.
    let res = app
        .post(&path)
        .token(&s.dealer_token)
        .raw("text/csv", "X-1\n")
        .send()
        .await;
    ok(&res, StatusCode::NOT_FOUND);
    let res = app
        .post(&path)
        .token(&s.admin)
        .raw("application/pdf", "%PDF")
        .send()
        .await;
    ok(&res, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    check_ok(&app, &s.admin).await;
}

#[tokio::test]
async fn a_dealer_sees_its_own_and_its_sub_dealers_stock_and_nobody_elses() {
    let app = spawn_app().await;
    let s = stockroom(&app, "Parent").await;
    let sub = app
        .create_org(&s.admin, "Child", "sub_dealer", s.dealer_org)
        .await;
    let sub_wh = warehouse(&app, &s.admin, sub, "dealer", "Child stock").await;
    let (other_org, _, _) = app.dealer_with_admin("Stranger").await;
    let other_wh = warehouse(&app, &s.admin, other_org, "dealer", "Stranger stock").await;
    receive(&app, &s, s.dealer_wh, s.receiver, &["P-1"]).await;
    receive(&app, &s, sub_wh, s.receiver, &["C-1", "C-2"]).await;
    receive(&app, &s, other_wh, s.receiver, &["S-1"]).await;

    let res = app.get("/warehouses").token(&s.dealer_token).send().await;
    ok(&res, StatusCode::OK);
    let names: Vec<&str> = res.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Parent stock", "Child stock"]);
    let res = app.get("/stock").token(&s.dealer_token).send().await;
    ok(&res, StatusCode::OK);
    assert_eq!(res.body["total"], 2);
    assert_eq!(res.body["totals"][0]["quantity"], 3);
    let res = app
        .get(&format!("/stock?org_id={sub}"))
        .token(&s.dealer_token)
        .send()
        .await;
    assert_eq!(res.body["totals"][0]["quantity"], 2);
    let res = app
        .get("/stock/units?serial=S")
        .token(&s.dealer_token)
        .send()
        .await;
    assert_eq!(res.body["total"], 0);
    let res = app.get("/stock").token(&s.admin).send().await;
    assert_eq!(res.body["totals"][0]["quantity"], 4);
    // Balances check is for roles that see everything.
    let res = app.get("/stock/check").token(&s.dealer_token).send().await;
    ok(&res, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rent_and_consignment_show_what_is_owed_and_the_overdue_list() {
    let app = spawn_app().await;
    let s = stockroom(&app, "Lease").await;
    receive(&app, &s, s.central, s.receiver, &["R-1", "R-2"]).await;
    let o = order(
        &app,
        &s,
        json!([{"model_id": s.receiver, "quantity": 2, "transfer_kind": "rent"}]),
    )
    .await;
    let oid = o["id"].as_i64().unwrap();
    ok(
        &app.post(&format!("/equipment-orders/{oid}/approve"))
            .token(&s.admin)
            .send()
            .await,
        StatusCode::OK,
    );
    let res = app
        .post(&format!("/equipment-orders/{oid}/shipments"))
        .token(&s.admin)
        .json(&json!({"from_warehouse_id": s.central, "units": [
            {"serial": "R-1", "terms": {"rent_months": 3, "rent_cents_per_month": 700}},
            {"serial": "R-2", "transfer_kind": "consignment", "price_cents": 9000, "terms": {"days": 45}}
        ]}))
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
    assert_eq!(
        res.body["shipments"][0]["lines"][0]["transfer_kind"],
        "rent"
    );
    let rent = app
        .get("/obligations?serial=R-1")
        .token(&s.dealer_token)
        .send()
        .await;
    ok(&rent, StatusCode::OK);
    assert_eq!(rent.body["total"], 4);
    let whats: Vec<&str> = rent.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["what"].as_str().unwrap())
        .collect();
    assert_eq!(whats, ["rent", "rent", "rent", "return"]);
    let cons = app
        .get("/obligations?serial=R-2")
        .token(&s.dealer_token)
        .send()
        .await;
    assert_eq!(cons.body["items"][0]["what"], "return");
    assert_eq!(cons.body["items"][0]["amount_cents"], 9000);
    // The first month's rent is due on shipment: it is on the overdue list at once.
    let overdue = app
        .get("/obligations?overdue=true")
        .token(&s.dealer_token)
        .send()
        .await;
    ok(&overdue, StatusCode::OK);
    assert_eq!(overdue.body["total"], 1);
    let first = overdue.body["items"][0]["id"].as_i64().unwrap();
    assert_eq!(overdue.body["items"][0]["overdue"], true);
    // The dealer cannot mark it paid; the back office can, once.
    ok(
        &app.post(&format!("/obligations/{first}/settle"))
            .token(&s.dealer_token)
            .send()
            .await,
        StatusCode::FORBIDDEN,
    );
    ok(
        &app.post(&format!("/obligations/{first}/settle"))
            .token(&s.admin)
            .send()
            .await,
        StatusCode::OK,
    );
    ok(
        &app.post(&format!("/obligations/{first}/settle"))
            .token(&s.admin)
            .send()
            .await,
        StatusCode::CONFLICT,
    );
    let overdue = app
        .get("/obligations?overdue=true")
        .token(&s.dealer_token)
        .send()
        .await;
    assert_eq!(overdue.body["total"], 0);
    // A stranger sees none of it.
    let (_, stranger, _) = app.dealer_with_admin("Nosy").await;
    let none = app.get("/obligations").token(&stranger).send().await;
    assert_eq!(none.body["total"], 0);
    // The cancelled remainder of an order ships nothing more.
    let o2 = order(&app, &s, json!([{"model_id": s.receiver, "quantity": 5}])).await;
    let o2id = o2["id"].as_i64().unwrap();
    let res = app
        .post(&format!("/equipment-orders/{o2id}/cancel"))
        .token(&s.dealer_token)
        .json(&json!({"reason": "changed our mind"}))
        .send()
        .await;
    ok(&res, StatusCode::OK);
    assert_eq!(res.body["status"], "cancelled");
    ok(
        &app.post(&format!("/equipment-orders/{o2id}/approve"))
            .token(&s.admin)
            .send()
            .await,
        StatusCode::CONFLICT,
    );
}

#[tokio::test]
async fn refurbished_units_return_to_stock_with_a_grade_and_kits_know_their_components() {
    let app = spawn_app().await;
    let s = stockroom(&app, "Bureau").await;
    receive(&app, &s, s.dealer_wh, s.receiver, &["B-1", "B-2"]).await;
    receive(&app, &s, s.dealer_wh, s.dish, &["D-1"]).await;
    // Out of warranty: never installed.
    let preview = app
        .get("/stock/repairs/intake/B-1")
        .token(&s.dealer_token)
        .send()
        .await;
    ok(&preview, StatusCode::OK);
    assert_eq!(preview.body["warranty"]["warranty"], false);
    let r = app
        .post("/stock/repairs")
        .token(&s.dealer_token)
        .json(&json!({"serial": "B-1", "complaint": "scratched"}))
        .send()
        .await;
    ok(&r, StatusCode::CREATED);
    assert_eq!(r.body["warranty"], false);
    let closed = app
        .post(&format!("/stock/repairs/{}/close", r.id()))
        .token(&s.dealer_token)
        .json(&json!({"outcome": "repaired"}))
        .send()
        .await;
    ok(&closed, StatusCode::OK);
    let res = app
        .post("/stock/refurbishments")
        .token(&s.dealer_token)
        .json(&json!({"serial": "B-1", "warehouse_id": s.dealer_wh, "condition": "refurbished", "grade": "A", "discount_price_cents": 8000}))
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
    assert_eq!(res.body["condition"], "refurbished");
    assert_eq!(res.body["discount_price_cents"], 8000);

    // A kit: receiver + dish, with its own serial.
    let kit = model(
        &app,
        &s.admin,
        json!({"kind": "kit", "manufacturer": "Acme", "model": "Home Kit", "warranty_months": 12, "list_price_cents": 16000,
               "components": [{"model_id": s.receiver, "quantity": 1}, {"model_id": s.dish, "quantity": 1}]}),
    )
    .await;
    let res = app
        .post("/stock/kits")
        .token(&s.admin)
        .json(&json!({"kit_model_id": kit, "warehouse_id": s.dealer_wh, "serial": "K-1", "component_serials": ["B-2", "D-1"]}))
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
    assert_eq!(res.body["component_serials"], json!(["B-2", "D-1"]));
    let comp = location(&app, &s.admin, "D-1").await;
    assert_eq!(comp["unit"]["kit_unit_id"], res.id());
    // A component cannot be moved on its own.
    let wh2 = warehouse(&app, &s.admin, app.root_org, "regional", "Elsewhere").await;
    let res = app
        .post("/stock/transfers")
        .token(&s.admin)
        .json(
            &json!({"from_warehouse_id": s.dealer_wh, "to_warehouse_id": wh2, "serials": ["D-1"]}),
        )
        .send()
        .await;
    ok(&res, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post("/stock/transfers")
        .token(&s.admin)
        .json(
            &json!({"from_warehouse_id": s.dealer_wh, "to_warehouse_id": wh2, "serials": ["K-1"]}),
        )
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
    let comp = location(&app, &s.admin, "D-1").await;
    assert!(
        comp["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["serial"] == "K-1")
    );
    // Written off.
    let res = app
        .post("/stock/write-offs")
        .token(&s.admin)
        .json(&json!({"serial": "B-1", "reason": "dropped"}))
        .send()
        .await;
    ok(&res, StatusCode::CREATED);
    assert_eq!(res.body["warehouse_kind"], "written_off");
    check_ok(&app, &s.admin).await;
}
