#![allow(clippy::panic)]

use dealernet_data::notifications::{Event, publish};
use dealernet_domain::access::Resource;
use dealernet_domain::notifications::EventKind;
use dealernet_domain::org::OrgPath;
use dealernet_domain::policy::RecordRef;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Options, PASSWORD, TestApp, spawn_app, spawn_app_tweaked};
use crate::notify_support::{
    EventStream, create_reminder, due_in, eventually, fast, spawn_fast_app, spawn_instance,
};

/// A dealer with an administrator and a technician; answers (dealer, admin token, admin id, tech id).
async fn dealer_with_staff(app: &TestApp, name: &str) -> (i64, String, i64, i64) {
    let (dealer, token, admin) = app.dealer_with_admin(name).await;
    let tech = app.role_id("dealer_technician").await;
    let email = format!("tech@{}.example", name.to_lowercase());
    let tech_id = app.create_user(&token, &email, dealer, 2, &[tech]).await;
    (dealer, token, admin, tech_id)
}

async fn org_path(app: &TestApp, token: &str, id: i64) -> OrgPath {
    let res = app.get(&format!("/orgs/{id}")).token(token).send().await;
    OrgPath::parse(res.body["path"].as_str().unwrap_or_default())
        .unwrap_or_else(|_| OrgPath::root(0))
}

