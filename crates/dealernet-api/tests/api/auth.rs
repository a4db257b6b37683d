use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, JWT_SECRET, Options, PASSWORD, spawn_app, spawn_app_with};

#[tokio::test]
async fn login_answers_the_token_shape_and_me_works() {
    let app = spawn_app().await;
    let t = app.login_tokens(ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(t["token_type"], "Bearer");
    assert!(t["expires_in"].as_i64().is_some_and(|e| e > 0 && e <= 900));
    assert!(t["refresh_token"].as_str().is_some_and(|s| s.len() >= 32));
    let me = app
        .get("/me")
        .token(t["access_token"].as_str().unwrap_or(""))
        .send()
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], ADMIN_EMAIL);
    assert_eq!(me.body["access_level"], 8);
    assert!(
        me.body["permissions"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );
}

#[tokio::test]
async fn wrong_credentials_are_a_401_problem_for_known_and_unknown_emails() {
    let app = spawn_app().await;
    for email in [ADMIN_EMAIL, "nobody@example.com"] {
        let res = app.login_res(email, "wrong password 1").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert!(res.is_problem());
        assert_eq!(res.code(), "invalid_credentials");
    }
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after() {
    let app = spawn_app_with(Options {
        login_max_failures_per_account: 3,
        login_max_failures_per_ip: 100,
    })
    .await;
    for _ in 0..3 {
        assert_eq!(
            app.login_res(ADMIN_EMAIL, "wrong password 1").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let res = app.login_res(ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(res.is_problem());
    assert!(
        res.header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|s| s > 0)
    );
}

#[tokio::test]
async fn requests_without_or_with_garbage_credentials_are_401() {
    let app = spawn_app().await;
    let res = app.get("/me").send().await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(res.is_problem());
    let res = app.get("/me").token("not.a.jwt").send().await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    let res = app
        .get("/users")
        .header("x-api-key", "dnk_nope_nope")
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

fn claims(sub: i64, sid: &str, aud: &str, exp_offset: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": sub.to_string(), "sid": sid, "iss": "dealernet", "aud": aud,
           "iat": now, "nbf": now - 10, "exp": now + exp_offset, "jti": "x"})
}

fn sign(c: &serde_json::Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        c,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default()
}

#[tokio::test]
async fn forged_tampered_expired_and_misaddressed_tokens_are_refused() {
    let app = spawn_app().await;
    let good = app.admin_token().await;
    // Read the real session id out of the good token.
    let payload = good.split('.').nth(1).unwrap_or("");
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_default();
    let real: serde_json::Value = serde_json::from_slice(&decoded).unwrap_or_default();
    let sid = real["sid"].as_str().unwrap_or("").to_string();
    assert_eq!(
        app.get("/me").token(&good).send().await.status,
        StatusCode::OK
    );

    // A valid token re-signed with another key.
    let forged = sign(
        &claims(app.admin_id, &sid, "dealernet-api", 600),
        "another secret entirely, 32+ chars",
    );
    // The payload changed but the signature kept.
    let parts: Vec<&str> = good.split('.').collect();
    let mut escalated = real.clone();
    escalated["sub"] = json!("999");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(escalated.to_string()),
        parts[2]
    );
    // alg: none, no signature.
    let none_header =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let none_payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(claims(app.admin_id, &sid, "dealernet-api", 600).to_string());
    let alg_none = format!("{none_header}.{none_payload}.");
    let expired = sign(
        &claims(app.admin_id, &sid, "dealernet-api", -120),
        JWT_SECRET,
    );
    let wrong_aud = sign(&claims(app.admin_id, &sid, "someone-else", 600), JWT_SECRET);
    let unknown_session = sign(
        &claims(app.admin_id, "no-such-session", "dealernet-api", 600),
        JWT_SECRET,
    );
    for (what, token) in [
        ("forged", forged),
        ("tampered", tampered),
        ("alg none", alg_none),
        ("expired", expired),
        ("wrong audience", wrong_aud),
        ("unknown session", unknown_session),
    ] {
        let res = app.get("/me").token(&token).send().await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{what}: {}", res.text);
        assert!(res.is_problem(), "{what}");
    }
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = spawn_app().await;
    let first = app.login_tokens(ADMIN_EMAIL, PASSWORD).await;
    let r1 = first["refresh_token"].as_str().unwrap_or("").to_string();
    let second = app
        .post("/auth/refresh")
        .json(&json!({"refresh_token": r1}))
        .send()
        .await;
    assert_eq!(second.status, StatusCode::OK);
    let r2 = second.body["refresh_token"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_ne!(r1, r2);
    let access2 = second.body["access_token"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_eq!(
        app.get("/me").token(&access2).send().await.status,
        StatusCode::OK
    );

    // Someone replays the first (already used) token: the family is revoked.
    let replay = app
        .post("/auth/refresh")
        .json(&json!({"refresh_token": r1}))
        .send()
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert!(replay.is_problem());
    // The legitimate holder's newer refresh token and access token die with it.
    let after = app
        .post("/auth/refresh")
        .json(&json!({"refresh_token": r2}))
        .send()
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/me").token(&access2).send().await.status,
        StatusCode::UNAUTHORIZED
    );
    // Other sessions of the same user are untouched.
    assert_eq!(
        app.get("/me")
            .token(&app.admin_token().await)
            .send()
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_revokes_the_session_and_its_tokens() {
    let app = spawn_app().await;
    let t = app.login_tokens(ADMIN_EMAIL, PASSWORD).await;
    let access = t["access_token"].as_str().unwrap_or("").to_string();
    let refresh = t["refresh_token"].as_str().unwrap_or("").to_string();
    let res = app
        .post("/auth/logout")
        .token(&access)
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/me").token(&access).send().await.status,
        StatusCode::UNAUTHORIZED
    );
    let again = app
        .post("/auth/refresh")
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn blocking_takes_effect_on_the_next_request_and_login_says_blocked() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let role = app.role_id("operator_manager").await;
    let id = app
        .create_user(&admin, "op@example.com", app.root_org, 7, &[role])
        .await;
    let token = app.login("op@example.com", PASSWORD).await;
    assert_eq!(
        app.get("/me").token(&token).send().await.status,
        StatusCode::OK
    );
    let res = app
        .patch(&format!("/users/{id}"))
        .token(&admin)
        .json(&json!({"status": "blocked"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = app.get("/me").token(&token).send().await;
    assert!(
        matches!(res.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
        "{}",
        res.status
    );
    let login = app.login_res("op@example.com", PASSWORD).await;
    assert_eq!(login.status, StatusCode::FORBIDDEN);
    assert_eq!(login.code(), "account_blocked");
    // A wrong password on a blocked account does not reveal that it is blocked.
    assert_eq!(
        app.login_res("op@example.com", "wrong password 1")
            .await
            .code(),
        "invalid_credentials"
    );
}

#[tokio::test]
async fn sessions_are_listed_and_sign_out_everywhere_ends_them_all() {
    let app = spawn_app().await;
    let a = app.admin_token().await;
    let b = app.admin_token().await;
    let res = app.get("/me/sessions").token(&a).send().await;
    assert_eq!(res.status, StatusCode::OK);
    let sessions = res.body.as_array().cloned().unwrap_or_default();
    assert!(sessions.len() >= 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(
        app.delete("/me/sessions").token(&a).send().await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/me").token(&a).send().await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/me").token(&b).send().await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = spawn_app().await;
    let a = app.admin_token().await;
    let other = app.admin_token().await;
    let res = app
        .post("/me/password")
        .token(&a)
        .json(&json!({"current_password": "wrong one 1", "new_password": "a new password 7"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.field_errors(), vec!["current_password"]);
    let res = app
        .post("/me/password")
        .token(&a)
        .json(&json!({"current_password": PASSWORD, "new_password": "a new password 7"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/me").token(&a).send().await.status, StatusCode::OK);
    assert_eq!(
        app.get("/me").token(&other).send().await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login_res(ADMIN_EMAIL, "a new password 7").await.status,
        StatusCode::OK
    );
}

/// Actors may be cached per instance (on PostgreSQL, while the database's change feed is
/// connected). A change made through one instance, or straight in the database, must reach a
/// second instance that has the actor cached.
#[tokio::test]
#[allow(clippy::expect_used)]
async fn identity_changes_reach_every_instance_that_serves_the_actor() {
    use crate::notify_support::{eventually, spawn_instance};

    let app = spawn_app().await;
    let other = spawn_instance(&app, |_| {}).await;
    let admin = app.admin_token().await;
    let role = app.role_id("operator_manager").await;
    let blocked = app
        .create_user(&admin, "blocked@example.com", app.root_org, 7, &[role])
        .await;
    let demoted = app
        .create_user(&admin, "demoted@example.com", app.root_org, 7, &[role])
        .await;
    let direct = app
        .create_user(&admin, "direct@example.com", app.root_org, 7, &[role])
        .await;
    let http = reqwest::Client::new();
    let status_on_other = |token: String, path: &'static str| {
        let http = http.clone();
        let url = format!("{other}/api/v1{path}");
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .map(|r| r.status())
                .ok()
        }
    };
    let mut tokens = Vec::new();
    for email in [
        "blocked@example.com",
        "demoted@example.com",
        "direct@example.com",
    ] {
        let token = app.login(email, PASSWORD).await;
        // Twice on each instance: the second answers may come from the caches.
        for _ in 0..2 {
            assert_eq!(
                status_on_other(token.clone(), "/users").await,
                Some(StatusCode::OK)
            );
            assert_eq!(
                app.get("/users").token(&token).send().await.status,
                StatusCode::OK
            );
        }
        tokens.push(token);
    }

    // Blocked through the first instance.
    let res = app
        .patch(&format!("/users/{blocked}"))
        .token(&admin)
        .json(&json!({"status": "blocked"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    // Its roles taken away through the first instance.
    let res = app
        .patch(&format!("/users/{demoted}"))
        .token(&admin)
        .json(&json!({"role_ids": []}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    // Through the instance that made the changes, the very next requests already see them.
    let res = app.get("/users").token(&tokens[0]).send().await;
    assert!(
        matches!(res.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
        "{}",
        res.status
    );
    let res = app.get("/users").token(&tokens[1]).send().await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    // Blocked by a change made straight in the database, through no instance at all.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(&format!(
            "UPDATE users SET status = 'blocked' WHERE id = {direct}"
        ))
        .await
        .expect("block in the database");

    // The notification travels asynchronously; it is allowed a moment, not a cache lifetime.
    for (token, expected) in [
        (
            &tokens[0],
            [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN],
        ),
        (&tokens[1], [StatusCode::FORBIDDEN, StatusCode::FORBIDDEN]),
        (
            &tokens[2],
            [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN],
        ),
    ] {
        let seen = eventually(2, || {
            let probe = status_on_other(token.clone(), "/users");
            async move { probe.await.filter(|s| expected.contains(s)) }
        })
        .await;
        assert!(
            seen.is_some(),
            "the other instance still serves the old actor"
        );
    }
}
