//! Client organisations and their contact people.

use std::collections::HashMap;

use chrono::Utc;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::crm::{Client, Contact, ContactInput, CreateClient, UpdateClient};
use dealernet_domain::list::{Page, Paging, Sort};
use dealernet_domain::policy::{Actor, RecordRef};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Select,
    TransactionTrait,
};

use super::entity::{client, contact};
use super::{
    SearchIndex, check_manager, clean, org_names, placeable_org, search_like, search_text,
    searched, user_names, visible,
};
use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::error::{Result, ServiceError, on_unique};
use crate::page::{self, KeyKind, SortKey};
use crate::{orgs, redact, scope, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSort {
    Name,
    LegalId,
    CreatedAt,
    UpdatedAt,
}

pub const SORT_FIELDS: &[(&str, ClientSort)] = &[
    ("name", ClientSort::Name),
    ("legal_id", ClientSort::LegalId),
    ("created_at", ClientSort::CreatedAt),
    ("updated_at", ClientSort::UpdatedAt),
];

/// What the clients list is filtered by: `q` searches every field (contacts included), the
/// others are per-column "contains" filters or exact ids.
#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    pub q: Option<String>,
    pub name: Option<String>,
    pub legal_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub manager_id: Option<i64>,
    /// Clients of this node and every node below it.
    pub org_id: Option<i64>,
}

fn norm_email(e: Option<&str>) -> Option<String> {
    clean(e).map(|e| e.to_lowercase())
}

fn record<'a>(path: &'a dealernet_domain::org::OrgPath, m: &client::Model) -> RecordRef<'a> {
    RecordRef {
        org_path: path,
        responsible_id: m.manager_id,
    }
}

fn snapshot(m: &client::Model) -> serde_json::Value {
    serde_json::json!({
        "name": m.name, "legal_id": m.legal_id, "registration_no": m.registration_no,
        "legal_address": m.legal_address, "postal_address": m.postal_address, "phone": m.phone,
        "email": m.email, "website": m.website, "notes": m.notes, "org_id": m.org_id,
        "manager_id": m.manager_id,
    })
}

fn to_wire(
    actor: &Actor,
    m: client::Model,
    org_name: Option<String>,
    manager_name: Option<String>,
) -> Client {
    let c = Client {
        id: m.id,
        name: m.name,
        legal_id: m.legal_id,
        registration_no: m.registration_no,
        legal_address: m.legal_address,
        postal_address: m.postal_address,
        phone: m.phone,
        email: m.email,
        website: m.website,
        notes: m.notes,
        org_id: m.org_id,
        org_name,
        manager_id: m.manager_id,
        manager_name,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    };
    redact::redacted(actor, Resource::Clients, c)
}

async fn wire_many<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    rows: Vec<client::Model>,
) -> Result<Vec<Client>> {
    let managers = user_names(conn, rows.iter().filter_map(|r| r.manager_id)).await?;
    let orgs = org_names(conn, rows.iter().map(|r| r.org_id)).await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let org = orgs.get(&m.org_id).cloned();
            let manager = m.manager_id.and_then(|id| managers.get(&id).cloned());
            to_wire(actor, m, org, manager)
        })
        .collect())
}

