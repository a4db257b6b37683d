#![allow(clippy::panic)]

//! The dealer network: profiles, points of sale with a fake geocoder, requests with automatic
//! assignment, the dealers' answers, timeouts, capacity under concurrency, overrides, isolation.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::{Options, PASSWORD, TestApp, spawn_app, spawn_app_tweaked};
use crate::notify_support::{eventually, spawn_instance};

/// Moscow, where the test dealers work.
const LAT: f64 = 55.7558;
const LON: f64 = 37.6173;

/// A dealer with a profile: its profile id, node, and its administrator's token.
struct TestDealer {
    id: i64,
    token: String,
}

fn profile(org: i64, km_north: f64, rating: f64, capacity: i64) -> Value {
    let lat = LAT + km_north / 111.2;
    json!({
        "org_id": org,
        "legal_name": format!("Dealer {org} LLC"),
        "tax_id": "7701234567",
        "services": ["installation", "repair"],
        "territory": {"areas": [{"kind": "circle", "center": {"lat": lat, "lon": LON}, "radius_km": 40.0}]},
        "base": {"lat": lat, "lon": LON},
        "rating": rating,
        "capacity": capacity,
    })
}

async fn dealer(app: &TestApp, admin: &str, name: &str, body: impl Fn(i64) -> Value) -> TestDealer {
    let (org, token, _) = app.dealer_with_admin(name).await;
    let res = app
        .post("/dealers")
        .token(admin)
        .json(&body(org))
        .send()
        .await;
    if res.status != StatusCode::CREATED {
        panic!("create dealer {name}: {} {}", res.status, res.text);
    }
    TestDealer {
        id: res.id(),
        token,
    }
}

/// A contact-centre agent's token.
async fn agent(app: &TestApp) -> String {
    let admin = app.admin_token().await;
    let role = app.role_id("contact_centre_agent").await;
    let email = format!("agent-{}@example.com", uuid::Uuid::new_v4().simple());
    app.create_user(&admin, &email, app.root_org, 5, &[role])
        .await;
    app.login(&email, PASSWORD).await
}

fn request_body(service: &str) -> Value {
    json!({
        "customer": {"kind": "private", "name": "Ivan Petrov", "phone": "+7 916 000-00-01"},
        "address": "Tverskaya st. 1, Moscow",
        "location": {"lat": LAT, "lon": LON},
        "region_code": "RU-MOW",
        "service": service,
        "equipment": ["Satellite dish 60 cm", "Receiver"],
        "notes": "Call before arriving",
    })
}

async fn create_request(app: &TestApp, token: &str) -> Value {
    let res = app
        .post("/installation-requests")
        .token(token)
        .json(&request_body("installation"))
        .send()
        .await;
    if res.status != StatusCode::CREATED {
        panic!("create request: {} {}", res.status, res.text);
    }
    res.body
}

async fn open_jobs(app: &TestApp, admin: &str, dealer: i64) -> i64 {
    app.get(&format!("/dealers/{dealer}"))
        .token(admin)
        .send()
        .await
        .body["open_jobs"]
        .as_i64()
        .unwrap_or(-1)
}

