//! Installation and repair requests: the contact centre's list, the request form with address
//! lookup and a map to place the pin, the request with its live assignment result and the
//! explanation (every candidate's factors and score, every excluded dealer's reason) and the
//! operator's override; and the dealer's job inbox with accept, reject and completion.

use chrono::{Local, NaiveDateTime, Utc};
use dealernet_domain::Id;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::dealers::geo::{GeoPoint, GeocodeHit};
use dealernet_domain::dealers::requests::{
    CompleteJob, CompletionKind, CreateInstallationRequest, Customer, InstallationRequest,
    OverrideAssignment, RejectJob, RejectionReason, RequestStatus,
};
use dealernet_domain::dealers::{Attachment, Dealer, ServiceType};
use dealernet_domain::list::Page;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::json;
use validator::Validate;

use super::dealers::{MapView, map_config, service_label};
use super::shell::Require;
use super::when;
use crate::api;
use crate::components::{
    Badge, Breadcrumb, Column, DataTable, FormErrors, ListQuery, Modal, SearchBox, SelectField,
    TextField, Toasts,
};
use crate::i18n::{t, tf};
use crate::session::Session;

pub fn request_status_badge(s: RequestStatus) -> impl IntoView {
    let tone = match s {
        RequestStatus::Unassigned => "danger",
        RequestStatus::Offered => "warning",
        RequestStatus::Accepted => "info",
        RequestStatus::Completed => "success",
    };
    view! { <Badge tone=tone text=t(&format!("requests.status.{}", s.as_str())).to_string()/> }
}

fn customer_label(c: &Customer) -> String {
    match c {
        Customer::Client { client_id } => {
            tf("requests.client_n", &[("id", &client_id.to_string())])
        }
        Customer::Private { name, phone } => match phone {
            Some(p) => format!("{name} · {p}"),
            None => name.clone(),
        },
    }
}

fn parse_local(value: &str) -> Option<chrono::DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M").ok()?;
    naive
        .and_local_timezone(Local)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}

fn status_options() -> Signal<Vec<(String, String)>> {
    Signal::derive(|| {
        RequestStatus::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str().to_string(),
                    t(&format!("requests.status.{}", s.as_str())).to_string(),
                )
            })
            .collect()
    })
}

/// `/admin/requests`: the contact centre's requests.
#[component]
pub fn RequestsPage() -> impl IntoView {
    view! {
        <Require resource=Resource::InstallationRequests action=Action::View>
            <RequestList/>
        </Require>
    }
}

#[component]
fn RequestList() -> impl IntoView {
    let session = Session::get();
    let query = ListQuery::new("-created_at");
    let data = LocalResource::new(move || {
        let params = query.params();
        async move {
            api::get_query::<Page<InstallationRequest>>("/api/v1/installation-requests", &params)
                .await
        }
    });
    let errors = FormErrors::new();
    let status = RwSignal::new(String::new());
    Effect::new(move |_| {
        let v = status.get();
        if v != query.filter("status") {
            query.set_filter("status", v);
        }
    });
    let columns = vec![
        Column::new("id", "#", |r: &InstallationRequest| {
            view! { <A href=format!("/admin/requests/{}", r.id) attr:class="strong">{format!("#{}", r.id)}</A> }
        })
        .fixed(),
        Column::new("created_at", t("requests.created"), |r: &InstallationRequest| when(&r.created_at))
            .sortable("created_at"),
        Column::new("customer", t("requests.customer"), |r: &InstallationRequest| customer_label(&r.customer)),
        Column::new("address", t("requests.address"), |r: &InstallationRequest| r.address.clone()),
        Column::new("service", t("requests.service"), |r: &InstallationRequest| service_label(r.service)),
        Column::new("dealer", t("requests.dealer"), |r: &InstallationRequest| {
            r.dealer_name.clone().unwrap_or_else(|| "—".into())
        }),
        Column::new("status", t("requests.status"), |r: &InstallationRequest| request_status_badge(r.status))
            .sortable("status"),
    ];
    view! {
        <div class="page" data-testid="requests-page">
            <Breadcrumb items=vec![(t("nav.requests").to_string(), None)]/>
            <div class="page-head">
                <h1>{t("nav.requests")}</h1>
                <div class="row-actions">
                    <A href="/admin/requests/metrics" attr:class="btn">{t("requests.metrics")}</A>
                    <Show when=move || session.can(Resource::InstallationRequests, Action::Create)>
                        <A href="/admin/requests/new" attr:class="btn btn-primary" attr:data-testid="new-request">{t("requests.new")}</A>
                    </Show>
                </div>
            </div>
            <div class="filters">
                <SearchBox query=query placeholder=t("requests.search")/>
                <SelectField label=t("requests.status") name="filter-status" value=status errors=errors options=status_options() empty=t("common.any")/>
            </div>
            <DataTable id="requests" columns=columns query=query data=data row_key=|r: &InstallationRequest| r.id empty=t("requests.empty")/>
        </div>
    }
}

