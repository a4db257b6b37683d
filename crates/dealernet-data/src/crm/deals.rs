//! Requests (deals): numbered, per client, with equipment line items, a status that changes only
//! with a comment, five timestamped delivery stages, finance fields and a responsible manager.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use dealernet_domain::access::{Action, FieldMode, Resource};
use dealernet_domain::crm::{
    ChangeDelivery, ChangeStatus, CreateDeal, Deal, DealEvent, DealEventKind, DealStatus,
    DeliveryStage, ItemLevel, LineItem, UpdateDeal, format_money, parse_money,
};
use dealernet_domain::list::{Page, Paging, Sort};
use dealernet_domain::notifications::EventKind;
use dealernet_domain::org::OrgPath;
use dealernet_domain::policy::{Actor, RecordRef};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Select, TransactionTrait,
};

use super::entity::{client, deal, deal_event, deal_item};
use super::{
    SearchIndex, check_manager, clean, search_like, search_text, searched, user_names, visible,
};
use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::error::{Result, ServiceError};
use crate::notifications::{self, Event};
use crate::page::{self, KeyKind, SortKey};
use crate::{orgs, redact, scope, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DealSort {
    Date,
    Number,
    Status,
    ClientName,
    ContractPrice,
    CreatedAt,
    UpdatedAt,
}

pub const SORT_FIELDS: &[(&str, DealSort)] = &[
    ("date", DealSort::Date),
    ("number", DealSort::Number),
    ("status", DealSort::Status),
    ("client_name", DealSort::ClientName),
    ("contract_price", DealSort::ContractPrice),
    ("created_at", DealSort::CreatedAt),
    ("updated_at", DealSort::UpdatedAt),
];

#[derive(Debug, Clone, Default)]
pub struct DealFilter {
    /// Searches number, client, customer and line items.
    pub q: Option<String>,
    pub client_id: Option<i64>,
    pub status: Vec<DealStatus>,
    pub delivery_stage: Option<DeliveryStage>,
    pub manager_id: Option<i64>,
    /// Requests of this node and every node below it ("my region").
    pub org_id: Option<i64>,
    pub number: Option<String>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
    pub equipment_type: Option<String>,
}

fn hidden(actor: &Actor, field: &str) -> bool {
    actor.access.field_mode(Resource::Deals, field) == Some(FieldMode::Hidden)
}

fn snapshot(m: &deal::Model, items: &[LineItem]) -> serde_json::Value {
    serde_json::json!({
        "number": m.number, "client_id": m.client_id, "date": m.deal_date,
        "customer": m.customer, "status": m.status, "delivery_stage": m.delivery_stage,
        "payment_terms": m.payment_terms, "contract_no": m.contract_no,
        "invoice_no": m.invoice_no,
        "contract_price": m.contract_price_minor.map(format_money), "currency": m.currency,
        "finance_comment": m.finance_comment, "org_id": m.org_id, "manager_id": m.manager_id,
        "items": items,
    })
}

fn item_wire(m: deal_item::Model) -> LineItem {
    LineItem {
        equipment_type: m.equipment_type,
        name: m.name,
        sub_name: m.sub_name,
        capacity: m.capacity,
        quantity: m.quantity,
    }
}

fn to_wire(
    actor: &Actor,
    m: deal::Model,
    items: Vec<LineItem>,
    manager_name: Option<String>,
) -> Result<Deal> {
    let bad = |what: &str, v: &str| ServiceError::Internal(format!("request {what} `{v}`"));
    let d = Deal {
        id: m.id,
        number: m.number,
        client_id: m.client_id,
        client_name: m.client_name,
        date: NaiveDate::parse_from_str(&m.deal_date, "%Y-%m-%d")
            .map_err(|_| bad("date", &m.deal_date))?,
        customer: m.customer,
        items,
        status: m.status.parse().map_err(|_| bad("status", &m.status))?,
        delivery_stage: match m.delivery_stage {
            Some(s) => Some(s.parse().map_err(|_| bad("delivery stage", &s))?),
            None => None,
        },
        payment_terms: m.payment_terms,
        contract_no: m.contract_no,
        invoice_no: m.invoice_no,
        contract_price: m.contract_price_minor.map(format_money),
        currency: m.currency,
        finance_comment: m.finance_comment,
        org_id: m.org_id,
        manager_id: m.manager_id,
        manager_name,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    };
    Ok(redact::redacted(actor, Resource::Deals, d))
}

async fn items_of<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<LineItem>>> {
    let mut out: HashMap<i64, Vec<LineItem>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows = deal_item::Entity::find()
        .filter(deal_item::Column::DealId.is_in(ids.to_vec()))
        .order_by_asc(deal_item::Column::DealId)
        .order_by_asc(deal_item::Column::Position)
        .all(conn)
        .await?;
    for r in rows {
        out.entry(r.deal_id).or_default().push(item_wire(r));
    }
    Ok(out)
}

async fn wire_many<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    rows: Vec<deal::Model>,
) -> Result<Vec<Deal>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut items = items_of(conn, &ids).await?;
    let managers = user_names(conn, rows.iter().filter_map(|r| r.manager_id)).await?;
    rows.into_iter()
        .map(|m| {
            let it = items.remove(&m.id).unwrap_or_default();
            let manager = m.manager_id.and_then(|id| managers.get(&id).cloned());
            to_wire(actor, m, it, manager)
        })
        .collect()
}

