#![allow(clippy::panic)]

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Options, PASSWORD, spawn_app, spawn_app_tweaked};
use crate::notify_support::{
    SmtpSink, create_reminder, due_in, eventually, fast, spawn_fast_app, spawn_instance,
};

#[tokio::test]
async fn a_user_creates_reads_changes_completes_and_deletes_own_reminders() {
    let app = spawn_app().await;
    let (_, token, me) = app.dealer_with_admin("Alpha").await;
    let res = app
        .post("/reminders")
        .token(&token)
        .json(&json!({"title": "  Call the bank ", "note": "about the loan", "due_at": due_in(3_600_000), "repeat": "weekly"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.id();
    assert_eq!(res.body["title"], "Call the bank");
    assert_eq!(res.body["owner_id"], me);
    assert_eq!(res.body["state"], "scheduled");
    assert_eq!(res.body["target_kind"], "personal");
    assert_eq!(res.body["link"], "/reminders");
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));

    let got = app
        .get(&format!("/reminders/{id}"))
        .token(&token)
        .send()
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["repeat"], "weekly");

    // A stale If-Match is refused and changes nothing.
    let stale = app
        .patch(&format!("/reminders/{id}"))
        .token(&token)
        .header("if-match", "\"7\"")
        .json(&json!({"title": "Other"}))
        .send()
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let upd = app
        .patch(&format!("/reminders/{id}"))
        .token(&token)
        .header("if-match", "\"1\"")
        .json(&json!({"title": "Call the bank again", "repeat": "none"}))
        .send()
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.text);
    assert_eq!(upd.body["title"], "Call the bank again");
    assert_eq!(upd.body["version"], 2);

    let list = app.get("/reminders").token(&token).send().await;
    assert_eq!(list.body["total"], 1);

    let done = app
        .post(&format!("/reminders/{id}/done"))
        .token(&token)
        .send()
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(done.body["state"], "done");
    assert!(done.body["done_at"].is_string());
    // A done reminder is not rescheduled.
    let again = app
        .patch(&format!("/reminders/{id}"))
        .token(&token)
        .json(&json!({"due_at": due_in(1000)}))
        .send()
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    let del = app
        .delete(&format!("/reminders/{id}"))
        .token(&token)
        .send()
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/reminders/{id}"))
            .token(&token)
            .send()
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Every change is in the audit trail.
    let audit = app
        .get(&format!("/audit?entity=reminders&entity_id={id}"))
        .token(&app.admin_token().await)
        .send()
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actions, vec!["delete", "done", "update", "create"]);
}

