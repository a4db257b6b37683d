use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn nodes_are_created_renamed_and_moved_with_their_subtree() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let north = app
        .create_org(&admin, "North", "region", app.root_org)
        .await;
    let south = app
        .create_org(&admin, "South", "region", app.root_org)
        .await;
    let dist = app
        .create_org(&admin, "North Dist", "distributor", north)
        .await;
    let dealer = app.create_org(&admin, "Dealer", "dealer", dist).await;
    let pos = app
        .create_org(&admin, "Shop", "point_of_sale", dealer)
        .await;
    let got = app.get(&format!("/orgs/{pos}")).token(&admin).send().await;
    assert_eq!(
        got.body["path"],
        format!("/{}/{north}/{dist}/{dealer}/{pos}/", app.root_org)
    );
    assert_eq!(got.body["depth"], 4);

    let moved = app
        .patch(&format!("/orgs/{dist}"))
        .token(&admin)
        .json(&json!({"parent_id": south, "name": "South Dist"}))
        .send()
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(moved.body["parent_id"], south);
    let got = app.get(&format!("/orgs/{pos}")).token(&admin).send().await;
    assert_eq!(
        got.body["path"],
        format!("/{}/{south}/{dist}/{dealer}/{pos}/", app.root_org)
    );
    let within = app
        .get(&format!("/orgs?within={south}&limit=100"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(within.body["total"], 4);
    let within = app
        .get(&format!("/orgs?within={north}"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(within.body["total"], 1);
    let children = app
        .get(&format!("/orgs?parent_id={south}"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(children.body["items"][0]["name"], "South Dist");
    assert_eq!(children.body["items"][0]["children"], 1);
    let audit = app
        .get(&format!("/audit?entity=orgs&id={dist}"))
        .token(&admin)
        .send()
        .await;
    assert_eq!(audit.body["items"][0]["action"], "move");
}

#[tokio::test]
async fn the_tree_keeps_its_shape_and_has_no_cycles() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let region = app.create_org(&admin, "R", "region", app.root_org).await;
    let dealer = app.create_org(&admin, "D", "dealer", region).await;
    let sub = app.create_org(&admin, "S", "sub_dealer", dealer).await;
    let res = app
        .post("/orgs")
        .token(&admin)
        .json(&json!({"name": "Bad", "kind": "region", "parent_id": dealer}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.field_errors(), vec!["kind"]);
    let res = app
        .patch(&format!("/orgs/{dealer}"))
        .token(&admin)
        .json(&json!({"parent_id": sub}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.field_errors(), vec!["parent_id"]);
    let res = app
        .patch(&format!("/orgs/{}", app.root_org))
        .token(&admin)
        .json(&json!({"parent_id": region}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post("/orgs")
        .token(&admin)
        .json(&json!({"name": "Second root", "kind": "operator"}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post("/orgs")
        .token(&admin)
        .json(&json!({"name": "Ghost child", "kind": "dealer", "parent_id": 999_999}))
        .send()
        .await;
    assert_eq!(res.field_errors(), vec!["parent_id"]);
}

#[tokio::test]
async fn node_codes_are_unique() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let first = app
        .post("/orgs")
        .token(&admin)
        .json(&json!({"name": "A", "kind": "dealer", "parent_id": app.root_org, "code": "DLR-1"}))
        .send()
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = app
        .post("/orgs")
        .token(&admin)
        .json(&json!({"name": "B", "kind": "dealer", "parent_id": app.root_org, "code": "DLR-1"}))
        .send()
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(second.body["existing_id"], first.id());
}

#[tokio::test]
async fn a_dealer_admin_builds_its_own_subtree() {
    let app = spawn_app().await;
    let (dealer, token, _) = app.dealer_with_admin("Builder").await;
    let sub = app
        .create_org(&token, "My sub-dealer", "sub_dealer", dealer)
        .await;
    let pos = app
        .create_org(&token, "My kiosk", "point_of_sale", sub)
        .await;
    let list = app.get("/orgs?sort=path").token(&token).send().await;
    let ids: Vec<i64> = list.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["id"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![dealer, sub, pos]);
    // It cannot move its own node out of its subtree.
    let res = app
        .patch(&format!("/orgs/{sub}"))
        .token(&token)
        .json(&json!({"parent_id": app.root_org}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
}
