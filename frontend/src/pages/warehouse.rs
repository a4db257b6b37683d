//! The equipment warehouse in the SPA, for the back office (`/admin/warehouse…`) and the dealer
//! cabinet (`/cabinet/warehouse…`): stock by warehouse with totals, serial search with the
//! timeline, equipment orders on both sides (request and receive; approve, pick by scanning and
//! ship), receiving files with per-row errors, the repair desk and the overdue list.

use std::collections::BTreeSet;

use dealernet_domain::Id;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::list::Page;
use dealernet_domain::warehouse::{
    CancelOrder, CloseRepair, ConfirmReceipt, CreateOrder, Discrepancy, EquipmentModel,
    EquipmentOrder, Install, LineReceipt, Obligation, OrderLineInput, OrderStatus, OrderSummary,
    ReceiptResult, Repair, RepairIntake, RepairOutcome, RepairPreview, ShipOrder, ShipUnit,
    ShipmentStatus, StockLevel, StockReport, Timeline, TransferKind, TransferTerms, Warehouse,
    WarehouseKind, normalise_serial,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use validator::Validate;

use super::shell::Require;
use super::when;
use crate::api;
use crate::components::{
    Badge, Breadcrumb, CheckboxField, Column, DataTable, FormErrors, ListQuery, Modal, SelectField,
    TextField, Toasts, confirm,
};
use crate::i18n::{t, tf};
use crate::session::Session;

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

fn kind_label(k: WarehouseKind) -> &'static str {
    t(&format!("wh.kind.{}", k.as_str()))
}

fn transfer_label(k: TransferKind) -> &'static str {
    t(&format!("wh.transfer.{}", k.as_str()))
}

fn order_badge(s: OrderStatus) -> impl IntoView {
    let tone = match s {
        OrderStatus::Requested => "info",
        OrderStatus::Approved | OrderStatus::PartiallyShipped => "warning",
        OrderStatus::Shipped | OrderStatus::Completed => "success",
        OrderStatus::Cancelled => "neutral",
    };
    view! { <Badge tone=tone text=t(&format!("wh.order.{}", s.as_str())).to_string()/> }
}

fn place_badge(k: WarehouseKind) -> impl IntoView {
    let tone = match k {
        WarehouseKind::InTransit => "warning",
        WarehouseKind::Installed => "success",
        WarehouseKind::AtRepair => "danger",
        WarehouseKind::ReturnedToManufacturer | WarehouseKind::WrittenOff => "neutral",
        _ => "info",
    };
    view! { <Badge tone=tone text=kind_label(k).to_string()/> }
}

async fn warehouses(include_virtual: bool) -> Vec<Warehouse> {
    let q = vec![
        ("limit".to_string(), "100".to_string()),
        ("include_virtual".to_string(), include_virtual.to_string()),
    ];
    api::get_query::<Page<Warehouse>>("/api/v1/warehouses", &q)
        .await
        .map(|p| p.items)
        .unwrap_or_default()
}

async fn models() -> Vec<EquipmentModel> {
    let q = vec![("limit".to_string(), "100".to_string())];
    api::get_query::<Page<EquipmentModel>>("/api/v1/equipment-models", &q)
        .await
        .map(|p| p.items)
        .unwrap_or_default()
}

fn model_options(list: &[EquipmentModel]) -> Vec<(String, String)> {
    list.iter()
        .map(|m| (m.id.to_string(), format!("{} {}", m.manufacturer, m.model)))
        .collect()
}

fn warehouse_options(list: &[Warehouse]) -> Vec<(String, String)> {
    list.iter()
        .map(|w| (w.id.to_string(), format!("{} — {}", w.name, w.org_name)))
        .collect()
}

/// The serial search box: Enter opens the serial's timeline.
#[component]
fn SerialSearch(base: &'static str) -> impl IntoView {
    let value = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match normalise_serial(&value.get_untracked()) {
            Ok(s) => navigate(&format!("{base}/serial/{s}"), Default::default()),
            Err(m) => errors.set("serial", m),
        }
    };
    view! {
        <form class="inline-form" on:submit=submit data-testid="serial-search">
            <TextField label=t("wh.serial_search") name="serial" value=value errors=errors placeholder=t("wh.serial_placeholder")/>
            <button type="submit" class="btn">{t("wh.find")}</button>
        </form>
    }
}

// ---------------------------------------------------------------------------------------------
// Stock

/// Stock by warehouse: the warehouse tree on the left, levels and totals per model.
#[component]
pub fn StockPage(base: &'static str) -> impl IntoView {
    view! {
        <Require resource=Resource::Warehouses action=Action::View>
            <StockView base=base/>
        </Require>
    }
}