/// Recomputes the any-field search text of a client from its fields and its contacts.
async fn refresh_search<C: ConnectionTrait>(conn: &C, id: i64) -> Result<()> {
    let Some(m) = client::Entity::find_by_id(id).one(conn).await? else {
        return Ok(());
    };
    let contacts = contact::Entity::find()
        .filter(contact::Column::ClientId.eq(id))
        .all(conn)
        .await?;
    let mut parts: Vec<&str> = vec![
        &m.name,
        m.legal_id.as_deref().unwrap_or(""),
        m.registration_no.as_deref().unwrap_or(""),
        m.legal_address.as_deref().unwrap_or(""),
        m.postal_address.as_deref().unwrap_or(""),
        m.phone.as_deref().unwrap_or(""),
        m.email.as_deref().unwrap_or(""),
        m.website.as_deref().unwrap_or(""),
        &m.notes,
    ];
    for c in &contacts {
        parts.push(&c.name);
        parts.push(c.position.as_deref().unwrap_or(""));
        parts.push(c.phone.as_deref().unwrap_or(""));
        parts.push(c.email.as_deref().unwrap_or(""));
    }
    let text = search_text(parts);
    if text != m.search_text {
        client::Entity::update_many()
            .col_expr(
                client::Column::SearchText,
                sea_orm::sea_query::Expr::value(text),
            )
            .filter(client::Column::Id.eq(id))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// The scoped, filtered query behind the list and the export.
pub(crate) async fn scoped_query<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    filter: &ClientFilter,
    action: Action,
) -> Result<Option<Select<client::Entity>>> {
    actor.require(Resource::Clients, action)?;
    let visibility = actor.visibility(Resource::Clients, action);
    let searched = searched(filter.q.as_deref());
    let mut q = client::Entity::find().filter(scope::record_condition(
        conn.get_database_backend(),
        searched,
        &visibility,
        client::Column::OrgId,
        Some(client::Column::ManagerId),
    ));
    let hidden = |f: &str| {
        actor.access.field_mode(Resource::Clients, f)
            == Some(dealernet_domain::access::FieldMode::Hidden)
    };
    if let Some(t) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if hidden("legal_id") || hidden("phone") || hidden("email") {
            // The search text holds hidden fields too: search only what the actor may see.
            let mut any = Condition::any()
                .add(text::contains_ci(client::Column::Name, t))
                .add(text::contains_ci(client::Column::Website, t))
                .add(text::contains_ci(client::Column::LegalAddress, t))
                .add(text::contains_ci(client::Column::Notes, t));
            for (f, col) in [
                ("legal_id", client::Column::LegalId),
                ("phone", client::Column::Phone),
                ("email", client::Column::Email),
            ] {
                if !hidden(f) {
                    any = any.add(text::contains_ci(col, t));
                }
            }
            q = q.filter(any);
        } else {
            q = q.filter(search_like(
                client::Column::SearchText,
                t,
                SearchIndex::for_scope(&visibility),
            ));
        }
    }
    for (value, col, field) in [
        (&filter.name, client::Column::Name, "name"),
        (&filter.legal_id, client::Column::LegalId, "legal_id"),
        (&filter.email, client::Column::Email, "email"),
        (&filter.phone, client::Column::Phone, "phone"),
    ] {
        if let Some(v) = value.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            if hidden(field) {
                return Err(ServiceError::field(
                    field,
                    "hidden",
                    "you may not filter by a field hidden from you",
                ));
            }
            q = q.filter(text::contains_ci(col, v));
        }
    }
    if let Some(m) = filter.manager_id {
        q = q.filter(client::Column::ManagerId.eq(m));
    }
    if let Some(org_id) = filter.org_id {
        let Some(path) = orgs::path(conn, org_id).await? else {
            return Ok(None);
        };
        q = q.filter(client::Column::OrgId.in_subquery(scope::subtree_ids(&path)));
    }
    Ok(Some(q))
}

/// The `ORDER BY` keys of a client list (the id last, as the tie-breaker).
fn sort_keys(sort: &Sort<ClientSort>) -> Vec<SortKey<client::Column>> {
    let mut keys: Vec<_> = sort
        .keys
        .iter()
        .map(|(key, dir)| {
            let (col, kind) = match key {
                ClientSort::Name => (client::Column::Name, KeyKind::Text),
                ClientSort::LegalId => (client::Column::LegalId, KeyKind::Text),
                ClientSort::CreatedAt => (client::Column::CreatedAt, KeyKind::Other),
                ClientSort::UpdatedAt => (client::Column::UpdatedAt, KeyKind::Other),
            };
            SortKey::new(col, page::order(*dir), kind)
        })
        .collect();
    if keys.is_empty() {
        keys.push(SortKey::new(
            client::Column::Name,
            Order::Asc,
            KeyKind::Text,
        ));
    }
    keys.push(SortKey::new(
        client::Column::Id,
        Order::Asc,
        KeyKind::Number,
    ));
    keys
}