fn reasons(req: &Value) -> Vec<(i64, String)> {
    req["assignment"]["decision"]["excluded"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["dealer_id"].as_i64().unwrap_or_default(),
                        e["reason"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_operator_creates_a_dealer_profile_and_changes_its_rating_with_history() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (org, dealer_token, _) = app.dealer_with_admin("Alpha").await;
    let mut body = profile(org, 0.0, 4.0, 3);
    body["contacts"] =
        json!([{"name": "Olga", "position": "Dispatcher", "phone": "+7 495 111-22-33"}]);
    body["working_hours"] = json!([{"day": 1, "opens": "09:00", "closes": "18:00"}]);
    body["territory"]["region_codes"] = json!(["RU-MOW"]);
    let res = app.post("/dealers").token(&admin).json(&body).send().await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.id();
    assert_eq!(res.body["name"], "Alpha");
    assert_eq!(res.body["status"], "active");
    assert_eq!(res.body["open_jobs"], 0);
    assert_eq!(res.body["territory"]["areas"][0]["kind"], "circle");

    // One profile per node.
    let again = app.post("/dealers").token(&admin).json(&body).send().await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // The dealer sees its own profile but may not change it.
    let own = app
        .get(&format!("/dealers/{id}"))
        .token(&dealer_token)
        .send()
        .await;
    assert_eq!(own.status, StatusCode::OK);
    let denied = app
        .patch(&format!("/dealers/{id}"))
        .token(&dealer_token)
        .json(&json!({"capacity": 50}))
        .send()
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    let stale = app
        .patch(&format!("/dealers/{id}"))
        .token(&admin)
        .header("if-match", "\"9\"")
        .json(&json!({"capacity": 5}))
        .send()
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let upd = app
        .patch(&format!("/dealers/{id}"))
        .token(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"capacity": 5, "status": "suspended", "services": ["repair"]}))
        .send()
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.text);
    assert_eq!(upd.body["capacity"], 5);
    assert_eq!(upd.body["status"], "suspended");
    assert_eq!(upd.body["services"], json!(["repair"]));

    let rated = app
        .post(&format!("/dealers/{id}/rating"))
        .token(&admin)
        .json(&json!({"rating": 2.5, "reason": "Three late installations in March"}))
        .send()
        .await;
    assert_eq!(rated.status, StatusCode::OK, "{}", rated.text);
    assert_eq!(rated.body["rating"], 2.5);
    let no_reason = app
        .post(&format!("/dealers/{id}/rating"))
        .token(&admin)
        .json(&json!({"rating": 6, "reason": " "}))
        .send()
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut f = no_reason.field_errors();
    f.sort();
    assert_eq!(f, vec!["rating", "reason"]);

    let history = app
        .get(&format!("/dealers/{id}/rating-history"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(history.body["total"], 2);
    assert_eq!(history.body["items"][0]["from"], 4.0);
    assert_eq!(history.body["items"][0]["to"], 2.5);
    assert_eq!(
        history.body["items"][0]["reason"],
        "Three late installations in March"
    );
    assert_eq!(history.body["items"][1]["reason"], "initial rating");

    // Filters: region, service, rating, load, status.
    for (query, want) in [
        ("region=RU-MOW", 1),
        ("region=RU-TUL", 0),
        ("service=repair", 1),
        ("service=installation", 0),
        ("rating_min=3", 0),
        ("load_max=0", 1),
        ("status=suspended&q=alpha", 1),
    ] {
        let list = app
            .get(&format!("/dealers?{query}"))
            .token(&admin)
            .send()
            .await;
        assert_eq!(list.body["total"], want, "{query}: {}", list.text);
    }

    let audit = app
        .get(&format!("/audit?entity=dealers&entity_id={id}"))
        .token(&admin)
        .send()
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actions, vec!["rating", "update", "create"]);
}

#[tokio::test]
async fn bad_dealer_profiles_name_every_field_and_write_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "Beta", "dealer", app.root_org).await;
    let region = app
        .create_org(&admin, "Region", "region", app.root_org)
        .await;
    let before = app.count("dealers").await;
    let res = app
        .post("/dealers")
        .token(&admin)
        .json(&json!({
            "org_id": org, "legal_name": "", "tax_id": "12", "services": [], "capacity": -1,
            "rating": 9,
            "territory": {"region_codes": ["moscow"], "areas": [{"kind": "circle", "center": {"lat": 99, "lon": 0}, "radius_km": 0}]},
        }))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert!(res.is_problem());
    let fields = res.field_errors();
    for f in [
        "capacity",
        "legal_name",
        "rating",
        "services",
        "tax_id",
        "territory.areas",
        "territory.region_codes",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
    // A profile only hangs on a dealer node.
    let mut ok = profile(region, 0.0, 3.0, 1);
    ok["org_id"] = json!(region);
    let wrong_node = app.post("/dealers").token(&admin).json(&ok).send().await;
    assert_eq!(wrong_node.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_node.field_errors(), vec!["org_id"]);
    assert_eq!(app.count("dealers").await, before);
    assert_eq!(app.count("installation_requests").await, 0);
}

