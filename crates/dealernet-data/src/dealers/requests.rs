//! Installation and repair requests: registration by the contact centre with automatic
//! assignment in the same transaction, the dealer's answers (accept, reject, complete), the
//! operator's override, and the expiry of unanswered offers.
//!
//! Capacity is a counter on the dealer row (`open_jobs`, never above `capacity`: a CHECK in the
//! schema) taken with a conditional update, so two requests arriving together can never both
//! take a dealer's last slot: on PostgreSQL the second update waits for the first's row lock and
//! re-checks; SQLite serialises the transactions. A state change of a request is a conditional
//! `UPDATE … WHERE version = ? AND status = ?`, so a rejection, an acceptance and an expiry of
//! the same offer cannot both win; expired offers are selected `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, so each is reassigned exactly once with any number of instances.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use dealernet_domain::access::{Action, EffectiveAccess, RecordScope, Resource};
use dealernet_domain::dealers::ServiceType;
use dealernet_domain::dealers::assignment::{self, Decision, JobSite, Weights};
use dealernet_domain::dealers::geo::GeoPoint;
use dealernet_domain::dealers::requests::{
    Assignment, AssignmentTrigger, CompleteJob, Completion, CreateInstallationRequest, Customer,
    InstallationRequest, OverrideAssignment, RejectJob, Rejection, RejectionReason, RequestStatus,
};
use dealernet_domain::list::{Direction, Page, Paging, Sort};
use dealernet_domain::notifications::EventKind;
use dealernet_domain::org::OrgPath;
use dealernet_domain::policy::{Actor, Denied, RecordRef};
use sea_orm::sea_query::{Expr, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbBackend, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::entity::{dealer, decision, rejection, request};
use super::{AssignmentConfig, parse_json, profiles, to_json};
use crate::audit::{self, Change};
use crate::context::{Ctx, RequestMeta};
use crate::entities::{org_node, user};
use crate::error::{Result, ServiceError};
use crate::notifications::{Event, publish};
use crate::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestSort {
    CreatedAt,
    Status,
    OfferExpiresAt,
}

pub const SORT_FIELDS: &[(&str, RequestSort)] = &[
    ("created_at", RequestSort::CreatedAt),
    ("status", RequestSort::Status),
    ("offer_expires_at", RequestSort::OfferExpiresAt),
];

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// Searches the address and the customer's name.
    pub q: Option<String>,
    pub status: Option<RequestStatus>,
    pub dealer_id: Option<i64>,
    pub service: Option<ServiceType>,
}

fn bad(what: &str, id: i64, v: &str) -> ServiceError {
    ServiceError::Internal(format!("request {id}: bad {what} `{v}`"))
}

fn status_of(m: &request::Model) -> Result<RequestStatus> {
    RequestStatus::parse(&m.status).ok_or_else(|| bad("status", m.id, &m.status))
}

fn site_of(m: &request::Model) -> Result<JobSite> {
    Ok(JobSite {
        location: GeoPoint::new(m.lat, m.lon),
        region_code: m.region_code.clone(),
        service: ServiceType::parse(&m.service).ok_or_else(|| bad("service", m.id, &m.service))?,
    })
}

fn snapshot(m: &request::Model) -> serde_json::Value {
    serde_json::json!({
        "status": m.status, "dealer_id": m.dealer_id, "address": m.address,
        "lat": m.lat, "lon": m.lon, "region_code": m.region_code, "service": m.service,
        "customer_kind": m.customer_kind, "client_id": m.client_id,
        "customer_name": m.customer_name, "offer_expires_at": m.offer_expires_at,
        "accepted_by": m.accepted_by, "completed_at": m.completed_at,
    })
}

/// Whether the actor reads every request (the contact centre, operators): only they see the
/// assignment's explanation and the other dealers' rejections.
fn sees_everything(actor: &Actor) -> bool {
    actor
        .access
        .scope(Resource::InstallationRequests, Action::View)
        == Some(RecordScope::All)
}

fn record<'a>(path: &'a OrgPath, m: &request::Model) -> RecordRef<'a> {
    RecordRef {
        org_path: path,
        responsible_id: m.accepted_by,
    }
}

async fn load_visible<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<(request::Model, OrgPath)> {
    let m = request::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let path = profiles::path_of(conn, m.org_id).await?;
    actor.authorize(Resource::InstallationRequests, action, record(&path, &m))?;
    Ok((m, path))
}

fn assignment_of(m: decision::Model, names: &HashMap<i64, String>) -> Result<Assignment> {
    Ok(Assignment {
        id: m.id,
        request_id: m.request_id,
        trigger: AssignmentTrigger::parse(&m.trigger_kind)
            .ok_or_else(|| bad("trigger", m.request_id, &m.trigger_kind))?,
        dealer_id: m.dealer_id,
        dealer_name: m.dealer_id.and_then(|d| names.get(&d).cloned()),
        decision: parse_json("assignment decision", m.id, &m.explanation)?,
        others_outside_territory: u64::try_from(m.others_outside).unwrap_or(0),
        override_reason: m.override_reason,
        decided_by: m.decided_by,
        decided_at: m.decided_at,
    })
}