fn ordered(mut q: Select<client::Entity>, sort: &Sort<ClientSort>) -> Select<client::Entity> {
    for k in sort_keys(sort) {
        q = q.order_by(k.col, k.order);
    }
    q
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &ClientFilter,
    sort: &Sort<ClientSort>,
    paging: Paging,
) -> Result<Page<Client>> {
    let Some(q) = scoped_query(db, actor, filter, Action::View).await? else {
        return Ok(Page::empty());
    };
    let total = page::count(db, q.clone(), searched(filter.q.as_deref()), paging).await?;
    let rows = page::rows(db, q, &sort_keys(sort), client::Column::Id, paging, total).await?;
    Ok(Page {
        items: wire_many(db, actor, rows).await?,
        total: total.n,
        total_capped: total.capped,
    })
}

/// Every client the actor may export that matches, up to `max` (for CSV/XLSX exports).
pub async fn export(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &ClientFilter,
    sort: &Sort<ClientSort>,
    max: u64,
) -> Result<Vec<Client>> {
    actor.require(Resource::Clients, Action::View)?;
    let Some(q) = scoped_query(db, actor, filter, Action::Export).await? else {
        return Ok(vec![]);
    };
    let rows = ordered(q, sort).limit(max).all(db).await?;
    wire_many(db, actor, rows).await
}

pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<Client> {
    visible(db, actor, Resource::Clients, id, Action::View).await?;
    let m = client::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    wire_many(db, actor, vec![m])
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)
}

/// Refuses a legal id or e-mail another client already has, naming that client when the actor
/// may see it.
pub(crate) async fn ensure_unique<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    legal_id: Option<&str>,
    email: Option<&str>,
    except: Option<i64>,
) -> Result<()> {
    for (what, col, value) in [
        ("legal id", client::Column::LegalId, legal_id),
        ("e-mail", client::Column::Email, email),
    ] {
        let Some(value) = value else { continue };
        let mut q = client::Entity::find().filter(col.eq(value));
        if let Some(id) = except {
            q = q.filter(client::Column::Id.ne(id));
        }
        if let Some(existing) = q.one(conn).await? {
            let seen = visible(conn, actor, Resource::Clients, existing.id, Action::View)
                .await
                .is_ok();
            return Err(if seen {
                ServiceError::conflict(
                    format!(
                        "a client with the {what} {value} already exists: “{}” (#{})",
                        existing.name, existing.id
                    ),
                    Some(existing.id),
                )
            } else {
                ServiceError::conflict(
                    format!(
                        "a client with the {what} {value} already exists (managed by another team)"
                    ),
                    None,
                )
            });
        }
    }
    Ok(())
}

/// Where a new client goes and who answers for it, once the policy has allowed both.
pub(crate) struct Placement {
    pub org_id: i64,
    pub manager_id: Option<i64>,
}

/// Resolves the node and the responsible manager of a new client (the actor's own node and the
/// actor by default) and checks the actor may put a client there and would still see it.
pub(crate) async fn placement<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    org_id: Option<i64>,
    manager_id: Option<i64>,
) -> Result<Placement> {
    let (org_id, path) = placeable_org(conn, actor, Resource::Clients, org_id).await?;
    let manager_id = manager_id.or(actor.user_id);
    let probe = RecordRef {
        org_path: &path,
        responsible_id: manager_id,
    };
    if actor
        .authorize(Resource::Clients, Action::View, probe)
        .is_err()
    {
        return Err(ServiceError::field(
            "manager_id",
            "out_of_scope",
            "you would not see this client: make yourself responsible or place it in your organisation",
        ));
    }
    if let Some(m) = manager_id
        && Some(m) != actor.user_id
    {
        check_manager(conn, Resource::Clients, m, probe).await?;
    }
    Ok(Placement { org_id, manager_id })
}