fn deal_search_text(m: &deal::Model, items: &[LineItem]) -> String {
    let mut parts: Vec<&str> = vec![&m.number, &m.client_name, &m.customer];
    if let Some(c) = &m.contract_no {
        parts.push(c);
    }
    if let Some(i) = &m.invoice_no {
        parts.push(i);
    }
    for it in items {
        parts.extend([
            it.equipment_type.as_str(),
            it.name.as_str(),
            it.sub_name.as_str(),
            it.capacity.as_str(),
        ]);
    }
    search_text(parts)
}

async fn scoped_query<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    filter: &DealFilter,
    action: Action,
) -> Result<Option<Select<deal::Entity>>> {
    actor.require(Resource::Deals, action)?;
    let visibility = actor.visibility(Resource::Deals, action);
    let searched = searched(filter.q.as_deref());
    let mut q = deal::Entity::find().filter(scope::record_condition(
        conn.get_database_backend(),
        searched,
        &visibility,
        deal::Column::OrgId,
        Some(deal::Column::ManagerId),
    ));
    if let Some(t) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if hidden(actor, "contract_no") || hidden(actor, "invoice_no") {
            q = q.filter(
                sea_orm::Condition::any()
                    .add(text::contains_ci(deal::Column::Number, t))
                    .add(text::contains_ci(deal::Column::ClientName, t))
                    .add(text::contains_ci(deal::Column::Customer, t)),
            );
        } else {
            q = q.filter(search_like(
                deal::Column::SearchText,
                t,
                SearchIndex::for_scope(&visibility),
            ));
        }
    }
    if let Some(c) = filter.client_id {
        q = q.filter(deal::Column::ClientId.eq(c));
    }
    if !filter.status.is_empty() {
        q = q.filter(
            deal::Column::Status
                .is_in(filter.status.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        );
    }
    if let Some(s) = filter.delivery_stage {
        q = q.filter(deal::Column::DeliveryStage.eq(s.as_str()));
    }
    if let Some(m) = filter.manager_id {
        q = q.filter(deal::Column::ManagerId.eq(m));
    }
    if let Some(n) = filter
        .number
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        q = q.filter(text::contains_ci(deal::Column::Number, n));
    }
    if let Some(d) = filter.date_from {
        q = q.filter(deal::Column::DealDate.gte(d.format("%Y-%m-%d").to_string()));
    }
    if let Some(d) = filter.date_to {
        q = q.filter(deal::Column::DealDate.lte(d.format("%Y-%m-%d").to_string()));
    }
    if let Some(t) = filter
        .equipment_type
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        q = q.filter(
            deal::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(deal_item::Column::DealId)
                    .from(deal_item::Entity)
                    .and_where(deal_item::Column::EquipmentType.eq(t))
                    .to_owned(),
            ),
        );
    }
    if let Some(org_id) = filter.org_id {
        let Some(path) = orgs::path(conn, org_id).await? else {
            return Ok(None);
        };
        q = q.filter(deal::Column::OrgId.in_subquery(scope::subtree_ids(&path)));
    }
    Ok(Some(q))
}

