//! The signed-in layout: header with the user, role and organisation, navigation built from the
//! user's effective permissions, a notifications slot, and the page outlet.

use dealernet_domain::access::{Action, Resource};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::{use_location, use_navigate};

use super::errors::NoAccess;
use crate::i18n::{self, Lang, t};
use crate::session::Session;

/// Requires a session: shows a splash while restoring, sends strangers to the login page (with
/// the page they asked for), and lays out the app around the current page.
#[component]
pub fn Shell() -> impl IntoView {
    let session = Session::get();
    let location = use_location();
    move || {
        if !session.ready.get() {
            return view! { <div class="splash" aria-busy="true"><div class="spinner"></div></div> }
                .into_any();
        }
        if session.me.with(Option::is_none) {
            let here = format!(
                "{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked()
            );
            let target = if here == "/" || here.is_empty() {
                "/login".to_string()
            } else {
                format!("/login?redirect={}", js_sys::encode_uri_component(&here))
            };
            return view! { <Redirect path=target/> }.into_any();
        }
        view! { <Layout/> }.into_any()
    }
}

#[component]
fn Layout() -> impl IntoView {
    let nav_open = RwSignal::new(false);
    let location = use_location();
    // Close the phone menu on navigation.
    Effect::new(move |_| {
        location.pathname.track();
        nav_open.set(false);
    });
    view! {
        <div class="app" class:nav-open=move || nav_open.get()>
            <aside class="sidebar">
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    <span>"DealerNet"</span>
                </A>
                // On a phone the menu closes once a page is chosen.
                <div on:click=move |ev| {
                    let on_link = ev
                        .target()
                        .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
                        .and_then(|el| el.closest("a").ok().flatten())
                        .is_some();
                    if on_link {
                        nav_open.set(false);
                    }
                }>
                    <Nav/>
                </div>
            </aside>
            <div class="main">
                <header class="topbar">
                    <button
                        type="button"
                        class="icon-btn menu-toggle"
                        aria-label=t("nav.menu")
                        on:click=move |_| nav_open.update(|o| *o = !*o)
                    >
                        "☰"
                    </button>
                    <div class="topbar-spacer"></div>
                    <crate::pages::notifications::NotificationBell/>
                    <LangSwitch/>
                    <UserMenu/>
                </header>
                <main class="content" id="content">
                    <crate::pages::reminders::TodayBanner/>
                    <Outlet/>
                </main>
            </div>
            <div class="nav-scrim" on:click=move |_| nav_open.set(false)></div>
        </div>
    }
}

pub(crate) struct NavItem {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) icon: &'static str,
    pub(crate) show: bool,
}

