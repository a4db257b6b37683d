//! DealerNet's browser app: a Leptos client-side-rendered SPA over the `/api/v1` API.
//!
//! It shares `dealernet-domain` with the server, so the wire types and the validators are the same
//! code on both sides. It never decides permissions itself: it hides what `/api/v1/me` says is not
//! allowed, and the API enforces.

pub mod api;
pub mod components;
pub mod i18n;
pub mod pages;
pub mod session;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::components::{ConfirmHost, ToastHost};
use crate::pages::{api_keys, audit, cabinet, home, login, orgs, profile, roles, shell, users};
use crate::session::Session;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    i18n::init();
    if let Some(splash) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("splash"))
    {
        splash.remove();
    }
    leptos::mount::mount_to_body(App);
}

#[component]
pub fn App() -> impl IntoView {
    let session = Session::provide();
    spawn_local(session.restore());
    view! {
        <Router>
            <ToastHost/>
            <ConfirmHost/>
            <Routes fallback=|| view! { <pages::errors::NotFound/> }>
                <Route path=path!("/login") view=login::LoginPage/>
                <ParentRoute path=path!("") view=shell::Shell>
                    <Route path=path!("") view=shell::Landing/>
                    <ParentRoute path=path!("admin") view=shell::BackOffice>
                        <Route path=path!("") view=home::AdminHome/>
                        <Route path=path!("users") view=|| view! { <users::UsersPage base="/admin/users"/> }/>
                        <Route path=path!("users/new") view=|| view! { <users::UserCreate base="/admin/users"/> }/>
                        <Route path=path!("users/:id") view=|| view! { <users::UserEdit base="/admin/users"/> }/>
                        <Route path=path!("roles") view=roles::RolesPage/>
                        <Route path=path!("roles/:id") view=roles::RolePage/>
                        <Route path=path!("orgs") view=|| view! { <orgs::OrgsPage base="/admin/orgs"/> }/>
                        <Route path=path!("api-keys") view=api_keys::ApiKeysPage/>
                        <Route path=path!("audit") view=audit::AuditPage/>
                        <Route path=path!("warehouse") view=|| view! { <pages::warehouse::StockPage base="/admin/warehouse"/> }/>
                        <Route path=path!("warehouse/serial/:serial") view=|| view! { <pages::warehouse::SerialPage base="/admin/warehouse"/> }/>
                        <Route path=path!("warehouse/orders") view=|| view! { <pages::warehouse::OrdersPage base="/admin/warehouse"/> }/>
                        <Route path=path!("warehouse/orders/:id") view=|| view! { <pages::warehouse::OrderPage base="/admin/warehouse"/> }/>
                        <Route path=path!("warehouse/receiving") view=pages::warehouse::ReceivingPage/>
                        <Route path=path!("warehouse/repairs") view=|| view! { <pages::warehouse::RepairPage base="/admin/warehouse"/> }/>
                        <Route path=path!("warehouse/obligations") view=pages::warehouse::ObligationsPage/>
                        <Route path=path!("dealers") view=pages::dealers::DealersPage/>
                        <Route path=path!("dealers/:id") view=pages::dealers::DealerProfilePage/>
                        <Route path=path!("points-of-sale") view=pages::dealers::PointsOfSalePage/>
                        <Route path=path!("requests") view=pages::dealer_requests::RequestsPage/>
                        <Route path=path!("requests/new") view=pages::dealer_requests::NewRequestPage/>
                        <Route path=path!("requests/metrics") view=pages::dealer_requests::MetricsPage/>
                        <Route path=path!("requests/:id") view=pages::dealer_requests::RequestPage/>
                        <Route path=path!("*any") view=pages::errors::NotFound/>
                    </ParentRoute>
                    <Route path=path!("cabinet") view=cabinet::CabinetHome/>
                    <Route path=path!("cabinet/network") view=|| view! { <orgs::OrgsPage base="/cabinet/network"/> }/>
                    <Route path=path!("cabinet/team") view=|| view! { <users::UsersPage base="/cabinet/team"/> }/>
                    <Route path=path!("cabinet/team/new") view=|| view! { <users::UserCreate base="/cabinet/team"/> }/>
                    <Route path=path!("cabinet/team/:id") view=|| view! { <users::UserEdit base="/cabinet/team"/> }/>
                    <Route path=path!("sales") view=cabinet::SalesHome/>
                    <Route path=path!("cabinet/warehouse") view=|| view! { <pages::warehouse::StockPage base="/cabinet/warehouse"/> }/>
                    <Route path=path!("cabinet/warehouse/serial/:serial") view=|| view! { <pages::warehouse::SerialPage base="/cabinet/warehouse"/> }/>
                    <Route path=path!("cabinet/warehouse/orders") view=|| view! { <pages::warehouse::OrdersPage base="/cabinet/warehouse"/> }/>
                    <Route path=path!("cabinet/warehouse/orders/:id") view=|| view! { <pages::warehouse::OrderPage base="/cabinet/warehouse"/> }/>
                    <Route path=path!("cabinet/warehouse/repairs") view=|| view! { <pages::warehouse::RepairPage base="/cabinet/warehouse"/> }/>
                    <Route path=path!("cabinet/warehouse/obligations") view=pages::warehouse::ObligationsPage/>
                    <Route path=path!("jobs") view=pages::dealer_requests::JobsPage/>
                    <Route path=path!("jobs/:id") view=pages::dealer_requests::JobsPage/>
                    <Route path=path!("cabinet/points-of-sale") view=pages::dealers::PointsOfSalePage/>
                    <Route path=path!("profile") view=profile::ProfilePage/>
                    <Route path=path!("reminders") view=pages::reminders::MyRemindersPage/>
                    <Route path=path!("crm/clients") view=pages::crm::clients::ClientsPage/>
                    <Route path=path!("crm/clients/import") view=pages::crm::import::ImportPage/>
                    <Route path=path!("crm/clients/:id") view=pages::crm::clients::ClientCard/>
                    <Route path=path!("crm/requests") view=pages::crm::requests::RequestsPage/>
                    <Route path=path!("crm/requests/new") view=pages::crm::requests::RequestCreate/>
                    <Route path=path!("crm/requests/:id") view=pages::crm::requests::RequestCard/>
                    <Route path=path!("no-access") view=pages::errors::NoAccess/>
                    <Route path=path!("*any") view=pages::errors::NotFound/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