/// The `ORDER BY` keys of a request list (the id last, as the tie-breaker).
fn sort_keys(actor: &Actor, sort: &Sort<DealSort>) -> Result<Vec<SortKey<deal::Column>>> {
    let mut keys = Vec::with_capacity(sort.keys.len() + 1);
    for (key, dir) in &sort.keys {
        let (col, kind) = match key {
            DealSort::Date => (deal::Column::DealDate, KeyKind::Text),
            DealSort::Number => (deal::Column::Number, KeyKind::Text),
            DealSort::Status => (deal::Column::Status, KeyKind::Text),
            DealSort::ClientName => (deal::Column::ClientName, KeyKind::Text),
            DealSort::ContractPrice => {
                if hidden(actor, "contract_price") {
                    return Err(ServiceError::field(
                        "sort",
                        "hidden",
                        "you may not sort by a field hidden from you",
                    ));
                }
                (deal::Column::ContractPriceMinor, KeyKind::Number)
            }
            DealSort::CreatedAt => (deal::Column::CreatedAt, KeyKind::Other),
            DealSort::UpdatedAt => (deal::Column::UpdatedAt, KeyKind::Other),
        };
        keys.push(SortKey::new(col, page::order(*dir), kind));
    }
    if sort.keys.is_empty() {
        keys.push(SortKey::new(
            deal::Column::DealDate,
            Order::Desc,
            KeyKind::Text,
        ));
        keys.push(SortKey::new(deal::Column::Id, Order::Desc, KeyKind::Number));
    } else {
        keys.push(SortKey::new(deal::Column::Id, Order::Asc, KeyKind::Number));
    }
    Ok(keys)
}

fn ordered(
    actor: &Actor,
    mut q: Select<deal::Entity>,
    sort: &Sort<DealSort>,
) -> Result<Select<deal::Entity>> {
    for k in sort_keys(actor, sort)? {
        q = q.order_by(k.col, k.order);
    }
    Ok(q)
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &DealFilter,
    sort: &Sort<DealSort>,
    paging: Paging,
) -> Result<Page<Deal>> {
    let Some(q) = scoped_query(db, actor, filter, Action::View).await? else {
        return Ok(Page::empty());
    };
    let keys = sort_keys(actor, sort)?;
    let total = page::count(db, q.clone(), searched(filter.q.as_deref()), paging).await?;
    let rows = page::rows(db, q, &keys, deal::Column::Id, paging, total).await?;
    Ok(Page {
        items: wire_many(db, actor, rows).await?,
        total: total.n,
        total_capped: total.capped,
    })
}

/// Every request the actor may export that matches, up to `max`.
pub async fn export(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &DealFilter,
    sort: &Sort<DealSort>,
    max: u64,
) -> Result<Vec<Deal>> {
    actor.require(Resource::Deals, Action::View)?;
    let Some(q) = scoped_query(db, actor, filter, Action::Export).await? else {
        return Ok(vec![]);
    };
    let rows = ordered(actor, q, sort)?.limit(max).all(db).await?;
    wire_many(db, actor, rows).await
}

pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<Deal> {
    visible(db, actor, Resource::Deals, id, Action::View).await?;
    let m = deal::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    wire_many(db, actor, vec![m])
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)
}