/// The navigation, built from `/me`: back office sections for back-office roles, the dealer
/// cabinet for everyone else, the sales portal entry for sellers.
#[component]
fn Nav() -> impl IntoView {
    let session = Session::get();
    move || {
        let back_office = session.back_office();
        let can = |r, a| session.can(r, a);
        let seller = session
            .me
            .with(|m| m.as_ref().is_some_and(|m| m.seller_code.is_some()))
            || can(Resource::SalesOrders, Action::Create) && !back_office;
        let sections: Vec<(&'static str, Vec<NavItem>)> = if back_office {
            vec![
                (
                    "nav.section.overview",
                    vec![NavItem {
                        href: "/admin",
                        label: "nav.dashboard",
                        icon: "▦",
                        show: true,
                    }],
                ),
                (
                    "nav.section.admin",
                    vec![
                        NavItem {
                            href: "/admin/users",
                            label: "nav.users",
                            icon: "◎",
                            show: can(Resource::Users, Action::View),
                        },
                        NavItem {
                            href: "/admin/roles",
                            label: "nav.roles",
                            icon: "◈",
                            show: can(Resource::Roles, Action::View),
                        },
                        NavItem {
                            href: "/admin/orgs",
                            label: "nav.orgs",
                            icon: "▤",
                            show: can(Resource::Orgs, Action::View),
                        },
                        NavItem {
                            href: "/admin/api-keys",
                            label: "nav.api_keys",
                            icon: "◇",
                            show: can(Resource::ApiKeys, Action::View),
                        },
                        NavItem {
                            href: "/admin/audit",
                            label: "nav.audit",
                            icon: "▥",
                            show: can(Resource::Audit, Action::View),
                        },
                    ],
                ),
                ("wh.nav.section", warehouse_nav(can, true)),
                ("nav.section.network", crate::pages::dealers::nav_items(can)),
            ]
        } else {
            vec![
                (
                    "nav.section.cabinet",
                    vec![
                        NavItem {
                            href: "/cabinet",
                            label: "nav.cabinet",
                            icon: "▦",
                            show: true,
                        },
                        NavItem {
                            href: "/cabinet/network",
                            label: "nav.network",
                            icon: "▤",
                            show: can(Resource::Orgs, Action::View),
                        },
                        NavItem {
                            href: "/cabinet/team",
                            label: "nav.team",
                            icon: "◎",
                            show: can(Resource::Users, Action::View),
                        },
                        NavItem {
                            href: "/sales",
                            label: "nav.sales",
                            icon: "◐",
                            show: seller,
                        },
                        NavItem {
                            href: "/jobs",
                            label: "nav.jobs",
                            icon: "◉",
                            show: can(Resource::InstallationRequests, Action::View),
                        },
                        NavItem {
                            href: "/cabinet/points-of-sale",
                            label: "nav.points_of_sale",
                            icon: "◍",
                            show: can(Resource::PointsOfSale, Action::View),
                        },
                    ],
                ),
                ("wh.nav.section", warehouse_nav(can, false)),
            ]
        };
        let mut sections = sections;
        sections.push((
            "nav.section.crm",
            vec![
                NavItem {
                    href: "/crm/clients",
                    label: "crm.clients",
                    icon: "◉",
                    show: can(Resource::Clients, Action::View),
                },
                NavItem {
                    href: "/crm/requests",
                    label: "crm.requests",
                    icon: "▣",
                    show: can(Resource::Deals, Action::View),
                },
            ],
        ));
        let sections = sections
            .into_iter()
            .filter_map(|(title, items)| {
                let items: Vec<_> = items.into_iter().filter(|i| i.show).collect();
                (!items.is_empty()).then(|| {
                    view! {
                        <div class="nav-section">
                            <div class="nav-title">{t(title)}</div>
                            {items
                                .into_iter()
                                .map(|i| {
                                    view! {
                                        <A href=i.href exact=true attr:class="nav-link">
                                            <span class="nav-icon" aria-hidden="true">{i.icon}</span>
                                            <span>{t(i.label)}</span>
                                        </A>
                                    }
                                })
                                .collect_view()}
                        </div>
                    }
                })
            })
            .collect_view();
        view! {
            <nav class="nav" aria-label=t("nav.main") data-testid="main-nav">
                {sections}
                <div class="nav-section">
                    <div class="nav-title">{t("nav.section.me")}</div>
                    <A href="/profile" attr:class="nav-link">
                        <span class="nav-icon" aria-hidden="true">"⚙"</span>
                        <span>{t("nav.profile")}</span>
                    </A>
                    <A href="/reminders" attr:class="nav-link">
                        <span class="nav-icon" aria-hidden="true">"◷"</span>
                        <span>{t("notify.nav")}</span>
                    </A>
                </div>
            </nav>
        }
    }
}