fn base_wire(m: request::Model, dealer_name: Option<String>) -> Result<InstallationRequest> {
    let customer = match m.customer_kind.as_str() {
        "client" => Customer::Client {
            client_id: m.client_id.unwrap_or_default(),
        },
        _ => Customer::Private {
            name: m.customer_name.clone().unwrap_or_default(),
            phone: m.customer_phone.clone(),
        },
    };
    Ok(InstallationRequest {
        id: m.id,
        customer,
        location: GeoPoint::new(m.lat, m.lon),
        service: ServiceType::parse(&m.service).ok_or_else(|| bad("service", m.id, &m.service))?,
        equipment: parse_json("request equipment", m.id, &m.equipment)?,
        status: status_of(&m)?,
        completion: match &m.completion {
            Some(c) => Some(parse_json("request completion", m.id, c)?),
            None => None,
        },
        rejections: vec![],
        assignment: None,
        dealer_name,
        address: m.address,
        region_code: m.region_code,
        window_from: m.window_from,
        window_to: m.window_to,
        notes: m.notes,
        dealer_id: m.dealer_id,
        offered_at: m.offered_at,
        offer_expires_at: m.offer_expires_at,
        accepted_at: m.accepted_at,
        completed_at: m.completed_at,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// The request as `actor` may read it: with the latest explanation and every rejection for
/// back-office readers; a dealer sees its own rejection only.
async fn full_wire<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    m: request::Model,
) -> Result<InstallationRequest> {
    let everything = sees_everything(actor);
    let rejections = rejection::Entity::find()
        .filter(rejection::Column::RequestId.eq(m.id))
        .order_by_asc(rejection::Column::Id)
        .all(conn)
        .await?;
    let latest = if everything {
        decision::Entity::find()
            .filter(decision::Column::RequestId.eq(m.id))
            .order_by_desc(decision::Column::Id)
            .one(conn)
            .await?
    } else {
        None
    };
    let mut ids: Vec<i64> = rejections.iter().map(|r| r.dealer_id).collect();
    ids.extend(m.dealer_id);
    ids.extend(latest.as_ref().and_then(|d| d.dealer_id));
    let names = profiles::dealer_names(conn, ids).await?;
    let current = m.dealer_id;
    let mut wire = base_wire(m, current.and_then(|d| names.get(&d).cloned()))?;
    wire.rejections = rejections
        .into_iter()
        .filter(|r| everything || Some(r.dealer_id) == current)
        .map(|r| {
            Ok(Rejection {
                dealer_id: r.dealer_id,
                dealer_name: names.get(&r.dealer_id).cloned().unwrap_or_default(),
                reason: RejectionReason::parse(&r.reason)
                    .ok_or_else(|| bad("rejection", r.request_id, &r.reason))?,
                note: r.note,
                at: r.at,
            })
        })
        .collect::<Result<_>>()?;
    wire.assignment = match latest {
        Some(d) => Some(assignment_of(d, &names)?),
        None => None,
    };
    Ok(wire)
}

/// The operator root: where a request nobody could take is kept.
async fn root_of<C: ConnectionTrait>(conn: &C) -> Result<i64> {
    org_node::Entity::find()
        .filter(org_node::Column::ParentId.is_null())
        .order_by_asc(org_node::Column::Id)
        .one(conn)
        .await?
        .map(|n| n.id)
        .ok_or_else(|| ServiceError::Internal("no operator root".into()))
}

/// Ranks the dealers near `site` (see [`assignment::decide`]) and counts the dealers too far
/// away to be listed; also answers the rows of the dealers ranked.
async fn rank_near<C: ConnectionTrait>(
    conn: &C,
    site: &JobSite,
    rejected: &[i64],
    weights: Weights,
) -> Result<(Decision, Vec<dealer::Model>, u64)> {
    let (near, all) = profiles::candidates_near(conn, site).await?;
    let (cands, models): (Vec<_>, Vec<_>) = near.into_iter().unzip();
    let decision = assignment::decide(site, &cands, rejected, weights);
    let others = all.saturating_sub(cands.len() as u64);
    Ok((decision, models, others))
}

/// The decision the assignment would take for a job at `site` now, without changing anything,
/// and how many dealers are too far away to be listed (the benchmark measures this).
pub async fn rank(
    db: &DatabaseConnection,
    site: &JobSite,
    rejected: &[i64],
    weights: Weights,
) -> Result<(Decision, u64)> {
    let (decision, _, others) = rank_near(db, site, rejected, weights).await?;
    Ok((decision, others))
}

/// What a round decided: the decision, the dealer whose slot it claimed, and how many dealers
/// were too far away to be listed.
struct Choice {
    decision: Decision,
    chosen: Option<dealer::Model>,
    others: u64,
}

/// Ranks the dealers near `site` and claims a slot of the best one that still has one (a
/// dealer whose last slot a concurrent request took is dropped from the decision as full).
async fn choose<C: ConnectionTrait>(
    conn: &C,
    site: &JobSite,
    rejected: &[i64],
    weights: Weights,
) -> Result<Choice> {
    let (mut decision, models, others) = rank_near(conn, site, rejected, weights).await?;
    let mut chosen: Option<dealer::Model> = None;
    while let Some(id) = decision.chosen {
        if profiles::claim_slot(conn, id).await? {
            chosen = models.into_iter().find(|d| d.id == id);
            break;
        }
        decision = decision.without_full(id);
    }
    Ok(Choice {
        decision,
        chosen,
        others,
    })
}

/// When an offer made at `now` runs out.
fn offer_expiry(cfg: &AssignmentConfig, now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(cfg.offer_timeout)
        .unwrap_or_else(|_| chrono::Duration::minutes(30))
}

/// The audit entry of an assignment round that left the request as `after`.
fn assign_change(
    before: serde_json::Value,
    after: &request::Model,
    trigger: AssignmentTrigger,
    decision: &Decision,
) -> Change<'static> {
    Change {
        action: "assign",
        entity: Resource::InstallationRequests,
        entity_id: after.id,
        org_id: Some(after.org_id),
        responsible_id: None,
        before: Some(before),
        after: Some(serde_json::json!({
            "trigger": trigger.as_str(), "dealer_id": after.dealer_id,
            "status": after.status, "candidates": decision.candidates.len(),
            "excluded": decision.excluded.len(),
        })),
    }
}

/// The outcome of one assignment round.
struct Round {
    model: request::Model,
    dealer: Option<dealer::Model>,
}

/// Runs an assignment round for a request that has no dealer (status `unassigned`, version
/// `m.version`): ranks the dealers near the site, takes a slot of the best one that still has
/// one, offers it the job, stores the decision and tells the dealer's staff. (A request being
/// registered is assigned by [`create`] before it is written.)
async fn assign_round<C: ConnectionTrait>(
    conn: &C,
    ctx: Ctx<'_>,
    m: request::Model,
    trigger: AssignmentTrigger,
    cfg: &AssignmentConfig,
    now: DateTime<Utc>,
) -> Result<Round> {
    let site = site_of(&m)?;
    // A request just registered has no rejections yet.
    let rejected: Vec<i64> = if trigger == AssignmentTrigger::Created {
        Vec::new()
    } else {
        rejection::Entity::find()
            .filter(rejection::Column::RequestId.eq(m.id))
            .all(conn)
            .await?
            .into_iter()
            .map(|r| r.dealer_id)
            .collect()
    };
    let Choice {
        decision,
        chosen,
        others,
    } = choose(conn, &site, &rejected, cfg.weights).await?;
    let expires = offer_expiry(cfg, now);
    let root = match &chosen {
        Some(_) => None,
        None => Some(root_of(conn).await?),
    };
    let mut upd = request::Entity::update_many()
        .col_expr(request::Column::Version, Expr::value(m.version + 1))
        .col_expr(request::Column::UpdatedAt, Expr::value(now));
    upd = match &chosen {
        Some(d) => upd
            .col_expr(
                request::Column::Status,
                Expr::value(RequestStatus::Offered.as_str()),
            )
            .col_expr(request::Column::DealerId, Expr::value(d.id))
            .col_expr(request::Column::OrgId, Expr::value(d.org_id))
            .col_expr(request::Column::OfferedAt, Expr::value(now))
            .col_expr(request::Column::OfferExpiresAt, Expr::value(expires))
            .col_expr(
                request::Column::FirstOfferedAt,
                Expr::value(m.first_offered_at.unwrap_or(now)),
            ),
        None => upd
            .col_expr(
                request::Column::Status,
                Expr::value(RequestStatus::Unassigned.as_str()),
            )
            .col_expr(request::Column::DealerId, Expr::value(None::<i64>))
            .col_expr(
                request::Column::OrgId,
                Expr::value(root.unwrap_or(m.org_id)),
            )
            .col_expr(
                request::Column::OfferedAt,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(
                request::Column::OfferExpiresAt,
                Expr::value(None::<DateTime<Utc>>),
            ),
    };
    let after = upd
        .filter(request::Column::Id.eq(m.id))
        .filter(request::Column::Version.eq(m.version))
        .filter(request::Column::Status.eq(RequestStatus::Unassigned.as_str()))
        .exec_with_returning(conn)
        .await?
        .pop()
        .ok_or(ServiceError::StaleVersion)?;
    store_decision(
        conn,
        m.id,
        trigger,
        &decision,
        others,
        None,
        &ctx.actor.name,
        now,
    )
    .await?;
    audit::record(
        conn,
        ctx,
        assign_change(snapshot(&m), &after, trigger, &decision),
    )
    .await?;
    if let Some(d) = &chosen {
        tell_dealer(conn, &after, d, ctx.actor.user_id).await?;
    }
    Ok(Round {
        model: after,
        dealer: chosen,
    })
}

#[allow(clippy::too_many_arguments)]
async fn store_decision<C: ConnectionTrait>(
    conn: &C,
    request_id: i64,
    trigger: AssignmentTrigger,
    decision: &Decision,
    others: u64,
    override_reason: Option<String>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<decision::Model> {
    Ok(decision::ActiveModel {
        request_id: Set(request_id),
        trigger_kind: Set(trigger.as_str().to_string()),
        dealer_id: Set(decision.chosen),
        explanation: Set(to_json(decision)),
        others_outside: Set(i32::try_from(others).unwrap_or(i32::MAX)),
        override_reason: Set(override_reason),
        decided_by: Set(Some(by.to_string())),
        decided_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// Tells the dealer's staff (the users at the dealer's node) about the offer: in the app, live
/// and by e-mail, as each one's preferences say.
async fn tell_dealer<C: ConnectionTrait>(
    conn: &C,
    m: &request::Model,
    d: &dealer::Model,
    actor_id: Option<i64>,
) -> Result<()> {
    let staff: Vec<i64> = user::Entity::find()
        .filter(user::Column::OrgId.eq(d.org_id))
        .limit(50)
        .all(conn)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    if staff.is_empty() {
        return Ok(());
    }
    let path = profiles::path_of(conn, d.org_id).await?;
    let what = if m.service == ServiceType::Repair.as_str() {
        "repair"
    } else {
        "installation"
    };
    publish(
        conn,
        Event {
            kind: EventKind::NewRequest,
            resource: Resource::InstallationRequests,
            record: RecordRef {
                org_path: &path,
                responsible_id: None,
            },
            record_id: m.id,
            title: format!("New {what} job #{}", m.id),
            body: m.address.clone(),
            link: Some(format!("/jobs/{}", m.id)),
            recipients: staff,
            actor_id,
        },
    )
    .await?;
    Ok(())
}

/// Tells whoever registered the request that its status changed.
async fn tell_creator<C: ConnectionTrait>(
    conn: &C,
    m: &request::Model,
    title: String,
    actor_id: Option<i64>,
) -> Result<()> {
    let Some(creator) = m.created_by else {
        return Ok(());
    };
    let path = profiles::path_of(conn, m.org_id).await?;
    publish(
        conn,
        Event {
            kind: EventKind::StatusChanged,
            resource: Resource::InstallationRequests,
            record: RecordRef {
                org_path: &path,
                responsible_id: m.accepted_by,
            },
            record_id: m.id,
            title,
            body: m.address.clone(),
            link: Some(format!("/requests/{}", m.id)),
            recipients: vec![creator],
            actor_id,
        },
    )
    .await?;
    Ok(())
}

/// Registers a request and assigns it at once; answers it with the decision's explanation.
///
/// The dealer is chosen (and its slot claimed) before the request is written, so the request is
/// inserted once, already offered, in the same transaction as the decision, the audit entries
/// and the dealer's notification.
pub async fn create(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: CreateInstallationRequest,
    cfg: &AssignmentConfig,
) -> Result<InstallationRequest> {
    let actor = ctx.actor;
    actor.authorize_create(Resource::InstallationRequests, &actor.org_path)?;
    let now = Utc::now();
    let (kind, client_id, name, phone) = match &input.customer {
        Customer::Client { client_id } => ("client", Some(*client_id), None, None),
        Customer::Private { name, phone } => (
            "private",
            None,
            Some(name.trim().to_string()),
            phone.clone(),
        ),
    };
    let site = JobSite {
        location: input.location,
        region_code: input.region_code.clone(),
        service: input.service,
    };
    let txn = db.begin().await?;
    // A request just registered has no rejections yet.
    let Choice {
        decision,
        chosen,
        others,
    } = choose(&txn, &site, &[], cfg.weights).await?;
    let expires = offer_expiry(cfg, now);
    // Offered to the chosen dealer (and on its node), or waiting at the root for an operator.
    let (status, org_id, offered_at, offer_expires_at) = match &chosen {
        Some(d) => (RequestStatus::Offered, d.org_id, Some(now), Some(expires)),
        None => (RequestStatus::Unassigned, root_of(&txn).await?, None, None),
    };
    let m = request::ActiveModel {
        org_id: Set(org_id),
        customer_kind: Set(kind.into()),
        client_id: Set(client_id),
        customer_name: Set(name),
        customer_phone: Set(phone),
        address: Set(input.address.trim().to_string()),
        lat: Set(input.location.lat),
        lon: Set(input.location.lon),
        region_code: Set(input.region_code.clone()),
        service: Set(input.service.as_str().into()),
        equipment: Set(to_json(&input.equipment)),
        window_from: Set(input.window_from),
        window_to: Set(input.window_to),
        notes: Set(input.notes.clone()),
        status: Set(status.as_str().into()),
        dealer_id: Set(chosen.as_ref().map(|d| d.id)),
        offered_at: Set(offered_at),
        offer_expires_at: Set(offer_expires_at),
        first_offered_at: Set(offered_at),
        accepted_at: Set(None),
        accepted_by: Set(None),
        completed_at: Set(None),
        completion: Set(None),
        created_by: Set(actor.user_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let stored = store_decision(
        &txn,
        m.id,
        AssignmentTrigger::Created,
        &decision,
        others,
        None,
        &actor.name,
        now,
    )
    .await?;
    audit::record_many(
        &txn,
        ctx,
        vec![
            Change {
                action: "create",
                entity: Resource::InstallationRequests,
                entity_id: m.id,
                org_id: Some(m.org_id),
                responsible_id: None,
                before: None,
                after: Some(snapshot(&m)),
            },
            assign_change(
                serde_json::json!({
                    "status": RequestStatus::Unassigned.as_str(), "dealer_id": null,
                }),
                &m,
                AssignmentTrigger::Created,
                &decision,
            ),
        ],
    )
    .await?;
    if let Some(d) = &chosen {
        tell_dealer(&txn, &m, d, actor.user_id).await?;
    }
    txn.commit().await?;
    created_wire(actor, m, stored, decision)
}

/// A request just registered and assigned, as [`full_wire`] would answer it, from what the
/// creation already holds (it has no rejections, and its one decision is still in memory).
fn created_wire(
    actor: &Actor,
    m: request::Model,
    stored: decision::Model,
    decision: Decision,
) -> Result<InstallationRequest> {
    let dealer_name = m.dealer_id.and_then(|id| {
        decision
            .candidates
            .iter()
            .find(|c| c.dealer_id == id)
            .map(|c| c.dealer_name.clone())
    });
    let mut wire = base_wire(m, dealer_name.clone())?;
    if sees_everything(actor) {
        wire.assignment = Some(Assignment {
            id: stored.id,
            request_id: stored.request_id,
            trigger: AssignmentTrigger::Created,
            dealer_id: stored.dealer_id,
            dealer_name,
            decision,
            others_outside_territory: u64::try_from(stored.others_outside).unwrap_or(0),
            override_reason: stored.override_reason,
            decided_by: stored.decided_by,
            decided_at: stored.decided_at,
        });
    }
    Ok(wire)
}

pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<InstallationRequest> {
    let (m, _) = load_visible(db, actor, id, Action::View).await?;
    full_wire(db, actor, m).await
}

/// Every assignment decision of a request, oldest first (back-office readers only).
pub async fn assignments(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> Result<Vec<Assignment>> {
    load_visible(db, actor, id, Action::View).await?;
    if !sees_everything(actor) {
        return Err(Denied::Rule(
            "assignment explanations are for the contact centre and operators".into(),
        )
        .into());
    }
    let rows = decision::Entity::find()
        .filter(decision::Column::RequestId.eq(id))
        .order_by_asc(decision::Column::Id)
        .all(db)
        .await?;
    let names = profiles::dealer_names(db, rows.iter().filter_map(|r| r.dealer_id)).await?;
    rows.into_iter().map(|r| assignment_of(r, &names)).collect()
}

/// The requests the actor may see: a dealer's inbox is this list at its node.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &RequestFilter,
    sort: &Sort<RequestSort>,
    paging: Paging,
) -> Result<Page<InstallationRequest>> {
    actor.require(Resource::InstallationRequests, Action::View)?;
    let visibility = actor.visibility(Resource::InstallationRequests, Action::View);
    let mut q = request::Entity::find().filter(crate::scope::condition(
        &visibility,
        request::Column::OrgId,
        Some(request::Column::AcceptedBy),
    ));
    if let Some(t) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(
            Condition::any()
                .add(text::contains_ci(request::Column::Address, t))
                .add(text::contains_ci(request::Column::CustomerName, t)),
        );
    }
    if let Some(s) = filter.status {
        q = q.filter(request::Column::Status.eq(s.as_str()));
    }
    if let Some(d) = filter.dealer_id {
        q = q.filter(request::Column::DealerId.eq(d));
    }
    if let Some(s) = filter.service {
        q = q.filter(request::Column::Service.eq(s.as_str()));
    }
    let total = q.clone().count(db).await?;
    if sort.keys.is_empty() {
        q = q.order_by(request::Column::CreatedAt, Order::Desc);
    }
    for (key, dir) in &sort.keys {
        let order = if *dir == Direction::Asc {
            Order::Asc
        } else {
            Order::Desc
        };
        let col = match key {
            RequestSort::CreatedAt => request::Column::CreatedAt,
            RequestSort::Status => request::Column::Status,
            RequestSort::OfferExpiresAt => request::Column::OfferExpiresAt,
        };
        q = q.order_by(col, order);
    }
    let rows = q
        .order_by(request::Column::Id, Order::Desc)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    let names = profiles::dealer_names(db, rows.iter().filter_map(|r| r.dealer_id)).await?;
    let items = rows
        .into_iter()
        .map(|m| {
            let name = m.dealer_id.and_then(|d| names.get(&d).cloned());
            base_wire(m, name)
        })
        .collect::<Result<_>>()?;
    Ok(Page::new(items, total))
}

/// Only the staff of the dealer the job is offered to answer for it.
fn require_dealer_staff(actor: &Actor, dealer_path: &OrgPath) -> Result<()> {
    if actor.org_path.is_within(dealer_path) {
        Ok(())
    } else {
        Err(Denied::Rule("only the dealer the job is offered to answers for it".into()).into())
    }
}

fn conflict_status(m: &request::Model, want: &str) -> ServiceError {
    ServiceError::conflict(
        format!("the request is {}; it must be {want}", m.status),
        Some(m.id),
    )
}

/// The dealer accepts an offered job.
pub async fn accept(db: &DatabaseConnection, ctx: Ctx<'_>, id: i64) -> Result<InstallationRequest> {
    let txn = db.begin().await?;
    let (m, path) = load_visible(&txn, ctx.actor, id, Action::Edit).await?;
    require_dealer_staff(ctx.actor, &path)?;
    if m.status != RequestStatus::Offered.as_str() {
        return Err(conflict_status(&m, "offered"));
    }
    let now = Utc::now();
    let res = request::Entity::update_many()
        .col_expr(
            request::Column::Status,
            Expr::value(RequestStatus::Accepted.as_str()),
        )
        .col_expr(request::Column::AcceptedAt, Expr::value(now))
        .col_expr(request::Column::AcceptedBy, Expr::value(ctx.actor.user_id))
        .col_expr(
            request::Column::OfferExpiresAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(request::Column::Version, Expr::value(m.version + 1))
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(id))
        .filter(request::Column::Version.eq(m.version))
        .filter(request::Column::Status.eq(RequestStatus::Offered.as_str()))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ServiceError::conflict(
            "the offer was answered or expired meanwhile",
            Some(id),
        ));
    }
    let after = request::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "accept",
            entity: Resource::InstallationRequests,
            entity_id: id,
            org_id: Some(after.org_id),
            responsible_id: after.accepted_by,
            before: Some(snapshot(&m)),
            after: Some(snapshot(&after)),
        },
    )
    .await?;
    tell_creator(
        &txn,
        &after,
        format!("Request #{id} accepted by the dealer"),
        ctx.actor.user_id,
    )
    .await?;
    let wire = full_wire(&txn, ctx.actor, after).await;
    txn.commit().await?;
    wire
}

/// Takes an offered job away from its dealer (rejected or expired) and assigns it again.
async fn withdraw_and_reassign<C: ConnectionTrait>(
    conn: &C,
    ctx: Ctx<'_>,
    m: request::Model,
    reason: RejectionReason,
    note: String,
    cfg: &AssignmentConfig,
    now: DateTime<Utc>,
) -> Result<Option<Round>> {
    let Some(dealer_id) = m.dealer_id else {
        return Ok(None);
    };
    let res = request::Entity::update_many()
        .col_expr(
            request::Column::Status,
            Expr::value(RequestStatus::Unassigned.as_str()),
        )
        .col_expr(request::Column::DealerId, Expr::value(None::<i64>))
        .col_expr(request::Column::Version, Expr::value(m.version + 1))
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(m.id))
        .filter(request::Column::Version.eq(m.version))
        .filter(request::Column::Status.eq(RequestStatus::Offered.as_str()))
        .exec(conn)
        .await?;
    if res.rows_affected != 1 {
        return Ok(None);
    }
    profiles::release_slot(conn, dealer_id).await?;
    // A dealer given the job again by hand and rejecting it again keeps its first rejection.
    rejection::Entity::insert(rejection::ActiveModel {
        request_id: Set(m.id),
        dealer_id: Set(dealer_id),
        reason: Set(reason.as_str().into()),
        note: Set(note.trim().to_string()),
        rejected_by: Set(ctx.actor.user_id),
        at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([rejection::Column::RequestId, rejection::Column::DealerId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    audit::record(
        conn,
        ctx,
        Change {
            action: if reason == RejectionReason::Timeout {
                "offer_expired"
            } else {
                "reject"
            },
            entity: Resource::InstallationRequests,
            entity_id: m.id,
            org_id: Some(m.org_id),
            responsible_id: None,
            before: Some(snapshot(&m)),
            after: Some(serde_json::json!({
                "status": RequestStatus::Unassigned.as_str(), "rejected_by_dealer": dealer_id,
                "reason": reason.as_str(), "note": note.trim(),
            })),
        },
    )
    .await?;
    let claimed = request::Entity::find_by_id(m.id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let trigger = if reason == RejectionReason::Timeout {
        AssignmentTrigger::Timeout
    } else {
        AssignmentTrigger::Rejected
    };
    let round = assign_round(conn, ctx, claimed, trigger, cfg, now).await?;
    if round.dealer.is_none() {
        tell_creator(
            conn,
            &round.model,
            format!("Request #{} needs a dealer: nobody else can take it", m.id),
            ctx.actor.user_id,
        )
        .await?;
    }
    Ok(Some(round))
}

/// The dealer turns an offered job down; it goes to the next best dealer at once. The dealer
/// no longer sees the request afterwards.
pub async fn reject(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: RejectJob,
    cfg: &AssignmentConfig,
) -> Result<()> {
    let txn = db.begin().await?;
    let (m, path) = load_visible(&txn, ctx.actor, id, Action::Edit).await?;
    require_dealer_staff(ctx.actor, &path)?;
    if m.status != RequestStatus::Offered.as_str() {
        return Err(conflict_status(&m, "offered"));
    }
    let now = Utc::now();
    let round = withdraw_and_reassign(&txn, ctx, m, input.reason, input.note, cfg, now).await?;
    if round.is_none() {
        return Err(ServiceError::conflict(
            "the offer was answered or expired meanwhile",
            Some(id),
        ));
    }
    txn.commit().await?;
    Ok(())
}

/// The dealer records the job as done (installation with serials, or repair, with photos); the
/// request closes and the dealer's slot frees up.
pub async fn complete(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: CompleteJob,
) -> Result<InstallationRequest> {
    let txn = db.begin().await?;
    let (m, path) = load_visible(&txn, ctx.actor, id, Action::Edit).await?;
    require_dealer_staff(ctx.actor, &path)?;
    if m.status != RequestStatus::Accepted.as_str() {
        return Err(conflict_status(&m, "accepted"));
    }
    let now = Utc::now();
    let completion = Completion {
        kind: input.kind,
        serials: input.serials,
        photos: input.photos,
        notes: input.notes,
        completed_by: Some(ctx.actor.name.clone()),
    };
    let res = request::Entity::update_many()
        .col_expr(
            request::Column::Status,
            Expr::value(RequestStatus::Completed.as_str()),
        )
        .col_expr(request::Column::CompletedAt, Expr::value(now))
        .col_expr(
            request::Column::Completion,
            Expr::value(to_json(&completion)),
        )
        .col_expr(request::Column::Version, Expr::value(m.version + 1))
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(id))
        .filter(request::Column::Version.eq(m.version))
        .filter(request::Column::Status.eq(RequestStatus::Accepted.as_str()))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ServiceError::StaleVersion);
    }
    if let Some(d) = m.dealer_id {
        profiles::release_slot(&txn, d).await?;
    }
    let after = request::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "complete",
            entity: Resource::InstallationRequests,
            entity_id: id,
            org_id: Some(after.org_id),
            responsible_id: after.accepted_by,
            before: Some(snapshot(&m)),
            after: Some(serde_json::json!({
                "status": after.status, "completed_at": after.completed_at,
                "completion": completion,
            })),
        },
    )
    .await?;
    tell_creator(
        &txn,
        &after,
        format!("Request #{id} completed"),
        ctx.actor.user_id,
    )
    .await?;
    let wire = full_wire(&txn, ctx.actor, after).await;
    txn.commit().await?;
    wire
}

/// An operator gives the request to a dealer by hand (audited, with the reason). The dealer
/// must be active, offer the service and have a free slot; its territory is not required.
pub async fn override_assignment(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: OverrideAssignment,
    cfg: &AssignmentConfig,
) -> Result<InstallationRequest> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let (m, _) = load_visible(&txn, actor, id, Action::Edit).await?;
    if actor.require(Resource::InstallationRequests, Action::Edit)? != RecordScope::All {
        return Err(Denied::Rule(
            "only the contact centre and operators assign requests by hand".into(),
        )
        .into());
    }
    let status = status_of(&m)?;
    if status == RequestStatus::Completed {
        return Err(conflict_status(&m, "open"));
    }
    let not_found = || ServiceError::field("dealer_id", "not_found", "no such dealer");
    let target = profiles::find(&txn, input.dealer_id)
        .await?
        .ok_or_else(not_found)?;
    let site = site_of(&m)?;
    if !profiles::services_of(&target).contains(&site.service) {
        return Err(ServiceError::field(
            "dealer_id",
            "no_such_service",
            format!("the dealer does not offer {}", site.service.as_str()),
        ));
    }
    if m.dealer_id == Some(target.id) {
        return Err(ServiceError::conflict(
            "the request is already with this dealer",
            Some(id),
        ));
    }
    if !profiles::claim_slot(&txn, target.id).await? {
        return Err(ServiceError::conflict(
            "the dealer is suspended or has no free capacity",
            Some(target.id),
        ));
    }
    if let Some(old) = m.dealer_id.filter(|_| status.is_open()) {
        profiles::release_slot(&txn, old).await?;
    }
    let now = Utc::now();
    let expires = offer_expiry(cfg, now);
    let res = request::Entity::update_many()
        .col_expr(
            request::Column::Status,
            Expr::value(RequestStatus::Offered.as_str()),
        )
        .col_expr(request::Column::DealerId, Expr::value(target.id))
        .col_expr(request::Column::OrgId, Expr::value(target.org_id))
        .col_expr(request::Column::OfferedAt, Expr::value(now))
        .col_expr(request::Column::OfferExpiresAt, Expr::value(expires))
        .col_expr(
            request::Column::FirstOfferedAt,
            Expr::value(m.first_offered_at.unwrap_or(now)),
        )
        .col_expr(
            request::Column::AcceptedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(request::Column::AcceptedBy, Expr::value(None::<i64>))
        .col_expr(request::Column::Version, Expr::value(m.version + 1))
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(id))
        .filter(request::Column::Version.eq(m.version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ServiceError::StaleVersion);
    }
    // The explanation of an override is the ranking as it stands, with the operator's choice.
    let rejected: Vec<i64> = rejection::Entity::find()
        .filter(rejection::Column::RequestId.eq(id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|r| r.dealer_id)
        .collect();
    let (mut decision, _, others) = rank_near(&txn, &site, &rejected, cfg.weights).await?;
    decision.chosen = Some(target.id);
    let reason = input.reason.trim().to_string();
    store_decision(
        &txn,
        id,
        AssignmentTrigger::Override,
        &decision,
        others,
        Some(reason.clone()),
        &actor.name,
        now,
    )
    .await?;
    let after = request::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "override",
            entity: Resource::InstallationRequests,
            entity_id: id,
            org_id: Some(after.org_id),
            responsible_id: None,
            before: Some(snapshot(&m)),
            after: Some(serde_json::json!({
                "status": after.status, "dealer_id": after.dealer_id, "reason": reason,
            })),
        },
    )
    .await?;
    tell_dealer(&txn, &after, &target, actor.user_id).await?;
    let wire = full_wire(&txn, actor, after).await;
    txn.commit().await?;
    wire
}

