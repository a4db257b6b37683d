//! Reporting figures of the assignment: time to assignment and to acceptance, rejections by
//! reason, completion time per dealer and per region — over the requests the actor may see.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::dealers::requests::{AssignmentMetrics, DurationStats};
use dealernet_domain::policy::Actor;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use super::entity::{rejection, request};
use super::profiles;
use crate::error::Result;
use crate::scope;

/// At most this many requests are read for one report.
const MAX_ROWS: u64 = 100_000;

fn secs(from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> Option<f64> {
    to.map(|t| (t - from).num_milliseconds() as f64 / 1000.0)
}

/// The figures for requests created in `[from, to)`.
pub async fn assignment_metrics(
    db: &DatabaseConnection,
    actor: &Actor,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<AssignmentMetrics> {
    actor.require(Resource::InstallationRequests, Action::View)?;
    let visibility = actor.visibility(Resource::InstallationRequests, Action::View);
    let mut q = request::Entity::find().filter(scope::condition(
        &visibility,
        request::Column::OrgId,
        Some(request::Column::AcceptedBy),
    ));
    if let Some(f) = from {
        q = q.filter(request::Column::CreatedAt.gte(f));
    }
    if let Some(t) = to {
        q = q.filter(request::Column::CreatedAt.lt(t));
    }
    let rows = q.limit(MAX_ROWS).all(db).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    for chunk in ids.chunks(5000) {
        let rejections = rejection::Entity::find()
            .filter(rejection::Column::RequestId.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        for r in rejections {
            *by_reason.entry(r.reason).or_default() += 1;
        }
    }
    let names = profiles::dealer_names(db, rows.iter().filter_map(|r| r.dealer_id)).await?;
    let mut to_assign = Vec::new();
    let mut to_accept = Vec::new();
    let mut by_dealer: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut by_region: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in &rows {
        to_assign.extend(secs(r.created_at, r.first_offered_at));
        to_accept.extend(secs(r.created_at, r.accepted_at));
        if let (Some(accepted), Some(done)) = (r.accepted_at, r.completed_at) {
            let s = (done - accepted).num_milliseconds() as f64 / 1000.0;
            let dealer = r
                .dealer_id
                .and_then(|d| names.get(&d).cloned())
                .unwrap_or_else(|| "unknown".into());
            by_dealer.entry(dealer).or_default().push(s);
            let region = r.region_code.clone().unwrap_or_else(|| "none".into());
            by_region.entry(region).or_default().push(s);
        }
    }
    Ok(AssignmentMetrics {
        requests: rows.len() as u64,
        time_to_assignment: DurationStats::of(to_assign),
        time_to_acceptance: DurationStats::of(to_accept),
        rejections_by_reason: by_reason,
        completion_by_dealer: by_dealer
            .into_iter()
            .map(|(k, v)| (k, DurationStats::of(v)))
            .collect(),
        completion_by_region: by_region
            .into_iter()
            .map(|(k, v)| (k, DurationStats::of(v)))
            .collect(),
    })
}
