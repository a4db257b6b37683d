//! The dealer cabinet (dealer staff, sellers): their own organisation, its network and team.

use dealernet_domain::access::{Action, Resource};
use dealernet_domain::list::Page;
use dealernet_domain::org::OrgNode;
use dealernet_domain::user::User;
use leptos::prelude::*;
use leptos_router::components::A;

use super::orgs::kind_label;
use crate::api;
use crate::components::Badge;
use crate::i18n::{t, tf};
use crate::session::Session;

async fn total(path: &str, params: Vec<(String, String)>) -> Option<u64> {
    let mut p = params;
    p.push(("limit".into(), "1".into()));
    api::get_query::<Page<serde_json::Value>>(path, &p)
        .await
        .ok()
        .map(|p| p.total)
}

#[component]
pub fn CabinetHome() -> impl IntoView {
    let session = Session::get();
    let me = session.me.get_untracked();
    let org_id = me.as_ref().map(|m| m.org_id).unwrap_or(0);
    let org = LocalResource::new(move || async move {
        api::get::<OrgNode>(&format!("/api/v1/orgs/{org_id}"))
            .await
            .ok()
    });
    let can_orgs = session.can(Resource::Orgs, Action::View);
    let can_users = session.can(Resource::Users, Action::View);
    let nodes = LocalResource::new(move || async move {
        if can_orgs {
            total("/api/v1/orgs", vec![("within".into(), org_id.to_string())]).await
        } else {
            None
        }
    });
    let people = LocalResource::new(move || async move {
        if can_users {
            total("/api/v1/users", vec![]).await
        } else {
            None
        }
    });
    let recent = LocalResource::new(move || async move {
        if can_users {
            api::get_query::<Page<User>>(
                "/api/v1/users",
                &[
                    ("limit".into(), "5".into()),
                    ("sort".into(), "-created_at".into()),
                ],
            )
            .await
            .ok()
        } else {
            None
        }
    });
    let name = me.as_ref().map(|m| m.name.clone()).unwrap_or_default();
    view! {
        <div class="page" data-testid="cabinet">
            <div class="page-head">
                <div>
                    <h1>{tf("cabinet.hello", &[("name", &name)])}</h1>
                    <p class="muted">{t("cabinet.intro")}</p>
                </div>
            </div>
            <div class="cards">
                <div class="card stat">
                    <div class="stat-label">{t("cabinet.my_org")}</div>
                    {move || org.get().flatten().map(|o| view! {
                        <div class="stat-value small-value">{o.name.clone()}</div>
                        <Badge tone="info" text=kind_label(o.kind)/>
                        {o.code.clone().map(|c| view! { " " <span class="muted mono small">{c}</span> })}
                    })}
                </div>
                {can_orgs.then(|| view! {
                    <A href="/cabinet/network" attr:class="card stat link-card">
                        <div class="stat-label">{t("cabinet.network")}</div>
                        <div class="stat-value">{move || nodes.get().flatten().map(|n| n.to_string()).unwrap_or_else(|| "…".into())}</div>
                        <div class="muted small">{t("cabinet.network_hint")}</div>
                    </A>
                })}
                {can_users.then(|| view! {
                    <A href="/cabinet/team" attr:class="card stat link-card">
                        <div class="stat-label">{t("cabinet.team")}</div>
                        <div class="stat-value">{move || people.get().flatten().map(|n| n.to_string()).unwrap_or_else(|| "…".into())}</div>
                        <div class="muted small">{t("cabinet.team_hint")}</div>
                    </A>
                })}
            </div>
            {can_users.then(|| view! {
                <section class="card">
                    <h2>{t("cabinet.recent_staff")}</h2>
                    {move || recent.get().flatten().map(|page| {
                        if page.items.is_empty() {
                            return view! { <p class="muted">{t("users.empty")}</p> }.into_any();
                        }
                        view! {
                            <ul class="list">
                                {page.items.into_iter().map(|u| view! {
                                    <li>
                                        <A href=format!("/cabinet/team/{}", u.id)>{u.name.clone().unwrap_or_default()}</A>
                                        <span class="muted small">{format!(" · {}", u.org_name.clone().unwrap_or_default())}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }
                        .into_any()
                    })}
                </section>
            })}
        </div>
    }
}

/// The sales portal entry for sellers: who they sell as, and where.
#[component]
pub fn SalesHome() -> impl IntoView {
    let session = Session::get();
    move || {
        session.me.get().map(|me| view! {
            <div class="page narrow" data-testid="sales-home">
                <div class="page-head"><h1>{t("nav.sales")}</h1></div>
                <div class="card">
                    <dl class="meta">
                        <dt>{t("user.seller_code")}</dt>
                        <dd class="mono">{me.seller_code.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>{t("sales.point")}</dt>
                        <dd>{me.org_name.clone()}</dd>
                    </dl>
                    <p class="muted">{t("sales.intro")}</p>
                </div>
            </div>
        })
    }
}