/// The system, as the audit trail names it when an offer expires.
fn system_actor() -> Actor {
    Actor {
        user_id: None,
        api_key_id: None,
        name: "assignment timer".into(),
        org_id: 0,
        org_path: OrgPath::root(0),
        access_level: 0,
        access: EffectiveAccess::default(),
    }
}

/// Takes up to `batch` offers that expired by `now` from their dealers and assigns each again
/// (next best, the expired dealer excluded), in one transaction; answers the requests moved.
/// Safe to run from any number of instances at once: each expiry is handled exactly once.
pub async fn expire_offers(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    batch: u64,
    cfg: &AssignmentConfig,
) -> Result<Vec<i64>> {
    let txn = db.begin().await?;
    let mut q = request::Entity::find()
        .filter(request::Column::Status.eq(RequestStatus::Offered.as_str()))
        .filter(request::Column::OfferExpiresAt.lte(now))
        .order_by_asc(request::Column::OfferExpiresAt)
        .order_by_asc(request::Column::Id)
        .limit(batch);
    if txn.get_database_backend() == DbBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let due = q.all(&txn).await?;
    let system = system_actor();
    let meta = RequestMeta::default();
    let ctx = Ctx {
        actor: &system,
        meta: &meta,
    };
    let mut moved = Vec::with_capacity(due.len());
    for m in due {
        let id = m.id;
        let round = withdraw_and_reassign(
            &txn,
            ctx,
            m,
            RejectionReason::Timeout,
            String::new(),
            cfg,
            now,
        )
        .await?;
        if round.is_some() {
            moved.push(id);
        }
    }
    txn.commit().await?;
    Ok(moved)
}