async fn replace_items<C: ConnectionTrait>(
    conn: &C,
    deal_id: i64,
    items: &[LineItem],
) -> Result<()> {
    deal_item::Entity::delete_many()
        .filter(deal_item::Column::DealId.eq(deal_id))
        .exec(conn)
        .await?;
    for (i, it) in items.iter().enumerate() {
        deal_item::ActiveModel {
            deal_id: Set(deal_id),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            equipment_type: Set(it.equipment_type.trim().to_string()),
            name: Set(it.name.trim().to_string()),
            sub_name: Set(it.sub_name.trim().to_string()),
            capacity: Set(it.capacity.trim().to_string()),
            quantity: Set(it.quantity),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

fn trimmed(items: &[LineItem]) -> Vec<LineItem> {
    items
        .iter()
        .map(|it| LineItem {
            equipment_type: it.equipment_type.trim().to_string(),
            name: it.name.trim().to_string(),
            sub_name: it.sub_name.trim().to_string(),
            capacity: it.capacity.trim().to_string(),
            quantity: it.quantity,
        })
        .collect()
}

fn link(id: i64) -> String {
    format!("/crm/requests/{id}")
}

async fn publish<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    kind: EventKind,
    m: &deal::Model,
    path: &OrgPath,
    title: String,
    body: String,
) -> Result<()> {
    notifications::publish(
        conn,
        Event {
            kind,
            resource: Resource::Deals,
            record: RecordRef {
                org_path: path,
                responsible_id: m.manager_id,
            },
            record_id: m.id,
            title,
            body,
            link: Some(link(m.id)),
            recipients: vec![],
            actor_id: actor.user_id,
        },
    )
    .await?;
    Ok(())
}

pub async fn create(db: &DatabaseConnection, ctx: Ctx<'_>, input: CreateDeal) -> Result<Deal> {
    let actor = ctx.actor;
    actor.require(Resource::Deals, Action::Create)?;
    let finance = [
        ("payment_terms", input.payment_terms.is_some()),
        ("contract_no", input.contract_no.is_some()),
        ("invoice_no", input.invoice_no.is_some()),
        ("contract_price", input.contract_price.is_some()),
        ("currency", input.currency.is_some()),
        ("finance_comment", input.finance_comment.is_some()),
    ];
    actor.check_writable(
        Resource::Deals,
        finance.into_iter().filter(|(_, s)| *s).map(|(f, _)| f),
    )?;
    if input.contract_price.is_some() && input.currency.is_none() {
        return Err(ServiceError::field(
            "currency",
            "required",
            "give the currency of the contract price",
        ));
    }
    let txn = db.begin().await?;
    // The client must be one the actor may see; the request sits at the client's node.
    let client_located = visible(
        &txn,
        actor,
        Resource::Clients,
        input.client_id,
        Action::View,
    )
    .await
    .map_err(|e| match e {
        ServiceError::NotFound | ServiceError::Denied(_) => ServiceError::field(
            "client_id",
            "not_found",
            "no such client, or you may not see it",
        ),
        other => other,
    })?;
    let client = client::Entity::find_by_id(input.client_id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    actor.authorize_create(Resource::Deals, &client_located.org_path)?;
    let manager_id = input.manager_id.or(client.manager_id).or(actor.user_id);
    let probe = RecordRef {
        org_path: &client_located.org_path,
        responsible_id: manager_id,
    };
    if actor
        .authorize(Resource::Deals, Action::View, probe)
        .is_err()
    {
        return Err(ServiceError::field(
            "manager_id",
            "out_of_scope",
            "you would not see this request: make yourself responsible",
        ));
    }
    if let Some(m) = manager_id
        && Some(m) != actor.user_id
    {
        check_manager(&txn, Resource::Deals, m, probe).await?;
    }
    let now = Utc::now();
    let date = input.date.unwrap_or_else(|| now.date_naive());
    let status = input.status.unwrap_or(DealStatus::PreparingOffer);
    // A unique stand-in until the id is known (the number is made from it).
    let mut placeholder = format!("tmp-{}", uuid::Uuid::new_v4().simple());
    placeholder.truncate(30);
    let items = trimmed(&input.items);
    let m = deal::ActiveModel {
        number: Set(placeholder),
        client_id: Set(client.id),
        client_name: Set(client.name.clone()),
        deal_date: Set(date.format("%Y-%m-%d").to_string()),
        customer: Set(input.customer.trim().to_string()),
        status: Set(status.as_str().to_string()),
        delivery_stage: Set(None),
        payment_terms: Set(clean(input.payment_terms.as_deref())),
        contract_no: Set(clean(input.contract_no.as_deref())),
        invoice_no: Set(clean(input.invoice_no.as_deref())),
        contract_price_minor: Set(input.contract_price.as_deref().and_then(parse_money)),
        currency: Set(clean(input.currency.as_deref())),
        finance_comment: Set(clean(input.finance_comment.as_deref())),
        org_id: Set(client.org_id),
        manager_id: Set(manager_id),
        search_text: Set(String::new()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let number = format!("R-{}-{:06}", date.format("%Y"), m.id);
    let mut m = m;
    m.number = number.clone();
    let search = deal_search_text(&m, &items);
    deal::Entity::update_many()
        .col_expr(deal::Column::Number, Expr::value(number.clone()))
        .col_expr(deal::Column::SearchText, Expr::value(search))
        .filter(deal::Column::Id.eq(m.id))
        .exec(&txn)
        .await?;
    replace_items(&txn, m.id, &items).await?;
    deal_event::ActiveModel {
        deal_id: Set(m.id),
        kind: Set(DealEventKind::Status.as_str().to_string()),
        from_value: Set(None),
        to_value: Set(status.as_str().to_string()),
        comment: Set("created".into()),
        actor_id: Set(actor.user_id),
        actor_name: Set(Some(actor.name.clone())),
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
            entity: Resource::Deals,
            entity_id: m.id,
            org_id: Some(m.org_id),
            responsible_id: m.manager_id,
            before: None,
            after: Some(snapshot(&m, &items)),
        },
    )
    .await?;
    publish(
        &txn,
        actor,
        EventKind::NewRequest,
        &m,
        &client_located.org_path,
        format!("New request {number} for {}", client.name),
        format!(
            "{} registered request {number} for {}.",
            actor.name, client.name
        ),
    )
    .await?;
    txn.commit().await?;
    get(db, actor, m.id).await
}

async fn load_for_change<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
    if_match: Option<i32>,
) -> Result<(deal::Model, OrgPath, Vec<LineItem>)> {
    let located = visible(conn, actor, Resource::Deals, id, Action::Edit).await?;
    let m = deal::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if if_match.is_some_and(|v| v != m.version) {
        return Err(ServiceError::StaleVersion);
    }
    let items = items_of(conn, &[id]).await?.remove(&id).unwrap_or_default();
    Ok((m, located.org_path, items))
}

/// Writes `next` over `current` with the optimistic version check and refreshes its search text.
async fn save<C: ConnectionTrait>(
    conn: &C,
    current: &deal::Model,
    next: &deal::Model,
    items: &[LineItem],
) -> Result<deal::Model> {
    let mut am: deal::ActiveModel = next.clone().into();
    am = am.reset_all();
    am.id = sea_orm::ActiveValue::NotSet;
    am.created_at = sea_orm::ActiveValue::NotSet;
    am.number = sea_orm::ActiveValue::NotSet;
    am.search_text = Set(deal_search_text(next, items));
    am.version = Set(current.version + 1);
    am.updated_at = Set(Utc::now());
    let res = deal::Entity::update_many()
        .set(am)
        .filter(deal::Column::Id.eq(current.id))
        .filter(deal::Column::Version.eq(current.version))
        .exec(conn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ServiceError::StaleVersion);
    }
    deal::Entity::find_by_id(current.id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)
}

pub async fn update(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: UpdateDeal,
    if_match: Option<i32>,
) -> Result<Deal> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let (current, path, items) = load_for_change(&txn, actor, id, if_match).await?;
    actor.check_writable(Resource::Deals, input.written_fields())?;
    let mut next = current.clone();
    if let Some(d) = input.date {
        next.deal_date = d.format("%Y-%m-%d").to_string();
    }
    if let Some(c) = &input.customer {
        next.customer = c.trim().to_string();
    }
    if let Some(v) = &input.payment_terms {
        next.payment_terms = clean(v.as_deref());
    }
    if let Some(v) = &input.contract_no {
        next.contract_no = clean(v.as_deref());
    }
    if let Some(v) = &input.invoice_no {
        next.invoice_no = clean(v.as_deref());
    }
    if let Some(v) = &input.contract_price {
        next.contract_price_minor = v.as_deref().and_then(parse_money);
    }
    if let Some(v) = &input.currency {
        next.currency = clean(v.as_deref());
    }
    if let Some(v) = &input.finance_comment {
        next.finance_comment = clean(v.as_deref());
    }
    if let Some(m) = input.manager_id {
        next.manager_id = m;
    }
    if next.contract_price_minor.is_some() && next.currency.is_none() {
        return Err(ServiceError::field(
            "currency",
            "required",
            "give the currency of the contract price",
        ));
    }
    if next.manager_id != current.manager_id {
        let probe = RecordRef {
            org_path: &path,
            responsible_id: next.manager_id,
        };
        if actor
            .authorize(Resource::Deals, Action::View, probe)
            .is_err()
        {
            return Err(ServiceError::field(
                "manager_id",
                "out_of_scope",
                "you would no longer see this request",
            ));
        }
        if let Some(m) = next.manager_id
            && Some(m) != actor.user_id
        {
            check_manager(&txn, Resource::Deals, m, probe).await?;
        }
    }
    let new_items = input.items.as_deref().map(trimmed).unwrap_or(items.clone());
    if next == current && new_items == items {
        txn.commit().await?;
        return get(db, actor, id).await;
    }
    let after = save(&txn, &current, &next, &new_items).await?;
    if new_items != items {
        replace_items(&txn, id, &new_items).await?;
    }
    audit::record(
        &txn,
        ctx,
        Change {
            action: "update",
            entity: Resource::Deals,
            entity_id: id,
            org_id: Some(after.org_id),
            responsible_id: after.manager_id,
            before: Some(snapshot(&current, &items)),
            after: Some(snapshot(&after, &new_items)),
        },
    )
    .await?;
    txn.commit().await?;
    get(db, actor, id).await
}

async fn add_event<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    deal_id: i64,
    kind: DealEventKind,
    from: Option<String>,
    to: &str,
    comment: &str,
) -> Result<()> {
    deal_event::ActiveModel {
        deal_id: Set(deal_id),
        kind: Set(kind.as_str().to_string()),
        from_value: Set(from),
        to_value: Set(to.to_string()),
        comment: Set(comment.trim().to_string()),
        actor_id: Set(actor.user_id),
        actor_name: Set(Some(actor.name.clone())),
        at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Moves a request to another status with a comment; the change goes on the timeline, the
/// audit trail, and to the responsible manager and the watchers.
pub async fn change_status(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: ChangeStatus,
    if_match: Option<i32>,
) -> Result<Deal> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let (current, path, items) = load_for_change(&txn, actor, id, if_match).await?;
    actor.check_writable(Resource::Deals, ["status"])?;
    if current.status == input.status.as_str() {
        return Err(ServiceError::field(
            "status",
            "unchanged",
            "the request already has this status",
        ));
    }
    let mut next = current.clone();
    next.status = input.status.as_str().to_string();
    let after = save(&txn, &current, &next, &items).await?;
    add_event(
        &txn,
        actor,
        id,
        DealEventKind::Status,
        Some(current.status.clone()),
        &next.status,
        &input.comment,
    )
    .await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "status",
            entity: Resource::Deals,
            entity_id: id,
            org_id: Some(after.org_id),
            responsible_id: after.manager_id,
            before: Some(serde_json::json!({"status": current.status})),
            after: Some(
                serde_json::json!({"status": after.status, "comment": input.comment.trim()}),
            ),
        },
    )
    .await?;
    publish(
        &txn,
        actor,
        EventKind::StatusChanged,
        &after,
        &path,
        format!(
            "{}: status {}",
            after.number,
            after.status.replace('_', " ")
        ),
        format!(
            "{} moved request {} ({}) from {} to {}: {}",
            actor.name,
            after.number,
            after.client_name,
            current.status.replace('_', " "),
            after.status.replace('_', " "),
            input.comment.trim()
        ),
    )
    .await?;
    txn.commit().await?;
    get(db, actor, id).await
}

