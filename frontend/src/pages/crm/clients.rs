//! Clients: the list (one search box over every field, per-column filters, quick actions), the
//! create/edit dialog with the shared validators, and the card with its tabs.

use dealernet_domain::Id;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::crm::{Client, Contact, ContactInput, CreateClient, Deal, UpdateClient};
use dealernet_domain::list::Page;
use dealernet_domain::reminders::TargetKind;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use validator::Validate;

use super::shared::{
    CommentsPanel, DealStatusBadge, DocumentsPanel, ExportButtons, RemindersPanel, Tabs, report,
};
use crate::api::{self, ApiError};
use crate::components::{
    Breadcrumb, Column, DataTable, FormErrors, ListQuery, Modal, SearchBox, TextField, Toasts,
};
use crate::i18n::{t, tf};
use crate::pages::audit::History;
use crate::pages::reminders::RemindButton;
use crate::pages::shell::Require;
use crate::session::Session;

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

#[component]
pub fn ClientsPage() -> impl IntoView {
    view! {
        <Require resource=Resource::Clients action=Action::View>
            <ClientsList/>
        </Require>
    }
}

/// A per-column filter box: sets `key` on the query as the user types.
#[component]
fn ColumnFilter(query: ListQuery, key: &'static str, label: &'static str) -> impl IntoView {
    let value = RwSignal::new(String::new());
    let errors = FormErrors::new();
    Effect::new(move |_| {
        let v = value.get();
        if v.trim() != query.filter(key) {
            query.set_filter(key, v.trim().to_string());
        }
    });
    view! { <TextField label=t(label) name=format!("filter-{key}") value=value errors=errors/> }
}

#[component]
fn ClientsList() -> impl IntoView {
    let session = Session::get();
    let query = ListQuery::new("name");
    let data = LocalResource::new(move || {
        let params = query.params();
        async move { api::get_query::<Page<Client>>("/api/v1/clients", &params).await }
    });
    let creating = RwSignal::new(false);
    let navigate = use_navigate();
    let on_created = Callback::new(move |c: Client| {
        navigate(&format!("/crm/clients/{}", c.id), Default::default());
    });

    let mut columns = vec![
        Column::new("name", t("crm.client.name"), |c: &Client| {
            let name = c.name.clone();
            view! { <A href=format!("/crm/clients/{}", c.id) attr:class="strong">{name}</A> }
        })
        .sortable("name")
        .fixed(),
    ];
    if !session.hidden(Resource::Clients, "legal_id") {
        columns.push(
            Column::new("legal_id", t("crm.client.legal_id"), |c: &Client| {
                c.legal_id.clone().unwrap_or_default()
            })
            .sortable("legal_id"),
        );
    }
    if !session.hidden(Resource::Clients, "email") {
        columns.push(Column::new("email", t("crm.client.email"), |c: &Client| {
            c.email.clone().unwrap_or_default()
        }));
    }
    if !session.hidden(Resource::Clients, "phone") {
        columns.push(Column::new("phone", t("crm.client.phone"), |c: &Client| {
            c.phone.clone().unwrap_or_default()
        }));
    }
    columns.push(Column::new("manager", t("crm.manager"), |c: &Client| {
        c.manager_name.clone().unwrap_or_else(|| "—".into())
    }));
    columns.push(Column::new("org", t("crm.org"), |c: &Client| {
        c.org_name.clone().unwrap_or_default()
    }));
    columns.push(
        Column::new("actions", "", move |c: &Client| {
            view! {
                <div class="row-actions">
                    <A href=format!("/crm/clients/{}", c.id) attr:class="btn btn-small">{t("common.open")}</A>
                    {session.can(Resource::Deals, Action::Create).then(|| view! {
                        <A href=format!("/crm/requests/new?client_id={}", c.id) attr:class="btn btn-small btn-ghost" attr:data-testid="new-request-for">
                            {t("crm.deal.new_short")}
                        </A>
                    })}
                    <RemindButton target_kind=TargetKind::Client target_id=c.id label=c.name.clone()/>
                </div>
            }
        })
        .fixed()
        .class("actions"),
    );
    let params = Signal::derive(move || query.params());
    view! {
        <div class="page">
            <Breadcrumb items=vec![(t("crm.clients").to_string(), None)]/>
            <div class="page-head">
                <h1>{t("crm.clients")}</h1>
                <div class="page-actions">
                    <ExportButtons resource=Resource::Clients path="/api/v1/clients/export" base_name="clients" params=params/>
                    <Show when=move || session.can(Resource::Clients, Action::Create)>
                        <A href="/crm/clients/import" attr:class="btn" attr:data-testid="import-clients">{t("crm.import.title")}</A>
                        <button type="button" class="btn btn-primary" data-testid="new-client" on:click=move |_| creating.set(true)>
                            {t("crm.client.new")}
                        </button>
                    </Show>
                </div>
            </div>
            <div class="filters">
                <SearchBox query=query placeholder=t("crm.client.search")/>
                <ColumnFilter query=query key="name" label="crm.client.name"/>
                {(!session.hidden(Resource::Clients, "legal_id")).then(|| view! { <ColumnFilter query=query key="legal_id" label="crm.client.legal_id"/> })}
                {(!session.hidden(Resource::Clients, "email")).then(|| view! { <ColumnFilter query=query key="email" label="crm.client.email"/> })}
                {(!session.hidden(Resource::Clients, "phone")).then(|| view! { <ColumnFilter query=query key="phone" label="crm.client.phone"/> })}
            </div>
            <DataTable id="clients" columns=columns query=query data=data row_key=|c: &Client| c.id empty=t("crm.client.empty")/>
            <ClientDialog open=creating client=None etag=None on_saved=on_created/>
        </div>
    }
}

