//! Requests (deals): the list across all clients with filters, the form with equipment line
//! items that autocomplete level by level, and the card with the status timeline, the delivery
//! stepper, finance, documents, comments, reminders and history.

use dealernet_domain::Id;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::crm::{
    ChangeDelivery, ChangeStatus, Client, CreateDeal, Deal, DealEvent, DealEventKind, DealStatus,
    DeliveryStage, ItemLevel, LineItem, UpdateDeal,
};
use dealernet_domain::list::Page;
use dealernet_domain::reminders::TargetKind;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use validator::Validate;

use super::shared::{
    CommentsPanel, DealStatusBadge, DocumentsPanel, ExportButtons, RemindersPanel, Tabs, report,
    stage_label, status_label,
};
use crate::api::{self, ApiError};
use crate::components::{
    Breadcrumb, Column, DataTable, FormErrors, ListQuery, SearchBox, SelectField, TextField, Toasts,
};
use crate::i18n::{t, tf};
use crate::pages::audit::History;
use crate::pages::reminders::RemindButton;
use crate::pages::shell::Require;
use crate::pages::when;
use crate::session::Session;

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn status_options() -> Signal<Vec<(String, String)>> {
    Signal::derive(|| {
        DealStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), status_label(*s).to_string()))
            .collect()
    })
}

fn stage_options() -> Signal<Vec<(String, String)>> {
    Signal::derive(|| {
        DeliveryStage::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), stage_label(*s).to_string()))
            .collect()
    })
}