#[tokio::test]
async fn a_request_goes_to_the_best_dealer_and_the_explanation_says_why_for_everyone() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let best = dealer(&app, &admin, "Best", |o| profile(o, 1.0, 4.8, 3)).await;
    let second = dealer(&app, &admin, "Second", |o| profile(o, 10.0, 4.0, 3)).await;
    let suspended = dealer(&app, &admin, "Sleepy", |o| {
        let mut p = profile(o, 0.5, 5.0, 3);
        p["status"] = json!("suspended");
        p
    })
    .await;
    let repairs = dealer(&app, &admin, "Fixers", |o| {
        let mut p = profile(o, 0.5, 5.0, 3);
        p["services"] = json!(["repair"]);
        p
    })
    .await;
    // Its area's bounding box holds the site, the circle itself does not.
    let far = dealer(&app, &admin, "Faraway", |o| {
        let mut p = profile(o, 21.0, 5.0, 3);
        p["territory"]["areas"][0]["radius_km"] = json!(25.0);
        p["territory"]["areas"][0]["center"]["lon"] = json!(LON + 0.335);
        p
    })
    .await;
    let full = dealer(&app, &admin, "Full", |o| profile(o, 0.2, 5.0, 0)).await;
    let _tula = dealer(&app, &admin, "Tula", |o| {
        let mut p = profile(o, -170.0, 5.0, 3);
        p["territory"] = json!({"region_codes": ["RU-TUL"]});
        p
    })
    .await;
    let cc = agent(&app).await;

    let req = create_request(&app, &cc).await;
    assert_eq!(req["status"], "offered", "{req}");
    assert_eq!(req["dealer_id"], best.id);
    assert_eq!(req["dealer_name"], "Best");
    assert!(req["offer_expires_at"].is_string());
    let decision = &req["assignment"]["decision"];
    assert_eq!(req["assignment"]["trigger"], "created");
    assert_eq!(decision["chosen"], best.id);
    let ranked: Vec<i64> = decision["candidates"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["dealer_id"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(ranked, vec![best.id, second.id]);
    let top = &decision["candidates"][0];
    assert!(
        top["score"].as_f64().unwrap_or_default()
            > decision["candidates"][1]["score"].as_f64().unwrap_or(100.0)
    );
    for factor in ["distance", "rating", "load"] {
        assert!(top["factors"][factor].is_number(), "{factor}: {top}");
    }
    assert!(
        top["factors"]["distance_km"]
            .as_f64()
            .is_some_and(|d| d < 2.0)
    );
    let mut excluded = reasons(&req);
    excluded.sort();
    let mut want = vec![
        (repairs.id, "no_such_service".to_string()),
        (suspended.id, "suspended".to_string()),
        (far.id, "outside_territory".to_string()),
        (full.id, "at_capacity".to_string()),
    ];
    want.sort();
    assert_eq!(excluded, want);
    // The dealer far away by region code is counted, not listed.
    assert_eq!(req["assignment"]["others_outside_territory"], 1);

    // The load updated at once.
    assert_eq!(open_jobs(&app, &admin, best.id).await, 1);

    // The dealer's inbox has the job, with a notification; the explanation is not for it.
    let inbox = app
        .get("/installation-requests?status=offered")
        .token(&best.token)
        .send()
        .await;
    assert_eq!(inbox.body["total"], 1, "{}", inbox.text);
    let mine = app
        .get(&format!("/installation-requests/{}", req["id"]))
        .token(&best.token)
        .send()
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.body.get("assignment").is_none());
    let notes = app.get("/notifications").token(&best.token).send().await;
    assert_eq!(
        notes.body["items"][0]["kind"], "new_request",
        "{}",
        notes.text
    );
    assert_eq!(notes.body["items"][0]["resource"], "installation_requests");

    // A repair goes elsewhere: the repair-only dealer now competes.
    let repair = app
        .post("/installation-requests")
        .token(&cc)
        .json(&request_body("repair"))
        .send()
        .await;
    assert_eq!(repair.status, StatusCode::CREATED);
    assert_eq!(repair.body["dealer_id"], repairs.id, "{}", repair.text);

    let history = app
        .get(&format!("/installation-requests/{}/assignments", req["id"]))
        .token(&cc)
        .send()
        .await;
    assert_eq!(history.body.as_array().map(Vec::len), Some(1));
    let hidden = app
        .get(&format!("/installation-requests/{}/assignments", req["id"]))
        .token(&best.token)
        .send()
        .await;
    assert_eq!(hidden.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_rejection_goes_to_the_next_best_and_the_rejecting_dealer_loses_sight_of_it() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let best = dealer(&app, &admin, "Best", |o| profile(o, 1.0, 4.8, 3)).await;
    let second = dealer(&app, &admin, "Second", |o| profile(o, 10.0, 4.0, 3)).await;
    let cc = agent(&app).await;
    let req = create_request(&app, &cc).await;
    let id = req["id"].as_i64().unwrap_or_default();
    assert_eq!(req["dealer_id"], best.id);

    // "other" needs a note; "timeout" is the system's word.
    for bad in [json!({"reason": "other"}), json!({"reason": "timeout"})] {
        let res = app
            .post(&format!("/installation-requests/{id}/reject"))
            .token(&best.token)
            .json(&bad)
            .send()
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    // The contact centre cannot answer for the dealer.
    let not_theirs = app
        .post(&format!("/installation-requests/{id}/accept"))
        .token(&cc)
        .send()
        .await;
    assert_eq!(not_theirs.status, StatusCode::FORBIDDEN);

    let rej = app
        .post(&format!("/installation-requests/{id}/reject"))
        .token(&best.token)
        .json(&json!({"reason": "no_equipment", "note": "No 90 cm dishes left"}))
        .send()
        .await;
    assert_eq!(rej.status, StatusCode::NO_CONTENT, "{}", rej.text);
    assert_eq!(open_jobs(&app, &admin, best.id).await, 0);
    assert_eq!(open_jobs(&app, &admin, second.id).await, 1);

    let gone = app
        .get(&format!("/installation-requests/{id}"))
        .token(&best.token)
        .send()
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let now = app
        .get(&format!("/installation-requests/{id}"))
        .token(&cc)
        .send()
        .await;
    assert_eq!(now.body["dealer_id"], second.id);
    assert_eq!(now.body["status"], "offered");
    assert_eq!(now.body["assignment"]["trigger"], "rejected");
    assert_eq!(
        reasons(&now.body),
        vec![(best.id, "already_rejected".to_string())]
    );
    assert_eq!(now.body["rejections"][0]["reason"], "no_equipment");
    assert_eq!(now.body["rejections"][0]["note"], "No 90 cm dishes left");

    // The second dealer rejects too: nobody is left, the request waits for an operator.
    let rej2 = app
        .post(&format!("/installation-requests/{id}/reject"))
        .token(&second.token)
        .json(&json!({"reason": "too_far"}))
        .send()
        .await;
    assert_eq!(rej2.status, StatusCode::NO_CONTENT);
    let waiting = app
        .get(&format!("/installation-requests/{id}"))
        .token(&cc)
        .send()
        .await;
    assert_eq!(waiting.body["status"], "unassigned");
    assert!(waiting.body.get("dealer_id").is_none());
    assert_eq!(open_jobs(&app, &admin, second.id).await, 0);
    let notes = app.get("/notifications").token(&cc).send().await;
    assert!(
        notes.text.contains("needs a dealer"),
        "the agent hears about it: {}",
        notes.text
    );
    let metrics = app
        .get("/installation-requests/metrics")
        .token(&cc)
        .send()
        .await;
    assert_eq!(
        metrics.body["rejections_by_reason"]["no_equipment"], 1,
        "{}",
        metrics.text
    );
    assert_eq!(metrics.body["rejections_by_reason"]["too_far"], 1);
}

#[tokio::test]
async fn the_dealer_accepts_and_completes_the_job_and_the_request_closes() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let best = dealer(&app, &admin, "Best", |o| profile(o, 1.0, 4.8, 3)).await;
    let cc = agent(&app).await;
    let req = create_request(&app, &cc).await;
    let id = req["id"].as_i64().unwrap_or_default();

    let early = app
        .post(&format!("/installation-requests/{id}/complete"))
        .token(&best.token)
        .json(&json!({"kind": "installation"}))
        .send()
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT);

    let acc = app
        .post(&format!("/installation-requests/{id}/accept"))
        .token(&best.token)
        .send()
        .await;
    assert_eq!(acc.status, StatusCode::OK, "{}", acc.text);
    assert_eq!(acc.body["status"], "accepted");
    assert!(acc.body.get("offer_expires_at").is_none());
    let twice = app
        .post(&format!("/installation-requests/{id}/accept"))
        .token(&best.token)
        .send()
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);

    let bad = app
        .post(&format!("/installation-requests/{id}/complete"))
        .token(&best.token)
        .json(&json!({"kind": "installation", "serials": ["has space"], "photos": [{"name": "x", "url": "javascript:1"}]}))
        .send()
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut f = bad.field_errors();
    f.sort();
    assert_eq!(f, vec!["photos[0].url", "serials"]);

    let done = app
        .post(&format!("/installation-requests/{id}/complete"))
        .token(&best.token)
        .json(&json!({
            "kind": "installation",
            "serials": ["SAT-0001", "RCV-0002"],
            "photos": [{"name": "dish.jpg", "url": "https://files.example/dish.jpg"}],
            "notes": "Signal 87%",
        }))
        .send()
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["status"], "completed");
    assert_eq!(
        done.body["completion"]["serials"],
        json!(["SAT-0001", "RCV-0002"])
    );
    assert_eq!(done.body["completion"]["photos"][0]["name"], "dish.jpg");
    assert_eq!(open_jobs(&app, &admin, best.id).await, 0);

    let metrics = app
        .get("/installation-requests/metrics")
        .token(&cc)
        .send()
        .await;
    assert_eq!(metrics.status, StatusCode::OK, "{}", metrics.text);
    assert_eq!(metrics.body["requests"], 1);
    assert_eq!(metrics.body["time_to_assignment"]["count"], 1);
    assert_eq!(metrics.body["time_to_acceptance"]["count"], 1);
    assert_eq!(metrics.body["completion_by_dealer"]["Best"]["count"], 1);
    assert_eq!(metrics.body["completion_by_region"]["RU-MOW"]["count"], 1);

    let audit = app
        .get(&format!(
            "/audit?entity=installation_requests&entity_id={id}"
        ))
        .token(&admin)
        .send()
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actions, vec!["complete", "accept", "assign", "create"]);
}