/// Create a client, or edit one (`client` given; `etag` for `If-Match`).
#[component]
pub fn ClientDialog(
    open: RwSignal<bool>,
    client: Option<Client>,
    etag: Option<String>,
    on_saved: Callback<Client>,
) -> impl IntoView {
    let session = Session::get();
    let errors = FormErrors::new();
    let original = StoredValue::new(client.clone());
    let etag = StoredValue::new(etag);
    let field = |f: fn(&Client) -> Option<String>| {
        RwSignal::new(original.with_value(|c| c.as_ref().and_then(f).unwrap_or_default()))
    };
    let name = field(|c| Some(c.name.clone()));
    let legal_id = field(|c| c.legal_id.clone());
    let registration_no = field(|c| c.registration_no.clone());
    let legal_address = field(|c| c.legal_address.clone());
    let postal_address = field(|c| c.postal_address.clone());
    let phone = field(|c| c.phone.clone());
    let email = field(|c| c.email.clone());
    let website = field(|c| c.website.clone());
    let notes = field(|c| Some(c.notes.clone()));
    let busy = RwSignal::new(false);
    let duplicate = RwSignal::new(None::<(String, Option<i64>)>);
    let editing = client.is_some();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        duplicate.set(None);
        let create = CreateClient {
            name: name.get_untracked().trim().to_string(),
            legal_id: opt(&legal_id.get_untracked()),
            registration_no: opt(&registration_no.get_untracked()),
            legal_address: opt(&legal_address.get_untracked()),
            postal_address: opt(&postal_address.get_untracked()),
            phone: opt(&phone.get_untracked()),
            email: opt(&email.get_untracked()),
            website: opt(&website.get_untracked()),
            notes: notes.get_untracked().trim().to_string(),
            org_id: None,
            manager_id: None,
        };
        if !errors.check(create.validate()) {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let res = match original.get_value() {
                None => api::post::<_, Client>("/api/v1/clients", &create).await,
                Some(before) => {
                    let changed = |old: &Option<String>, new: &Option<String>| {
                        (old != new).then(|| new.clone())
                    };
                    let upd = UpdateClient {
                        name: (before.name != create.name).then(|| create.name.clone()),
                        legal_id: changed(&before.legal_id, &create.legal_id),
                        registration_no: changed(&before.registration_no, &create.registration_no),
                        legal_address: changed(&before.legal_address, &create.legal_address),
                        postal_address: changed(&before.postal_address, &create.postal_address),
                        phone: changed(&before.phone, &create.phone),
                        email: changed(&before.email, &create.email),
                        website: changed(&before.website, &create.website),
                        notes: (before.notes != create.notes).then(|| create.notes.clone()),
                        org_id: None,
                        manager_id: None,
                    };
                    api::patch::<_, Client>(
                        &format!("/api/v1/clients/{}", before.id),
                        &upd,
                        etag.get_value().as_deref(),
                    )
                    .await
                    .map(|v| v.value)
                }
            };
            busy.set(false);
            match res {
                Ok(c) => {
                    Toasts::success(tf("crm.client.saved", &[("name", &c.name)]));
                    open.set(false);
                    on_saved.run(c);
                }
                Err(ApiError::Problem(p)) if p.status == 409 => {
                    duplicate.set(Some((
                        p.detail.clone().unwrap_or(p.title.clone()),
                        p.existing_id,
                    )));
                }
                Err(e) => report(errors, &e),
            }
        });
    };
    let hidden = move |f: &str| session.hidden(Resource::Clients, f);
    view! {
        <Modal open=open wide=true title=Signal::derive(move || t(if editing { "crm.client.edit" } else { "crm.client.new" }).to_string())>
            <form class="form" on:submit=submit novalidate=true data-testid="client-form">
                {move || duplicate.get().map(|(detail, id)| view! {
                    <div class="alert alert-warning" data-testid="duplicate">
                        {detail}
                        {id.map(|id| view! { " " <A href=format!("/crm/clients/{id}")>{t("crm.client.open_existing")}</A> })}
                    </div>
                })}
                <div class="grid-2">
                    <TextField label=t("crm.client.name") name="name" value=name errors=errors required=true/>
                    {(!hidden("legal_id")).then(|| view! { <TextField label=t("crm.client.legal_id") name="legal_id" value=legal_id errors=errors hint=t("crm.client.legal_id_hint")/> })}
                    <TextField label=t("crm.client.registration_no") name="registration_no" value=registration_no errors=errors/>
                    <TextField label=t("crm.client.website") name="website" value=website errors=errors placeholder="https://"/>
                    {(!hidden("email")).then(|| view! { <TextField label=t("crm.client.email") name="email" value=email errors=errors kind="email"/> })}
                    {(!hidden("phone")).then(|| view! { <TextField label=t("crm.client.phone") name="phone" value=phone errors=errors kind="tel"/> })}
                    <TextField label=t("crm.client.legal_address") name="legal_address" value=legal_address errors=errors/>
                    <TextField label=t("crm.client.postal_address") name="postal_address" value=postal_address errors=errors/>
                </div>
                <TextField label=t("crm.client.notes") name="notes" value=notes errors=errors/>
                <div class="form-actions">
                    <button type="button" class="btn" on:click=move |_| open.set(false)>{t("common.cancel")}</button>
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get() data-testid="client-save">
                        {t("common.save")}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
pub fn ClientCard() -> impl IntoView {
    view! {
        <Require resource=Resource::Clients action=Action::View>
            <ClientCardLoader/>
        </Require>
    }
}

#[component]
fn ClientCardLoader() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<Id>().ok()));
    let client = LocalResource::new(move || {
        let id = id();
        async move {
            match id {
                Some(id) => api::get_versioned::<Client>(&format!("/api/v1/clients/{id}")).await,
                None => Err(ApiError::Network(t("notfound.title").to_string())),
            }
        }
    });
    view! {
        <div class="page">
            {move || match client.get() {
                None => view! { <div class="card"><span class="skeleton wide"></span></div> }.into_any(),
                Some(Err(e)) => view! {
                    <div class="state-page" data-testid="not-found">
                        <h1>{if e.status() == 404 { t("notfound.title").to_string() } else { e.message() }}</h1>
                        <A href="/crm/clients" attr:class="btn">{t("common.back")}</A>
                    </div>
                }.into_any(),
                Some(Ok(v)) => view! { <ClientView client=v.value etag=v.etag on_saved=move || client.refetch()/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn ClientView(
    client: Client,
    etag: Option<String>,
    on_saved: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = Session::get();
    let tab = RwSignal::new("contacts");
    let editing = RwSignal::new(false);
    let id = client.id;
    let name = client.name.clone();
    let detail = |label: &'static str, v: Option<String>| {
        v.filter(|s| !s.is_empty()).map(|v| {
            view! { <div class="kv"><dt>{t(label)}</dt><dd>{v}</dd></div> }
        })
    };
    let saved = Callback::new(move |_c: Client| on_saved());
    view! {
        <Breadcrumb items=vec![
            (t("crm.clients").to_string(), Some("/crm/clients".to_string())),
            (client.name.clone(), None),
        ]/>
        <div class="page-head">
            <h1 data-testid="client-name">{client.name.clone()}</h1>
            <div class="page-actions">
                {session.can(Resource::Deals, Action::Create).then(|| view! {
                    <A href=format!("/crm/requests/new?client_id={id}") attr:class="btn btn-primary" attr:data-testid="new-request">{t("crm.deal.new")}</A>
                })}
                <RemindButton target_kind=TargetKind::Client target_id=id label=name.clone()/>
                <Show when=move || session.can(Resource::Clients, Action::Edit)>
                    <button type="button" class="btn" data-testid="edit-client" on:click=move |_| editing.set(true)>{t("common.edit")}</button>
                </Show>
            </div>
        </div>
        <section class="card">
            <dl class="kv-grid">
                {detail("crm.client.legal_id", client.legal_id.clone())}
                {detail("crm.client.registration_no", client.registration_no.clone())}
                {detail("crm.client.email", client.email.clone())}
                {detail("crm.client.phone", client.phone.clone())}
                {detail("crm.client.website", client.website.clone())}
                {detail("crm.client.legal_address", client.legal_address.clone())}
                {detail("crm.client.postal_address", client.postal_address.clone())}
                {detail("crm.manager", client.manager_name.clone())}
                {detail("crm.org", client.org_name.clone())}
                {detail("crm.client.notes", Some(client.notes.clone()))}
            </dl>
        </section>
        <Tabs active=tab tabs=vec![
            ("contacts", "crm.tab.contacts"),
            ("requests", "crm.tab.requests"),
            ("documents", "crm.tab.documents"),
            ("comments", "crm.tab.comments"),
            ("reminders", "crm.tab.reminders"),
            ("history", "crm.tab.history"),
        ]/>
        {move || match tab.get() {
            "contacts" => view! { <ContactsPanel client_id=id/> }.into_any(),
            "requests" => view! { <ClientDeals client_id=id/> }.into_any(),
            "documents" => view! { <DocumentsPanel kind="clients" id=id/> }.into_any(),
            "comments" => view! { <CommentsPanel kind="clients" id=id/> }.into_any(),
            "reminders" => view! { <RemindersPanel kind=TargetKind::Client id=id label=name.clone()/> }.into_any(),
            _ => view! { <History entity=Resource::Clients id=id/> }.into_any(),
        }}
        <ClientDialog open=editing client=Some(client.clone()) etag=etag on_saved=saved/>
    }
}

#[component]
fn ClientDeals(client_id: Id) -> impl IntoView {
    let list = LocalResource::new(move || async move {
        api::get_query::<Page<Deal>>(
            "/api/v1/deals",
            &[
                ("client_id".into(), client_id.to_string()),
                ("limit".into(), "100".into()),
            ],
        )
        .await
    });
    view! {
        <section class="card" data-testid="client-requests">
            {move || match list.get() {
                None => view! { <span class="skeleton wide"></span> }.into_any(),
                Some(Err(e)) => view! { <p class="alert alert-danger">{e.message()}</p> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => view! { <p class="muted">{t("crm.deal.empty")}</p> }.into_any(),
                Some(Ok(page)) => view! {
                    <table class="table">
                        <thead><tr><th>{t("crm.deal.number")}</th><th>{t("crm.deal.date")}</th><th>{t("crm.deal.items")}</th><th>{t("crm.deal.status")}</th></tr></thead>
                        <tbody>
                            {page.items.into_iter().map(|d| {
                                let number = d.number.clone();
                                view! {
                                <tr>
                                    <td><A href=format!("/crm/requests/{}", d.id) attr:class="strong">{number}</A></td>
                                    <td>{d.date.to_string()}</td>
                                    <td>{d.items.iter().map(|i| format!("{} {}", i.equipment_type, i.name)).collect::<Vec<_>>().join(", ")}</td>
                                    <td><DealStatusBadge status=d.status/></td>
                                </tr>
                            }}).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ContactsPanel(client_id: Id) -> impl IntoView {
    let session = Session::get();
    let list = LocalResource::new(move || async move {
        api::get::<Vec<Contact>>(&format!("/api/v1/clients/{client_id}/contacts")).await
    });
    let errors = FormErrors::new();
    let name = RwSignal::new(String::new());
    let position = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let adding = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = ContactInput {
            name: name.get_untracked().trim().to_string(),
            position: opt(&position.get_untracked()),
            phone: opt(&phone.get_untracked()),
            email: opt(&email.get_untracked()),
            notes: String::new(),
        };
        if !errors.check(input.validate()) {
            return;
        }
        spawn_local(async move {
            match api::post::<_, Contact>(&format!("/api/v1/clients/{client_id}/contacts"), &input)
                .await
            {
                Ok(_) => {
                    for s in [name, position, phone, email] {
                        s.set(String::new());
                    }
                    adding.set(false);
                    list.refetch();
                }
                Err(e) => report(errors, &e),
            }
        });
    };
    view! {
        <section class="card" data-testid="contacts">
            <div class="card-head">
                <h2>{t("crm.tab.contacts")}</h2>
                <Show when=move || session.can(Resource::Clients, Action::Edit)>
                    <button type="button" class="btn btn-small" data-testid="add-contact" on:click=move |_| adding.set(true)>{t("crm.contact.add")}</button>
                </Show>
            </div>
            <Show when=move || adding.get()>
                <form class="form inline-form" on:submit=submit novalidate=true data-testid="contact-form">
                    <div class="grid-2">
                        <TextField label=t("crm.contact.name") name="name" value=name errors=errors required=true/>
                        <TextField label=t("crm.contact.position") name="position" value=position errors=errors/>
                        <TextField label=t("crm.client.phone") name="phone" value=phone errors=errors kind="tel"/>
                        <TextField label=t("crm.client.email") name="email" value=email errors=errors kind="email"/>
                    </div>
                    <div class="form-actions">
                        <button type="button" class="btn" on:click=move |_| adding.set(false)>{t("common.cancel")}</button>
                        <button type="submit" class="btn btn-primary" data-testid="contact-save">{t("common.save")}</button>
                    </div>
                </form>
            </Show>
            {move || match list.get() {
                None => view! { <span class="skeleton wide"></span> }.into_any(),
                Some(Err(e)) => view! { <p class="alert alert-danger">{e.message()}</p> }.into_any(),
                Some(Ok(items)) if items.is_empty() => view! { <p class="muted">{t("crm.contact.none")}</p> }.into_any(),
                Some(Ok(items)) => view! {
                    <table class="table">
                        <thead><tr><th>{t("crm.contact.name")}</th><th>{t("crm.contact.position")}</th><th>{t("crm.client.phone")}</th><th>{t("crm.client.email")}</th></tr></thead>
                        <tbody>
                            {items.into_iter().map(|c| view! {
                                <tr>
                                    <td class="strong">{c.name}</td>
                                    <td>{c.position.unwrap_or_default()}</td>
                                    <td>{c.phone.unwrap_or_default()}</td>
                                    <td>{c.email.unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}
