//! The dealer network in the back office: the dealer directory with its map and filters, a
//! dealer's profile with its territory on the map and its rating history, and the registry of
//! points of sale. Maps are Leaflet (served by the app, see `public/dealers-map.js`), with tiles
//! only when the server names a tile URL.

use std::sync::atomic::{AtomicUsize, Ordering};

use dealernet_domain::access::{Action, Resource};
use dealernet_domain::dealers::geo::{GeoPoint, ServiceArea, Territory};
use dealernet_domain::dealers::{ChangeRating, Dealer, DealerStatus, PointOfSale, RatingChange};
use dealernet_domain::list::Page;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use serde::Deserialize;
use serde_json::{Value, json};
use validator::Validate;

use super::shell::Require;
use super::when;
use crate::api;
use crate::components::{
    Badge, Breadcrumb, Column, DataTable, FormErrors, ListQuery, Modal, SearchBox, SelectField,
    TextField, Toasts,
};
use crate::i18n::{t, tf};
use crate::session::Session;

/// The server's map settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct MapConfig {
    pub tile_url: String,
    pub geocoder: bool,
}

/// Map settings, read once per page.
pub fn map_config() -> LocalResource<MapConfig> {
    LocalResource::new(|| async {
        api::get::<MapConfig>("/api/v1/map-config")
            .await
            .unwrap_or_default()
    })
}

static MAP_IDS: AtomicUsize = AtomicUsize::new(0);

fn draw(id: &str, spec: &Value) {
    let Some(w) = web_sys::window() else {
        return;
    };
    let Ok(api) = js_sys::Reflect::get(&w, &"dealernetMap".into()) else {
        return;
    };
    let Ok(render) = js_sys::Reflect::get(&api, &"render".into()) else {
        return;
    };
    if let Ok(f) = wasm_bindgen::JsCast::dyn_into::<js_sys::Function>(render) {
        let _ = f.call2(&api, &id.into(), &spec.to_string().into());
    }
}

/// A map drawing `spec` (markers, circles, polygons, pin; see `dealers-map.js`), redrawn when it
/// changes. With `on_pick`, a click on the map answers the point.
#[component]
pub fn MapView(
    #[prop(into)] spec: Signal<Value>,
    #[prop(optional)] on_pick: Option<Callback<GeoPoint>>,
    #[prop(optional)] tall: bool,
) -> impl IntoView {
    let id = format!("map-{}", MAP_IDS.fetch_add(1, Ordering::Relaxed));
    let config = map_config();
    let node = NodeRef::<leptos::html::Div>::new();
    let id2 = id.clone();
    Effect::new(move |_| {
        let mut s = spec.get();
        let tiles = config.get().map(|c| c.tile_url).unwrap_or_default();
        if node.get().is_some() {
            s["tile_url"] = json!(tiles);
            s["pick"] = json!(on_pick.is_some());
            let id = id2.clone();
            // After the element is laid out, so that Leaflet measures it.
            set_timeout(move || draw(&id, &s), std::time::Duration::from_millis(30));
        }
    });
    if let Some(cb) = on_pick {
        let mine = id.clone();
        let handle = window_event_listener_untyped("dealernet-map-pick", move |ev| {
            let detail = js_sys::Reflect::get(&ev, &"detail".into()).ok();
            let get = |k: &str| {
                detail
                    .as_ref()
                    .and_then(|d| js_sys::Reflect::get(d, &k.into()).ok())
            };
            let same = get("id").and_then(|v| v.as_string()) == Some(mine.clone());
            if let (true, Some(lat), Some(lon)) = (
                same,
                get("lat").and_then(|v| v.as_f64()),
                get("lon").and_then(|v| v.as_f64()),
            ) {
                cb.run(GeoPoint::new(lat, lon));
            }
        });
        on_cleanup(move || handle.remove());
    }
    view! {
        <div
            id=id
            node_ref=node
            class="map"
            class:map-tall=tall
            data-testid="map"
            data-unavailable=t("map.unavailable")
        ></div>
    }
}