/// Records a delivery stage (timestamped on the timeline) and tells the people who care.
pub async fn change_delivery(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: ChangeDelivery,
    if_match: Option<i32>,
) -> Result<Deal> {
    let actor = ctx.actor;
    let txn = db.begin().await?;
    let (current, path, items) = load_for_change(&txn, actor, id, if_match).await?;
    actor.check_writable(Resource::Deals, ["delivery_stage"])?;
    if current.delivery_stage.as_deref() == Some(input.stage.as_str()) {
        return Err(ServiceError::field(
            "stage",
            "unchanged",
            "the request is already at this delivery stage",
        ));
    }
    let mut next = current.clone();
    next.delivery_stage = Some(input.stage.as_str().to_string());
    let after = save(&txn, &current, &next, &items).await?;
    add_event(
        &txn,
        actor,
        id,
        DealEventKind::Delivery,
        current.delivery_stage.clone(),
        input.stage.as_str(),
        &input.comment,
    )
    .await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "delivery",
            entity: Resource::Deals,
            entity_id: id,
            org_id: Some(after.org_id),
            responsible_id: after.manager_id,
            before: Some(serde_json::json!({"delivery_stage": current.delivery_stage})),
            after: Some(serde_json::json!({"delivery_stage": after.delivery_stage})),
        },
    )
    .await?;
    publish(
        &txn,
        actor,
        EventKind::DeliveryChanged,
        &after,
        &path,
        format!(
            "{}: delivery {}",
            after.number,
            input.stage.as_str().replace('_', " ")
        ),
        format!(
            "{} recorded delivery stage {} of 5 ({}) for request {} ({}).",
            actor.name,
            input.stage.step(),
            input.stage.as_str().replace('_', " "),
            after.number,
            after.client_name
        ),
    )
    .await?;
    txn.commit().await?;
    get(db, actor, id).await
}