#[tokio::test]
async fn a_dealer_never_sees_another_dealers_jobs() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let best = dealer(&app, &admin, "Best", |o| profile(o, 1.0, 4.8, 3)).await;
    let other = dealer(&app, &admin, "Other", |o| profile(o, 10.0, 1.0, 3)).await;
    let cc = agent(&app).await;
    let req = create_request(&app, &cc).await;
    let id = req["id"].as_i64().unwrap_or_default();
    assert_eq!(req["dealer_id"], best.id);

    for (path, method) in [
        (format!("/installation-requests/{id}"), "get"),
        (format!("/installation-requests/{id}/accept"), "post"),
        (format!("/installation-requests/{id}/complete"), "post"),
    ] {
        let res = if method == "get" {
            app.get(&path).token(&other.token).send().await
        } else {
            app.post(&path)
                .token(&other.token)
                .json(&json!({"kind": "repair"}))
                .send()
                .await
        };
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(res.code(), "not_found");
    }
    let rej = app
        .post(&format!("/installation-requests/{id}/reject"))
        .token(&other.token)
        .json(&json!({"reason": "too_far"}))
        .send()
        .await;
    assert_eq!(rej.status, StatusCode::NOT_FOUND);
    let list = app
        .get("/installation-requests")
        .token(&other.token)
        .send()
        .await;
    assert_eq!(list.body["total"], 0);
    let dealers = app.get("/dealers").token(&other.token).send().await;
    assert_eq!(
        dealers.body["total"], 1,
        "a dealer sees its own profile only"
    );
    let foreign = app
        .get(&format!("/dealers/{}", best.id))
        .token(&other.token)
        .send()
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    // Nothing changed.
    let still = app
        .get(&format!("/installation-requests/{id}"))
        .token(&cc)
        .send()
        .await;
    assert_eq!(still.body["status"], "offered");
    assert_eq!(still.body["dealer_id"], best.id);
}

