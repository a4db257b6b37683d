//! The registry of points of sale: each belongs to its owner dealer (and is scoped by the
//! dealer's node), with an address, coordinates (geocoded or set by hand), opening hours and
//! photos or documents. Search looks at a lower-cased name + address column.

use chrono::Utc;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::dealers::geo::{GeoPoint, GeocodeHit};
use dealernet_domain::dealers::{CreatePointOfSale, PointOfSale, UpdatePointOfSale};
use dealernet_domain::list::{Direction, Page, Paging, Sort};
use dealernet_domain::policy::{Actor, RecordRef};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::entity::point_of_sale as pos;
use super::{parse_json, profiles, to_json};
use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::error::{Result, ServiceError};
use crate::{scope, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosSort {
    Name,
    CreatedAt,
}

pub const SORT_FIELDS: &[(&str, PosSort)] =
    &[("name", PosSort::Name), ("created_at", PosSort::CreatedAt)];

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct PosFilter {
    /// Searches the name and the address.
    pub q: Option<String>,
    pub dealer_id: Option<i64>,
    pub region: Option<String>,
    /// Only points with (`true`) or without (`false`) coordinates.
    pub located: Option<bool>,
}

fn search_text(name: &str, address: &str) -> String {
    format!("{name} {address}")
        .to_lowercase()
        .chars()
        .take(800)
        .collect()
}

fn to_wire(m: pos::Model, dealer_name: String) -> Result<PointOfSale> {
    Ok(PointOfSale {
        id: m.id,
        dealer_id: m.dealer_id,
        dealer_name,
        location: match (m.lat, m.lon) {
            (Some(lat), Some(lon)) => Some(GeoPoint::new(lat, lon)),
            _ => None,
        },
        opening_hours: parse_json("point of sale hours", m.id, &m.opening_hours)?,
        attachments: parse_json("point of sale attachments", m.id, &m.attachments)?,
        name: m.name,
        address: m.address,
        region_code: m.region_code,
        geocoded: m.geocoded,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn snapshot(m: &pos::Model) -> serde_json::Value {
    serde_json::json!({
        "dealer_id": m.dealer_id, "name": m.name, "address": m.address,
        "region_code": m.region_code, "lat": m.lat, "lon": m.lon, "geocoded": m.geocoded,
        "opening_hours": m.opening_hours, "attachments": m.attachments,
    })
}

async fn load_visible<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<pos::Model> {
    let m = pos::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let path = profiles::path_of(conn, m.org_id).await?;
    actor.authorize(
        Resource::PointsOfSale,
        action,
        RecordRef {
            org_path: &path,
            responsible_id: None,
        },
    )?;
    Ok(m)
}

async fn dealer_name<C: ConnectionTrait>(conn: &C, dealer_id: i64) -> Result<String> {
    Ok(profiles::dealer_names(conn, [dealer_id])
        .await?
        .remove(&dealer_id)
        .unwrap_or_default())
}

/// Registers a point of sale of a dealer the actor may reach. `geocoded` is the geocoder's
/// answer for the address when the input had no coordinates.
pub async fn create(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: CreatePointOfSale,
    geocoded: Option<GeocodeHit>,
) -> Result<PointOfSale> {
    let actor = ctx.actor;
    actor.require(Resource::PointsOfSale, Action::Create)?;
    let txn = db.begin().await?;
    let not_found = || ServiceError::field("dealer_id", "not_found", "no such dealer");
    let dealer = profiles::find(&txn, input.dealer_id)
        .await?
        .ok_or_else(not_found)?;
    let path = profiles::path_of(&txn, dealer.org_id).await?;
    if actor
        .authorize(
            Resource::PointsOfSale,
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
    actor.authorize_create(Resource::PointsOfSale, &path)?;
    let (location, was_geocoded, region) = match (input.location, &geocoded) {
        (Some(p), _) => (Some(p), false, input.region_code.clone()),
        (None, Some(hit)) => (
            Some(hit.location),
            true,
            input
                .region_code
                .clone()
                .or_else(|| hit.region_code.clone()),
        ),
        (None, None) => (None, false, input.region_code.clone()),
    };
    let now = Utc::now();
    let m = pos::ActiveModel {
        dealer_id: Set(dealer.id),
        org_id: Set(dealer.org_id),
        name: Set(input.name.trim().to_string()),
        address: Set(input.address.trim().to_string()),
        region_code: Set(region),
        lat: Set(location.map(|p| p.lat)),
        lon: Set(location.map(|p| p.lon)),
        geocoded: Set(was_geocoded),
        opening_hours: Set(to_json(&input.opening_hours)),
        attachments: Set(to_json(&input.attachments)),
        search_text: Set(search_text(&input.name, &input.address)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "create",
            entity: Resource::PointsOfSale,
            entity_id: m.id,
            org_id: Some(m.org_id),
            responsible_id: None,
            before: None,
            after: Some(snapshot(&m)),
        },
    )
    .await?;
    let name = dealer_name(&txn, m.dealer_id).await?;
    txn.commit().await?;
    to_wire(m, name)
}

pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<PointOfSale> {
    let m = load_visible(db, actor, id, Action::View).await?;
    let name = dealer_name(db, m.dealer_id).await?;
    to_wire(m, name)
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &PosFilter,
    sort: &Sort<PosSort>,
    paging: Paging,
) -> Result<Page<PointOfSale>> {
    actor.require(Resource::PointsOfSale, Action::View)?;
    let visibility = actor.visibility(Resource::PointsOfSale, Action::View);
    let mut q = pos::Entity::find().filter(scope::condition(
        &visibility,
        pos::Column::OrgId,
        None::<pos::Column>,
    ));
    if let Some(t) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(text::contains_ci(pos::Column::SearchText, t));
    }
    if let Some(d) = filter.dealer_id {
        q = q.filter(pos::Column::DealerId.eq(d));
    }
    if let Some(r) = filter.region.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(pos::Column::RegionCode.eq(r));
    }
    match filter.located {
        Some(true) => q = q.filter(pos::Column::Lat.is_not_null()),
        Some(false) => q = q.filter(pos::Column::Lat.is_null()),
        None => {}
    }
    let total = q.clone().count(db).await?;
    for (key, dir) in &sort.keys {
        let order = if *dir == Direction::Asc {
            Order::Asc
        } else {
            Order::Desc
        };
        q = match key {
            PosSort::Name => q.order_by(pos::Column::Name, order),
            PosSort::CreatedAt => q.order_by(pos::Column::CreatedAt, order),
        };
    }
    let rows = q
        .order_by(pos::Column::Id, Order::Asc)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    let names = profiles::dealer_names(db, rows.iter().map(|r| r.dealer_id)).await?;
    let items = rows
        .into_iter()
        .map(|m| {
            let n = names.get(&m.dealer_id).cloned().unwrap_or_default();
            to_wire(m, n)
        })
        .collect::<Result<_>>()?;
    Ok(Page::new(items, total))
}

/// Changes a point of sale. A new address without coordinates takes the geocoder's answer.
pub async fn update(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: UpdatePointOfSale,
    geocoded: Option<GeocodeHit>,
    if_match: Option<i32>,
) -> Result<PointOfSale> {
    let txn = db.begin().await?;
    let m = load_visible(&txn, ctx.actor, id, Action::Edit).await?;
    if if_match.is_some_and(|v| v != m.version) {
        return Err(ServiceError::StaleVersion);
    }
    let mut am = pos::ActiveModel {
        ..Default::default()
    };
    let name = input
        .name
        .as_deref()
        .map(str::trim)
        .unwrap_or(&m.name)
        .to_string();
    let address = input
        .address
        .as_deref()
        .map(str::trim)
        .unwrap_or(&m.address)
        .to_string();
    am.name = Set(name.clone());
    am.address = Set(address.clone());
    am.search_text = Set(search_text(&name, &address));
    if let Some(r) = &input.region_code {
        am.region_code = Set(Some(r.clone()));
    }
    match (input.location, geocoded) {
        (Some(p), _) => {
            am.lat = Set(Some(p.lat));
            am.lon = Set(Some(p.lon));
            am.geocoded = Set(false);
        }
        (None, Some(hit)) => {
            am.lat = Set(Some(hit.location.lat));
            am.lon = Set(Some(hit.location.lon));
            am.geocoded = Set(true);
            if input.region_code.is_none() && hit.region_code.is_some() {
                am.region_code = Set(hit.region_code);
            }
        }
        (None, None) => {}
    }
    if let Some(h) = &input.opening_hours {
        am.opening_hours = Set(to_json(h));
    }
    if let Some(a) = &input.attachments {
        am.attachments = Set(to_json(a));
    }
    am.version = Set(m.version + 1);
    am.updated_at = Set(Utc::now());
    let res = pos::Entity::update_many()
        .set(am)
        .filter(pos::Column::Id.eq(id))
        .filter(pos::Column::Version.eq(m.version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ServiceError::StaleVersion);
    }
    let after = pos::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "update",
            entity: Resource::PointsOfSale,
            entity_id: id,
            org_id: Some(after.org_id),
            responsible_id: None,
            before: Some(snapshot(&m)),
            after: Some(snapshot(&after)),
        },
    )
    .await?;
    let n = dealer_name(&txn, after.dealer_id).await?;
    txn.commit().await?;
    to_wire(after, n)
}
