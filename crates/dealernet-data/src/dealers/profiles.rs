//! Dealer profiles: create, read, list with filters, change (with `If-Match`), rating changes
//! with their history, and the candidates the assignment considers for a job site.

use std::collections::HashMap;

use chrono::Utc;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::dealers::assignment::{DealerCandidate, JobSite};
use dealernet_domain::dealers::geo::{GeoPoint, Territory, WIDE_CELL, cell_of};
use dealernet_domain::dealers::{
    ChangeRating, CreateDealer, Dealer, DealerStatus, RatingChange, ServiceType, UpdateDealer,
};
use dealernet_domain::list::{Direction, Page, Paging, Sort};
use dealernet_domain::org::{OrgKind, OrgPath};
use dealernet_domain::policy::{Actor, RecordRef};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, ExprTrait, FromQueryResult, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
};

use super::entity::{dealer, dealer_cell, dealer_count, dealer_region, rating_change};
use super::{parse_json, to_json};
use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::entities::org_node;
use crate::error::{Result, ServiceError, on_unique};
use crate::{orgs, scope, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DealerSort {
    LegalName,
    Rating,
    Load,
    Capacity,
    CreatedAt,
}

pub const SORT_FIELDS: &[(&str, DealerSort)] = &[
    ("legal_name", DealerSort::LegalName),
    ("rating", DealerSort::Rating),
    ("load", DealerSort::Load),
    ("capacity", DealerSort::Capacity),
    ("created_at", DealerSort::CreatedAt),
];

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct DealerFilter {
    /// Searches the legal name, the node's name and the tax id.
    pub q: Option<String>,
    /// Dealers whose territory names this region code.
    pub region: Option<String>,
    pub service: Option<ServiceType>,
    pub rating_min: Option<f64>,
    /// At most this share of capacity in use, in percent.
    pub load_max: Option<u32>,
    pub status: Option<DealerStatus>,
    /// Dealers of this node and every node below it.
    pub within: Option<i64>,
}

pub(crate) fn services_of(m: &dealer::Model) -> Vec<ServiceType> {
    let mut s = Vec::new();
    if m.offers_installation {
        s.push(ServiceType::Installation);
    }
    if m.offers_repair {
        s.push(ServiceType::Repair);
    }
    s
}

fn status_of(m: &dealer::Model) -> Result<DealerStatus> {
    DealerStatus::parse(&m.status)
        .ok_or_else(|| ServiceError::Internal(format!("dealer {} status {}", m.id, m.status)))
}

pub(crate) fn base_of(m: &dealer::Model) -> Option<GeoPoint> {
    Some(GeoPoint::new(m.base_lat?, m.base_lon?))
}

fn to_wire(m: dealer::Model, name: String) -> Result<Dealer> {
    Ok(Dealer {
        id: m.id,
        org_id: m.org_id,
        name,
        contacts: parse_json("dealer contacts", m.id, &m.contacts)?,
        services: services_of(&m),
        territory: parse_json("dealer territory", m.id, &m.territory)?,
        base: base_of(&m),
        working_hours: parse_json("dealer hours", m.id, &m.working_hours)?,
        status: status_of(&m)?,
        legal_name: m.legal_name,
        tax_id: m.tax_id,
        legal_address: m.legal_address,
        rating: m.rating,
        capacity: m.capacity,
        open_jobs: m.open_jobs,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn snapshot(m: &dealer::Model) -> serde_json::Value {
    serde_json::json!({
        "org_id": m.org_id, "legal_name": m.legal_name, "tax_id": m.tax_id,
        "legal_address": m.legal_address, "contacts": m.contacts,
        "offers_installation": m.offers_installation, "offers_repair": m.offers_repair,
        "territory": m.territory, "base_lat": m.base_lat, "base_lon": m.base_lon,
        "rating": m.rating, "capacity": m.capacity, "working_hours": m.working_hours,
        "status": m.status,
    })
}

fn search_text(legal_name: &str, name: &str, tax_id: &str) -> String {
    format!("{} {} {}", legal_name, name, tax_id)
        .to_lowercase()
        .chars()
        .take(1000)
        .collect()
}

/// Names of the organisation nodes `ids`.
pub(crate) async fn node_names<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(org_node::Entity::find()
        .filter(org_node::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

/// Names of the dealers `ids` (their nodes' names).
pub(crate) async fn dealer_names<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(dealer::Entity::find()
        .find_also_related(org_node::Entity)
        .filter(dealer::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|(d, node)| (d.id, node.map(|n| n.name).unwrap_or_default()))
        .collect())
}

pub(crate) async fn path_of<C: ConnectionTrait>(conn: &C, org_id: i64) -> Result<OrgPath> {
    orgs::path(conn, org_id)
        .await?
        .ok_or_else(|| ServiceError::Internal(format!("organisation node {org_id} missing")))
}

/// Loads a dealer the actor may `action` (404 when outside the actor's view).
pub(crate) async fn load_visible<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<(dealer::Model, OrgPath)> {
    let m = dealer::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let path = path_of(conn, m.org_id).await?;
    actor.authorize(
        Resource::Dealers,
        action,
        RecordRef {
            org_path: &path,
            responsible_id: None,
        },
    )?;
    Ok((m, path))
}

fn area_columns(t: &Territory) -> (Option<f64>, Option<f64>, Option<f64>, Option<f64>) {
    match t.bounding_box() {
        Some(b) => (
            Some(b.min_lat),
            Some(b.max_lat),
            Some(b.min_lon),
            Some(b.max_lon),
        ),
        None => (None, None, None, None),
    }
}

/// Files the territory's areas under their grid cells (replacing what was filed before).
async fn write_cells<C: ConnectionTrait>(conn: &C, dealer_id: i64, t: &Territory) -> Result<()> {
    dealer_cell::Entity::delete_many()
        .filter(dealer_cell::Column::DealerId.eq(dealer_id))
        .exec(conn)
        .await?;
    file_cells(conn, dealer_id, t).await
}

/// Files the territory's areas under their grid cells (nothing filed before).
async fn file_cells<C: ConnectionTrait>(conn: &C, dealer_id: i64, t: &Territory) -> Result<()> {
    let rows: Vec<dealer_cell::ActiveModel> = t
        .grid_entries()
        .into_iter()
        .map(|(cell, b)| dealer_cell::ActiveModel {
            cell: Set(cell),
            dealer_id: Set(dealer_id),
            min_lat: Set(b.min_lat),
            max_lat: Set(b.max_lat),
            min_lon: Set(b.min_lon),
            max_lon: Set(b.max_lon),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        dealer_cell::Entity::insert_many(rows).exec(conn).await?;
    }
    Ok(())
}

/// Files every dealer's areas anew: for dealers written by bulk SQL (the benchmark's loader).
pub async fn refile_all(db: &DatabaseConnection) -> Result<u64> {
    let txn = db.begin().await?;
    dealer_cell::Entity::delete_many().exec(&txn).await?;
    let mut after = 0i64;
    let mut filed = 0u64;
    loop {
        let batch = dealer::Entity::find()
            .filter(dealer::Column::Id.gt(after))
            .order_by_asc(dealer::Column::Id)
            .limit(1000)
            .all(&txn)
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        for d in &batch {
            let t: Territory = parse_json("dealer territory", d.id, &d.territory)?;
            file_cells(&txn, d.id, &t).await?;
            filed += 1;
        }
    }
    txn.commit().await?;
    Ok(filed)
}

async fn write_regions<C: ConnectionTrait>(conn: &C, dealer_id: i64, t: &Territory) -> Result<()> {
    dealer_region::Entity::delete_many()
        .filter(dealer_region::Column::DealerId.eq(dealer_id))
        .exec(conn)
        .await?;
    let mut codes = t.region_codes.clone();
    codes.sort();
    codes.dedup();
    if codes.is_empty() {
        return Ok(());
    }
    dealer_region::Entity::insert_many(codes.into_iter().map(|c| dealer_region::ActiveModel {
        region_code: Set(c),
        dealer_id: Set(dealer_id),
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Creates the profile of the dealer at node `input.org_id`.
pub async fn create(db: &DatabaseConnection, ctx: Ctx<'_>, input: CreateDealer) -> Result<Dealer> {
    let actor = ctx.actor;
    actor.require(Resource::Dealers, Action::Create)?;
    let txn = db.begin().await?;
    let not_found = || ServiceError::field("org_id", "not_found", "no such organisation node");
    let node = org_node::Entity::find_by_id(input.org_id)
        .one(&txn)
        .await?
        .ok_or_else(not_found)?;
    let path = path_of(&txn, node.id).await?;
    if actor
        .authorize(
            Resource::Orgs,
            Action::View,
            RecordRef {
                org_path: &path,
                responsible_id: None,
            },
        )
        .is_err()
    {
        return Err(not_found());
    }
    actor.authorize_create(Resource::Dealers, &path)?;
    if !matches!(
        OrgKind::parse(&node.kind),
        Some(OrgKind::Dealer | OrgKind::SubDealer)
    ) {
        return Err(ServiceError::field(
            "org_id",
            "kind",
            "must be a dealer or sub-dealer node",
        ));
    }
    let now = Utc::now();
    let (min_lat, max_lat, min_lon, max_lon) = area_columns(&input.territory);
    let m = dealer::ActiveModel {
        org_id: Set(node.id),
        legal_name: Set(input.legal_name.trim().to_string()),
        tax_id: Set(input.tax_id.clone()),
        legal_address: Set(input.legal_address.trim().to_string()),
        contacts: Set(to_json(&input.contacts)),
        offers_installation: Set(input.services.contains(&ServiceType::Installation)),
        offers_repair: Set(input.services.contains(&ServiceType::Repair)),
        territory: Set(to_json(&input.territory)),
        area_min_lat: Set(min_lat),
        area_max_lat: Set(max_lat),
        area_min_lon: Set(min_lon),
        area_max_lon: Set(max_lon),
        base_lat: Set(input.base.map(|b| b.lat)),
        base_lon: Set(input.base.map(|b| b.lon)),
        rating: Set(input.rating),
        capacity: Set(input.capacity),
        open_jobs: Set(0),
        working_hours: Set(to_json(&input.working_hours)),
        status: Set(input.status.as_str().to_string()),
        search_text: Set(search_text(&input.legal_name, &node.name, &input.tax_id)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(on_unique(
        "this organisation node already has a dealer profile",
    ))?;
    write_regions(&txn, m.id, &input.territory).await?;
    write_cells(&txn, m.id, &input.territory).await?;
    rating_change::ActiveModel {
        dealer_id: Set(m.id),
        from_rating: Set(None),
        to_rating: Set(m.rating),
        reason: Set("initial rating".into()),
        changed_by: Set(Some(actor.name.clone())),
        at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "create",
            entity: Resource::Dealers,
            entity_id: m.id,
            org_id: Some(m.org_id),
            responsible_id: None,
            before: None,
            after: Some(snapshot(&m)),
        },
    )
    .await?;
    txn.commit().await?;
    to_wire(m, node.name)
}

pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<Dealer> {
    let (m, _) = load_visible(db, actor, id, Action::View).await?;
    let name = node_names(db, [m.org_id])
        .await?
        .remove(&m.org_id)
        .unwrap_or_default();
    to_wire(m, name)
}

/// The dealers the actor may see, filtered, sorted and paged.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &DealerFilter,
    sort: &Sort<DealerSort>,
    paging: Paging,
) -> Result<Page<Dealer>> {
    actor.require(Resource::Dealers, Action::View)?;
    let visibility = actor.visibility(Resource::Dealers, Action::View);
    let mut q = dealer::Entity::find().filter(scope::condition(
        &visibility,
        dealer::Column::OrgId,
        None::<dealer::Column>,
    ));
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(text::contains_ci(dealer::Column::SearchText, text));
    }
    if let Some(region) = filter.region.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(
            dealer::Column::Id.in_subquery(
                Query::select()
                    .column(dealer_region::Column::DealerId)
                    .from(dealer_region::Entity)
                    .and_where(dealer_region::Column::RegionCode.eq(region))
                    .to_owned(),
            ),
        );
    }
    match filter.service {
        Some(ServiceType::Installation) => {
            q = q.filter(dealer::Column::OffersInstallation.eq(true))
        }
        Some(ServiceType::Repair) => q = q.filter(dealer::Column::OffersRepair.eq(true)),
        None => {}
    }
    if let Some(r) = filter.rating_min {
        q = q.filter(dealer::Column::Rating.gte(r));
    }
    if let Some(pct) = filter.load_max {
        q = q.filter(
            Expr::col(dealer::Column::OpenJobs)
                .mul(100)
                .lte(Expr::col(dealer::Column::Capacity).mul(i64::from(pct))),
        );
    }
    if let Some(s) = filter.status {
        q = q.filter(dealer::Column::Status.eq(s.as_str()));
    }
    if let Some(within) = filter.within {
        let Some(path) = orgs::path(db, within).await? else {
            return Ok(Page::empty());
        };
        q = q.filter(dealer::Column::OrgId.in_subquery(scope::subtree_ids(&path)));
    }
    let total = q.clone().count(db).await?;
    for (key, dir) in &sort.keys {
        let order = if *dir == Direction::Asc {
            Order::Asc
        } else {
            Order::Desc
        };
        q = match key {
            DealerSort::LegalName => q.order_by(dealer::Column::LegalName, order),
            DealerSort::Rating => q.order_by(dealer::Column::Rating, order),
            DealerSort::Capacity => q.order_by(dealer::Column::Capacity, order),
            DealerSort::CreatedAt => q.order_by(dealer::Column::CreatedAt, order),
            DealerSort::Load => q.order_by(
                Expr::cust(
                    "CAST(open_jobs AS DOUBLE PRECISION) / CAST(NULLIF(capacity, 0) AS DOUBLE PRECISION)",
                ),
                order,
            ),
        };
    }
    let rows = q
        .order_by(dealer::Column::Id, Order::Asc)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    let names = node_names(db, rows.iter().map(|r| r.org_id)).await?;
    let items = rows
        .into_iter()
        .map(|m| {
            let name = names.get(&m.org_id).cloned().unwrap_or_default();
            to_wire(m, name)
        })
        .collect::<Result<_>>()?;
    Ok(Page::new(items, total))
}

/// Changes a profile. Capacity cannot drop below the jobs the dealer has open.
pub async fn update(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: UpdateDealer,
    if_match: Option<i32>,
) -> Result<Dealer> {
    let txn = db.begin().await?;
    let (m, _) = load_visible(&txn, ctx.actor, id, Action::Edit).await?;
    if if_match.is_some_and(|v| v != m.version) {
        return Err(ServiceError::StaleVersion);
    }
    // Only the columns being changed are written: `open_jobs` moves under concurrent
    // assignments and must never be overwritten from a stale read.
    let mut am = dealer::ActiveModel {
        ..Default::default()
    };
    let mut name_parts = (m.legal_name.clone(), m.tax_id.clone());
    if let Some(v) = &input.legal_name {
        am.legal_name = Set(v.trim().to_string());
        name_parts.0 = v.trim().to_string();
    }
    if let Some(v) = &input.tax_id {
        am.tax_id = Set(v.clone());
        name_parts.1 = v.clone();
    }
    if let Some(v) = &input.legal_address {
        am.legal_address = Set(v.trim().to_string());
    }
    if let Some(v) = &input.contacts {
        am.contacts = Set(to_json(v));
    }
    if let Some(v) = &input.services {
        am.offers_installation = Set(v.contains(&ServiceType::Installation));
        am.offers_repair = Set(v.contains(&ServiceType::Repair));
    }
    if let Some(t) = &input.territory {
        let (a, b, c, d) = area_columns(t);
        am.territory = Set(to_json(t));
        am.area_min_lat = Set(a);
        am.area_max_lat = Set(b);
        am.area_min_lon = Set(c);
        am.area_max_lon = Set(d);
        write_regions(&txn, id, t).await?;
        write_cells(&txn, id, t).await?;
    }
    if let Some(b) = &input.base {
        am.base_lat = Set(b.map(|p| p.lat));
        am.base_lon = Set(b.map(|p| p.lon));
    }
    if let Some(c) = input.capacity {
        if c < m.open_jobs {
            return Err(ServiceError::Validation(vec![
                dealernet_domain::FieldError {
                    field: "capacity".into(),
                    code: "below_load".into(),
                    message: format!(
                        "the dealer has {} open jobs; capacity cannot be lower",
                        m.open_jobs
                    ),
                },
            ]));
        }
        am.capacity = Set(c);
    }
    if let Some(v) = &input.working_hours {
        am.working_hours = Set(to_json(v));
    }
    if let Some(s) = input.status {
        am.status = Set(s.as_str().to_string());
    }
    let node_name = node_names(&txn, [m.org_id])
        .await?
        .remove(&m.org_id)
        .unwrap_or_default();
    am.search_text = Set(search_text(&name_parts.0, &node_name, &name_parts.1));
    am.version = Set(m.version + 1);
    am.updated_at = Set(Utc::now());
    let mut upd = dealer::Entity::update_many()
        .set(am)
        .filter(dealer::Column::Id.eq(id))
        .filter(dealer::Column::Version.eq(m.version));
    if let Some(c) = input.capacity {
        upd = upd.filter(dealer::Column::OpenJobs.lte(c));
    }
    let res = upd.exec(&txn).await?;
    if res.rows_affected != 1 {
        return Err(ServiceError::StaleVersion);
    }
    let after = dealer::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "update",
            entity: Resource::Dealers,
            entity_id: id,
            org_id: Some(after.org_id),
            responsible_id: None,
            before: Some(snapshot(&m)),
            after: Some(snapshot(&after)),
        },
    )
    .await?;
    txn.commit().await?;
    to_wire(after, node_name)
}

/// Sets a dealer's rating and records the change with its reason.
pub async fn change_rating(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: ChangeRating,
) -> Result<Dealer> {
    let txn = db.begin().await?;
    let (m, _) = load_visible(&txn, ctx.actor, id, Action::Edit).await?;
    let now = Utc::now();
    dealer::Entity::update_many()
        .col_expr(dealer::Column::Rating, Expr::value(input.rating))
        .col_expr(
            dealer::Column::Version,
            Expr::col(dealer::Column::Version).add(1),
        )
        .col_expr(dealer::Column::UpdatedAt, Expr::value(now))
        .filter(dealer::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    rating_change::ActiveModel {
        dealer_id: Set(id),
        from_rating: Set(Some(m.rating)),
        to_rating: Set(input.rating),
        reason: Set(input.reason.trim().to_string()),
        changed_by: Set(Some(ctx.actor.name.clone())),
        at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let after = dealer::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "rating",
            entity: Resource::Dealers,
            entity_id: id,
            org_id: Some(m.org_id),
            responsible_id: None,
            before: Some(serde_json::json!({"rating": m.rating})),
            after: Some(serde_json::json!({"rating": input.rating, "reason": input.reason.trim()})),
        },
    )
    .await?;
    txn.commit().await?;
    let name = node_names(db, [after.org_id])
        .await?
        .remove(&after.org_id)
        .unwrap_or_default();
    to_wire(after, name)
}

/// Every rating change of a dealer, newest first.
pub async fn rating_history(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    paging: Paging,
) -> Result<Page<RatingChange>> {
    load_visible(db, actor, id, Action::View).await?;
    let q = rating_change::Entity::find().filter(rating_change::Column::DealerId.eq(id));
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(rating_change::Column::Id)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|r| RatingChange {
                id: r.id,
                dealer_id: r.dealer_id,
                from: r.from_rating,
                to: r.to_rating,
                reason: r.reason,
                changed_by: r.changed_by,
                at: r.at,
            })
            .collect(),
        total,
        total_capped: false,
    })
}

/// The dealers whose territory might cover `site` (an area's bounding box contains it, or a
/// region code matches), as the assignment sees them, and how many dealers there are in all
/// (read with them, in the same round trip).
pub(crate) async fn candidates_near<C: ConnectionTrait>(
    conn: &C,
    site: &JobSite,
) -> Result<(Vec<(DealerCandidate, dealer::Model)>, u64)> {
    let p = site.location;
    let mut near = Condition::any().add(
        dealer::Column::Id.in_subquery(
            Query::select()
                .column(dealer_cell::Column::DealerId)
                .from(dealer_cell::Entity)
                .and_where(dealer_cell::Column::Cell.is_in([cell_of(p), WIDE_CELL]))
                .and_where(dealer_cell::Column::MinLat.lte(p.lat))
                .and_where(dealer_cell::Column::MaxLat.gte(p.lat))
                .and_where(dealer_cell::Column::MinLon.lte(p.lon))
                .and_where(dealer_cell::Column::MaxLon.gte(p.lon))
                .to_owned(),
        ),
    );
    if let Some(region) = &site.region_code {
        near = near.add(
            dealer::Column::Id.in_subquery(
                Query::select()
                    .column(dealer_region::Column::DealerId)
                    .from(dealer_region::Entity)
                    .and_where(dealer_region::Column::RegionCode.eq(region.as_str()))
                    .to_owned(),
            ),
        );
    }
    let backend = conn.get_database_backend();
    let stmt = dealer::Entity::find()
        .find_also_related(org_node::Entity)
        .expr_as(
            Expr::cust("(SELECT n FROM dealer_count WHERE id = 1)"),
            "dealer_total",
        )
        .filter(near)
        .order_by_asc(dealer::Column::Id)
        .limit(2000)
        .build(backend);
    let raw = conn.query_all_raw(stmt).await?;
    let total = match raw.first() {
        Some(row) => u64::try_from(row.try_get::<i64>("", "dealer_total")?).unwrap_or(0),
        None => count_all(conn).await?,
    };
    let mut rows = Vec::with_capacity(raw.len());
    for row in &raw {
        rows.push((
            dealer::Model::from_query_result(row, "A_")?,
            org_node::Model::from_query_result_optional(row, "B_")?,
        ));
    }
    let near = rows
        .into_iter()
        .map(|(m, node)| {
            Ok((
                DealerCandidate {
                    dealer_id: m.id,
                    name: node.map(|n| n.name).unwrap_or_default(),
                    status: status_of(&m)?,
                    services: services_of(&m),
                    territory: parse_json("dealer territory", m.id, &m.territory)?,
                    base: base_of(&m),
                    rating: m.rating,
                    capacity: m.capacity,
                    open_jobs: m.open_jobs,
                },
                m,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((near, total))
}

/// All dealers (for the "others outside territory" count).
pub(crate) async fn count_all<C: ConnectionTrait>(conn: &C) -> Result<u64> {
    let n = dealer_count::Entity::find_by_id(1)
        .one(conn)
        .await?
        .map(|c| c.n)
        .ok_or_else(|| ServiceError::Internal("the dealer count row is missing".into()))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Takes one slot of the dealer's capacity if it is active and has one free; `false` when it
/// has none (another request took the last one first). The row lock this update takes makes
/// concurrent claims on PostgreSQL wait and re-check; SQLite serialises them anyway.
pub(crate) async fn claim_slot<C: ConnectionTrait>(conn: &C, dealer_id: i64) -> Result<bool> {
    let res = dealer::Entity::update_many()
        .col_expr(
            dealer::Column::OpenJobs,
            Expr::col(dealer::Column::OpenJobs).add(1),
        )
        .filter(dealer::Column::Id.eq(dealer_id))
        .filter(dealer::Column::Status.eq(DealerStatus::Active.as_str()))
        .filter(Expr::col(dealer::Column::OpenJobs).lt(Expr::col(dealer::Column::Capacity)))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Gives one slot back (a job rejected, expired, reassigned or done).
pub(crate) async fn release_slot<C: ConnectionTrait>(conn: &C, dealer_id: i64) -> Result<()> {
    dealer::Entity::update_many()
        .col_expr(
            dealer::Column::OpenJobs,
            Expr::col(dealer::Column::OpenJobs).sub(1),
        )
        .filter(dealer::Column::Id.eq(dealer_id))
        .filter(dealer::Column::OpenJobs.gt(0))
        .exec(conn)
        .await?;
    Ok(())
}

pub(crate) async fn find<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<dealer::Model>> {
    Ok(dealer::Entity::find_by_id(id).one(conn).await?)
}