#[tokio::test]
async fn an_operator_override_is_audited_and_a_dealer_cannot_override() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let best = dealer(&app, &admin, "Best", |o| profile(o, 1.0, 4.8, 3)).await;
    let second = dealer(&app, &admin, "Second", |o| profile(o, 10.0, 4.0, 3)).await;
    let full = dealer(&app, &admin, "Full", |o| profile(o, 10.0, 4.0, 0)).await;
    let cc = agent(&app).await;
    let req = create_request(&app, &cc).await;
    let id = req["id"].as_i64().unwrap_or_default();

    let by_dealer = app
        .post(&format!("/installation-requests/{id}/assign"))
        .token(&best.token)
        .json(&json!({"dealer_id": best.id, "reason": "mine"}))
        .send()
        .await;
    assert_eq!(
        by_dealer.status,
        StatusCode::FORBIDDEN,
        "{}",
        by_dealer.text
    );
    let no_reason = app
        .post(&format!("/installation-requests/{id}/assign"))
        .token(&cc)
        .json(&json!({"dealer_id": second.id, "reason": ""}))
        .send()
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    let to_full = app
        .post(&format!("/installation-requests/{id}/assign"))
        .token(&cc)
        .json(&json!({"dealer_id": full.id, "reason": "asked for them"}))
        .send()
        .await;
    assert_eq!(to_full.status, StatusCode::CONFLICT);

    let res = app
        .post(&format!("/installation-requests/{id}/assign"))
        .token(&cc)
        .json(&json!({"dealer_id": second.id, "reason": "Customer asked for Second"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["dealer_id"], second.id);
    assert_eq!(res.body["assignment"]["trigger"], "override");
    assert_eq!(
        res.body["assignment"]["override_reason"],
        "Customer asked for Second"
    );
    assert_eq!(open_jobs(&app, &admin, best.id).await, 0);
    assert_eq!(open_jobs(&app, &admin, second.id).await, 1);
    let gone = app
        .get(&format!("/installation-requests/{id}"))
        .token(&best.token)
        .send()
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    let audit = app
        .get(&format!(
            "/audit?entity=installation_requests&entity_id={id}"
        ))
        .token(&admin)
        .send()
        .await;
    let top = &audit.body["items"][0];
    assert_eq!(top["action"], "override", "{}", audit.text);
    assert_eq!(top["after"]["reason"], "Customer asked for Second");
    assert_eq!(top["after"]["dealer_id"], second.id);
    assert!(
        top["actor_name"]
            .as_str()
            .is_some_and(|n| n.contains("agent"))
    );

    // The dealer given the job by hand may still reject it; it moves on to the best again.
    let reject = format!("/installation-requests/{id}/reject");
    let why = json!({"reason": "too_far"});
    let rej = app
        .post(&reject)
        .token(&second.token)
        .json(&why)
        .send()
        .await;
    assert_eq!(rej.status, StatusCode::NO_CONTENT, "{}", rej.text);
    let back = app
        .get(&format!("/installation-requests/{id}"))
        .token(&cc)
        .send()
        .await;
    assert_eq!(back.body["dealer_id"], best.id);
    // Given to it by hand once more and rejected again: its first rejection stands.
    let again = app
        .post(&format!("/installation-requests/{id}/assign"))
        .token(&cc)
        .json(&json!({"dealer_id": second.id, "reason": "Second time lucky"}))
        .send()
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    let rej2 = app
        .post(&reject)
        .token(&second.token)
        .json(&why)
        .send()
        .await;
    assert_eq!(rej2.status, StatusCode::NO_CONTENT, "{}", rej2.text);
    assert_eq!(app.count("job_rejections").await, 1);
    assert_eq!(open_jobs(&app, &admin, best.id).await, 1);
    assert_eq!(open_jobs(&app, &admin, second.id).await, 0);
}

#[tokio::test]
async fn concurrent_requests_never_push_a_dealer_over_capacity() {
    let app = Arc::new(spawn_app().await);
    let admin = app.admin_token().await;
    let only = dealer(&app, &admin, "Only", |o| profile(o, 1.0, 4.8, 1)).await;
    let backup = dealer(&app, &admin, "Backup", |o| profile(o, 20.0, 2.0, 100)).await;
    let cc = agent(&app).await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let app = app.clone();
        let cc = cc.clone();
        tasks.push(tokio::spawn(async move {
            app.post("/installation-requests")
                .token(&cc)
                .json(&request_body("installation"))
                .send()
                .await
        }));
    }
    let mut to_only = 0;
    let mut to_backup = 0;
    for t in tasks {
        let Ok(res) = t.await else {
            panic!("task failed");
        };
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        if res.body["dealer_id"] == only.id {
            to_only += 1;
        } else if res.body["dealer_id"] == backup.id {
            to_backup += 1;
        }
    }
    assert_eq!(to_only, 1, "capacity 1: exactly one request assigned to it");
    assert_eq!(to_backup, 11);
    assert_eq!(open_jobs(&app, &admin, only.id).await, 1);
    assert_eq!(open_jobs(&app, &admin, backup.id).await, 11);
}