#[tokio::test]
async fn reminders_are_seen_only_by_their_owner_and_by_administrators() {
    let app = spawn_app().await;
    let (dealer_a, token_a, admin_a) = app.dealer_with_admin("Alpha").await;
    let (_, token_b, _) = app.dealer_with_admin("Beta").await;
    let tech = app.role_id("dealer_technician").await;
    app.create_user(&token_a, "tech@alpha.example", dealer_a, 2, &[tech])
        .await;
    let token_tech = app.login("tech@alpha.example", PASSWORD).await;
    let id = create_reminder(&app, &token_a, "Mine", json!({"due_at": due_in(60_000)})).await;

    // Another dealer's administrator and a technician (own records only) do not see it.
    for token in [&token_b, &token_tech] {
        for res in [
            app.get(&format!("/reminders/{id}"))
                .token(token)
                .send()
                .await,
            app.patch(&format!("/reminders/{id}"))
                .token(token)
                .json(&json!({"title": "Hijacked"}))
                .send()
                .await,
            app.post(&format!("/reminders/{id}/done"))
                .token(token)
                .send()
                .await,
            app.delete(&format!("/reminders/{id}"))
                .token(token)
                .send()
                .await,
        ] {
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
            assert!(!res.text.contains("Mine"));
        }
        let list = app
            .get(&format!("/reminders?owner_id={admin_a}"))
            .token(token)
            .send()
            .await;
        assert_eq!(list.body["total"], 0, "{}", list.text);
        let all = app.get("/reminders?all=true").token(token).send().await;
        assert!(!all.text.contains("Mine"));
    }
    // The operator's administrator sees every reminder.
    let admin = app.admin_token().await;
    let res = app
        .get(&format!("/reminders/{id}"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let list = app
        .get(&format!("/reminders?owner_id={admin_a}"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(list.body["total"], 1);
    // Without a user behind it (an API key) there is nobody to remind.
    let unauth = app.get("/reminders").send().await;
    assert_eq!(unauth.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_reminders_name_the_field_and_write_nothing() {
    let app = spawn_app().await;
    let (_, token, _) = app.dealer_with_admin("Alpha").await;
    let (_, _, admin_b) = app.dealer_with_admin("Beta").await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"title": " ", "due_at": due_in(0)}), "title"),
        (
            json!({"title": "x".repeat(201), "due_at": due_in(0)}),
            "title",
        ),
        (json!({"title": "T", "due_at": "tomorrow"}), "due_at"),
        (
            json!({"title": "T", "due_at": due_in(0), "repeat": "hourly"}),
            "repeat",
        ),
        (
            json!({"title": "T", "due_at": due_in(0), "target_kind": "client"}),
            "target_id",
        ),
        (
            json!({"title": "T", "due_at": due_in(0), "target_id": 5}),
            "target_id",
        ),
        (
            json!({"title": "T", "due_at": due_in(0), "target_kind": "user"}),
            "target_id",
        ),
        // Another dealer's user is "not found" for this administrator.
        (
            json!({"title": "T", "due_at": due_in(0), "target_kind": "user", "target_id": admin_b}),
            "target_id",
        ),
    ];
    for (body, field) in cases {
        let res = app
            .post("/reminders")
            .token(&token)
            .json(&body)
            .send()
            .await;
        assert!(
            res.status == StatusCode::UNPROCESSABLE_ENTITY || res.status == StatusCode::BAD_REQUEST,
            "{body}: {} {}",
            res.status,
            res.text
        );
        assert!(res.is_problem());
        assert_eq!(
            res.field_errors(),
            vec![field.to_string()],
            "{body}: {}",
            res.text
        );
    }
    let res = app
        .post("/reminders")
        .token(&token)
        .json(&json!({"title": "T", "due_at": due_in(0), "target_kind": "client", "target_id": 1}))
        .send()
        .await;
    // Client and request targets are CRM records: one that does not exist is not found.
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    assert_eq!(app.count("reminders").await, 0);
}

#[tokio::test]
async fn a_reminder_on_a_visible_user_carries_its_label_and_link() {
    let app = spawn_app().await;
    let (dealer, token, _) = app.dealer_with_admin("Alpha").await;
    let tech = app.role_id("dealer_technician").await;
    let staff = app
        .create_user(&token, "tech@alpha.example", dealer, 2, &[tech])
        .await;
    let res = app
        .post("/reminders")
        .token(&token)
        .json(&json!({"title": "Check the training", "due_at": due_in(60_000), "target_kind": "user", "target_id": staff}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["target_label"], "User tech@alpha.example");
    assert_eq!(res.body["link"], format!("/admin/users/{staff}"));
    let list = app
        .get(&format!("/reminders?target_kind=user&target_id={staff}"))
        .token(&token)
        .send()
        .await;
    assert_eq!(list.body["total"], 1);
}

#[tokio::test]
async fn my_reminders_today_lists_overdue_and_today_but_not_tomorrow_or_done() {
    let app = spawn_app_tweaked(Options::default(), |s| s.scheduler_enabled = false).await;
    let token = app.admin_token().await;
    let overdue = create_reminder(
        &app,
        &token,
        "Overdue",
        json!({"due_at": due_in(-3_600_000)}),
    )
    .await;
    let done = create_reminder(&app, &token, "Done", json!({"due_at": due_in(-60_000)})).await;
    app.post(&format!("/reminders/{done}/done"))
        .token(&token)
        .send()
        .await;
    create_reminder(
        &app,
        &token,
        "Next week",
        json!({"due_at": due_in(7 * 86_400_000)}),
    )
    .await;
    let res = app.get("/reminders/today").token(&token).send().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let titles: Vec<&str> = res
        .body
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["title"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(titles, vec!["Overdue"]);
    assert_eq!(res.body[0]["id"], overdue);
    let res = app
        .get("/reminders/today?utc_offset_minutes=abc")
        .token(&token)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
}

async fn state_of(app: &crate::helpers::TestApp, token: &str, id: i64) -> Value {
    app.get(&format!("/reminders/{id}"))
        .token(token)
        .send()
        .await
        .body
}

#[tokio::test]
async fn a_due_reminder_reaches_the_owner_in_the_app_and_by_email_at_a_real_smtp_server() {
    let sink = SmtpSink::start().await;
    let port = sink.port;
    let app = spawn_app_tweaked(Options::default(), move |s| {
        fast(s);
        s.smtp_host = "127.0.0.1".into();
        s.smtp_port = port;
        s.public_url = "https://dealernet.example".into();
    })
    .await;
    let token = app.admin_token().await;
    let id = create_reminder(
        &app,
        &token,
        "Renew the contract",
        json!({"note": "Ask for the new price", "due_at": due_in(300)}),
    )
    .await;
    let mail = eventually(10, || async { sink.received().into_iter().next() }).await;
    let Some(mail) = mail else {
        panic!("no e-mail arrived");
    };
    assert_eq!(mail.to, vec!["<root@example.com>".to_string()]);
    assert!(
        mail.data.contains("Subject: Renew the contract"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("Ask for the new price"));
    assert!(mail.data.contains("https://dealernet.example/reminders"));
    let r = state_of(&app, &token, id).await;
    assert_eq!(r["state"], "fired");
    assert!(r["fired_at"].is_string());
    let list = app.get("/notifications").token(&token).send().await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0]["kind"], "reminder");
    assert_eq!(list.body["items"][0]["title"], "Renew the contract");
    assert_eq!(list.body["items"][0]["record_id"], id);
    // Exactly one e-mail, even after more ticks.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn a_repeating_reminder_is_delivered_and_scheduled_for_its_next_occurrence() {
    let app = spawn_fast_app().await;
    let token = app.admin_token().await;
    let due = chrono::Utc::now() - chrono::Duration::seconds(2);
    let res = app
        .post("/reminders")
        .token(&token)
        .json(&json!({"title": "Daily stand-up", "due_at": due.to_rfc3339(), "repeat": "daily"}))
        .send()
        .await;
    let id = res.id();
    let fired = eventually(10, || async {
        let r = state_of(&app, &token, id).await;
        r["fired_at"].is_string().then_some(r)
    })
    .await;
    let Some(r) = fired else {
        panic!("not delivered");
    };
    assert_eq!(r["state"], "scheduled");
    let next: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(r["due_at"].clone()).unwrap_or_default();
    // One day later (PostgreSQL keeps microseconds, so allow for the truncation).
    assert!(
        ((next - due).num_milliseconds() - 86_400_000).abs() < 1000,
        "{next} vs {due}"
    );
    let count = app
        .get("/notifications/unread-count")
        .token(&token)
        .send()
        .await;
    assert_eq!(count.body["unread"], 1);
    // Marking it done ends the series.
    let done = app
        .post(&format!("/reminders/{id}/done"))
        .token(&token)
        .send()
        .await;
    assert_eq!(done.body["state"], "done");
}

#[tokio::test]
async fn a_reminder_due_while_the_server_was_down_is_delivered_on_start() {
    // The first instance runs without a scheduler: as if the server were down at the due time.
    let app = spawn_app_tweaked(Options::default(), |s| {
        fast(s);
        s.scheduler_enabled = false;
    })
    .await;
    let token = app.admin_token().await;
    let id = create_reminder(&app, &token, "While down", json!({"due_at": due_in(200)})).await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(state_of(&app, &token, id).await["state"], "scheduled");
    assert_eq!(app.count("notifications").await, 0);
    // A server starts: it delivers the overdue reminder at once.
    spawn_instance(&app, fast).await;
    let fired = eventually(10, || async {
        (state_of(&app, &token, id).await["state"] == "fired").then_some(())
    })
    .await;
    assert!(fired.is_some(), "the overdue reminder was not delivered");
    assert_eq!(app.count("notifications").await, 1);
}

#[tokio::test]
async fn two_instances_on_one_database_deliver_every_reminder_exactly_once() {
    let app = spawn_fast_app().await;
    spawn_instance(&app, fast).await;
    spawn_instance(&app, fast).await;
    let token = app.admin_token().await;
    const N: usize = 60;
    let due = due_in(1500);
    let mut ids = HashSet::new();
    for i in 0..N {
        ids.insert(create_reminder(&app, &token, &format!("R{i}"), json!({"due_at": due})).await);
    }
    let all_fired = eventually(30, || async {
        let res = app
            .get("/reminders?state=fired&limit=100")
            .token(&token)
            .send()
            .await;
        (res.body["total"] == N).then_some(())
    })
    .await;
    assert!(all_fired.is_some(), "not every reminder was delivered");
    // Let every instance tick a few more times, then count deliveries.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(app.count("notifications").await, N as i64);
    assert_eq!(app.count("email_outbox").await, N as i64);
    let mut seen = HashSet::new();
    let mut offset = 0;
    while offset < N {
        let page = app
            .get(&format!("/notifications?limit=100&offset={offset}"))
            .token(&token)
            .send()
            .await;
        for n in page.body["items"].as_array().cloned().unwrap_or_default() {
            assert!(
                seen.insert(n["record_id"].as_i64().unwrap_or_default()),
                "delivered twice: {n}"
            );
        }
        offset += 100;
    }
    assert_eq!(seen, ids);
}