fn items_text(items: &[LineItem]) -> String {
    items
        .iter()
        .map(|i| {
            let mut s = format!("{} {}", i.equipment_type, i.name);
            for p in [&i.sub_name, &i.capacity] {
                if !p.is_empty() {
                    s.push(' ');
                    s.push_str(p);
                }
            }
            if i.quantity > 1 {
                s.push_str(&format!(" ×{}", i.quantity));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[component]
pub fn RequestsPage() -> impl IntoView {
    view! {
        <Require resource=Resource::Deals action=Action::View>
            <RequestsList/>
        </Require>
    }
}

#[component]
fn RequestsList() -> impl IntoView {
    let session = Session::get();
    let query = ListQuery::new("-date");
    let data = LocalResource::new(move || {
        let params = query.params();
        async move { api::get_query::<Page<Deal>>("/api/v1/deals", &params).await }
    });
    let filter_errors = FormErrors::new();
    let status = RwSignal::new(String::new());
    let stage = RwSignal::new(String::new());
    let date_from = RwSignal::new(String::new());
    let date_to = RwSignal::new(String::new());
    Effect::new(move |_| query.set_filter("status", status.get()));
    Effect::new(move |_| query.set_filter("delivery_stage", stage.get()));
    Effect::new(move |_| {
        let v = date_from.get();
        if v != query.filter("date_from") {
            query.set_filter("date_from", v);
        }
    });
    Effect::new(move |_| {
        let v = date_to.get();
        if v != query.filter("date_to") {
            query.set_filter("date_to", v);
        }
    });
    let mut columns = vec![
        Column::new("number", t("crm.deal.number"), |d: &Deal| {
            let number = d.number.clone();
            view! { <A href=format!("/crm/requests/{}", d.id) attr:class="strong">{number}</A> }
        })
        .sortable("number")
        .fixed(),
        Column::new("date", t("crm.deal.date"), |d: &Deal| d.date.to_string()).sortable("date"),
        Column::new("client", t("crm.deal.client"), |d: &Deal| {
            let name = d.client_name.clone();
            view! { <A href=format!("/crm/clients/{}", d.client_id)>{name}</A> }
        })
        .sortable("client_name"),
        Column::new("items", t("crm.deal.items"), |d: &Deal| {
            items_text(&d.items)
        }),
        Column::new("status", t("crm.deal.status"), |d: &Deal| {
            view! { <DealStatusBadge status=d.status/> }
        })
        .sortable("status"),
        Column::new("delivery", t("crm.deal.delivery"), |d: &Deal| {
            d.delivery_stage
                .map(|s| format!("{}/5 · {}", s.step(), stage_label(s)))
                .unwrap_or_else(|| "—".into())
        }),
    ];
    if !session.hidden(Resource::Deals, "contract_price") {
        columns.push(
            Column::new("price", t("crm.deal.price"), |d: &Deal| {
                d.contract_price
                    .as_ref()
                    .map(|p| format!("{p} {}", d.currency.clone().unwrap_or_default()))
                    .unwrap_or_default()
            })
            .sortable("contract_price")
            .class("num"),
        );
    }
    columns.push(Column::new("manager", t("crm.manager"), |d: &Deal| {
        d.manager_name.clone().unwrap_or_else(|| "—".into())
    }));
    columns.push(
        Column::new("actions", "", |d: &Deal| {
            view! {
                <div class="row-actions">
                    <A href=format!("/crm/requests/{}", d.id) attr:class="btn btn-small">{t("common.open")}</A>
                    <RemindButton target_kind=TargetKind::Deal target_id=d.id label=format!("{} · {}", d.number, d.client_name)/>
                </div>
            }
        })
        .fixed()
        .class("actions"),
    );
    let params = Signal::derive(move || query.params());
    view! {
        <div class="page">
            <Breadcrumb items=vec![(t("crm.requests").to_string(), None)]/>
            <div class="page-head">
                <h1>{t("crm.requests")}</h1>
                <div class="page-actions">
                    <ExportButtons resource=Resource::Deals path="/api/v1/deals/export" base_name="requests" params=params/>
                    <Show when=move || session.can(Resource::Deals, Action::Create)>
                        <A href="/crm/requests/new" attr:class="btn btn-primary" attr:data-testid="new-request">{t("crm.deal.new")}</A>
                    </Show>
                </div>
            </div>
            <div class="filters">
                <SearchBox query=query placeholder=t("crm.deal.search")/>
                <SelectField label=t("crm.deal.status") name="filter-status" value=status errors=filter_errors options=status_options() empty=t("common.any")/>
                <SelectField label=t("crm.deal.delivery") name="filter-stage" value=stage errors=filter_errors options=stage_options() empty=t("common.any")/>
                <TextField label=t("crm.deal.date_from") name="filter-date-from" value=date_from errors=filter_errors kind="date"/>
                <TextField label=t("crm.deal.date_to") name="filter-date-to" value=date_to errors=filter_errors kind="date"/>
            </div>
            <DataTable id="requests" columns=columns query=query data=data row_key=|d: &Deal| d.id empty=t("crm.deal.empty")/>
        </div>
    }
}

/// A text input that suggests values entered before at its level of the line items, narrowed
/// by the levels above.
#[component]
fn Autocomplete(
    label: &'static str,
    name: String,
    level: ItemLevel,
    value: RwSignal<String>,
    above: Signal<Vec<(&'static str, String)>>,
    errors: FormErrors,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let options = RwSignal::new(Vec::<String>::new());
    let generation = StoredValue::new(0u64);
    let fetch = move || {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let mut q: Vec<(String, String)> = vec![("level".into(), level.as_str().into())];
        for (k, v) in above.get_untracked() {
            if !v.trim().is_empty() {
                q.push((k.into(), v));
            }
        }
        let typed = value.get_untracked();
        if !typed.trim().is_empty() {
            q.push(("q".into(), typed));
        }
        spawn_local(async move {
            if let Ok(list) = api::get_query::<Vec<String>>("/api/v1/deals/suggestions", &q).await
                && generation.get_value() == mine
            {
                options.set(list);
            }
        });
    };
    let field = name.clone();
    let field2 = name.clone();
    let id = format!("f-{}", name.replace(['[', ']', '.'], "-"));
    let for_id = id.clone();
    view! {
        <div class="field autocomplete" data-field=name.clone()>
            <label class="field-label" for=for_id>{t(label)}</label>
            <input
                id=id
                name=name.clone()
                autocomplete="off"
                prop:value=move || value.get()
                on:focus=move |_| {
                    open.set(true);
                    fetch();
                }
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    errors.clear_field(&field2);
                    open.set(true);
                    fetch();
                }
                on:blur=move |_| {
                    // Let a click on a suggestion land first.
                    set_timeout(move || open.set(false), std::time::Duration::from_millis(200));
                }
            />
            <Show when=move || open.get() && !options.get().is_empty()>
                <ul class="suggestions" role="listbox" data-testid="suggestions">
                    {move || options.get().into_iter().map(|o| {
                        let pick = o.clone();
                        view! {
                            <li role="option" on:mousedown=move |ev| {
                                ev.prevent_default();
                                value.set(pick.clone());
                                open.set(false);
                            }>{o}</li>
                        }
                    }).collect_view()}
                </ul>
            </Show>
            <p class="field-error" role="alert">{move || errors.get(&field)}</p>
        </div>
    }
}

/// One line item being edited.
#[derive(Clone, Copy)]
struct ItemRow {
    key: u64,
    equipment_type: RwSignal<String>,
    name: RwSignal<String>,
    sub_name: RwSignal<String>,
    capacity: RwSignal<String>,
    quantity: RwSignal<String>,
}

impl ItemRow {
    fn new(key: u64, from: Option<&LineItem>) -> Self {
        ItemRow {
            key,
            equipment_type: RwSignal::new(
                from.map(|i| i.equipment_type.clone()).unwrap_or_default(),
            ),
            name: RwSignal::new(from.map(|i| i.name.clone()).unwrap_or_default()),
            sub_name: RwSignal::new(from.map(|i| i.sub_name.clone()).unwrap_or_default()),
            capacity: RwSignal::new(from.map(|i| i.capacity.clone()).unwrap_or_default()),
            quantity: RwSignal::new(from.map(|i| i.quantity).unwrap_or(1).to_string()),
        }
    }

    fn item(&self) -> LineItem {
        LineItem {
            equipment_type: self.equipment_type.get_untracked().trim().to_string(),
            name: self.name.get_untracked().trim().to_string(),
            sub_name: self.sub_name.get_untracked().trim().to_string(),
            capacity: self.capacity.get_untracked().trim().to_string(),
            quantity: self.quantity.get_untracked().trim().parse().unwrap_or(0),
        }
    }
}

/// The line items editor: rows of type → name → sub-name → capacity × quantity.
#[component]
fn ItemsEditor(rows: RwSignal<Vec<ItemRow>>, errors: FormErrors) -> impl IntoView {
    let next = StoredValue::new(1000u64);
    let add = move |_| {
        next.update_value(|n| *n += 1);
        let k = next.get_value();
        rows.update(|r| r.push(ItemRow::new(k, None)));
    };
    view! {
        <fieldset class="items-editor" data-testid="line-items">
            <legend class="field-label">{t("crm.deal.items")}</legend>
            <For
                each=move || rows.get().into_iter().enumerate()
                key=|(_, r)| r.key
                children=move |(i, r)| {
                    let p = |f: &str| format!("items[{i}].{f}");
                    let above_name = Signal::derive(move || vec![("equipment_type", r.equipment_type.get())]);
                    let above_sub = Signal::derive(move || vec![("equipment_type", r.equipment_type.get()), ("name", r.name.get())]);
                    let above_cap = Signal::derive(move || vec![
                        ("equipment_type", r.equipment_type.get()),
                        ("name", r.name.get()),
                        ("sub_name", r.sub_name.get()),
                    ]);
                    let key = r.key;
                    view! {
                        <div class="item-row" data-testid="line-item">
                            <Autocomplete label="crm.item.type" name=p("equipment_type") level=ItemLevel::Type value=r.equipment_type above=Signal::derive(Vec::new) errors=errors/>
                            <Autocomplete label="crm.item.name" name=p("name") level=ItemLevel::Name value=r.name above=above_name errors=errors/>
                            <Autocomplete label="crm.item.sub_name" name=p("sub_name") level=ItemLevel::SubName value=r.sub_name above=above_sub errors=errors/>
                            <Autocomplete label="crm.item.capacity" name=p("capacity") level=ItemLevel::Capacity value=r.capacity above=above_cap errors=errors/>
                            <TextField label=t("crm.item.quantity") name=p("quantity") value=r.quantity errors=errors kind="number"/>
                            <button type="button" class="btn btn-small btn-ghost item-remove" aria-label=t("crm.item.remove")
                                on:click=move |_| rows.update(|v| v.retain(|x| x.key != key))>
                                "×"
                            </button>
                        </div>
                    }
                }
            />
            <button type="button" class="btn btn-small" data-testid="add-item" on:click=add>{t("crm.item.add")}</button>
        </fieldset>
    }
}

#[component]
pub fn RequestCreate() -> impl IntoView {
    view! {
        <Require resource=Resource::Deals action=Action::Create>
            <RequestCreateForm/>
        </Require>
    }
}

#[component]
fn RequestCreateForm() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let errors = FormErrors::new();
    let client_id = RwSignal::new(query.with_untracked(|q| q.get("client_id").unwrap_or_default()));
    let clients = LocalResource::new(|| async {
        api::get_query::<Page<Client>>(
            "/api/v1/clients",
            &[
                ("limit".into(), "100".into()),
                ("sort".into(), "name".into()),
            ],
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default()
    });
    let client_options = Signal::derive(move || {
        clients
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(|c| (c.id.to_string(), c.name))
            .collect::<Vec<_>>()
    });
    let date = RwSignal::new(String::new());
    let customer = RwSignal::new(String::new());
    let payment_terms = RwSignal::new(String::new());
    let price = RwSignal::new(String::new());
    let currency = RwSignal::new("RUB".to_string());
    let rows = RwSignal::new(vec![ItemRow::new(1, None)]);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(cid) = client_id.get_untracked().parse::<Id>() else {
            errors.set("client_id", t("crm.deal.client_required"));
            return;
        };
        let has_price = opt(&price.get_untracked()).is_some();
        let input = CreateDeal {
            client_id: cid,
            date: date.get_untracked().parse().ok(),
            customer: customer.get_untracked().trim().to_string(),
            items: rows.get_untracked().iter().map(ItemRow::item).collect(),
            status: None,
            payment_terms: opt(&payment_terms.get_untracked()),
            contract_no: None,
            invoice_no: None,
            contract_price: opt(&price.get_untracked()),
            currency: if has_price {
                opt(&currency.get_untracked())
            } else {
                None
            },
            finance_comment: None,
            manager_id: None,
        };
        if !errors.check(input.validate()) {
            return;
        }
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::post::<_, Deal>("/api/v1/deals", &input).await {
                Ok(d) => {
                    Toasts::success(tf("crm.deal.created", &[("number", &d.number)]));
                    navigate(&format!("/crm/requests/{}", d.id), Default::default());
                }
                Err(e) => {
                    busy.set(false);
                    report(errors, &e);
                }
            }
        });
    };
    view! {
        <div class="page narrow wide-form">
            <Breadcrumb items=vec![
                (t("crm.requests").to_string(), Some("/crm/requests".to_string())),
                (t("crm.deal.new").to_string(), None),
            ]/>
            <h1>{t("crm.deal.new")}</h1>
            <form class="card form" on:submit=submit novalidate=true data-testid="request-form">
                <div class="grid-2">
                    <SelectField label=t("crm.deal.client") name="client_id" value=client_id errors=errors options=client_options empty=t("crm.deal.choose_client")/>
                    <TextField label=t("crm.deal.date") name="date" value=date errors=errors kind="date" hint=t("crm.deal.date_hint")/>
                    <TextField label=t("crm.deal.customer") name="customer" value=customer errors=errors hint=t("crm.deal.customer_hint")/>
                    <TextField label=t("crm.deal.payment_terms") name="payment_terms" value=payment_terms errors=errors/>
                    <TextField label=t("crm.deal.price") name="contract_price" value=price errors=errors placeholder="125000.00"/>
                    <TextField label=t("crm.deal.currency") name="currency" value=currency errors=errors/>
                </div>
                <ItemsEditor rows=rows errors=errors/>
                <div class="form-actions">
                    <A href="/crm/requests" attr:class="btn">{t("common.cancel")}</A>
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get() data-testid="request-save">
                        {t("crm.deal.create")}
                    </button>
                </div>
            </form>
        </div>
    }
}

#[component]
pub fn RequestCard() -> impl IntoView {
    view! {
        <Require resource=Resource::Deals action=Action::View>
            <RequestLoader/>
        </Require>
    }
}

#[component]
fn RequestLoader() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<Id>().ok()));
    let deal = LocalResource::new(move || {
        let id = id();
        async move {
            match id {
                Some(id) => api::get_versioned::<Deal>(&format!("/api/v1/deals/{id}")).await,
                None => Err(ApiError::Network(t("notfound.title").to_string())),
            }
        }
    });
    view! {
        <div class="page">
            {move || match deal.get() {
                None => view! { <div class="card"><span class="skeleton wide"></span></div> }.into_any(),
                Some(Err(e)) => view! {
                    <div class="state-page" data-testid="not-found">
                        <h1>{if e.status() == 404 { t("notfound.title").to_string() } else { e.message() }}</h1>
                        <A href="/crm/requests" attr:class="btn">{t("common.back")}</A>
                    </div>
                }.into_any(),
                Some(Ok(v)) => view! { <RequestView deal=v.value etag=v.etag on_changed=move || deal.refetch()/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn RequestView(
    deal: Deal,
    etag: Option<String>,
    on_changed: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = Session::get();
    let tab = RwSignal::new("timeline");
    let id = deal.id;
    let label = format!("{} · {}", deal.number, deal.client_name);
    let can_edit = session.can(Resource::Deals, Action::Edit);
    let timeline = LocalResource::new(move || async move {
        api::get::<Vec<DealEvent>>(&format!("/api/v1/deals/{id}/timeline")).await
    });
    let changed = move || {
        on_changed();
    };
    let etag = StoredValue::new(etag);
    let client_name = deal.client_name.clone();
    view! {
        <Breadcrumb items=vec![
            (t("crm.requests").to_string(), Some("/crm/requests".to_string())),
            (deal.number.clone(), None),
        ]/>
        <div class="page-head">
            <div>
                <h1 data-testid="request-number">{deal.number.clone()}</h1>
                <p class="muted">
                    <A href=format!("/crm/clients/{}", deal.client_id)>{client_name}</A>
                    {format!(" · {} · {}", deal.date, deal.manager_name.clone().unwrap_or_else(|| "—".into()))}
                </p>
            </div>
            <div class="page-actions">
                <span data-testid="request-status"><DealStatusBadge status=deal.status/></span>
                <RemindButton target_kind=TargetKind::Deal target_id=id label=label.clone()/>
            </div>
        </div>
        <DeliveryStepper stage=deal.delivery_stage id=id can_edit=can_edit on_changed=changed/>
        <div class="grid-2 card-grid">
            <section class="card">
                <h2>{t("crm.deal.items")}</h2>
                <table class="table" data-testid="request-items">
                    <thead><tr><th>{t("crm.item.type")}</th><th>{t("crm.item.name")}</th><th>{t("crm.item.sub_name")}</th><th>{t("crm.item.capacity")}</th><th class="num">{t("crm.item.quantity")}</th></tr></thead>
                    <tbody>
                        {deal.items.iter().map(|i| view! {
                            <tr><td>{i.equipment_type.clone()}</td><td>{i.name.clone()}</td><td>{i.sub_name.clone()}</td><td>{i.capacity.clone()}</td><td class="num">{i.quantity}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
                {(!deal.customer.is_empty()).then(|| view! { <p class="muted">{format!("{}: {}", t("crm.deal.customer"), deal.customer)}</p> })}
            </section>
            <FinancePanel deal=deal.clone() etag=etag.get_value() can_edit=can_edit on_changed=changed/>
        </div>
        {can_edit.then(|| view! { <StatusChanger current=deal.status id=id on_changed=changed/> })}
        <Tabs active=tab tabs=vec![
            ("timeline", "crm.tab.timeline"),
            ("documents", "crm.tab.documents"),
            ("comments", "crm.tab.comments"),
            ("reminders", "crm.tab.reminders"),
            ("history", "crm.tab.history"),
        ]/>
        {move || match tab.get() {
            "timeline" => view! {
                <section class="card" data-testid="timeline">
                    {move || match timeline.get() {
                        None => view! { <span class="skeleton wide"></span> }.into_any(),
                        Some(Err(e)) => view! { <p class="alert alert-danger">{e.message()}</p> }.into_any(),
                        Some(Ok(events)) => view! {
                            <ol class="timeline">
                                {events.into_iter().rev().map(|e| view! { <TimelineEntry event=e/> }).collect_view()}
                            </ol>
                        }.into_any(),
                    }}
                </section>
            }.into_any(),
            "documents" => view! { <DocumentsPanel kind="deals" id=id/> }.into_any(),
            "comments" => view! { <CommentsPanel kind="deals" id=id/> }.into_any(),
            "reminders" => view! { <RemindersPanel kind=TargetKind::Deal id=id label=label.clone()/> }.into_any(),
            _ => view! { <History entity=Resource::Deals id=id/> }.into_any(),
        }}
    }
}

#[component]
fn TimelineEntry(event: DealEvent) -> impl IntoView {
    let what = match event.kind {
        DealEventKind::Status => {
            let to = event
                .to
                .parse::<DealStatus>()
                .map(status_label)
                .unwrap_or("?");
            tf("crm.timeline.status", &[("to", to)])
        }
        DealEventKind::Delivery => {
            let to = event
                .to
                .parse::<DeliveryStage>()
                .map(stage_label)
                .unwrap_or("?");
            tf("crm.timeline.delivery", &[("to", to)])
        }
    };
    view! {
        <li data-testid="timeline-entry">
            <div class="timeline-head">
                <strong>{what}</strong>
                <span class="muted small">{format!("{} · {}", when(&event.at), event.actor_name.clone().unwrap_or_default())}</span>
            </div>
            {(!event.comment.is_empty()).then(|| view! { <p class="timeline-comment">{event.comment.clone()}</p> })}
        </li>
    }
}

/// Moves the request to another status; the comment is required (the shared validator says so).
#[component]
fn StatusChanger(
    current: DealStatus,
    id: Id,
    on_changed: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let errors = FormErrors::new();
    let status = RwSignal::new(String::new());
    let comment = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let options = Signal::derive(move || {
        DealStatus::ALL
            .iter()
            .filter(|s| **s != current)
            .map(|s| (s.as_str().to_string(), status_label(*s).to_string()))
            .collect::<Vec<_>>()
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(s) = status.get_untracked().parse::<DealStatus>() else {
            errors.set("status", t("crm.status.choose"));
            return;
        };
        let input = ChangeStatus {
            status: s,
            comment: comment.get_untracked().trim().to_string(),
        };
        if !errors.check(input.validate()) {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            match api::post::<_, Deal>(&format!("/api/v1/deals/{id}/status"), &input).await {
                Ok(_) => {
                    Toasts::success(tf("crm.status.changed", &[("status", status_label(s))]));
                    on_changed();
                }
                Err(e) => {
                    busy.set(false);
                    report(errors, &e);
                }
            }
        });
    };
    view! {
        <form class="card form status-form" on:submit=submit novalidate=true data-testid="status-form">
            <h2>{t("crm.status.change")}</h2>
            <div class="status-row">
                <SelectField label=t("crm.deal.status") name="status" value=status errors=errors options=options empty=t("crm.status.choose")/>
                <TextField label=t("crm.status.comment") name="comment" value=comment errors=errors required=true/>
                <button type="submit" class="btn btn-primary" disabled=move || busy.get() data-testid="status-save">{t("crm.status.apply")}</button>
            </div>
        </form>
    }
}

/// The five delivery stages as a stepper; the next stage can be recorded with one click.
#[component]
fn DeliveryStepper(
    stage: Option<DeliveryStage>,
    id: Id,
    can_edit: bool,
    on_changed: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let reached = stage.map(|s| s.step()).unwrap_or(0);
    let record = move |s: DeliveryStage| {
        spawn_local(async move {
            let input = ChangeDelivery {
                stage: s,
                comment: String::new(),
            };
            match api::post::<_, Deal>(&format!("/api/v1/deals/{id}/delivery"), &input).await {
                Ok(_) => on_changed(),
                Err(e) => Toasts::error(e.message()),
            }
        });
    };
    view! {
        <section class="card">
            <h2>{t("crm.deal.delivery")}</h2>
            <ol class="stepper" data-testid="delivery-stepper">
                {DeliveryStage::ALL.iter().map(|s| {
                    let s = *s;
                    let step = s.step();
                    let state = if step <= reached { "done" } else if step == reached + 1 { "next" } else { "todo" };
                    view! {
                        <li class=format!("step step-{state}") data-stage=s.as_str()>
                            <span class="step-dot">{step}</span>
                            <span class="step-label">{stage_label(s)}</span>
                            {(can_edit && state == "next").then(|| view! {
                                <button type="button" class="btn btn-small" data-testid="delivery-next" on:click=move |_| record(s)>{t("crm.stage.record")}</button>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
}

/// Finance: payment terms, contract and invoice numbers, price with currency, comment.
#[component]
fn FinancePanel(
    deal: Deal,
    etag: Option<String>,
    can_edit: bool,
    on_changed: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = Session::get();
    let errors = FormErrors::new();
    let editing = RwSignal::new(false);
    let hidden = move |f: &str| session.hidden(Resource::Deals, f);
    let payment_terms = RwSignal::new(deal.payment_terms.clone().unwrap_or_default());
    let contract_no = RwSignal::new(deal.contract_no.clone().unwrap_or_default());
    let invoice_no = RwSignal::new(deal.invoice_no.clone().unwrap_or_default());
    let price = RwSignal::new(deal.contract_price.clone().unwrap_or_default());
    let currency = RwSignal::new(deal.currency.clone().unwrap_or_default());
    let comment = RwSignal::new(deal.finance_comment.clone().unwrap_or_default());
    let original = StoredValue::new(deal.clone());
    let etag = StoredValue::new(etag);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let before = original.get_value();
        let changed = |old: &Option<String>, s: RwSignal<String>, f: &str| {
            let new = opt(&s.get_untracked());
            (old != &new && !hidden(f)).then_some(new)
        };
        let input = UpdateDeal {
            payment_terms: changed(&before.payment_terms, payment_terms, "payment_terms"),
            contract_no: changed(&before.contract_no, contract_no, "contract_no"),
            invoice_no: changed(&before.invoice_no, invoice_no, "invoice_no"),
            contract_price: changed(&before.contract_price, price, "contract_price"),
            currency: changed(&before.currency, currency, "currency"),
            finance_comment: changed(&before.finance_comment, comment, "finance_comment"),
            ..Default::default()
        };
        if !errors.check(input.validate()) {
            return;
        }
        spawn_local(async move {
            match api::patch::<_, Deal>(
                &format!("/api/v1/deals/{}", before.id),
                &input,
                etag.get_value().as_deref(),
            )
            .await
            {
                Ok(_) => {
                    Toasts::success(t("crm.deal.saved"));
                    on_changed();
                }
                Err(e) => report(errors, &e),
            }
        });
    };
    let row = move |label: &'static str, field: &'static str, v: Option<String>| {
        (!hidden(field)).then(|| {
            view! { <div class="kv"><dt>{t(label)}</dt><dd>{v.unwrap_or_else(|| "—".into())}</dd></div> }
        })
    };
    view! {
        <section class="card" data-testid="finance">
            <div class="card-head">
                <h2>{t("crm.deal.finance")}</h2>
                {can_edit.then(|| view! {
                    <button type="button" class="btn btn-small" data-testid="edit-finance" on:click=move |_| editing.update(|e| *e = !*e)>{t("common.edit")}</button>
                })}
            </div>
            <Show
                when=move || editing.get()
                fallback=move || {
                    let d = original.get_value();
                    view! {
                        <dl class="kv-grid">
                            {row("crm.deal.payment_terms", "payment_terms", d.payment_terms.clone())}
                            {row("crm.deal.contract_no", "contract_no", d.contract_no.clone())}
                            {row("crm.deal.invoice_no", "invoice_no", d.invoice_no.clone())}
                            {row("crm.deal.price", "contract_price", d.contract_price.clone().map(|p| format!("{p} {}", d.currency.clone().unwrap_or_default())))}
                            {row("crm.deal.finance_comment", "finance_comment", d.finance_comment.clone())}
                        </dl>
                        <p class="muted small">{t("crm.deal.finance_files")}</p>
                    }
                }
            >
                <form class="form" on:submit=submit novalidate=true>
                    <div class="grid-2">
                        {(!hidden("payment_terms")).then(|| view! { <TextField label=t("crm.deal.payment_terms") name="payment_terms" value=payment_terms errors=errors/> })}
                        {(!hidden("contract_no")).then(|| view! { <TextField label=t("crm.deal.contract_no") name="contract_no" value=contract_no errors=errors/> })}
                        {(!hidden("invoice_no")).then(|| view! { <TextField label=t("crm.deal.invoice_no") name="invoice_no" value=invoice_no errors=errors/> })}
                        {(!hidden("contract_price")).then(|| view! { <TextField label=t("crm.deal.price") name="contract_price" value=price errors=errors/> })}
                        {(!hidden("currency")).then(|| view! { <TextField label=t("crm.deal.currency") name="currency" value=currency errors=errors/> })}
                        {(!hidden("finance_comment")).then(|| view! { <TextField label=t("crm.deal.finance_comment") name="finance_comment" value=comment errors=errors/> })}
                    </div>
                    <div class="form-actions">
                        <button type="button" class="btn" on:click=move |_| editing.set(false)>{t("common.cancel")}</button>
                        <button type="submit" class="btn btn-primary">{t("common.save")}</button>
                    </div>
                </form>
            </Show>
        </section>
    }
}