#[tokio::test]
async fn an_unanswered_offer_moves_to_the_next_best_dealer_exactly_once() {
    let tweak = |s: &mut dealernet_api::Settings| {
        s.assignment_offer_timeout_secs = 1;
        s.assignment_tick_ms = 100;
    };
    let app = spawn_app_tweaked(Options::default(), tweak).await;
    // Two more instances on the same database race for the same expiries.
    spawn_instance(&app, tweak).await;
    spawn_instance(&app, tweak).await;
    let admin = app.admin_token().await;
    let best = dealer(&app, &admin, "Best", |o| profile(o, 1.0, 4.8, 30)).await;
    let second = dealer(&app, &admin, "Second", |o| profile(o, 10.0, 4.0, 30)).await;
    let cc = agent(&app).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let req = create_request(&app, &cc).await;
        assert_eq!(req["dealer_id"], best.id);
        ids.push(req["id"].as_i64().unwrap_or_default());
    }
    for id in &ids {
        let moved = eventually(10, || async {
            let r = app
                .get(&format!("/installation-requests/{id}"))
                .token(&cc)
                .send()
                .await;
            (r.body["dealer_id"] == second.id).then_some(r.body)
        })
        .await;
        let Some(r) = moved else {
            panic!("request {id} was not reassigned");
        };
        assert_eq!(r["assignment"]["trigger"], "timeout");
        assert_eq!(r["rejections"][0]["reason"], "timeout");
        assert_eq!(reasons(&r), vec![(best.id, "already_rejected".to_string())]);
    }
    // Second does not answer either: every request ends unassigned, each step taken once.
    for id in &ids {
        let waiting = eventually(10, || async {
            let r = app
                .get(&format!("/installation-requests/{id}"))
                .token(&cc)
                .send()
                .await;
            (r.body["status"] == "unassigned").then_some(r.body)
        })
        .await;
        assert!(waiting.is_some(), "request {id} should end unassigned");
    }
    assert_eq!(app.count("job_rejections").await, 6);
    assert_eq!(app.count("assignment_decisions").await, 9);
    assert_eq!(open_jobs(&app, &admin, best.id).await, 0);
    assert_eq!(open_jobs(&app, &admin, second.id).await, 0);
}