/// A request's status and delivery timeline, oldest first.
pub async fn timeline(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<Vec<DealEvent>> {
    visible(db, actor, Resource::Deals, id, Action::View).await?;
    let rows = deal_event::Entity::find()
        .filter(deal_event::Column::DealId.eq(id))
        .order_by_asc(deal_event::Column::At)
        .order_by_asc(deal_event::Column::Id)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(DealEvent {
                id: r.id,
                kind: r
                    .kind
                    .parse()
                    .map_err(|_| ServiceError::Internal(format!("event kind `{}`", r.kind)))?,
                from: r.from_value,
                to: r.to_value,
                comment: r.comment,
                actor_id: r.actor_id,
                actor_name: r.actor_name,
                at: r.at,
            })
        })
        .collect()
}

/// Values entered before at one level of the line items, filtered by the levels above and by
/// what the caller typed; only from requests the caller may see. At most `limit`, sorted.
pub async fn suggestions(
    db: &DatabaseConnection,
    actor: &Actor,
    level: ItemLevel,
    above: [Option<&str>; 3],
    typed: Option<&str>,
    limit: u64,
) -> Result<Vec<String>> {
    actor.require(Resource::Deals, Action::View)?;
    let visibility = actor.visibility(Resource::Deals, Action::View);
    let col = match level {
        ItemLevel::Type => deal_item::Column::EquipmentType,
        ItemLevel::Name => deal_item::Column::Name,
        ItemLevel::SubName => deal_item::Column::SubName,
        ItemLevel::Capacity => deal_item::Column::Capacity,
    };
    let mut q = deal_item::Entity::find()
        .select_only()
        .column(col)
        .distinct()
        .filter(col.ne(""));
    if visibility != dealernet_domain::policy::Visibility::All {
        q = q.filter(
            deal_item::Column::DealId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(deal::Column::Id)
                    .from(deal::Entity)
                    .cond_where(scope::condition(
                        &visibility,
                        deal::Column::OrgId,
                        Some(deal::Column::ManagerId),
                    ))
                    .to_owned(),
            ),
        );
    }
    let levels = [
        deal_item::Column::EquipmentType,
        deal_item::Column::Name,
        deal_item::Column::SubName,
    ];
    let depth = match level {
        ItemLevel::Type => 0,
        ItemLevel::Name => 1,
        ItemLevel::SubName => 2,
        ItemLevel::Capacity => 3,
    };
    for (i, value) in above.iter().enumerate().take(depth) {
        if let Some(v) = value.map(str::trim).filter(|s| !s.is_empty()) {
            q = q.filter(levels[i].eq(v));
        }
    }
    if let Some(t) = typed.map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(text::contains_ci(col, t));
    }
    let values: Vec<String> = q
        .order_by_asc(col)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(values)
}

/// Keeps the client name copied on requests in step with the client (same transaction).
pub(crate) async fn rename_client<C: ConnectionTrait>(
    conn: &C,
    client_id: i64,
    old_name: &str,
    name: &str,
) -> Result<()> {
    deal::Entity::update_many()
        .col_expr(deal::Column::ClientName, Expr::value(name.to_string()))
        .col_expr(
            deal::Column::SearchText,
            Expr::from(
                sea_orm::sea_query::Func::cust(sea_orm::sea_query::Alias::new("replace"))
                    .arg(Expr::col(deal::Column::SearchText))
                    .arg(old_name.trim().to_lowercase())
                    .arg(name.trim().to_lowercase()),
            ),
        )
        .filter(deal::Column::ClientId.eq(client_id))
        .exec(conn)
        .await?;
    Ok(())
}