#[component]
fn StockView(base: &'static str) -> impl IntoView {
    let query = ListQuery::new("");
    let totals: RwSignal<Vec<(String, i64)>> = RwSignal::new(vec![]);
    let data = LocalResource::new(move || {
        let params = query.params();
        async move {
            let r = api::get_query::<StockReport>("/api/v1/stock", &params).await?;
            let next: Vec<(String, i64)> = r
                .totals
                .iter()
                .map(|m| (m.model_name.clone(), m.quantity))
                .collect();
            if totals.get_untracked() != next {
                totals.set(next);
            }
            Ok(Page::new(r.items, r.total))
        }
    });
    let tree = LocalResource::new(|| warehouses(false));
    let model_list = LocalResource::new(models);
    let errors = FormErrors::new();
    let model = RwSignal::new(String::new());
    let include_virtual = RwSignal::new(false);
    let selected = RwSignal::new(None::<Id>);
    Effect::new(move |_| {
        let m = model.get();
        if query.filter("model_id") != m {
            query.set_filter("model_id", m);
        }
    });
    Effect::new(move |_| {
        let v = if include_virtual.get() { "true" } else { "" }.to_string();
        if query.filter("include_virtual") != v {
            query.set_filter("include_virtual", v);
        }
    });
    Effect::new(move |_| {
        let w = selected.get().map(|w| w.to_string()).unwrap_or_default();
        if query.filter("warehouse_id") != w {
            query.set_filter("warehouse_id", w);
        }
    });
    let model_opts = Signal::derive(move || {
        model_list
            .get()
            .map(|l| model_options(&l))
            .unwrap_or_default()
    });
    let columns = vec![
        Column::new("warehouse", t("wh.warehouse"), |l: &StockLevel| {
            view! {
                <span>{l.warehouse_name.clone()}</span>
                " "
                {l.warehouse_kind.is_virtual().then(|| place_badge(l.warehouse_kind))}
            }
        })
        .fixed(),
        Column::new("model", t("wh.model"), |l: &StockLevel| {
            l.model_name.clone()
        }),
        Column::new("quantity", t("wh.quantity"), |l: &StockLevel| {
            view! { <span class="num strong">{l.quantity}</span> }
        })
        .class("num"),
    ];
    view! {
        <div class="page" data-testid="stock-page">
            <Breadcrumb items=vec![(t("wh.stock").to_string(), None)]/>
            <div class="page-head">
                <h1>{t("wh.stock")}</h1>
                <SerialSearch base=base/>
            </div>
            <div class="wh-layout">
                <aside class="card wh-tree" data-testid="warehouse-tree">
                    <h2>{t("wh.warehouses")}</h2>
                    <button
                        type="button"
                        class="wh-node"
                        class:active=move || selected.get().is_none()
                        on:click=move |_| selected.set(None)
                    >
                        {t("wh.all_warehouses")}
                    </button>
                    {move || match tree.get() {
                        None => view! { <span class="skeleton wide"></span> }.into_any(),
                        Some(list) if list.is_empty() => view! { <p class="muted small">{t("wh.no_warehouses")}</p> }.into_any(),
                        Some(list) => list
                            .into_iter()
                            .map(|w| {
                                let depth = w.org_path.matches('/').count().saturating_sub(2);
                                let id = w.id;
                                view! {
                                    <button
                                        type="button"
                                        class="wh-node"
                                        style=format!("padding-left: {}rem", 0.5 + depth as f32 * 0.9)
                                        class:active=move || selected.get() == Some(id)
                                        on:click=move |_| selected.set(Some(id))
                                    >
                                        <span>{w.name.clone()}</span>
                                        <span class="muted small">{format!(" · {}", kind_label(w.kind))}</span>
                                    </button>
                                }
                            })
                            .collect_view()
                            .into_any(),
                    }}
                </aside>
                <div class="stack">
                    <div class="cards" data-testid="stock-totals">
                        {move || {
                            let list = totals.get();
                            if list.is_empty() {
                                view! { <div class="card"><p class="muted">{t("wh.no_stock")}</p></div> }.into_any()
                            } else {
                                list.into_iter()
                                    .map(|(name, q)| view! {
                                        <div class="card stat">
                                            <div class="stat-label">{name}</div>
                                            <div class="stat-value">{q}</div>
                                        </div>
                                    })
                                    .collect_view()
                                    .into_any()
                            }
                        }}
                    </div>
                    <div class="filters">
                        <SelectField label=t("wh.model") name="model" value=model errors=errors options=model_opts empty=t("common.any")/>
                        <CheckboxField label=t("wh.include_virtual") name="include_virtual" value=include_virtual/>
                    </div>
                    <DataTable
                        id="stock"
                        columns=columns
                        query=query
                        data=data
                        row_key=|l: &StockLevel| l.warehouse_id * 1_000_000 + l.model_id
                        empty=t("wh.no_stock")
                    />
                </div>
            </div>
        </div>
    }
}

// ---------------------------------------------------------------------------------------------
// Serial timeline

fn reason_label(r: &str) -> &'static str {
    t(&format!("wh.reason.{r}"))
}

#[component]
fn WarrantyBadge(warranty: bool) -> impl IntoView {
    if warranty {
        view! { <Badge tone="success" text=t("wh.warranty_case").to_string()/> }
    } else {
        view! { <Badge tone="neutral" text=t("wh.no_warranty").to_string()/> }
    }
}