/// The equipment warehouse's navigation: back office or dealer cabinet.
fn warehouse_nav(can: impl Fn(Resource, Action) -> bool, back_office: bool) -> Vec<NavItem> {
    let [stock, orders, receiving, repairs, obligations] = if back_office {
        [
            "/admin/warehouse",
            "/admin/warehouse/orders",
            "/admin/warehouse/receiving",
            "/admin/warehouse/repairs",
            "/admin/warehouse/obligations",
        ]
    } else {
        [
            "/cabinet/warehouse",
            "/cabinet/warehouse/orders",
            "",
            "/cabinet/warehouse/repairs",
            "/cabinet/warehouse/obligations",
        ]
    };
    let repair_desk = can(Resource::InstallationRequests, Action::Create)
        || can(Resource::StockMovements, Action::Create);
    vec![
        NavItem {
            href: stock,
            label: "wh.nav.stock",
            icon: "▣",
            show: can(Resource::Warehouses, Action::View),
        },
        NavItem {
            href: orders,
            label: "wh.nav.orders",
            icon: "▧",
            show: can(Resource::EquipmentOrders, Action::View),
        },
        NavItem {
            href: receiving,
            label: "wh.nav.receiving",
            icon: "▼",
            show: back_office && can(Resource::StockMovements, Action::Create),
        },
        NavItem {
            href: repairs,
            label: "wh.nav.repairs",
            icon: "◍",
            show: repair_desk,
        },
        NavItem {
            href: obligations,
            label: "wh.nav.obligations",
            icon: "◔",
            show: can(Resource::EquipmentOrders, Action::View),
        },
    ]
}

#[component]
fn LangSwitch() -> impl IntoView {
    let current = i18n::lang();
    let other = match current {
        Lang::En => Lang::Ru,
        Lang::Ru => Lang::En,
    };
    view! {
        <button
            type="button"
            class="btn btn-small btn-ghost lang"
            title=t("lang.switch")
            on:click=move |_| i18n::switch(other)
        >
            {match other {
                Lang::En => "EN",
                Lang::Ru => "RU",
            }}
        </button>
    }
}

#[component]
fn UserMenu() -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    let open = RwSignal::new(false);
    let logout = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            session.logout().await;
            navigate("/login", Default::default());
        });
    };
    move || {
        let Some(me) = session.me.get() else {
            return ().into_any();
        };
        let roles = me
            .roles
            .iter()
            .map(|r| r.name.clone())
            .collect::<Vec<_>>()
            .join(", ");
        let initials: String = me
            .name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .take(2)
            .collect();
        let logout = logout.clone();
        view! {
            <div class="user-menu">
                <button
                    type="button"
                    class="user-chip"
                    data-testid="user-chip"
                    aria-expanded=move || open.get().to_string()
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    <span class="avatar" aria-hidden="true">{initials}</span>
                    <span class="user-text">
                        <span class="user-name">{me.name.clone()}</span>
                        <span class="user-sub">{format!("{roles} · {}", me.org_name)}</span>
                    </span>
                </button>
                <div class="menu menu-right" class:open=move || open.get()>
                    <div class="menu-head">
                        <div>{me.email.clone()}</div>
                        <div class="muted small">{format!("{} {}", t("user.level"), me.access_level)}</div>
                    </div>
                    <A href="/profile" attr:class="menu-item" on:click=move |_| open.set(false)>
                        {t("nav.profile")}
                    </A>
                    <button type="button" class="menu-item" data-testid="logout" on:click=logout>
                        {t("auth.logout")}
                    </button>
                </div>
            </div>
        }
        .into_any()
    }
}

/// `/`: the user's home.
#[component]
pub fn Landing() -> impl IntoView {
    let session = Session::get();
    view! { <Redirect path=session.home()/> }
}

/// Everything under `/admin`: back-office roles only; anyone else gets the no-access page.
#[component]
pub fn BackOffice() -> impl IntoView {
    let session = Session::get();
    move || {
        if session.back_office() {
            view! { <Outlet/> }.into_any()
        } else {
            view! { <NoAccess/> }.into_any()
        }
    }
}

/// Renders its children only when `/me` grants the action; otherwise the no-access page.
#[component]
pub fn Require(resource: Resource, action: Action, children: ChildrenFn) -> impl IntoView {
    let session = Session::get();
    move || {
        if session.can(resource, action) {
            children().into_any()
        } else {
            view! { <NoAccess/> }.into_any()
        }
    }
}