#[tokio::test]
async fn publish_reaches_only_candidates_who_may_view_the_record() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (dealer_a, _token_a, admin_a, tech_a) = dealer_with_staff(&app, "Alpha").await;
    let (_, _token_b, admin_b, _) = dealer_with_staff(&app, "Beta").await;
    // The operator's administrator watches the technician's user record.
    let res = app
        .post("/watches")
        .token(&admin)
        .json(&json!({"resource": "users", "record_id": tech_a}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let path = org_path(&app, &admin, dealer_a).await;
    let published = publish(
        &app.db,
        Event {
            kind: EventKind::CommentAdded,
            resource: Resource::Users,
            record: RecordRef {
                org_path: &path,
                responsible_id: Some(tech_a),
            },
            record_id: tech_a,
            title: "A comment on the technician".into(),
            body: "Hello".into(),
            link: Some(format!("/admin/users/{tech_a}")),
            recipients: vec![admin_a, admin_b],
            actor_id: None,
        },
    )
    .await;
    let Ok(published) = published else {
        panic!("publish failed: {published:?}");
    };
    // Dealer B's administrator is outside the record's scope; the technician may not view
    // users at all: neither hears of it.
    let mut notified = published.notified.clone();
    notified.sort_unstable();
    let mut expected = vec![app.admin_id, admin_a];
    expected.sort_unstable();
    assert_eq!(notified, expected);
    let mut dropped = published.dropped.clone();
    dropped.sort_unstable();
    let mut expected_dropped = vec![admin_b, tech_a];
    expected_dropped.sort_unstable();
    assert_eq!(dropped, expected_dropped);
    let token_b = app.login("admin@beta.example", PASSWORD).await;
    let list = app.get("/notifications").token(&token_b).send().await;
    assert_eq!(list.body["total"], 0);
    let list = app.get("/notifications").token(&admin).send().await;
    assert_eq!(
        list.body["items"][0]["title"],
        "A comment on the technician"
    );
    assert_eq!(list.body["items"][0]["resource"], "users");
}

#[tokio::test]
async fn the_acting_user_and_blocked_users_are_not_notified() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (dealer_a, token_a, admin_a, _) = dealer_with_staff(&app, "Alpha").await;
    let path = org_path(&app, &admin, dealer_a).await;
    let res = app
        .patch(&format!("/users/{admin_a}"))
        .token(&admin)
        .json(&json!({"status": "blocked"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let _ = token_a;
    let published = publish(
        &app.db,
        Event {
            kind: EventKind::NewRequest,
            resource: Resource::Orgs,
            record: RecordRef {
                org_path: &path,
                responsible_id: None,
            },
            record_id: dealer_a,
            title: "New".into(),
            body: String::new(),
            link: None,
            recipients: vec![admin_a, app.admin_id],
            actor_id: Some(app.admin_id),
        },
    )
    .await
    .unwrap_or_default();
    assert!(published.notified.is_empty());
    assert_eq!(published.dropped, vec![admin_a]);
}

#[tokio::test]
async fn notifications_list_unread_first_count_and_mark_read() {
    let app = spawn_fast_app().await;
    let token = app.admin_token().await;
    for i in 0..3 {
        create_reminder(
            &app,
            &token,
            &format!("N{i}"),
            json!({"due_at": due_in(-1000)}),
        )
        .await;
    }
    let count = eventually(10, || async {
        let c = app
            .get("/notifications/unread-count")
            .token(&token)
            .send()
            .await;
        (c.body["unread"] == 3).then_some(())
    })
    .await;
    assert!(count.is_some());
    let list = app
        .get("/notifications?limit=10")
        .token(&token)
        .send()
        .await;
    assert_eq!(list.body["total"], 3);
    let oldest = list.body["items"][2]["id"].as_i64().unwrap_or_default();
    let res = app
        .post(&format!("/notifications/{oldest}/read"))
        .token(&token)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let count = app
        .get("/notifications/unread-count")
        .token(&token)
        .send()
        .await;
    assert_eq!(count.body["unread"], 2);
    // Read ones sink below unread ones; unread=true shows only unread.
    let list = app
        .get("/notifications?limit=10")
        .token(&token)
        .send()
        .await;
    assert_eq!(list.body["items"][2]["id"], oldest);
    assert!(list.body["items"][2]["read_at"].is_string());
    let unread = app
        .get("/notifications?unread=true")
        .token(&token)
        .send()
        .await;
    assert_eq!(unread.body["total"], 2);
    // Someone else's notification does not exist for me.
    let (_, other, _) = app.dealer_with_admin("Alpha").await;
    let res = app
        .post(&format!("/notifications/{oldest}/read"))
        .token(&other)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post("/notifications/read-all")
        .token(&token)
        .send()
        .await;
    assert_eq!(res.body["updated"], 2);
    let count = app
        .get("/notifications/unread-count")
        .token(&token)
        .send()
        .await;
    assert_eq!(count.body["unread"], 0);
    let bad = app
        .get("/notifications?limit=1000")
        .token(&token)
        .send()
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn preferences_default_sensibly_are_saved_and_are_honoured() {
    let app = spawn_fast_app().await;
    let token = app.admin_token().await;
    let res = app
        .get("/notifications/preferences")
        .token(&token)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["items"].as_array().map(Vec::len), Some(5));
    assert_eq!(
        res.body["items"][4],
        json!({"kind": "reminder", "in_app": true, "email": true, "push": true})
    );
    // Bad input names the field and changes nothing.
    let bad = app
        .req(reqwest::Method::PUT, "/notifications/preferences")
        .token(&token)
        .json(&json!({"items": [{"kind": "reminder", "in_app": true, "email": true, "push": true}, {"kind": "reminder", "in_app": false, "email": true, "push": true}]}))
        .send()
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert_eq!(bad.field_errors(), vec!["items"]);
    let bad = app
        .req(reqwest::Method::PUT, "/notifications/preferences")
        .token(&token)
        .json(&json!({"items": [{"kind": "party", "in_app": true, "email": true, "push": true}]}))
        .send()
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let res = app
        .req(reqwest::Method::PUT, "/notifications/preferences")
        .token(&token)
        .json(&json!({"items": [{"kind": "reminder", "in_app": false, "email": false, "push": true}]}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["items"][4]["in_app"], false);
    assert_eq!(res.body["items"][0]["in_app"], true);
    let again = app
        .get("/notifications/preferences")
        .token(&token)
        .send()
        .await;
    assert_eq!(again.body, res.body);

    // A reminder now only pushes: nothing in the list, no e-mail queued, but the live stream
    // gets it.
    let mut stream = EventStream::open(&app, &app.address, &token).await;
    let id = create_reminder(&app, &token, "Push only", json!({"due_at": due_in(200)})).await;
    let event = stream.next_event(10).await;
    let Some((name, data)) = event else {
        panic!("nothing pushed");
    };
    assert_eq!(name, "notification");
    assert!(data.contains("Push only"));
    let r = app
        .get(&format!("/reminders/{id}"))
        .token(&token)
        .send()
        .await;
    assert_eq!(r.body["state"], "fired");
    assert_eq!(
        app.get("/notifications").token(&token).send().await.body["total"],
        0
    );
    assert_eq!(app.count("email_outbox").await, 0);
    // The change of preferences is audited.
    let audit = app.get("/audit?entity=users").token(&token).send().await;
    assert!(audit.text.contains("notification_preferences"));
}

#[tokio::test]
async fn the_live_stream_pushes_what_any_instance_writes_and_needs_a_fresh_ticket() {
    // This instance only serves streams; another one runs the scheduler.
    let app = spawn_app_tweaked(Options::default(), |s| {
        fast(s);
        s.scheduler_enabled = false;
    })
    .await;
    spawn_instance(&app, fast).await;
    let token = app.admin_token().await;
    let mut stream = EventStream::open(&app, &app.address, &token).await;
    assert!(stream.content_type().starts_with("text/event-stream"));
    // Another user's notifications are not pushed to me.
    let (_, other, _) = app.dealer_with_admin("Alpha").await;
    create_reminder(&app, &other, "Not yours", json!({"due_at": due_in(0)})).await;
    let id = create_reminder(
        &app,
        &token,
        "Ring the dealer",
        json!({"due_at": due_in(300)}),
    )
    .await;
    let Some((name, data)) = stream.next_event(10).await else {
        panic!("nothing pushed");
    };
    assert_eq!(name, "notification");
    let n: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
    assert_eq!(n["title"], "Ring the dealer");
    assert_eq!(n["record_id"], id);
    assert_eq!(n["kind"], "reminder");

    // A ticket opens one stream only; no ticket, no stream.
    let ticket = app
        .post("/notifications/stream-ticket")
        .token(&token)
        .send()
        .await;
    let t = ticket.body["ticket"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let first = app
        .http
        .get(format!(
            "{}/api/v1/notifications/stream?ticket={t}",
            app.address
        ))
        .send()
        .await
        .map(|r| r.status());
    assert_eq!(first.ok(), Some(StatusCode::OK));
    let second = app
        .get(&format!("/notifications/stream?ticket={t}"))
        .send()
        .await;
    assert_eq!(second.status, StatusCode::UNAUTHORIZED);
    assert!(second.is_problem());
    let none = app.get("/notifications/stream").send().await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    let unauth = app.post("/notifications/stream-ticket").send().await;
    assert_eq!(unauth.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_stream_ends_when_the_session_is_revoked() {
    let app = spawn_fast_app().await;
    let token = app.admin_token().await;
    let mut stream = EventStream::open(&app, &app.address, &token).await;
    let res = app.delete("/me/sessions").token(&token).send().await;
    assert!(res.status.is_success(), "{} {}", res.status, res.text);
    let Some((name, _)) = stream.next_event(5).await else {
        panic!("the stream did not end");
    };
    assert_eq!(name, "end");
}

#[tokio::test]
async fn watches_follow_visible_records_only() {
    let app = spawn_app().await;
    let (dealer_a, token_a, _, tech_a) = dealer_with_staff(&app, "Alpha").await;
    let (dealer_b, _, admin_b, _) = dealer_with_staff(&app, "Beta").await;
    let res = app
        .post("/watches")
        .token(&token_a)
        .json(&json!({"resource": "users", "record_id": tech_a}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let again = app
        .post("/watches")
        .token(&token_a)
        .json(&json!({"resource": "users", "record_id": tech_a}))
        .send()
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let org = app
        .post("/watches")
        .token(&token_a)
        .json(&json!({"resource": "orgs", "record_id": dealer_a}))
        .send()
        .await;
    assert_eq!(org.status, StatusCode::CREATED);
    // Out of scope: as if the record did not exist.
    for body in [
        json!({"resource": "users", "record_id": admin_b}),
        json!({"resource": "orgs", "record_id": dealer_b}),
        json!({"resource": "users", "record_id": 999_999}),
    ] {
        let res = app
            .post("/watches")
            .token(&token_a)
            .json(&body)
            .send()
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{body}");
    }
    // CRM clients are watchable: one that does not exist is not found.
    let res = app
        .post("/watches")
        .token(&token_a)
        .json(&json!({"resource": "clients", "record_id": 1}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post("/watches")
        .token(&token_a)
        .json(&json!({"resource": "equipment", "record_id": 1}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.field_errors(), vec!["resource"]);
    let list = app.get("/watches").token(&token_a).send().await;
    assert_eq!(list.body["total"], 2);
    let res = app
        .delete(&format!("/watches/users/{tech_a}"))
        .token(&token_a)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let res = app
        .delete(&format!("/watches/users/{tech_a}"))
        .token(&token_a)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/watches").token(&token_a).send().await.body["total"],
        1
    );
}
