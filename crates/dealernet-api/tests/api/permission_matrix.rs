//! Every built-in role against every endpoint: allowed answers 2xx, denied answers 403 or 404.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, spawn_app};

const ROLES: [&str; 9] = [
    "administrator",
    "operator_manager",
    "sales_manager",
    "contact_centre_agent",
    "auditor",
    "dealer_admin",
    "dealer_technician",
    "seller",
    "integration",
];

struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
    allowed: &'static [&'static str],
}

#[tokio::test]
async fn every_built_in_role_gets_exactly_its_permissions_on_every_endpoint() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let region = app
        .create_org(&admin, "Matrix region", "region", app.root_org)
        .await;
    let dealer = app
        .create_org(&admin, "Matrix dealer", "dealer", region)
        .await;
    let pos = app
        .create_org(&admin, "Matrix shop", "point_of_sale", dealer)
        .await;

    // One user per role, placed where such a user would sit.
    let mut tokens: Vec<(&str, Option<String>, Option<String>)> = Vec::new();
    let mut seller_id = 0;
    for code in ROLES {
        let role = app.role_id(code).await;
        let (org, level) = match code {
            "administrator" => (app.root_org, 8),
            "operator_manager" => (app.root_org, 7),
            "sales_manager" => (region, 6),
            "contact_centre_agent" | "integration" => (app.root_org, 5),
            "auditor" => (app.root_org, 4),
            "dealer_admin" => (dealer, 3),
            "dealer_technician" => (dealer, 2),
            _ => (pos, 1),
        };
        if code == "integration" {
            let res = app
                .post("/api-keys")
                .token(&admin)
                .json(&json!({"name": "matrix", "role_id": role, "org_id": org}))
                .send()
                .await;
            tokens.push((code, None, res.body["secret"].as_str().map(str::to_string)));
            continue;
        }
        let email = format!("{code}@matrix.example");
        let id = app.create_user(&admin, &email, org, level, &[role]).await;
        if code == "seller" {
            seller_id = id;
        }
        tokens.push((code, Some(app.login(&email, PASSWORD).await), None));
    }

    let users_viewers: &[&str] = &[
        "administrator",
        "operator_manager",
        "sales_manager",
        "dealer_admin",
    ];
    let cases = |code: &str| -> Vec<Case> {
        vec![
            Case {
                method: Method::GET,
                path: "/me".into(),
                body: None,
                allowed: &[
                    "administrator",
                    "operator_manager",
                    "sales_manager",
                    "contact_centre_agent",
                    "auditor",
                    "dealer_admin",
                    "dealer_technician",
                    "seller",
                ],
            },
            Case {
                method: Method::GET,
                path: "/users".into(),
                body: None,
                allowed: users_viewers,
            },
            Case {
                method: Method::GET,
                path: format!("/users/{seller_id}"),
                body: None,
                allowed: users_viewers,
            },
            Case {
                method: Method::POST,
                path: "/users".into(),
                body: Some(
                    json!({"email": format!("new-{code}@matrix.example"), "name": "New", "password": PASSWORD, "org_id": pos, "access_level": 1}),
                ),
                allowed: &["administrator", "operator_manager", "dealer_admin"],
            },
            Case {
                method: Method::PATCH,
                path: format!("/users/{seller_id}"),
                body: Some(json!({"name": format!("Seller by {code}")})),
                allowed: &["administrator", "operator_manager", "dealer_admin"],
            },
            Case {
                method: Method::GET,
                path: "/roles".into(),
                body: None,
                allowed: users_viewers,
            },
            Case {
                method: Method::POST,
                path: "/roles".into(),
                body: Some(
                    json!({"code": format!("custom_{code}"), "name": "Custom", "level": 1, "scope": "own", "permissions": ["news:view"]}),
                ),
                allowed: &["administrator"],
            },
            Case {
                method: Method::GET,
                path: "/orgs".into(),
                body: None,
                allowed: &[
                    "administrator",
                    "operator_manager",
                    "sales_manager",
                    "contact_centre_agent",
                    "dealer_admin",
                    "dealer_technician",
                    "integration",
                ],
            },
            Case {
                method: Method::GET,
                path: format!("/orgs/{dealer}"),
                body: None,
                allowed: &[
                    "administrator",
                    "operator_manager",
                    "sales_manager",
                    "contact_centre_agent",
                    "dealer_admin",
                    "integration",
                ],
            },
            Case {
                method: Method::POST,
                path: "/orgs".into(),
                body: Some(
                    json!({"name": format!("Shop by {code}"), "kind": "point_of_sale", "parent_id": dealer}),
                ),
                allowed: &["administrator", "operator_manager", "dealer_admin"],
            },
            Case {
                method: Method::PATCH,
                path: format!("/orgs/{pos}"),
                body: Some(json!({"name": format!("Shop renamed by {code}")})),
                allowed: &["administrator", "operator_manager", "dealer_admin"],
            },
            Case {
                method: Method::GET,
                path: "/api-keys".into(),
                body: None,
                allowed: &["administrator"],
            },
            Case {
                method: Method::GET,
                path: "/audit".into(),
                body: None,
                allowed: &[
                    "administrator",
                    "operator_manager",
                    "sales_manager",
                    "dealer_admin",
                ],
            },
        ]
    };

    let mut failures = Vec::new();
    for (code, token, key) in &tokens {
        for case in cases(code) {
            let mut req = app.req(case.method.clone(), &case.path);
            if let Some(t) = token {
                req = req.token(t);
            }
            if let Some(k) = key {
                req = req.header("x-api-key", k);
            }
            if let Some(b) = &case.body {
                req = req.json(b);
            }
            let res = req.send().await;
            let allowed = case.allowed.contains(code);
            let ok = if allowed {
                res.status.is_success()
            } else {
                matches!(res.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
                    && res.is_problem()
            };
            if !ok {
                failures.push(format!(
                    "{code} {} {} → {} (expected {}) {}",
                    case.method,
                    case.path,
                    res.status,
                    if allowed { "allow" } else { "deny" },
                    res.text
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "permission matrix mismatches:\n{}",
        failures.join("\n")
    );
}