/// `/admin/requests/new`: the contact centre registers a request; it is assigned on save.
#[component]
pub fn NewRequestPage() -> impl IntoView {
    view! {
        <Require resource=Resource::InstallationRequests action=Action::Create>
            <NewRequest/>
        </Require>
    }
}

#[component]
fn NewRequest() -> impl IntoView {
    let navigate = use_navigate();
    let config = map_config();
    let errors = FormErrors::new();
    let kind = RwSignal::new("private".to_string());
    let name = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let client_id = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let region = RwSignal::new(String::new());
    let service = RwSignal::new("installation".to_string());
    let equipment = RwSignal::new(String::new());
    let window_from = RwSignal::new(String::new());
    let window_to = RwSignal::new(String::new());
    let notes = RwSignal::new(String::new());
    let location = RwSignal::new(None::<GeoPoint>);
    let hits = RwSignal::new(Vec::<GeocodeHit>::new());
    let busy = RwSignal::new(false);
    let lat_text = RwSignal::new(String::new());
    let lon_text = RwSignal::new(String::new());
    // The pin and the coordinate fields follow each other.
    Effect::new(move |_| {
        if let Some(p) = location.get() {
            let (la, lo) = (format!("{:.6}", p.lat), format!("{:.6}", p.lon));
            if lat_text.get_untracked() != la {
                lat_text.set(la);
            }
            if lon_text.get_untracked() != lo {
                lon_text.set(lo);
            }
        }
    });
    let find = move |_| {
        let q = address.get_untracked();
        if q.trim().is_empty() {
            errors.set("address", t("err.required"));
            return;
        }
        spawn_local(async move {
            let query = vec![("q".to_string(), q.trim().to_string())];
            match api::get_query::<Vec<GeocodeHit>>("/api/v1/geocode", &query).await {
                Ok(list) if list.is_empty() => Toasts::info(t("requests.not_found")),
                Ok(list) => {
                    if let Some(first) = list.first() {
                        location.set(Some(first.location));
                        if let Some(r) = &first.region_code {
                            region.set(r.clone());
                        }
                    }
                    hits.set(list);
                }
                Err(e) => Toasts::error(e.message()),
            }
        });
    };
    let pick = Callback::new(move |p: GeoPoint| {
        location.set(Some(p));
        errors.clear_field("location");
    });
    let spec = Signal::derive(move || match location.get() {
        Some(p) => json!({"pin": {"lat": p.lat, "lon": p.lon}}),
        None => json!({}),
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let point = match (
            lat_text.get_untracked().trim().parse::<f64>(),
            lon_text.get_untracked().trim().parse::<f64>(),
        ) {
            (Ok(lat), Ok(lon)) => GeoPoint::new(lat, lon),
            _ => {
                errors.set("location", t("requests.place_pin"));
                return;
            }
        };
        let customer = if kind.get_untracked() == "client" {
            Customer::Client {
                client_id: client_id.get_untracked().trim().parse().unwrap_or(0),
            }
        } else {
            let p = phone.get_untracked().trim().to_string();
            Customer::Private {
                name: name.get_untracked().trim().to_string(),
                phone: (!p.is_empty()).then_some(p),
            }
        };
        let region_code = region.get_untracked().trim().to_uppercase();
        let input = CreateInstallationRequest {
            customer,
            address: address.get_untracked().trim().to_string(),
            location: point,
            region_code: (!region_code.is_empty()).then_some(region_code),
            service: ServiceType::parse(&service.get_untracked())
                .unwrap_or(ServiceType::Installation),
            equipment: equipment
                .get_untracked()
                .split([',', '\n'])
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            window_from: parse_local(&window_from.get_untracked()),
            window_to: parse_local(&window_to.get_untracked()),
            notes: notes.get_untracked().trim().to_string(),
        };
        if !errors.check(input.validate()) {
            return;
        }
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::post::<_, InstallationRequest>("/api/v1/installation-requests", &input).await
            {
                Ok(r) => {
                    Toasts::success(match &r.dealer_name {
                        Some(d) => tf("requests.offered_to", &[("dealer", d)]),
                        None => t("requests.nobody").to_string(),
                    });
                    navigate(&format!("/admin/requests/{}", r.id), Default::default());
                }
                Err(e) => {
                    if !errors.absorb(&e) {
                        Toasts::error(e.message());
                    }
                }
            }
            busy.set(false);
        });
    };
    let kind_options = Signal::derive(|| {
        vec![
            ("private".to_string(), t("requests.private").to_string()),
            ("client".to_string(), t("requests.crm_client").to_string()),
        ]
    });
    let service_options = Signal::derive(|| {
        ServiceType::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), service_label(*s).to_string()))
            .collect::<Vec<_>>()
    });
    view! {
        <div class="page" data-testid="new-request-page">
            <Breadcrumb items=vec![
                (t("nav.requests").to_string(), Some("/admin/requests".to_string())),
                (t("requests.new").to_string(), None),
            ]/>
            <div class="page-head"><h1>{t("requests.new")}</h1></div>
            <form class="form request-form" on:submit=submit novalidate=true data-testid="request-form">
                <div class="dealer-grid">
                    <section class="card">
                        <h2>{t("requests.customer")}</h2>
                        <SelectField label=t("requests.customer_kind") name="customer_kind" value=kind errors=errors options=kind_options/>
                        {move || if kind.get() == "client" {
                            view! { <TextField label=t("requests.client_id") name="customer" value=client_id errors=errors kind="number"/> }.into_any()
                        } else {
                            view! {
                                <TextField label=t("requests.customer_name") name="customer" value=name errors=errors required=true/>
                                <TextField label=t("user.phone") name="phone" value=phone errors=errors placeholder="+7 900 000-00-00"/>
                            }.into_any()
                        }}
                        <h2>{t("requests.job")}</h2>
                        <SelectField label=t("requests.service") name="service" value=service errors=errors options=service_options/>
                        <TextField label=t("requests.equipment") name="equipment" value=equipment errors=errors hint=t("requests.equipment_hint")/>
                        <div class="field-row">
                            <div class="field">
                                <label class="field-label" for="f-window_from">{t("requests.window_from")}</label>
                                <input id="f-window_from" type="datetime-local" prop:value=move || window_from.get() on:input=move |ev| window_from.set(event_target_value(&ev))/>
                            </div>
                            <div class="field">
                                <label class="field-label" for="f-window_to">{t("requests.window_to")}</label>
                                <input id="f-window_to" type="datetime-local" prop:value=move || window_to.get() on:input=move |ev| window_to.set(event_target_value(&ev))/>
                            </div>
                        </div>
                        <p class="field-error" role="alert">{move || errors.get("__all__")}</p>
                        <TextField label=t("requests.notes") name="notes" value=notes errors=errors/>
                    </section>
                    <section class="card">
                        <h2>{t("requests.where")}</h2>
                        <div class="field-row address-row">
                            <TextField label=t("requests.address") name="address" value=address errors=errors required=true/>
                            <Show when=move || config.get().is_some_and(|c| c.geocoder)>
                                <button type="button" class="btn" data-testid="geocode" on:click=find>{t("requests.find")}</button>
                            </Show>
                        </div>
                        {move || {
                            let list = hits.get();
                            (list.len() > 1).then(|| view! {
                                <ul class="plain hits">
                                    {list.into_iter().map(|h| {
                                        let p = h.location;
                                        let r = h.region_code.clone();
                                        view! {
                                            <li><button type="button" class="btn btn-small btn-ghost" on:click=move |_| {
                                                location.set(Some(p));
                                                if let Some(r) = r.clone() { region.set(r); }
                                            }>{h.label.clone()}</button></li>
                                        }
                                    }).collect_view()}
                                </ul>
                            })
                        }}
                        <MapView spec=spec on_pick=pick/>
                        <p class="muted small">{t("requests.pin_hint")}</p>
                        <div class="field-row">
                            <TextField label=t("requests.lat") name="location.lat" value=lat_text errors=errors/>
                            <TextField label=t("requests.lon") name="location.lon" value=lon_text errors=errors/>
                            <TextField label=t("dealers.region") name="region_code" value=region errors=errors placeholder="RU-MOW"/>
                        </div>
                        <p class="field-error" role="alert">{move || errors.get("location")}</p>
                    </section>
                </div>
                <div class="form-actions">
                    <A href="/admin/requests" attr:class="btn">{t("common.cancel")}</A>
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get() data-testid="request-save">{t("requests.register")}</button>
                </div>
            </form>
        </div>
    }
}