/// A fake Nominatim on 127.0.0.1: answers every search with one place in Moscow.
async fn fake_geocoder() -> String {
    let Ok(listener) = TcpListener::bind("127.0.0.1:0").await else {
        panic!("bind fake geocoder");
    };
    let Ok(addr) = listener.local_addr() else {
        panic!("fake geocoder address");
    };
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let body = if head.starts_with("GET /search?") && head.contains("Tverskaya") {
                    json!([{
                        "lat": "55.7601", "lon": "37.6186",
                        "display_name": "Tverskaya Street 7, Moscow, Russia",
                        "address": {"city": "Moscow", "ISO3166-2-lvl4": "RU-MOW"},
                    }])
                    .to_string()
                } else {
                    "[]".to_string()
                };
                let res = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(res.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn points_of_sale_are_geocoded_by_the_configured_geocoder_and_searchable() {
    let geocoder = fake_geocoder().await;
    let app = spawn_app_tweaked(Options::default(), move |s| {
        s.geocoder_url = geocoder.clone();
    })
    .await;
    let admin = app.admin_token().await;
    let owner = dealer(&app, &admin, "Owner", |o| profile(o, 1.0, 4.8, 3)).await;
    let other = dealer(&app, &admin, "Stranger", |o| profile(o, 1.0, 4.8, 3)).await;

    let hits = app
        .get("/geocode?q=Tverskaya%207")
        .token(&admin)
        .send()
        .await;
    assert_eq!(hits.status, StatusCode::OK, "{}", hits.text);
    assert_eq!(hits.body[0]["region_code"], "RU-MOW");
    assert_eq!(hits.body[0]["location"]["lat"], 55.7601);
    let config = app.get("/map-config").token(&admin).send().await;
    assert_eq!(config.body["geocoder"], true);

    let res = app
        .post("/points-of-sale")
        .token(&owner.token)
        .json(&json!({
            "dealer_id": owner.id, "name": "Owner shop on Tverskaya",
            "address": "Tverskaya 7, Moscow",
            "opening_hours": [{"day": 1, "opens": "10:00", "closes": "20:00"}],
            "attachments": [{"name": "front.jpg", "url": "https://files.example/front.jpg"}],
        }))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["geocoded"], true);
    assert_eq!(res.body["location"]["lon"], 37.6186);
    assert_eq!(res.body["region_code"], "RU-MOW");
    assert_eq!(res.body["dealer_name"], "Owner");
    let pos_id = res.id();

    // Unknown address: saved without coordinates, set by hand later.
    let unknown = app
        .post("/points-of-sale")
        .token(&owner.token)
        .json(&json!({"dealer_id": owner.id, "name": "Kiosk", "address": "Nowhere lane"}))
        .send()
        .await;
    assert_eq!(unknown.status, StatusCode::CREATED);
    assert!(unknown.body.get("location").is_none());
    let by_hand = app
        .patch(&format!("/points-of-sale/{}", unknown.id()))
        .token(&owner.token)
        .header("if-match", "\"1\"")
        .json(&json!({"location": {"lat": 55.7, "lon": 37.5}}))
        .send()
        .await;
    assert_eq!(by_hand.status, StatusCode::OK, "{}", by_hand.text);
    assert_eq!(by_hand.body["geocoded"], false);
    assert_eq!(by_hand.body["location"]["lat"], 55.7);

    // Search by name or address, case-insensitively; the other dealer sees none of them.
    let found = app
        .get("/points-of-sale?q=TVERSKAYA")
        .token(&admin)
        .send()
        .await;
    assert_eq!(found.body["total"], 1);
    assert_eq!(found.body["items"][0]["id"], pos_id);
    let located = app
        .get("/points-of-sale?located=true")
        .token(&owner.token)
        .send()
        .await;
    assert_eq!(located.body["total"], 2);
    let stranger = app.get("/points-of-sale").token(&other.token).send().await;
    assert_eq!(stranger.body["total"], 0);
    let hidden = app
        .get(&format!("/points-of-sale/{pos_id}"))
        .token(&other.token)
        .send()
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let foreign = app
        .post("/points-of-sale")
        .token(&other.token)
        .json(&json!({"dealer_id": owner.id, "name": "Sneaky", "address": "x", "location": {"lat": 1, "lon": 1}}))
        .send()
        .await;
    assert_eq!(foreign.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(foreign.field_errors(), vec!["dealer_id"]);
}

#[tokio::test]
async fn without_a_geocoder_lookups_say_so_and_requests_validate_every_field() {
    let app = spawn_app().await;
    let cc = agent(&app).await;
    let res = app.get("/geocode?q=Tverskaya").token(&cc).send().await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.code(), "unavailable");
    let bad = app
        .post("/installation-requests")
        .token(&cc)
        .json(&json!({
            "customer": {"kind": "private", "name": ""},
            "address": " ", "location": {"lat": 91, "lon": 0}, "service": "installation",
            "region_code": "moscow",
        }))
        .send()
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let mut f = bad.field_errors();
    f.sort();
    assert_eq!(f, vec!["address", "customer", "location", "region_code"]);
    assert_eq!(app.count("installation_requests").await, 0);
    // With no dealer at all the request is kept, unassigned, with an empty explanation.
    let lonely = create_request(&app, &cc).await;
    assert_eq!(lonely["status"], "unassigned");
    assert_eq!(lonely["assignment"]["decision"]["candidates"], json!([]));
}

#[tokio::test]
async fn candidates_follow_territory_changes_and_wide_areas_are_found() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let agent = agent(&app).await;
    // 500 km north: outside the site; a second dealer covers a huge circle (filed as wide).
    let moved = dealer(&app, &admin, "Moved", |org| profile(org, 500.0, 3.0, 5)).await;
    let wide = dealer(&app, &admin, "Wide", |org| {
        let mut p = profile(org, 800.0, 1.0, 5);
        p["territory"]["areas"][0]["radius_km"] = json!(1000.0);
        p
    })
    .await;
    let listed = |req: &Value| -> Vec<i64> {
        req["assignment"]["decision"]["candidates"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c["dealer_id"].as_i64()).collect())
            .unwrap_or_default()
    };
    let first = create_request(&app, &agent).await;
    assert_eq!(listed(&first), vec![wide.id], "{}", first["assignment"]);
    assert_eq!(first["assignment"]["others_outside_territory"], 1);

    // The moved dealer's territory now covers the site: the next decision lists it, and it wins
    // on distance and rating.
    let res = app
        .patch(&format!("/dealers/{}", moved.id))
        .token(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"territory": {"areas": [{"kind": "circle", "center": {"lat": LAT, "lon": LON}, "radius_km": 30.0}]}}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let second = create_request(&app, &agent).await;
    let mut ids = listed(&second);
    ids.sort_unstable();
    let mut want = vec![moved.id, wide.id];
    want.sort_unstable();
    assert_eq!(ids, want, "{}", second["assignment"]);
    assert_eq!(second["dealer_id"], moved.id);
    assert_eq!(second["assignment"]["others_outside_territory"], 0);
}