/// A new client's row, its search text covering `contact` too when one comes with it.
fn new_model(
    input: &CreateClient,
    place: &Placement,
    contact: Option<&ContactInput>,
    now: chrono::DateTime<Utc>,
) -> client::ActiveModel {
    let name = input.name.trim().to_string();
    let legal_id = clean(input.legal_id.as_deref());
    let email = norm_email(input.email.as_deref());
    let (registration_no, legal_address, postal_address, phone, website) = (
        clean(input.registration_no.as_deref()),
        clean(input.legal_address.as_deref()),
        clean(input.postal_address.as_deref()),
        clean(input.phone.as_deref()),
        clean(input.website.as_deref()),
    );
    let notes = input.notes.trim().to_string();
    let c_name = contact.map(|c| c.name.trim().to_string());
    let c_position = contact.and_then(|c| clean(c.position.as_deref()));
    let c_phone = contact.and_then(|c| clean(c.phone.as_deref()));
    let c_email = contact.and_then(|c| norm_email(c.email.as_deref()));
    let mut parts = vec![
        name.as_str(),
        legal_id.as_deref().unwrap_or(""),
        registration_no.as_deref().unwrap_or(""),
        legal_address.as_deref().unwrap_or(""),
        postal_address.as_deref().unwrap_or(""),
        phone.as_deref().unwrap_or(""),
        email.as_deref().unwrap_or(""),
        website.as_deref().unwrap_or(""),
        notes.as_str(),
    ];
    if contact.is_some() {
        parts.extend([
            c_name.as_deref().unwrap_or(""),
            c_position.as_deref().unwrap_or(""),
            c_phone.as_deref().unwrap_or(""),
            c_email.as_deref().unwrap_or(""),
        ]);
    }
    let search = search_text(parts);
    client::ActiveModel {
        name: Set(name),
        legal_id: Set(legal_id),
        registration_no: Set(registration_no),
        legal_address: Set(legal_address),
        postal_address: Set(postal_address),
        phone: Set(phone),
        email: Set(email),
        website: Set(website),
        notes: Set(notes),
        org_id: Set(place.org_id),
        manager_id: Set(place.manager_id),
        search_text: Set(search),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

fn new_contact_model(
    client_id: i64,
    input: &ContactInput,
    now: chrono::DateTime<Utc>,
) -> contact::ActiveModel {
    contact::ActiveModel {
        client_id: Set(client_id),
        name: Set(input.name.trim().to_string()),
        position: Set(clean(input.position.as_deref())),
        phone: Set(clean(input.phone.as_deref())),
        email: Set(norm_email(input.email.as_deref())),
        notes: Set(input.notes.trim().to_string()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Inserts a client inside `conn`'s transaction (the create endpoint).
pub(crate) async fn insert<C: ConnectionTrait>(
    conn: &C,
    ctx: Ctx<'_>,
    input: &CreateClient,
) -> Result<client::Model> {
    let actor = ctx.actor;
    let place = placement(conn, actor, input.org_id, input.manager_id).await?;
    ensure_unique(
        conn,
        actor,
        clean(input.legal_id.as_deref()).as_deref(),
        norm_email(input.email.as_deref()).as_deref(),
        None,
    )
    .await?;
    let m = new_model(input, &place, None, Utc::now())
        .insert(conn)
        .await
        .map_err(on_unique(
            "a client with this legal id or e-mail already exists",
        ))?;
    audit::record(
        conn,
        ctx,
        Change {
            action: "create",
            entity: Resource::Clients,
            entity_id: m.id,
            org_id: Some(m.org_id),
            responsible_id: m.manager_id,
            before: None,
            after: Some(snapshot(&m)),
        },
    )
    .await?;
    Ok(m)
}

/// Rows per multi-row `INSERT`: well inside both engines' bound-parameter limits.
const BULK_ROWS: usize = 500;

/// Inserts many new clients (each with its contact, if any) at `place` in `conn`'s
/// transaction, a few hundred rows per statement, with every audit entry. The caller has
/// checked that no legal id or e-mail is taken. Answers how many clients it created.
pub(crate) async fn insert_many<C: ConnectionTrait>(
    conn: &C,
    ctx: Ctx<'_>,
    place: &Placement,
    rows: &[(&CreateClient, Option<&ContactInput>)],
) -> Result<u64> {
    let now = Utc::now();
    let mut created = 0;
    for chunk in rows.chunks(BULK_ROWS) {
        let models: Vec<client::ActiveModel> = chunk
            .iter()
            .map(|(input, contact)| new_model(input, place, *contact, now))
            .collect();
        let inserted = client::Entity::insert_many(models)
            .exec_with_returning(conn)
            .await
            .map_err(on_unique(
                "a client with this legal id or e-mail already exists",
            ))?;
        // Both engines answer `RETURNING` rows in the order of the `VALUES` list; check it.
        if inserted.len() != chunk.len()
            || inserted
                .iter()
                .zip(chunk)
                .any(|(m, (input, _))| m.name != input.name.trim())
        {
            return Err(ServiceError::Internal(
                "the bulk insert answered rows out of order".into(),
            ));
        }
        let mut changes: Vec<Change<'_>> = inserted
            .iter()
            .map(|m| Change {
                action: "create",
                entity: Resource::Clients,
                entity_id: m.id,
                org_id: Some(m.org_id),
                responsible_id: m.manager_id,
                before: None,
                after: Some(snapshot(m)),
            })
            .collect();
        let contacts: Vec<contact::ActiveModel> = inserted
            .iter()
            .zip(chunk)
            .filter_map(|(m, (_, c))| c.map(|c| new_contact_model(m.id, c, now)))
            .collect();
        if !contacts.is_empty() {
            let added = contact::Entity::insert_many(contacts)
                .exec_with_returning(conn)
                .await?;
            changes.extend(added.iter().map(|c| Change {
                action: "add_contact",
                entity: Resource::Clients,
                entity_id: c.client_id,
                org_id: Some(place.org_id),
                responsible_id: place.manager_id,
                before: None,
                after: Some(contact_snapshot(c)),
            }));
        }
        audit::record_many(conn, ctx, changes).await?;
        created += inserted.len() as u64;
    }
    Ok(created)
}

/// Clients holding any of these legal ids or (lower-cased) e-mails, keyed by each, without a
/// policy check (the import's upsert matches on them).
pub(crate) async fn find_by_keys<C: ConnectionTrait>(
    conn: &C,
    legal_ids: &[String],
    emails: &[String],
) -> Result<[HashMap<String, client::Model>; 2]> {
    Ok([
        keyed_by(conn, client::Column::LegalId, legal_ids, |m| {
            m.legal_id.clone()
        })
        .await?,
        keyed_by(conn, client::Column::Email, emails, |m| m.email.clone()).await?,
    ])
}

/// Clients whose `col` is one of `values`, keyed by `key`.
async fn keyed_by<C: ConnectionTrait>(
    conn: &C,
    col: client::Column,
    values: &[String],
    key: fn(&client::Model) -> Option<String>,
) -> Result<HashMap<String, client::Model>> {
    let mut found = HashMap::new();
    for chunk in values.chunks(BULK_ROWS) {
        let rows = client::Entity::find()
            .filter(col.is_in(chunk.iter().cloned()))
            .all(conn)
            .await?;
        found.extend(rows.into_iter().filter_map(|m| key(&m).map(|k| (k, m))));
    }
    Ok(found)
}

pub async fn create(db: &DatabaseConnection, ctx: Ctx<'_>, input: CreateClient) -> Result<Client> {
    let actor = ctx.actor;
    actor.require(Resource::Clients, Action::Create)?;
    actor.check_writable(
        Resource::Clients,
        [
            ("legal_id", input.legal_id.is_some()),
            ("phone", input.phone.is_some()),
            ("email", input.email.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(f, _)| f),
    )?;
    let txn = db.begin().await?;
    let m = insert(&txn, ctx, &input).await?;
    txn.commit().await?;
    get(db, actor, m.id).await
}

/// Applies an update inside `conn`'s transaction (shared by update and import). Answers the
/// model after the change and whether anything changed.
pub(crate) async fn apply_update<C: ConnectionTrait>(
    conn: &C,
    ctx: Ctx<'_>,
    id: i64,
    input: &UpdateClient,
    if_match: Option<i32>,
) -> Result<(client::Model, bool)> {
    let actor = ctx.actor;
    let located = visible(conn, actor, Resource::Clients, id, Action::Edit).await?;
    actor.check_writable(Resource::Clients, input.written_fields())?;
    let current = client::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(ServiceError::StaleVersion);
    }
    let mut next = current.clone();
    if let Some(n) = &input.name {
        next.name = n.trim().to_string();
    }
    if let Some(v) = &input.legal_id {
        next.legal_id = clean(v.as_deref());
    }
    if let Some(v) = &input.registration_no {
        next.registration_no = clean(v.as_deref());
    }
    if let Some(v) = &input.legal_address {
        next.legal_address = clean(v.as_deref());
    }
    if let Some(v) = &input.postal_address {
        next.postal_address = clean(v.as_deref());
    }
    if let Some(v) = &input.phone {
        next.phone = clean(v.as_deref());
    }
    if let Some(v) = &input.email {
        next.email = norm_email(v.as_deref());
    }
    if let Some(v) = &input.website {
        next.website = clean(v.as_deref());
    }
    if let Some(v) = &input.notes {
        next.notes = v.trim().to_string();
    }
    let mut path = located.org_path.clone();
    if let Some(org) = input.org_id.filter(|o| *o != current.org_id) {
        let (org_id, p) = placeable_org(conn, actor, Resource::Clients, Some(org)).await?;
        next.org_id = org_id;
        path = p;
    }
    if let Some(m) = input.manager_id {
        next.manager_id = m;
    }
    if next == current {
        return Ok((current, false));
    }
    if (next.org_id, next.manager_id) != (current.org_id, current.manager_id) {
        let probe = record(&path, &next);
        if actor
            .authorize(Resource::Clients, Action::View, probe)
            .is_err()
        {
            return Err(ServiceError::field(
                "manager_id",
                "out_of_scope",
                "you would no longer see this client",
            ));
        }
        if let Some(m) = next.manager_id
            && Some(m) != actor.user_id
        {
            check_manager(conn, Resource::Clients, m, probe).await?;
        }
    }
    ensure_unique(
        conn,
        actor,
        next.legal_id
            .as_deref()
            .filter(|_| next.legal_id != current.legal_id),
        next.email
            .as_deref()
            .filter(|_| next.email != current.email),
        Some(id),
    )
    .await?;
    let mut am: client::ActiveModel = next.clone().into();
    am = am.reset_all();
    am.id = sea_orm::ActiveValue::NotSet;
    am.search_text = sea_orm::ActiveValue::NotSet;
    am.created_at = sea_orm::ActiveValue::NotSet;
    am.version = Set(current.version + 1);
    am.updated_at = Set(Utc::now());
    let res = client::Entity::update_many()
        .set(am)
        .filter(client::Column::Id.eq(id))
        .filter(client::Column::Version.eq(current.version))
        .exec(conn)
        .await
        .map_err(on_unique(
            "a client with this legal id or e-mail already exists",
        ))?;
    if res.rows_affected != 1 {
        return Err(ServiceError::StaleVersion);
    }
    refresh_search(conn, id).await?;
    if next.name != current.name {
        super::deals::rename_client(conn, id, &current.name, &next.name).await?;
    }
    let after = client::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    audit::record(
        conn,
        ctx,
        Change {
            action: "update",
            entity: Resource::Clients,
            entity_id: id,
            org_id: Some(after.org_id),
            responsible_id: after.manager_id,
            before: Some(snapshot(&current)),
            after: Some(snapshot(&after)),
        },
    )
    .await?;
    Ok((after, true))
}

pub async fn update(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    id: i64,
    input: UpdateClient,
    if_match: Option<i32>,
) -> Result<Client> {
    let txn = db.begin().await?;
    apply_update(&txn, ctx, id, &input, if_match).await?;
    txn.commit().await?;
    get(db, ctx.actor, id).await
}

// ---------------------------------------------------------------------------------------------
// Contacts
// ---------------------------------------------------------------------------------------------

fn contact_wire(m: contact::Model) -> Contact {
    Contact {
        id: m.id,
        client_id: m.client_id,
        name: m.name,
        position: m.position,
        phone: m.phone,
        email: m.email,
        notes: m.notes,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn contact_snapshot(m: &contact::Model) -> serde_json::Value {
    serde_json::json!({
        "contact_id": m.id, "name": m.name, "position": m.position, "phone": m.phone,
        "email": m.email, "notes": m.notes,
    })
}

pub async fn contacts(
    db: &DatabaseConnection,
    actor: &Actor,
    client_id: i64,
) -> Result<Vec<Contact>> {
    visible(db, actor, Resource::Clients, client_id, Action::View).await?;
    Ok(contact::Entity::find()
        .filter(contact::Column::ClientId.eq(client_id))
        .order_by_asc(contact::Column::Name)
        .order_by_asc(contact::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(contact_wire)
        .collect())
}

pub(crate) async fn insert_contact<C: ConnectionTrait>(
    conn: &C,
    ctx: Ctx<'_>,
    client_id: i64,
    org_id: i64,
    manager_id: Option<i64>,
    input: &ContactInput,
) -> Result<contact::Model> {
    let m = new_contact_model(client_id, input, Utc::now())
        .insert(conn)
        .await?;
    refresh_search(conn, client_id).await?;
    audit::record(
        conn,
        ctx,
        Change {
            action: "add_contact",
            entity: Resource::Clients,
            entity_id: client_id,
            org_id: Some(org_id),
            responsible_id: manager_id,
            before: None,
            after: Some(contact_snapshot(&m)),
        },
    )
    .await?;
    Ok(m)
}

pub async fn add_contact(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    client_id: i64,
    input: ContactInput,
) -> Result<Contact> {
    let txn = db.begin().await?;
    let located = visible(&txn, ctx.actor, Resource::Clients, client_id, Action::Edit).await?;
    let m = insert_contact(
        &txn,
        ctx,
        client_id,
        located.org_id,
        located.responsible_id,
        &input,
    )
    .await?;
    txn.commit().await?;
    Ok(contact_wire(m))
}

async fn load_contact<C: ConnectionTrait>(
    conn: &C,
    ctx: Ctx<'_>,
    client_id: i64,
    contact_id: i64,
) -> Result<(crate::notifications::targets::Located, contact::Model)> {
    let located = visible(conn, ctx.actor, Resource::Clients, client_id, Action::Edit).await?;
    let m = contact::Entity::find_by_id(contact_id)
        .filter(contact::Column::ClientId.eq(client_id))
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok((located, m))
}

pub async fn update_contact(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    client_id: i64,
    contact_id: i64,
    input: ContactInput,
) -> Result<Contact> {
    let txn = db.begin().await?;
    let (located, before) = load_contact(&txn, ctx, client_id, contact_id).await?;
    let mut am: contact::ActiveModel = before.clone().into();
    am.name = Set(input.name.trim().to_string());
    am.position = Set(clean(input.position.as_deref()));
    am.phone = Set(clean(input.phone.as_deref()));
    am.email = Set(norm_email(input.email.as_deref()));
    am.notes = Set(input.notes.trim().to_string());
    am.version = Set(before.version + 1);
    am.updated_at = Set(Utc::now());
    let after = am.update(&txn).await?;
    refresh_search(&txn, client_id).await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "update_contact",
            entity: Resource::Clients,
            entity_id: client_id,
            org_id: Some(located.org_id),
            responsible_id: located.responsible_id,
            before: Some(contact_snapshot(&before)),
            after: Some(contact_snapshot(&after)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(contact_wire(after))
}

pub async fn delete_contact(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    client_id: i64,
    contact_id: i64,
) -> Result<()> {
    let txn = db.begin().await?;
    let (located, before) = load_contact(&txn, ctx, client_id, contact_id).await?;
    contact::Entity::delete_by_id(contact_id).exec(&txn).await?;
    refresh_search(&txn, client_id).await?;
    audit::record(
        &txn,
        ctx,
        Change {
            action: "delete_contact",
            entity: Resource::Clients,
            entity_id: client_id,
            org_id: Some(located.org_id),
            responsible_id: located.responsible_id,
            before: Some(contact_snapshot(&before)),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Whether a client already has a contact with this e-mail or (without e-mail) this name.
pub(crate) async fn has_contact<C: ConnectionTrait>(
    conn: &C,
    client_id: i64,
    name: &str,
    email: Option<&str>,
) -> Result<bool> {
    let mut q = contact::Entity::find().filter(contact::Column::ClientId.eq(client_id));
    q = match email {
        Some(e) => q.filter(contact::Column::Email.eq(e.to_lowercase())),
        None => q.filter(contact::Column::Name.eq(name.trim())),
    };
    Ok(q.one(conn).await?.is_some())
}