/// `/admin/requests/:id`: the request, its assignment and why, and the override.
#[component]
pub fn RequestPage() -> impl IntoView {
    view! {
        <Require resource=Resource::InstallationRequests action=Action::View>
            <RequestDetail/>
        </Require>
    }
}

#[component]
fn RequestDetail() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let req = LocalResource::new(move || {
        let id = id();
        async move {
            api::get::<InstallationRequest>(&format!("/api/v1/installation-requests/{id}")).await
        }
    });
    // Live: refresh when a notification arrives (the dealer answered, the offer expired).
    let handle = window_event_listener_untyped("dealernet-push", move |_| req.refetch());
    on_cleanup(move || handle.remove());
    view! {
        <div class="page" data-testid="request-page">
            {move || match req.get() {
                None => view! { <p class="table-state">"…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="table-state error">{e.message()}</p> }.into_any(),
                Some(Ok(r)) => view! { <RequestView r=r on_change=Callback::new(move |_| req.refetch())/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn RequestView(r: InstallationRequest, on_change: Callback<()>) -> impl IntoView {
    let session = Session::get();
    let site = r.location;
    let spec = Signal::derive(move || json!({"pin": {"lat": site.lat, "lon": site.lon}}));
    let explanation = r.assignment.clone().map(|a| {
        let chosen = a.decision.chosen;
        let candidates = a.decision.candidates.clone();
        let excluded = a.decision.excluded.clone();
        let others = a.others_outside_territory;
        view! {
            <section class="card" data-testid="explanation">
                <h2>{t("requests.why")}</h2>
                <p class="muted">
                    {tf("requests.decided", &[("trigger", t(&format!("requests.trigger.{}", match a.trigger {
                        dealernet_domain::dealers::requests::AssignmentTrigger::Created => "created",
                        dealernet_domain::dealers::requests::AssignmentTrigger::Rejected => "rejected",
                        dealernet_domain::dealers::requests::AssignmentTrigger::Timeout => "timeout",
                        dealernet_domain::dealers::requests::AssignmentTrigger::Override => "override",
                    }))), ("at", &when(&a.decided_at))])}
                    {a.override_reason.clone().map(|r| format!(" — {r}"))}
                </p>
                <p class="small muted">{tf("requests.weights", &[
                    ("d", &format!("{:.2}", a.decision.weights.distance)),
                    ("r", &format!("{:.2}", a.decision.weights.rating)),
                    ("l", &format!("{:.2}", a.decision.weights.load)),
                ])}</p>
                <table class="data-table" data-testid="candidates">
                    <thead><tr>
                        <th>"#"</th><th>{t("requests.dealer")}</th><th class="num">{t("requests.distance")}</th>
                        <th class="num">{t("requests.f_distance")}</th><th class="num">{t("requests.f_rating")}</th>
                        <th class="num">{t("requests.f_load")}</th><th class="num">{t("requests.score")}</th><th></th>
                    </tr></thead>
                    <tbody>
                        {candidates.into_iter().enumerate().map(|(i, c)| {
                            let is_chosen = Some(c.dealer_id) == chosen;
                            view! {
                                <tr class:chosen=is_chosen data-testid="candidate">
                                    <td>{i + 1}</td>
                                    <td class="strong">{c.dealer_name.clone()}</td>
                                    <td class="num">{c.factors.distance_km.map(|d| format!("{d:.1} km")).unwrap_or_else(|| "—".into())}</td>
                                    <td class="num">{format!("{:.2}", c.factors.distance)}</td>
                                    <td class="num">{format!("{:.2}", c.factors.rating)}</td>
                                    <td class="num">{format!("{:.2} ({}/{})", c.factors.load, c.factors.open_jobs, c.factors.capacity)}</td>
                                    <td class="num strong">{format!("{:.1}", c.score)}</td>
                                    <td>{is_chosen.then(|| view! { <Badge tone="success" text=t("requests.chosen").to_string()/> })}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                {(!excluded.is_empty()).then(|| view! {
                    <h3>{t("requests.excluded")}</h3>
                    <ul class="plain excluded" data-testid="excluded">
                        {excluded.into_iter().map(|e| view! {
                            <li data-testid="excluded-dealer">
                                <span class="strong">{e.dealer_name.clone()}</span> " — "
                                <Badge tone="neutral" text=t(&format!("requests.reason.{}", e.reason.as_str())).to_string()/>
                            </li>
                        }).collect_view()}
                    </ul>
                })}
                {(others > 0).then(|| view! { <p class="muted small">{tf("requests.others", &[("n", &others.to_string())])}</p> })}
            </section>
        }
    });
    let rejections = r.rejections.clone();
    let can_override = session.can(Resource::InstallationRequests, Action::Edit)
        && r.status != RequestStatus::Completed
        && r.assignment.is_some();
    let rid = r.id;
    let service = r.service;
    view! {
        <Breadcrumb items=vec![
            (t("nav.requests").to_string(), Some("/admin/requests".to_string())),
            (format!("#{}", r.id), None),
        ]/>
        <div class="page-head">
            <h1>{tf("requests.title", &[("id", &r.id.to_string())])} " " {request_status_badge(r.status)}</h1>
        </div>
        <div class="assignment-result" data-testid="assignment-result">
            {match &r.dealer_name {
                Some(d) => view! {
                    <div class="alert alert-info">
                        <strong data-testid="assigned-dealer">{d.clone()}</strong>
                        " · " {t(&format!("requests.status.{}", r.status.as_str()))}
                        {r.offer_expires_at.map(|e| view! { <span class="muted small">" · " {tf("requests.expires", &[("at", &when(&e))])}</span> })}
                    </div>
                }.into_any(),
                None => view! { <div class="alert alert-warning">{t("requests.nobody")}</div> }.into_any(),
            }}
        </div>
        <div class="dealer-grid">
            <section class="card">
                <h2>{t("requests.job")}</h2>
                <dl class="facts">
                    <dt>{t("requests.customer")}</dt><dd>{customer_label(&r.customer)}</dd>
                    <dt>{t("requests.address")}</dt><dd>{r.address.clone()}</dd>
                    <dt>{t("dealers.region")}</dt><dd>{r.region_code.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>{t("requests.service")}</dt><dd>{service_label(r.service)}</dd>
                    <dt>{t("requests.equipment")}</dt><dd>{r.equipment.join(", ")}</dd>
                    <dt>{t("requests.window")}</dt>
                    <dd>{match (r.window_from, r.window_to) {
                        (Some(a), Some(b)) => format!("{} – {}", when(&a), when(&b)),
                        (Some(a), None) => when(&a),
                        _ => "—".into(),
                    }}</dd>
                    <dt>{t("requests.notes")}</dt><dd>{r.notes.clone()}</dd>
                    <dt>{t("requests.created")}</dt><dd>{when(&r.created_at)}</dd>
                </dl>
                {r.completion.clone().map(|c| view! {
                    <h2>{t("requests.completion")}</h2>
                    <dl class="facts" data-testid="completion">
                        <dt>{t("requests.serials")}</dt><dd>{c.serials.join(", ")}</dd>
                        <dt>{t("requests.photos")}</dt>
                        <dd>{c.photos.into_iter().map(|p| view! { <a href=p.url target="_blank" rel="noopener">{p.name}</a> " " }).collect_view()}</dd>
                        <dt>{t("requests.notes")}</dt><dd>{c.notes}</dd>
                    </dl>
                })}
            </section>
            <section class="card">
                <h2>{t("requests.where")}</h2>
                <MapView spec=spec/>
            </section>
        </div>
        {explanation}
        {(!rejections.is_empty()).then(|| view! {
            <section class="card">
                <h2>{t("requests.rejections")}</h2>
                <ul class="plain" data-testid="rejections">
                    {rejections.into_iter().map(|j| view! {
                        <li>
                            <span class="strong">{j.dealer_name}</span> " — "
                            {t(&format!("requests.rejection.{}", j.reason.as_str()))}
                            {(!j.note.is_empty()).then(|| format!(": {}", j.note))}
                            <span class="muted small">" · " {when(&j.at)}</span>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        {can_override.then(|| view! { <OverrideForm id=rid service=service on_change=on_change/> })}
    }
}

#[component]
fn OverrideForm(id: Id, service: ServiceType, on_change: Callback<()>) -> impl IntoView {
    let dealers = LocalResource::new(move || async move {
        let q = vec![
            ("service".to_string(), service.as_str().to_string()),
            ("status".to_string(), "active".to_string()),
            ("load_max".to_string(), "99".to_string()),
            ("limit".to_string(), "100".to_string()),
            ("sort".to_string(), "-rating".to_string()),
        ];
        api::get_query::<Page<Dealer>>("/api/v1/dealers", &q)
            .await
            .map(|p| p.items)
            .unwrap_or_default()
    });
    let dealer = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let options = Signal::derive(move || {
        dealers
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(|d| {
                (
                    d.id.to_string(),
                    format!(
                        "{} · ★ {:.1} · {}/{}",
                        d.name, d.rating, d.open_jobs, d.capacity
                    ),
                )
            })
            .collect::<Vec<_>>()
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(dealer_id) = dealer.get_untracked().parse::<Id>() else {
            errors.set("dealer_id", t("err.required"));
            return;
        };
        let input = OverrideAssignment {
            dealer_id,
            reason: reason.get_untracked().trim().to_string(),
        };
        if !errors.check(input.validate()) {
            return;
        }
        spawn_local(async move {
            match api::post::<_, InstallationRequest>(
                &format!("/api/v1/installation-requests/{id}/assign"),
                &input,
            )
            .await
            {
                Ok(_) => {
                    Toasts::success(t("requests.overridden"));
                    on_change.run(());
                }
                Err(e) => {
                    if !errors.absorb(&e) {
                        Toasts::error(e.message());
                    }
                }
            }
        });
    };
    view! {
        <section class="card">
            <h2>{t("requests.override")}</h2>
            <form class="form form-inline" on:submit=submit novalidate=true data-testid="override-form">
                <SelectField label=t("requests.dealer") name="dealer_id" value=dealer errors=errors options=options empty="—"/>
                <TextField label=t("requests.override_reason") name="reason" value=reason errors=errors required=true/>
                <div class="form-actions"><button type="submit" class="btn btn-primary">{t("requests.assign")}</button></div>
            </form>
        </section>
    }
}

/// `/jobs`: the dealer's inbox — jobs offered to it (with the time left) and the ones it took.
/// New offers arrive live through the notification stream.
#[component]
pub fn JobsPage() -> impl IntoView {
    view! {
        <Require resource=Resource::InstallationRequests action=Action::View>
            <Jobs/>
        </Require>
    }
}

#[component]
fn Jobs() -> impl IntoView {
    let query = ListQuery::new("-created_at");
    let status = RwSignal::new(String::new());
    let errors = FormErrors::new();
    Effect::new(move |_| {
        let v = status.get();
        if v != query.filter("status") {
            query.set_filter("status", v);
        }
    });
    let data = LocalResource::new(move || {
        let params = query.params();
        async move {
            api::get_query::<Page<InstallationRequest>>("/api/v1/installation-requests", &params)
                .await
        }
    });
    let handle = window_event_listener_untyped("dealernet-push", move |_| data.refetch());
    on_cleanup(move || handle.remove());
    let reject_open = RwSignal::new(false);
    let complete_open = RwSignal::new(false);
    let current = RwSignal::new(0 as Id);
    let reason = RwSignal::new("no_capacity".to_string());
    let note = RwSignal::new(String::new());
    let kind = RwSignal::new("installation".to_string());
    let serials = RwSignal::new(String::new());
    let photos = RwSignal::new(String::new());
    let done_notes = RwSignal::new(String::new());
    let accept = move |id: Id| {
        spawn_local(async move {
            match api::post::<_, InstallationRequest>(
                &format!("/api/v1/installation-requests/{id}/accept"),
                &(),
            )
            .await
            {
                Ok(_) => {
                    Toasts::success(t("jobs.accepted"));
                    data.refetch();
                }
                Err(e) => Toasts::error(e.message()),
            }
        });
    };
    let submit_reject = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = RejectJob {
            reason: RejectionReason::parse(&reason.get_untracked())
                .unwrap_or(RejectionReason::Other),
            note: note.get_untracked().trim().to_string(),
        };
        if !errors.check(input.validate()) {
            return;
        }
        let id = current.get_untracked();
        spawn_local(async move {
            match api::post_empty(
                &format!("/api/v1/installation-requests/{id}/reject"),
                &input,
            )
            .await
            {
                Ok(()) => {
                    Toasts::success(t("jobs.rejected"));
                    reject_open.set(false);
                    data.refetch();
                }
                Err(e) => {
                    if !errors.absorb(&e) {
                        Toasts::error(e.message());
                    }
                }
            }
        });
    };
    let submit_complete = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = CompleteJob {
            kind: if kind.get_untracked() == "repair" {
                CompletionKind::Repair
            } else {
                CompletionKind::Installation
            },
            serials: serials
                .get_untracked()
                .split([',', '\n', ' '])
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            photos: photos
                .get_untracked()
                .split([',', '\n', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|u| Attachment {
                    name: u.rsplit('/').next().unwrap_or(u).to_string(),
                    url: u.to_string(),
                })
                .collect(),
            notes: done_notes.get_untracked().trim().to_string(),
        };
        if !errors.check(input.validate()) {
            return;
        }
        let id = current.get_untracked();
        spawn_local(async move {
            match api::post::<_, InstallationRequest>(
                &format!("/api/v1/installation-requests/{id}/complete"),
                &input,
            )
            .await
            {
                Ok(_) => {
                    Toasts::success(t("jobs.completed"));
                    complete_open.set(false);
                    data.refetch();
                }
                Err(e) => {
                    if !errors.absorb(&e) {
                        Toasts::error(e.message());
                    }
                }
            }
        });
    };
    let open_reject = move |id: Id| {
        current.set(id);
        note.set(String::new());
        errors.clear();
        reject_open.set(true);
    };
    let open_complete = move |id: Id, service: ServiceType| {
        current.set(id);
        kind.set(service.as_str().to_string());
        serials.set(String::new());
        photos.set(String::new());
        done_notes.set(String::new());
        errors.clear();
        complete_open.set(true);
    };
    let columns = vec![
        Column::new("job", t("jobs.job"), |r: &InstallationRequest| {
            view! {
                <div class="strong">{format!("#{} · {}", r.id, service_label(r.service))}</div>
                <div class="small">{r.address.clone()}</div>
                <div class="muted small">{customer_label(&r.customer)}</div>
            }
        })
        .fixed(),
        Column::new("equipment", t("requests.equipment"), |r: &InstallationRequest| r.equipment.join(", ")),
        Column::new("window", t("requests.window"), |r: &InstallationRequest| match (r.window_from, r.window_to) {
            (Some(a), Some(b)) => format!("{} – {}", when(&a), when(&b)),
            _ => "—".into(),
        }),
        Column::new("status", t("requests.status"), |r: &InstallationRequest| {
            view! {
                {request_status_badge(r.status)}
                {r.offer_expires_at.map(|e| view! { <div class="muted small">{tf("requests.expires", &[("at", &when(&e))])}</div> })}
            }
        })
        .sortable("status"),
        Column::new("actions", "", move |r: &InstallationRequest| {
            let id = r.id;
            let service = r.service;
            match r.status {
                RequestStatus::Offered => view! {
                    <div class="row-actions">
                        <button type="button" class="btn btn-small btn-primary" data-testid="job-accept" on:click=move |_| accept(id)>{t("jobs.accept")}</button>
                        <button type="button" class="btn btn-small" data-testid="job-reject" on:click=move |_| open_reject(id)>{t("jobs.reject")}</button>
                    </div>
                }.into_any(),
                RequestStatus::Accepted => view! {
                    <button type="button" class="btn btn-small btn-primary" data-testid="job-complete" on:click=move |_| open_complete(id, service)>{t("jobs.complete")}</button>
                }.into_any(),
                _ => ().into_any(),
            }
        })
        .fixed()
        .class("actions"),
    ];
    let reason_options = Signal::derive(|| {
        RejectionReason::ALL
            .iter()
            .filter(|r| **r != RejectionReason::Timeout)
            .map(|r| {
                (
                    r.as_str().to_string(),
                    t(&format!("requests.rejection.{}", r.as_str())).to_string(),
                )
            })
            .collect::<Vec<_>>()
    });
    let kind_options = Signal::derive(|| {
        vec![
            (
                "installation".to_string(),
                t("dealers.service.installation").to_string(),
            ),
            (
                "repair".to_string(),
                t("dealers.service.repair").to_string(),
            ),
        ]
    });
    view! {
        <div class="page" data-testid="jobs-page">
            <Breadcrumb items=vec![(t("nav.jobs").to_string(), None)]/>
            <div class="page-head"><h1>{t("nav.jobs")}</h1></div>
            <div class="filters">
                <SearchBox query=query placeholder=t("requests.search")/>
                <SelectField label=t("requests.status") name="filter-status" value=status errors=errors options=status_options() empty=t("common.any")/>
            </div>
            <DataTable id="jobs" columns=columns query=query data=data row_key=|r: &InstallationRequest| r.id empty=t("jobs.empty")/>
            <Modal open=reject_open title=Signal::derive(|| t("jobs.reject_title").to_string())>
                <form class="form" on:submit=submit_reject novalidate=true data-testid="reject-form">
                    <SelectField label=t("jobs.reason") name="reason" value=reason errors=errors options=reason_options/>
                    <TextField label=t("jobs.note") name="note" value=note errors=errors/>
                    <p class="field-error" role="alert">{move || errors.get("__all__")}</p>
                    <div class="form-actions">
                        <button type="button" class="btn" on:click=move |_| reject_open.set(false)>{t("common.cancel")}</button>
                        <button type="submit" class="btn btn-danger" data-testid="reject-confirm">{t("jobs.reject")}</button>
                    </div>
                </form>
            </Modal>
            <Modal open=complete_open title=Signal::derive(|| t("jobs.complete_title").to_string())>
                <form class="form" on:submit=submit_complete novalidate=true data-testid="complete-form">
                    <SelectField label=t("jobs.kind") name="kind" value=kind errors=errors options=kind_options/>
                    <TextField label=t("requests.serials") name="serials" value=serials errors=errors hint=t("jobs.serials_hint")/>
                    <TextField label=t("requests.photos") name="photos" value=photos errors=errors hint=t("jobs.photos_hint")/>
                    <TextField label=t("requests.notes") name="notes" value=done_notes errors=errors/>
                    <div class="form-actions">
                        <button type="button" class="btn" on:click=move |_| complete_open.set(false)>{t("common.cancel")}</button>
                        <button type="submit" class="btn btn-primary" data-testid="complete-confirm">{t("jobs.complete")}</button>
                    </div>
                </form>
            </Modal>
        </div>
    }
}

/// `/admin/requests/metrics`: assignment speed, rejections and completion times.
#[component]
pub fn MetricsPage() -> impl IntoView {
    let data = LocalResource::new(|| async {
        api::get::<dealernet_domain::dealers::requests::AssignmentMetrics>(
            "/api/v1/installation-requests/metrics",
        )
        .await
    });
    let fmt =
        |s: &dealernet_domain::dealers::requests::DurationStats| match (s.mean_secs, s.p90_secs) {
            (Some(m), Some(p)) => tf(
                "requests.stat",
                &[
                    ("n", &s.count.to_string()),
                    ("mean", &format!("{m:.0}")),
                    ("p90", &format!("{p:.0}")),
                ],
            ),
            _ => "—".to_string(),
        };
    view! {
        <Require resource=Resource::InstallationRequests action=Action::View>
            <div class="page" data-testid="metrics-page">
                <Breadcrumb items=vec![
                    (t("nav.requests").to_string(), Some("/admin/requests".to_string())),
                    (t("requests.metrics").to_string(), None),
                ]/>
                <div class="page-head"><h1>{t("requests.metrics")}</h1></div>
                {move || match data.get() {
                    None => view! { <p class="table-state">"…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="table-state error">{e.message()}</p> }.into_any(),
                    Some(Ok(m)) => view! {
                        <div class="dealer-grid">
                            <section class="card">
                                <dl class="facts">
                                    <dt>{t("requests.count")}</dt><dd>{m.requests}</dd>
                                    <dt>{t("requests.time_to_assignment")}</dt><dd>{fmt(&m.time_to_assignment)}</dd>
                                    <dt>{t("requests.time_to_acceptance")}</dt><dd>{fmt(&m.time_to_acceptance)}</dd>
                                </dl>
                                <h2>{t("requests.rejections")}</h2>
                                <ul class="plain">
                                    {m.rejections_by_reason.iter().map(|(k, v)| view! {
                                        <li>{t(&format!("requests.rejection.{k}"))} ": " <strong>{*v}</strong></li>
                                    }).collect_view()}
                                </ul>
                            </section>
                            <section class="card">
                                <h2>{t("requests.completion_by_dealer")}</h2>
                                <ul class="plain">
                                    {m.completion_by_dealer.iter().map(|(k, v)| view! { <li>{k.clone()} ": " {fmt(v)}</li> }).collect_view()}
                                </ul>
                                <h2>{t("requests.completion_by_region")}</h2>
                                <ul class="plain">
                                    {m.completion_by_region.iter().map(|(k, v)| view! { <li>{k.clone()} ": " {fmt(v)}</li> }).collect_view()}
                                </ul>
                            </section>
                        </div>
                    }.into_any(),
                }}
            </div>
        </Require>
    }
}