/// The map shapes of a territory.
pub fn territory_shapes(t: &Territory, label: &str, spec: &mut Value) {
    let mut circles = vec![];
    let mut polygons = vec![];
    for a in &t.areas {
        match a {
            ServiceArea::Circle { center, radius_km } => circles.push(json!({
                "lat": center.lat, "lon": center.lon, "radius_km": radius_km, "label": label,
            })),
            ServiceArea::Polygon { points } => polygons.push(json!({
                "points": points.iter().map(|p| [p.lat, p.lon]).collect::<Vec<_>>(), "label": label,
            })),
        }
    }
    spec["circles"] = json!(circles);
    spec["polygons"] = json!(polygons);
}

fn load_pct(d: &Dealer) -> u32 {
    if d.capacity <= 0 {
        100
    } else {
        (d.open_jobs.max(0) as u32 * 100) / d.capacity as u32
    }
}

fn load_badge(d: &Dealer) -> impl IntoView + use<> {
    let pct = load_pct(d);
    let tone = if pct >= 100 {
        "danger"
    } else if pct >= 70 {
        "warning"
    } else {
        "success"
    };
    view! {
        <span class="load" title=tf("dealers.load_of", &[("open", &d.open_jobs.to_string()), ("capacity", &d.capacity.to_string())])>
            <span class="load-bar"><span class=format!("load-fill load-{tone}") style=format!("width:{}%", pct.min(100))></span></span>
            <span class="small">{format!("{}/{}", d.open_jobs, d.capacity)}</span>
        </span>
    }
}

pub fn status_badge(s: DealerStatus) -> impl IntoView {
    let tone = match s {
        DealerStatus::Active => "success",
        DealerStatus::Suspended => "warning",
    };
    view! { <Badge tone=tone text=t(&format!("dealers.status.{}", s.as_str())).to_string()/> }
}

fn stars(r: f64) -> String {
    format!("★ {r:.1}")
}

pub fn service_label(s: dealernet_domain::dealers::ServiceType) -> &'static str {
    t(&format!("dealers.service.{}", s.as_str()))
}

/// `/admin/dealers`: the directory with filters and the map of the page shown.
#[component]
pub fn DealersPage() -> impl IntoView {
    view! {
        <Require resource=Resource::Dealers action=Action::View>
            <DealerDirectory/>
        </Require>
    }
}