/// The whole story of a serial.
#[component]
fn TimelineView(tl: Timeline) -> impl IntoView {
    let u = tl.unit.clone();
    view! {
        <div class="grid-2">
            <section class="card" data-testid="unit-card">
                <h2 class="mono">{u.serial.clone()}</h2>
                <dl class="meta">
                    <dt>{t("wh.model")}</dt><dd>{u.model_name.clone()}</dd>
                    <dt>{t("wh.location")}</dt>
                    <dd data-testid="unit-location">{u.warehouse_name.clone()} " " {place_badge(u.warehouse_kind)}</dd>
                    <dt>{t("wh.condition")}</dt>
                    <dd>{t(&format!("wh.condition.{}", u.condition.as_str()))}{u.grade.clone().map(|g| format!(" · {g}"))}</dd>
                    {u.customer.clone().map(|c| view! { <dt>{t("wh.customer")}</dt><dd>{c}</dd> })}
                    {(!u.component_serials.is_empty()).then(|| view! {
                        <dt>{t("wh.components")}</dt><dd class="mono">{u.component_serials.join(", ")}</dd>
                    })}
                </dl>
            </section>
            <section class="card" data-testid="warranty-card">
                <h2>{t("wh.warranty")}</h2>
                <p><WarrantyBadge warranty=tl.warranty.warranty/></p>
                <p data-testid="warranty-reason">{tl.warranty.reason.clone()}</p>
            </section>
        </div>
        <section class="card">
            <h2>{t("wh.timeline")}</h2>
            <ol class="timeline" data-testid="serial-timeline">
                {tl.entries.iter().map(|e| {
                    let route = format!(
                        "{} → {}",
                        e.from_name.clone().unwrap_or_else(|| t("wh.outside").to_string()),
                        e.to_name.clone().unwrap_or_default()
                    );
                    view! {
                        <li>
                            <div class="timeline-head">
                                <strong>{reason_label(e.reason.as_str())}</strong>
                                <span class="muted small">{format!("{} · {}", when(&e.at), e.actor_name.clone().unwrap_or_default())}</span>
                            </div>
                            <div class="small">{route}</div>
                            {(!e.note.is_empty()).then(|| view! { <div class="muted small">{e.note.clone()}</div> })}
                        </li>
                    }
                }).collect_view()}
            </ol>
            {(!tl.repairs.is_empty()).then(|| view! {
                <h3>{t("wh.repairs")}</h3>
                <ul class="list">
                    {tl.repairs.iter().map(|r| view! {
                        <li>
                            {format!("{} · {}", when(&r.created_at), r.warranty_reason)}
                            " "
                            <WarrantyBadge warranty=r.warranty/>
                            {r.outcome.map(|o| format!(" · {}", t(&format!("wh.outcome.{}", o.as_str()))))}
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

/// `{base}/serial/:serial`: a serial's timeline, with installation for units in stock.
#[component]
pub fn SerialPage(base: &'static str) -> impl IntoView {
    let params = use_params_map();
    let serial = move || params.with(|p| p.get("serial").unwrap_or_default());
    let data = LocalResource::new(move || {
        let s = serial();
        async move { api::get::<Timeline>(&format!("/api/v1/stock/units/{s}/timeline")).await }
    });
    let session = Session::get();
    let install_open = RwSignal::new(false);
    let customer = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let may_install = session.can(Resource::InstallationRequests, Action::Create)
        || session.can(Resource::StockMovements, Action::Create);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = Install {
            serial: serial(),
            customer: customer.get_untracked().trim().to_string(),
            address: address.get_untracked().trim().to_string(),
            installed_at: None,
        };
        if !errors.check(input.validate()) {
            return;
        }
        spawn_local(async move {
            match api::post::<_, serde_json::Value>("/api/v1/stock/installations", &input).await {
                Ok(_) => {
                    Toasts::success(t("wh.installed"));
                    install_open.set(false);
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
    view! {
        <div class="page" data-testid="serial-page">
            <Breadcrumb items=vec![(t("wh.stock").to_string(), Some(base.to_string())), (serial(), None)]/>
            <div class="page-head">
                <h1>{move || tf("wh.serial_title", &[("serial", &serial())])}</h1>
                <div class="head-actions">
                    <SerialSearch base=base/>
                    {move || {
                        let in_stock = data
                            .get()
                            .and_then(|r| r.ok())
                            .is_some_and(|tl| !tl.unit.warehouse_kind.is_virtual());
                        (may_install && in_stock).then(|| view! {
                            <button type="button" class="btn btn-primary" data-testid="install" on:click=move |_| install_open.set(true)>
                                {t("wh.install")}
                            </button>
                        })
                    }}
                </div>
            </div>
            <Modal open=install_open title=Signal::derive(|| t("wh.install").to_string())>
                <form class="form" on:submit=submit novalidate=true data-testid="install-form">
                    <TextField label=t("wh.customer") name="customer" value=customer errors=errors required=true/>
                    <TextField label=t("wh.address") name="address" value=address errors=errors/>
                    <div class="form-actions">
                        <button type="button" class="btn" on:click=move |_| install_open.set(false)>{t("common.cancel")}</button>
                        <button type="submit" class="btn btn-primary" data-testid="install-save">{t("wh.install")}</button>
                    </div>
                </form>
            </Modal>
            {move || match data.get() {
                None => view! { <span class="skeleton wide"></span> }.into_any(),
                Some(Err(e)) => view! { <p class="alert alert-danger">{e.message()}</p> }.into_any(),
                Some(Ok(tl)) => view! { <TimelineView tl=tl/> }.into_any(),
            }}
        </div>
    }
}

// ---------------------------------------------------------------------------------------------
// Orders

/// `{base}/orders`: equipment orders; dealers request new ones here.
#[component]
pub fn OrdersPage(base: &'static str) -> impl IntoView {
    view! {
        <Require resource=Resource::EquipmentOrders action=Action::View>
            <OrdersView base=base/>
        </Require>
    }
}

#[component]
fn OrdersView(base: &'static str) -> impl IntoView {
    let session = Session::get();
    let query = ListQuery::new("");
    let data = LocalResource::new(move || {
        let params = query.params();
        async move { api::get_query::<Page<OrderSummary>>("/api/v1/equipment-orders", &params).await }
    });
    let errors = FormErrors::new();
    let status = RwSignal::new(String::new());
    Effect::new(move |_| {
        let s = status.get();
        if query.filter("status") != s {
            query.set_filter("status", s);
        }
    });
    let statuses = Signal::derive(|| {
        OrderStatus::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str().to_string(),
                    t(&format!("wh.order.{}", s.as_str())).to_string(),
                )
            })
            .collect::<Vec<_>>()
    });
    let open = RwSignal::new(false);
    let columns = vec![
        Column::new("id", "#", move |o: &OrderSummary| {
            view! { <A href=format!("{base}/orders/{}", o.id) attr:data-testid="order-link">{format!("#{}", o.id)}</A> }
        })
        .fixed(),
        Column::new("dealer", t("wh.dealer"), |o: &OrderSummary| o.dealer_name.clone()),
        Column::new("status", t("wh.status"), |o: &OrderSummary| order_badge(o.status)),
        Column::new("units", t("wh.units"), |o: &OrderSummary| {
            format!("{} / {}", o.units_shipped, o.units_ordered)
        }),
        Column::new("created", t("wh.created"), |o: &OrderSummary| when(&o.created_at)),
    ];
    view! {
        <div class="page" data-testid="orders-page">
            <Breadcrumb items=vec![(t("wh.orders").to_string(), None)]/>
            <div class="page-head">
                <h1>{t("wh.orders")}</h1>
                {session.can(Resource::EquipmentOrders, Action::Create).then(|| view! {
                    <button type="button" class="btn btn-primary" data-testid="order-new" on:click=move |_| open.set(true)>
                        {t("wh.order_new")}
                    </button>
                })}
            </div>
            <NewOrderDialog open=open base=base/>
            <div class="filters">
                <SelectField label=t("wh.status") name="status" value=status errors=errors options=statuses empty=t("common.any")/>
            </div>
            <DataTable id="orders" columns=columns query=query data=data row_key=|o: &OrderSummary| o.id empty=t("wh.no_orders")/>
        </div>
    }
}

#[derive(Clone, PartialEq)]
struct LineDraft {
    model: RwSignal<String>,
    quantity: RwSignal<String>,
    kind: RwSignal<String>,
}

impl LineDraft {
    fn new() -> Self {
        LineDraft {
            model: RwSignal::new(String::new()),
            quantity: RwSignal::new("1".into()),
            kind: RwSignal::new(TransferKind::Sale.as_str().into()),
        }
    }
}

#[component]
fn NewOrderDialog(open: RwSignal<bool>, base: &'static str) -> impl IntoView {
    let navigate = use_navigate();
    let whs = LocalResource::new(|| warehouses(false));
    let model_list = LocalResource::new(models);
    let warehouse = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let lines: RwSignal<Vec<LineDraft>> = RwSignal::new(vec![LineDraft::new()]);
    let errors = FormErrors::new();
    let wh_opts =
        Signal::derive(move || whs.get().map(|l| warehouse_options(&l)).unwrap_or_default());
    let model_opts = Signal::derive(move || {
        model_list
            .get()
            .map(|l| model_options(&l))
            .unwrap_or_default()
    });
    let kinds = Signal::derive(|| {
        TransferKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), transfer_label(*k).to_string()))
            .collect::<Vec<_>>()
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(warehouse_id) = warehouse.get_untracked().parse::<Id>() else {
            errors.set("warehouse_id", t("wh.pick_warehouse"));
            return;
        };
        let mut parsed = Vec::new();
        for (i, l) in lines.get_untracked().iter().enumerate() {
            let Ok(model_id) = l.model.get_untracked().parse::<Id>() else {
                errors.set(&format!("lines[{i}].model_id"), t("wh.pick_model"));
                return;
            };
            let Ok(quantity) = l.quantity.get_untracked().trim().parse::<i32>() else {
                errors.set(&format!("lines[{i}].quantity"), t("err.number"));
                return;
            };
            parsed.push(OrderLineInput {
                model_id,
                quantity,
                transfer_kind: TransferKind::parse(&l.kind.get_untracked())
                    .unwrap_or(TransferKind::Sale),
            });
        }
        let input = CreateOrder {
            warehouse_id,
            note: note.get_untracked().trim().to_string(),
            lines: parsed,
        };
        if !errors.check(input.validate()) {
            return;
        }
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::post::<_, EquipmentOrder>("/api/v1/equipment-orders", &input).await {
                Ok(o) => {
                    Toasts::success(t("wh.order_sent"));
                    open.set(false);
                    navigate(&format!("{base}/orders/{}", o.id), Default::default());
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
        <Modal open=open title=Signal::derive(|| t("wh.order_new").to_string()) wide=true>
            <form class="form" on:submit=submit.clone() novalidate=true data-testid="order-form">
                <SelectField label=t("wh.deliver_to") name="warehouse_id" value=warehouse errors=errors options=wh_opts empty=t("wh.pick_warehouse")/>
                {move || lines.get().into_iter().enumerate().map(|(i, l)| view! {
                    <div class="wh-line" data-testid="order-line">
                        <SelectField label=t("wh.model") name=format!("lines[{i}].model_id") value=l.model errors=errors options=model_opts empty=t("wh.pick_model")/>
                        <TextField label=t("wh.quantity") name=format!("lines[{i}].quantity") value=l.quantity errors=errors kind="number"/>
                        <SelectField label=t("wh.transfer_kind") name=format!("lines[{i}].transfer_kind") value=l.kind errors=errors options=kinds/>
                    </div>
                }).collect_view()}
                <button type="button" class="btn btn-small btn-ghost" on:click=move |_| lines.update(|v| v.push(LineDraft::new()))>
                    {t("wh.add_line")}
                </button>
                <TextField label=t("wh.note") name="note" value=note errors=errors/>
                <p class="field-error" role="alert">{move || errors.get("lines")}</p>
                <div class="form-actions">
                    <button type="button" class="btn" on:click=move |_| open.set(false)>{t("common.cancel")}</button>
                    <button type="submit" class="btn btn-primary" data-testid="order-save">{t("wh.order_send")}</button>
                </div>
            </form>
        </Modal>
    }
}

/// `{base}/orders/:id`: one order; the back office approves, picks and ships; the dealer
/// confirms receipt.
#[component]
pub fn OrderPage(base: &'static str) -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<Id>().ok()).unwrap_or(0));
    let data = LocalResource::new(move || {
        let id = id();
        async move { api::get::<EquipmentOrder>(&format!("/api/v1/equipment-orders/{id}")).await }
    });
    view! {
        <div class="page" data-testid="order-page">
            <Breadcrumb items=vec![(t("wh.orders").to_string(), Some(format!("{base}/orders"))), (format!("#{}", id()), None)]/>
            {move || match data.get() {
                None => view! { <span class="skeleton wide"></span> }.into_any(),
                Some(Err(e)) => view! { <p class="alert alert-danger">{e.message()}</p> }.into_any(),
                Some(Ok(o)) => view! { <OrderView order=o base=base reload=Callback::new(move |_| data.refetch())/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn OrderView(order: EquipmentOrder, base: &'static str, reload: Callback<()>) -> impl IntoView {
    let session = Session::get();
    let id = order.id;
    let can_approve = session.can(Resource::EquipmentOrders, Action::Approve);
    let can_edit = session.can(Resource::EquipmentOrders, Action::Edit);
    let approve = move |_| {
        spawn_local(async move {
            match api::post::<_, EquipmentOrder>(
                &format!("/api/v1/equipment-orders/{id}/approve"),
                &(),
            )
            .await
            {
                Ok(_) => {
                    Toasts::success(t("wh.approved"));
                    reload.run(());
                }
                Err(e) => Toasts::error(e.message()),
            }
        });
    };
    let cancel = move |_| {
        confirm(
            t("wh.cancel_confirm"),
            t("wh.cancel_order"),
            true,
            move || {
                spawn_local(async move {
                    let body = CancelOrder {
                        reason: t("wh.cancelled_in_app").to_string(),
                    };
                    match api::post::<_, EquipmentOrder>(
                        &format!("/api/v1/equipment-orders/{id}/cancel"),
                        &body,
                    )
                    .await
                    {
                        Ok(_) => reload.run(()),
                        Err(e) => Toasts::error(e.message()),
                    }
                });
            },
        );
    };
    let status = order.status;
    let lines = order.lines.clone();
    view! {
        <div class="page-head">
            <div>
                <h1>{tf("wh.order_title", &[("id", &order.id.to_string())])} " " {order_badge(order.status)}</h1>
                <p class="muted">{format!("{} · {} · {}", order.dealer_name, order.warehouse_name, when(&order.created_at))}</p>
                {(!order.note.is_empty()).then(|| view! { <p>{order.note.clone()}</p> })}
            </div>
            <div class="head-actions">
                {(status == OrderStatus::Requested && can_approve).then(|| view! {
                    <button type="button" class="btn btn-primary" data-testid="order-approve" on:click=approve>{t("wh.approve")}</button>
                })}
                {(status.may_cancel() && can_edit).then(|| view! {
                    <button type="button" class="btn btn-ghost" data-testid="order-cancel" on:click=cancel>{t("wh.cancel_order")}</button>
                })}
            </div>
        </div>
        <section class="card table-card">
            <table class="data-table" data-testid="order-lines">
                <thead>
                    <tr>
                        <th>{t("wh.model")}</th>
                        <th>{t("wh.transfer_kind")}</th>
                        <th class="num">{t("wh.ordered")}</th>
                        <th class="num">{t("wh.shipped")}</th>
                        <th class="num">{t("wh.received")}</th>
                    </tr>
                </thead>
                <tbody>
                    {lines.iter().map(|l| view! {
                        <tr>
                            <td>{l.model_name.clone()}</td>
                            <td>{transfer_label(l.transfer_kind)}</td>
                            <td class="num">{l.quantity}</td>
                            <td class="num">{l.shipped_quantity}</td>
                            <td class="num">{l.received_quantity}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        {(status.may_ship() && can_approve).then(|| view! { <ShipForm order=order.clone() reload=reload/> })}
        {order.shipments.clone().into_iter().map(|s| {
            let sid = s.id;
            let in_transit = s.status == ShipmentStatus::InTransit;
            let serials: Vec<String> = s.lines.iter().map(|l| l.serial.clone()).collect();
            view! {
                <section class="card" data-testid="shipment">
                    <div class="card-head">
                        <h2>{tf("wh.shipment_title", &[("id", &sid.to_string())])}</h2>
                        <Badge
                            tone=if in_transit { "warning" } else { "success" }
                            text=t(&format!("wh.shipment.{}", s.status.as_str())).to_string()
                        />
                    </div>
                    <p class="muted small">{format!("{} {}", t("wh.shipped_at"), when(&s.shipped_at))}</p>
                    <table class="data-table">
                        <tbody>
                            {s.lines.clone().into_iter().map(|l| {
                                let href = format!("{base}/serial/{}", l.serial);
                                let serial = l.serial.clone();
                                view! {
                                    <tr>
                                        <td class="mono"><A href=href>{serial}</A></td>
                                        <td>{transfer_label(l.transfer_kind)}</td>
                                        <td class="num">{money(l.price_cents)}</td>
                                        <td>{l.receipt.map(|r| t(&format!("wh.receipt.{}", r.as_str())))}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    {(in_transit && can_edit).then(|| view! { <ReceiveForm shipment=sid serials=serials reload=reload/> })}
                </section>
            }
        }).collect_view()}
    }
}

/// Picking by scanning or typing serials, then shipping.
#[component]
fn ShipForm(order: EquipmentOrder, reload: Callback<()>) -> impl IntoView {
    let whs = LocalResource::new(|| warehouses(false));
    let dealer_org = order.dealer_org_id;
    let from = RwSignal::new(String::new());
    let scan = RwSignal::new(String::new());
    let picked: RwSignal<Vec<String>> = RwSignal::new(vec![]);
    let kind = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);
    let wh_opts = Signal::derive(move || {
        whs.get()
            .map(|l| {
                let l: Vec<Warehouse> = l.into_iter().filter(|w| w.org_id != dealer_org).collect();
                warehouse_options(&l)
            })
            .unwrap_or_default()
    });
    let kinds = Signal::derive(|| {
        TransferKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), transfer_label(*k).to_string()))
            .collect::<Vec<_>>()
    });
    let add = move || {
        let raw = scan.get_untracked();
        for part in raw
            .split([',', ' ', '\n', ';'])
            .filter(|s| !s.trim().is_empty())
        {
            match normalise_serial(part) {
                Ok(s) => picked.update(|v| {
                    if !v.contains(&s) {
                        v.push(s);
                    }
                }),
                Err(m) => {
                    errors.set("scan", format!("{part}: {m}"));
                    return;
                }
            }
        }
        scan.set(String::new());
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" {
            ev.prevent_default();
            add();
        }
    };
    let id = order.id;
    let ship = move |_| {
        add();
        let Ok(from_warehouse_id) = from.get_untracked().parse::<Id>() else {
            errors.set("from_warehouse_id", t("wh.pick_warehouse"));
            return;
        };
        let k = TransferKind::parse(&kind.get_untracked());
        let input = ShipOrder {
            from_warehouse_id,
            units: picked
                .get_untracked()
                .into_iter()
                .map(|serial| ShipUnit {
                    serial,
                    transfer_kind: k,
                    price_cents: None,
                    terms: TransferTerms::default(),
                })
                .collect(),
        };
        if input.units.is_empty() {
            errors.set("scan", t("wh.scan_first"));
            return;
        }
        if !errors.check(input.validate()) {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            match api::post::<_, EquipmentOrder>(
                &format!("/api/v1/equipment-orders/{id}/shipments"),
                &input,
            )
            .await
            {
                Ok(_) => {
                    Toasts::success(t("wh.shipped_ok"));
                    picked.set(vec![]);
                    reload.run(());
                }
                Err(e) => {
                    let named: Vec<String> =
                        e.field_errors().iter().map(|f| f.message.clone()).collect();
                    if named.is_empty() {
                        Toasts::error(e.message());
                    } else {
                        errors.set("scan", named.join("; "));
                    }
                }
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card" data-testid="ship-form">
            <h2>{t("wh.pick_and_ship")}</h2>
            <div class="filters">
                <SelectField label=t("wh.ship_from") name="from_warehouse_id" value=from errors=errors options=wh_opts empty=t("wh.pick_warehouse")/>
                <SelectField label=t("wh.transfer_kind") name="transfer_kind" value=kind errors=errors options=kinds empty=t("wh.as_ordered")/>
            </div>
            <div class="field" data-field="scan">
                <label for="f-scan" class="field-label">{t("wh.scan")}</label>
                <input
                    id="f-scan"
                    name="scan"
                    autocomplete="off"
                    placeholder=t("wh.scan_placeholder")
                    prop:value=move || scan.get()
                    on:input=move |ev| {
                        scan.set(event_target_value(&ev));
                        errors.clear_field("scan");
                    }
                    on:keydown=on_key
                />
                <p class="field-error" role="alert">{move || errors.get("scan")}</p>
            </div>
            <div class="chips" data-testid="picked">
                {move || picked.get().into_iter().map(|s| {
                    let s2 = s.clone();
                    view! {
                        <span class="chip mono">
                            {s.clone()}
                            <button type="button" class="icon-btn" aria-label=t("common.close") on:click=move |_| picked.update(|v| v.retain(|x| *x != s2))>"✕"</button>
                        </span>
                    }
                }).collect_view()}
            </div>
            <div class="form-actions">
                <button type="button" class="btn btn-primary" data-testid="ship" disabled=move || busy.get() on:click=ship>
                    {move || tf("wh.ship_n", &[("n", &picked.get().len().to_string())])}
                </button>
            </div>
        </section>
    }
}

/// The dealer confirms a shipment, ticking units that did not arrive.
#[component]
fn ReceiveForm(shipment: Id, serials: Vec<String>, reload: Callback<()>) -> impl IntoView {
    let missing: RwSignal<BTreeSet<String>> = RwSignal::new(BTreeSet::new());
    let receive = move |_| {
        let body = ConfirmReceipt {
            discrepancies: missing
                .get_untracked()
                .into_iter()
                .map(|serial| Discrepancy {
                    serial,
                    receipt: LineReceipt::Missing,
                    note: String::new(),
                })
                .collect(),
            note: String::new(),
        };
        spawn_local(async move {
            match api::post::<_, EquipmentOrder>(
                &format!("/api/v1/shipments/{shipment}/receive"),
                &body,
            )
            .await
            {
                Ok(_) => {
                    Toasts::success(t("wh.received_ok"));
                    reload.run(());
                }
                Err(e) => Toasts::error(e.message()),
            }
        });
    };
    view! {
        <div class="wh-receive" data-testid="receive-form">
            <p class="muted small">{t("wh.tick_missing")}</p>
            {serials.into_iter().map(|s| {
                let s1 = s.clone();
                let s2 = s.clone();
                view! {
                    <label class="check">
                        <input
                            type="checkbox"
                            prop:checked=move || missing.get().contains(&s1)
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                let s = s2.clone();
                                missing.update(|m| {
                                    if on {
                                        m.insert(s);
                                    } else {
                                        m.remove(&s);
                                    }
                                });
                            }
                        />
                        <span>{tf("wh.missing_serial", &[("serial", &s)])}</span>
                    </label>
                }
            }).collect_view()}
            <div class="form-actions">
                <button type="button" class="btn btn-primary" data-testid="confirm-receipt" on:click=receive>{t("wh.confirm_receipt")}</button>
            </div>
        </div>
    }
}

// ---------------------------------------------------------------------------------------------
// Receiving files

/// `/admin/warehouse/receiving`: a CSV or XLSX file of serials into a warehouse; every failing
/// row is listed and nothing is received until the file is clean.
#[component]
pub fn ReceivingPage() -> impl IntoView {
    view! {
        <Require resource=Resource::StockMovements action=Action::Create>
            <ReceivingView/>
        </Require>
    }
}

#[component]
fn ReceivingView() -> impl IntoView {
    let whs = LocalResource::new(|| warehouses(false));
    let model_list = LocalResource::new(models);
    let warehouse = RwSignal::new(String::new());
    let model = RwSignal::new(String::new());
    let reference = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let row_errors: RwSignal<Vec<(String, String, String)>> = RwSignal::new(vec![]);
    let done: RwSignal<Option<ReceiptResult>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let wh_opts =
        Signal::derive(move || whs.get().map(|l| warehouse_options(&l)).unwrap_or_default());
    let model_opts = Signal::derive(move || {
        model_list
            .get()
            .map(|l| model_options(&l))
            .unwrap_or_default()
    });
    let input_ref = NodeRef::<leptos::html::Input>::new();
    let upload = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        row_errors.set(vec![]);
        done.set(None);
        if warehouse.get_untracked().parse::<Id>().is_err() {
            errors.set("warehouse_id", t("wh.pick_warehouse"));
            return;
        }
        let Some(file) = input_ref
            .get_untracked()
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            errors.set("file", t("wh.pick_file"));
            return;
        };
        let name = file.name().to_lowercase();
        let content_type = if name.ends_with(".xlsx") {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        } else {
            "text/csv"
        };
        let mut query = vec![("warehouse_id".to_string(), warehouse.get_untracked())];
        if !model.get_untracked().is_empty() {
            query.push(("model_id".into(), model.get_untracked()));
        }
        if !reference.get_untracked().trim().is_empty() {
            query.push((
                "reference".into(),
                reference.get_untracked().trim().to_string(),
            ));
        }
        busy.set(true);
        spawn_local(async move {
            let bytes = match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                Ok(buf) => js_sys::Uint8Array::new(&buf).to_vec(),
                Err(_) => {
                    errors.set("file", t("wh.pick_file"));
                    busy.set(false);
                    return;
                }
            };
            match api::post_file::<ReceiptResult>(
                "/api/v1/stock/receipts/import",
                &query,
                content_type,
                bytes,
            )
            .await
            {
                Ok(r) => {
                    Toasts::success(tf("wh.received_units", &[("n", &r.units.to_string())]));
                    done.set(Some(r));
                }
                Err(e) => {
                    let rows: Vec<(String, String, String)> = e
                        .field_errors()
                        .iter()
                        .map(|f| (f.field.clone(), f.code.clone(), f.message.clone()))
                        .collect();
                    if rows.is_empty() {
                        Toasts::error(e.message());
                    } else {
                        row_errors.set(rows);
                    }
                }
            }
            busy.set(false);
        });
    };
    view! {
        <div class="page" data-testid="receiving-page">
            <Breadcrumb items=vec![(t("wh.receiving").to_string(), None)]/>
            <div class="page-head"><h1>{t("wh.receiving")}</h1></div>
            <form class="card form" on:submit=upload novalidate=true data-testid="receiving-form">
                <p class="muted">{t("wh.receiving_hint")}</p>
                <SelectField label=t("wh.warehouse") name="warehouse_id" value=warehouse errors=errors options=wh_opts empty=t("wh.pick_warehouse")/>
                <SelectField label=t("wh.default_model") name="model_id" value=model errors=errors options=model_opts empty=t("wh.model_from_file")/>
                <TextField label=t("wh.reference") name="reference" value=reference errors=errors/>
                <div class="field" data-field="file">
                    <label for="f-file" class="field-label">{t("wh.file")}</label>
                    <input id="f-file" name="file" type="file" accept=".csv,.xlsx,text/csv" node_ref=input_ref on:change=move |_| errors.clear_field("file")/>
                    <p class="field-error" role="alert">{move || errors.get("file")}</p>
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get() data-testid="receiving-upload">{t("wh.upload")}</button>
                </div>
            </form>
            {move || done.get().map(|r| view! {
                <div class="alert alert-info" role="status">{tf("wh.received_units", &[("n", &r.units.to_string())])}</div>
            })}
            {move || {
                let rows = row_errors.get();
                (!rows.is_empty()).then(|| view! {
                    <section class="card table-card" data-testid="row-errors">
                        <div class="alert alert-danger">{tf("wh.rows_failed", &[("n", &rows.len().to_string())])}</div>
                        <table class="data-table">
                            <thead><tr><th>{t("wh.row")}</th><th>{t("wh.problem")}</th><th>{t("wh.message")}</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|(field, code, message)| view! {
                                    <tr>
                                        <td class="mono">{field.trim_start_matches("rows[").trim_end_matches(']').to_string()}</td>
                                        <td><Badge tone="danger" text=code/></td>
                                        <td>{message}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </section>
                })
            }}
        </div>
    }
}

// ---------------------------------------------------------------------------------------------
// Repair desk

/// `{base}/repairs`: scan a serial, see whether it is a warranty case and why, take it in and
/// record the outcome.
#[component]
pub fn RepairPage(base: &'static str) -> impl IntoView {
    let scan = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let preview: RwSignal<Option<RepairPreview>> = RwSignal::new(None);
    let repair: RwSignal<Option<Repair>> = RwSignal::new(None);
    let complaint = RwSignal::new(String::new());
    let outcome = RwSignal::new(RepairOutcome::Repaired.as_str().to_string());
    let replacement = RwSignal::new(String::new());
    let look = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let serial = match normalise_serial(&scan.get_untracked()) {
            Ok(s) => s,
            Err(m) => {
                errors.set("serial", m);
                return;
            }
        };
        repair.set(None);
        spawn_local(async move {
            match api::get::<RepairPreview>(&format!("/api/v1/stock/repairs/intake/{serial}")).await
            {
                Ok(p) => preview.set(Some(p)),
                Err(e) => {
                    preview.set(None);
                    errors.set("serial", e.message());
                }
            }
        });
    };
    let take_in = move |_| {
        let Some(p) = preview.get_untracked() else {
            return;
        };
        let input = RepairIntake {
            serial: p.serial.clone(),
            service_org_id: None,
            complaint: complaint.get_untracked().trim().to_string(),
        };
        spawn_local(async move {
            match api::post::<_, Repair>("/api/v1/stock/repairs", &input).await {
                Ok(r) => {
                    Toasts::success(t("wh.taken_in"));
                    repair.set(Some(r));
                }
                Err(e) => Toasts::error(e.message()),
            }
        });
    };
    let outcomes = Signal::derive(|| {
        RepairOutcome::ALL
            .iter()
            .map(|o| {
                (
                    o.as_str().to_string(),
                    t(&format!("wh.outcome.{}", o.as_str())).to_string(),
                )
            })
            .collect::<Vec<_>>()
    });
    let close = move |_| {
        let Some(r) = repair.get_untracked() else {
            return;
        };
        let o = RepairOutcome::parse(&outcome.get_untracked()).unwrap_or(RepairOutcome::Repaired);
        let rep = replacement.get_untracked();
        let input = CloseRepair {
            outcome: o,
            replacement_serial: (o == RepairOutcome::Replaced).then(|| rep.trim().to_string()),
            note: String::new(),
        };
        if !errors.check(input.validate()) {
            return;
        }
        spawn_local(async move {
            match api::post::<_, Repair>(&format!("/api/v1/stock/repairs/{}/close", r.id), &input)
                .await
            {
                Ok(done) => {
                    Toasts::success(t("wh.repair_closed"));
                    repair.set(Some(done));
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
        <div class="page" data-testid="repair-page">
            <Breadcrumb items=vec![(t("wh.repair_desk").to_string(), None)]/>
            <div class="page-head"><h1>{t("wh.repair_desk")}</h1></div>
            <form class="card inline-form" on:submit=look data-testid="repair-scan">
                <TextField label=t("wh.scan") name="serial" value=scan errors=errors placeholder=t("wh.scan_placeholder")/>
                <button type="submit" class="btn btn-primary" data-testid="repair-look">{t("wh.find")}</button>
            </form>
            {move || preview.get().map(|p| {
                let serial = p.serial.clone();
                view! {
                    <section class="card" data-testid="repair-verdict">
                        <div class="card-head">
                            <h2 class="mono">{p.serial.clone()} " · " {p.model_name.clone()}</h2>
                            <WarrantyBadge warranty=p.warranty.warranty/>
                        </div>
                        <p data-testid="repair-reason">{p.warranty.reason.clone()}</p>
                        {match p.timeline.clone() {
                            Some(_) => view! { <A href=format!("{base}/serial/{serial}")>{t("wh.open_timeline")}</A> }.into_any(),
                            None => view! { <p class="muted small">{t("wh.history_hidden")}</p> }.into_any(),
                        }}
                        {move || match repair.get() {
                            None => view! {
                                <div class="form">
                                    <TextField label=t("wh.complaint") name="complaint" value=complaint errors=errors/>
                                    <div class="form-actions">
                                        <button type="button" class="btn btn-primary" data-testid="repair-take-in" on:click=take_in>{t("wh.take_in")}</button>
                                    </div>
                                </div>
                            }.into_any(),
                            Some(r) if r.outcome.is_none() => view! {
                                <div class="form" data-testid="repair-open">
                                    <p><Badge tone="warning" text=t("wh.in_repair").to_string()/></p>
                                    <SelectField label=t("wh.outcome") name="outcome" value=outcome errors=errors options=outcomes/>
                                    {move || (outcome.get() == RepairOutcome::Replaced.as_str()).then(|| view! {
                                        <TextField label=t("wh.replacement") name="replacement_serial" value=replacement errors=errors/>
                                    })}
                                    <div class="form-actions">
                                        <button type="button" class="btn btn-primary" data-testid="repair-close" on:click=close>{t("wh.close_repair")}</button>
                                    </div>
                                </div>
                            }.into_any(),
                            Some(r) => view! {
                                <p data-testid="repair-done">
                                    <Badge tone="success" text=r.outcome.map(|o| t(&format!("wh.outcome.{}", o.as_str()))).unwrap_or_default().to_string()/>
                                    {r.replacement_serial.map(|s| format!(" → {s}"))}
                                </p>
                            }.into_any(),
                        }}
                    </section>
                }
            })}
        </div>
    }
}

// ---------------------------------------------------------------------------------------------
// What dealers owe

/// `{base}/obligations`: rent, instalments, consignment and sale payments; overdue first.
#[component]
pub fn ObligationsPage() -> impl IntoView {
    view! {
        <Require resource=Resource::EquipmentOrders action=Action::View>
            <ObligationsView/>
        </Require>
    }
}

#[component]
fn ObligationsView() -> impl IntoView {
    let session = Session::get();
    let query = ListQuery::new("");
    query.set_filter("overdue", "true".into());
    let data = LocalResource::new(move || {
        let params = query.params();
        async move { api::get_query::<Page<Obligation>>("/api/v1/obligations", &params).await }
    });
    let overdue = RwSignal::new(true);
    let kind = RwSignal::new(String::new());
    let errors = FormErrors::new();
    Effect::new(move |_| {
        let v = if overdue.get() { "true" } else { "" }.to_string();
        if query.filter("overdue") != v {
            query.set_filter("overdue", v);
        }
    });
    Effect::new(move |_| {
        let k = kind.get();
        if query.filter("transfer_kind") != k {
            query.set_filter("transfer_kind", k);
        }
    });
    let kinds = Signal::derive(|| {
        TransferKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), transfer_label(*k).to_string()))
            .collect::<Vec<_>>()
    });
    let can_settle = session.can(Resource::EquipmentOrders, Action::Approve);
    let settle = move |id: Id| {
        spawn_local(async move {
            match api::post::<_, Obligation>(&format!("/api/v1/obligations/{id}/settle"), &()).await
            {
                Ok(_) => {
                    Toasts::success(t("wh.settled"));
                    data.refetch();
                }
                Err(e) => Toasts::error(e.message()),
            }
        });
    };
    let mut columns = vec![
        Column::new(
            "serial",
            t("wh.serial"),
            |o: &Obligation| view! { <span class="mono">{o.serial.clone()}</span> },
        )
        .fixed(),
        Column::new("dealer", t("wh.dealer"), |o: &Obligation| {
            o.dealer_name.clone()
        }),
        Column::new("kind", t("wh.transfer_kind"), |o: &Obligation| {
            transfer_label(o.transfer_kind)
        }),
        Column::new("what", t("wh.owes"), |o: &Obligation| {
            format!("{} {}", t(&format!("wh.what.{}", o.what.as_str())), o.seq)
        }),
        Column::new("amount", t("wh.amount"), |o: &Obligation| {
            money(o.amount_cents)
        })
        .class("num"),
        Column::new("due", t("wh.due"), |o: &Obligation| {
            view! {
                <span>{when(&o.due_at)}</span>
                " "
                {o.overdue.then(|| view! { <Badge tone="danger" text=t("wh.overdue").to_string()/> })}
            }
        }),
    ];
    if can_settle {
        columns.push(
            Column::new("actions", "", move |o: &Obligation| {
                let id = o.id;
                (o.status == dealernet_domain::warehouse::ObligationStatus::Open).then(|| view! {
                    <button type="button" class="btn btn-small" on:click=move |_| settle(id)>{t("wh.settle")}</button>
                })
            })
            .fixed(),
        );
    }
    view! {
        <div class="page" data-testid="obligations-page">
            <Breadcrumb items=vec![(t("wh.obligations").to_string(), None)]/>
            <div class="page-head"><h1>{t("wh.obligations")}</h1></div>
            <div class="filters">
                <SelectField label=t("wh.transfer_kind") name="transfer_kind" value=kind errors=errors options=kinds empty=t("common.any")/>
                <CheckboxField label=t("wh.overdue_only") name="overdue" value=overdue/>
            </div>
            <DataTable id="obligations" columns=columns query=query data=data row_key=|o: &Obligation| o.id empty=t("wh.nothing_owed")/>
        </div>
    }
}