#[component]
fn DealerDirectory() -> impl IntoView {
    let query = ListQuery::new("-rating");
    let data = LocalResource::new(move || {
        let params = query.params();
        async move { api::get_query::<Page<Dealer>>("/api/v1/dealers", &params).await }
    });
    let errors = FormErrors::new();
    let region = RwSignal::new(String::new());
    let service = RwSignal::new(String::new());
    let rating = RwSignal::new(String::new());
    let load = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    Effect::new(move |_| {
        let v = region.get().trim().to_uppercase();
        if v != query.filter("region") {
            query.set_filter("region", v);
        }
    });
    for (sig, key) in [
        (service, "service"),
        (rating, "rating_min"),
        (load, "load_max"),
        (status, "status"),
    ] {
        Effect::new(move |_| {
            let v = sig.get();
            if v != query.filter(key) {
                query.set_filter(key, v);
            }
        });
    }
    let spec = Signal::derive(move || {
        let markers: Vec<Value> = data
            .get()
            .and_then(|r| r.ok())
            .map(|p| {
                p.items
                    .iter()
                    .filter_map(|d| {
                        let b = d.base?;
                        Some(json!({
                            "lat": b.lat, "lon": b.lon,
                            "label": format!("{} · {} · {}/{}", d.name, stars(d.rating), d.open_jobs, d.capacity),
                            "tone": if d.status == DealerStatus::Suspended { "warning" } else { "info" },
                        }))
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({ "markers": markers })
    });
    let columns = vec![
        Column::new("name", t("dealers.name"), |d: &Dealer| {
            let href = format!("/admin/dealers/{}", d.id);
            let (name, legal) = (d.name.clone(), d.legal_name.clone());
            view! {
                <A href=href attr:class="strong">{name}</A>
                <div class="muted small">{legal}</div>
            }
        })
        .sortable("legal_name")
        .fixed(),
        Column::new("services", t("dealers.services"), |d: &Dealer| {
            d.services
                .iter()
                .map(|s| view! { <span class="chip">{service_label(*s)}</span> })
                .collect_view()
        }),
        Column::new("territory", t("dealers.territory"), |d: &Dealer| {
            let mut parts: Vec<String> = d.territory.region_codes.clone();
            if !d.territory.areas.is_empty() {
                parts.push(tf(
                    "dealers.areas_n",
                    &[("n", &d.territory.areas.len().to_string())],
                ));
            }
            parts.join(", ")
        }),
        Column::new("rating", t("dealers.rating"), |d: &Dealer| stars(d.rating))
            .sortable("rating")
            .class("num"),
        Column::new("load", t("dealers.load"), |d: &Dealer| load_badge(d)).sortable("load"),
        Column::new("status", t("dealers.status"), |d: &Dealer| {
            status_badge(d.status)
        }),
    ];
    let service_options = Signal::derive(|| {
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
    let rating_options = Signal::derive(|| {
        ["4.5", "4", "3"]
            .iter()
            .map(|r| (r.to_string(), format!("★ {r}+")))
            .collect::<Vec<_>>()
    });
    let load_options = Signal::derive(|| {
        [
            ("0", "dealers.load.idle"),
            ("50", "dealers.load.half"),
            ("99", "dealers.load.free"),
        ]
        .iter()
        .map(|(v, k)| (v.to_string(), t(k).to_string()))
        .collect::<Vec<_>>()
    });
    let status_options = Signal::derive(|| {
        vec![
            ("active".to_string(), t("dealers.status.active").to_string()),
            (
                "suspended".to_string(),
                t("dealers.status.suspended").to_string(),
            ),
        ]
    });
    view! {
        <div class="page" data-testid="dealers-page">
            <Breadcrumb items=vec![(t("nav.dealers").to_string(), None)]/>
            <div class="page-head">
                <h1>{t("nav.dealers")}</h1>
            </div>
            <div class="filters">
                <SearchBox query=query placeholder=t("dealers.search")/>
                <TextField label=t("dealers.region") name="filter-region" value=region errors=errors placeholder="RU-MOW"/>
                <SelectField label=t("dealers.service") name="filter-service" value=service errors=errors options=service_options empty=t("common.any")/>
                <SelectField label=t("dealers.rating") name="filter-rating" value=rating errors=errors options=rating_options empty=t("common.any")/>
                <SelectField label=t("dealers.load") name="filter-load" value=load errors=errors options=load_options empty=t("common.any")/>
                <SelectField label=t("dealers.status") name="filter-status" value=status errors=errors options=status_options empty=t("common.any")/>
            </div>
            <div class="dealers-split">
                <DataTable id="dealers" columns=columns query=query data=data row_key=|d: &Dealer| d.id empty=t("dealers.empty")/>
                <MapView spec=spec/>
            </div>
        </div>
    }
}

/// `/admin/dealers/:id`: a dealer's profile, territory on the map, rating and its history.
#[component]
pub fn DealerProfilePage() -> impl IntoView {
    view! {
        <Require resource=Resource::Dealers action=Action::View>
            <DealerProfile/>
        </Require>
    }
}

#[component]
fn DealerProfile() -> impl IntoView {
    let session = Session::get();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let dealer = LocalResource::new(move || {
        let id = id();
        async move { api::get::<Dealer>(&format!("/api/v1/dealers/{id}")).await }
    });
    let history = LocalResource::new(move || {
        let id = id();
        async move {
            api::get::<Page<RatingChange>>(&format!("/api/v1/dealers/{id}/rating-history?limit=20"))
                .await
        }
    });
    let rating_open = RwSignal::new(false);
    let new_rating = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let save_rating = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(r) = new_rating
            .get_untracked()
            .trim()
            .replace(',', ".")
            .parse::<f64>()
        else {
            errors.set("rating", t("err.number"));
            return;
        };
        let input = ChangeRating {
            rating: r,
            reason: reason.get_untracked().trim().to_string(),
        };
        if !errors.check(input.validate()) {
            return;
        }
        let id = id();
        spawn_local(async move {
            match api::post::<_, Dealer>(&format!("/api/v1/dealers/{id}/rating"), &input).await {
                Ok(_) => {
                    Toasts::success(t("dealers.rating_saved"));
                    rating_open.set(false);
                    dealer.refetch();
                    history.refetch();
                }
                Err(e) => {
                    if !errors.absorb(&e) {
                        Toasts::error(e.message());
                    }
                }
            }
        });
    };
    let spec = Signal::derive(move || {
        let mut s = json!({});
        if let Some(Ok(d)) = dealer.get() {
            territory_shapes(&d.territory, &d.name, &mut s);
            if let Some(b) = d.base {
                s["markers"] =
                    json!([{"lat": b.lat, "lon": b.lon, "label": d.name, "tone": "info"}]);
            }
        }
        s
    });
    view! {
        <div class="page" data-testid="dealer-profile">
            {move || match dealer.get() {
                None => view! { <p class="table-state">"…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="table-state error">{e.message()}</p> }.into_any(),
                Some(Ok(d)) => {
                    let can_edit = session.can(Resource::Dealers, Action::Edit);
                    view! {
                        <Breadcrumb items=vec![
                            (t("nav.dealers").to_string(), Some("/admin/dealers".to_string())),
                            (d.name.clone(), None),
                        ]/>
                        <div class="page-head">
                            <h1>{d.name.clone()} " " {status_badge(d.status)}</h1>
                            {can_edit.then(|| view! {
                                <button type="button" class="btn" data-testid="change-rating" on:click=move |_| {
                                    errors.clear();
                                    rating_open.set(true);
                                }>{t("dealers.change_rating")}</button>
                            })}
                        </div>
                        <div class="dealer-grid">
                            <section class="card">
                                <h2>{t("dealers.legal")}</h2>
                                <dl class="facts">
                                    <dt>{t("dealers.legal_name")}</dt><dd>{d.legal_name.clone()}</dd>
                                    <dt>{t("dealers.tax_id")}</dt><dd>{d.tax_id.clone()}</dd>
                                    <dt>{t("dealers.legal_address")}</dt><dd>{d.legal_address.clone()}</dd>
                                    <dt>{t("dealers.services")}</dt>
                                    <dd>{d.services.iter().map(|s| view! { <span class="chip">{service_label(*s)}</span> }).collect_view()}</dd>
                                    <dt>{t("dealers.rating")}</dt><dd data-testid="dealer-rating">{stars(d.rating)}</dd>
                                    <dt>{t("dealers.load")}</dt><dd>{load_badge(&d)}</dd>
                                    <dt>{t("dealers.regions")}</dt>
                                    <dd>{if d.territory.region_codes.is_empty() { "—".to_string() } else { d.territory.region_codes.join(", ") }}</dd>
                                    <dt>{t("dealers.hours")}</dt>
                                    <dd>{d.working_hours.iter().map(|h| format!("{} {}–{}", t(&format!("day.{}", h.day)), h.opens, h.closes)).collect::<Vec<_>>().join(" · ")}</dd>
                                </dl>
                                <h2>{t("dealers.contacts")}</h2>
                                <ul class="plain">
                                    {d.contacts.iter().map(|c| view! {
                                        <li>
                                            <strong>{c.name.clone()}</strong>
                                            <span class="muted">" " {c.position.clone()}</span>
                                            <div class="small">{c.phone.clone().unwrap_or_default()} " " {c.email.clone().unwrap_or_default()}</div>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            </section>
                            <section class="card">
                                <h2>{t("dealers.territory")}</h2>
                                <MapView spec=spec tall=true/>
                            </section>
                        </div>
                    }
                    .into_any()
                }
            }}
            <section class="card">
                <h2>{t("dealers.rating_history")}</h2>
                {move || match history.get() {
                    Some(Ok(p)) if !p.items.is_empty() => view! {
                        <table class="data-table" data-testid="rating-history">
                            <thead><tr>
                                <th>{t("audit.at")}</th><th>{t("dealers.rating")}</th>
                                <th>{t("dealers.reason")}</th><th>{t("audit.actor")}</th>
                            </tr></thead>
                            <tbody>
                                {p.items.into_iter().map(|h| view! {
                                    <tr>
                                        <td>{when(&h.at)}</td>
                                        <td>{h.from.map(|f| format!("{f:.1} → ")).unwrap_or_default()}{format!("{:.1}", h.to)}</td>
                                        <td>{h.reason}</td>
                                        <td>{h.changed_by.unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    _ => view! { <p class="muted">{t("dealers.no_history")}</p> }.into_any(),
                }}
            </section>
            <Modal open=rating_open title=Signal::derive(|| t("dealers.change_rating").to_string())>
                <form class="form" on:submit=save_rating novalidate=true data-testid="rating-form">
                    <TextField label=t("dealers.new_rating") name="rating" value=new_rating errors=errors kind="number" required=true/>
                    <TextField label=t("dealers.reason") name="reason" value=reason errors=errors required=true/>
                    <div class="form-actions">
                        <button type="button" class="btn" on:click=move |_| rating_open.set(false)>{t("common.cancel")}</button>
                        <button type="submit" class="btn btn-primary">{t("common.save")}</button>
                    </div>
                </form>
            </Modal>
        </div>
    }
}

/// `/admin/points-of-sale` (and `/cabinet/points-of-sale`): the registry with search and map.
#[component]
pub fn PointsOfSalePage() -> impl IntoView {
    view! {
        <Require resource=Resource::PointsOfSale action=Action::View>
            <PointsOfSale/>
        </Require>
    }
}

#[component]
fn PointsOfSale() -> impl IntoView {
    let query = ListQuery::new("name");
    let data = LocalResource::new(move || {
        let params = query.params();
        async move { api::get_query::<Page<PointOfSale>>("/api/v1/points-of-sale", &params).await }
    });
    let errors = FormErrors::new();
    let region = RwSignal::new(String::new());
    Effect::new(move |_| {
        let v = region.get().trim().to_uppercase();
        if v != query.filter("region") {
            query.set_filter("region", v);
        }
    });
    let spec = Signal::derive(move || {
        let markers: Vec<Value> = data
            .get()
            .and_then(|r| r.ok())
            .map(|p| {
                p.items
                    .iter()
                    .filter_map(|s| {
                        let l = s.location?;
                        Some(json!({"lat": l.lat, "lon": l.lon, "label": format!("{} · {}", s.name, s.address), "tone": "success"}))
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({ "markers": markers })
    });
    let columns = vec![
        Column::new("name", t("pos.name"), |p: &PointOfSale| {
            view! { <span class="strong">{p.name.clone()}</span> }
        })
        .sortable("name")
        .fixed(),
        Column::new("address", t("pos.address"), |p: &PointOfSale| {
            p.address.clone()
        }),
        Column::new("dealer", t("pos.dealer"), |p: &PointOfSale| {
            p.dealer_name.clone()
        }),
        Column::new("region", t("dealers.region"), |p: &PointOfSale| {
            p.region_code.clone().unwrap_or_default()
        }),
        Column::new("location", t("pos.location"), |p: &PointOfSale| {
            match p.location {
            Some(l) => view! {
                <span class="small">{format!("{:.4}, {:.4}", l.lat, l.lon)}</span>
                {p.geocoded.then(|| view! { " " <Badge tone="info" text=t("pos.geocoded").to_string()/> })}
            }
            .into_any(),
            None => view! { <Badge tone="warning" text=t("pos.no_location").to_string()/> }.into_any(),
        }
        }),
        Column::new("hours", t("dealers.hours"), |p: &PointOfSale| {
            p.opening_hours
                .first()
                .map(|h| format!("{}–{}", h.opens, h.closes))
                .unwrap_or_else(|| "—".into())
        }),
    ];
    view! {
        <div class="page" data-testid="pos-page">
            <Breadcrumb items=vec![(t("nav.points_of_sale").to_string(), None)]/>
            <div class="page-head"><h1>{t("nav.points_of_sale")}</h1></div>
            <div class="filters">
                <SearchBox query=query placeholder=t("pos.search")/>
                <TextField label=t("dealers.region") name="filter-region" value=region errors=errors placeholder="RU-MOW"/>
            </div>
            <div class="dealers-split">
                <DataTable id="points-of-sale" columns=columns query=query data=data row_key=|p: &PointOfSale| p.id empty=t("pos.empty")/>
                <MapView spec=spec/>
            </div>
        </div>
    }
}

/// The back office's "Dealer network" navigation section.
pub(crate) fn nav_items(can: impl Fn(Resource, Action) -> bool) -> Vec<super::shell::NavItem> {
    use super::shell::NavItem;
    vec![
        NavItem {
            href: "/admin/requests",
            label: "nav.requests",
            icon: "◉",
            show: can(Resource::InstallationRequests, Action::View),
        },
        NavItem {
            href: "/admin/dealers",
            label: "nav.dealers",
            icon: "◆",
            show: can(Resource::Dealers, Action::View),
        },
        NavItem {
            href: "/admin/points-of-sale",
            label: "nav.points_of_sale",
            icon: "◍",
            show: can(Resource::PointsOfSale, Action::View),
        },
    ]
}
