//! The back-office dashboard: the network at a glance, people by status, recent changes.

use dealernet_domain::access::{Action, Resource};
use dealernet_domain::audit::AuditEntry;
use dealernet_domain::list::Page;
use dealernet_domain::org::OrgKind;
use leptos::prelude::*;
use leptos_router::components::A;

use super::orgs::kind_label;
use super::when;
use crate::api;
use crate::i18n::{t, tf};
use crate::session::Session;

async fn count(path: &str, filter: Option<(&str, &str)>) -> u64 {
    let mut p = vec![("limit".to_string(), "1".to_string())];
    if let Some((k, v)) = filter {
        p.push((k.to_string(), v.to_string()));
    }
    api::get_query::<Page<serde_json::Value>>(path, &p)
        .await
        .map(|p| p.total)
        .unwrap_or(0)
}

/// A horizontal bar chart: label, value, and a bar scaled to the largest value.
#[component]
pub fn BarChart(rows: Vec<(String, u64)>) -> impl IntoView {
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    view! {
        <div class="bars" role="img">
            {rows
                .into_iter()
                .map(|(label, v)| {
                    let pct = (v as f64 / max as f64 * 100.0).max(if v > 0 { 2.0 } else { 0.0 });
                    view! {
                        <div class="bar-row">
                            <span class="bar-label">{label}</span>
                            <span class="bar-track"><span class="bar" style=format!("width: {pct:.1}%")></span></span>
                            <span class="bar-value">{v}</span>
                        </div>
                    }
                })
                .collect_view()}
        </div>
    }
}

#[component]
pub fn AdminHome() -> impl IntoView {
    let session = Session::get();
    let name = session
        .me
        .with_untracked(|m| m.as_ref().map(|m| m.name.clone()).unwrap_or_default());
    let can_users = session.can(Resource::Users, Action::View);
    let can_orgs = session.can(Resource::Orgs, Action::View);
    let can_audit = session.can(Resource::Audit, Action::View);
    let people = LocalResource::new(move || async move {
        if !can_users {
            return None;
        }
        Some((
            count("/api/v1/users", None).await,
            count("/api/v1/users", Some(("status", "active"))).await,
            count("/api/v1/users", Some(("status", "blocked"))).await,
        ))
    });
    let network = LocalResource::new(move || async move {
        if !can_orgs {
            return None;
        }
        let mut rows = Vec::new();
        for k in OrgKind::ALL.into_iter().filter(|k| *k != OrgKind::Operator) {
            rows.push((
                kind_label(k).to_string(),
                count("/api/v1/orgs", Some(("kind", k.as_str()))).await,
            ));
        }
        Some(rows)
    });
    let recent = LocalResource::new(move || async move {
        if !can_audit {
            return None;
        }
        api::get_query::<Page<AuditEntry>>("/api/v1/audit", &[("limit".into(), "8".into())])
            .await
            .ok()
    });
    let stat = |label: &'static str, href: &'static str, value: Signal<String>| {
        view! {
            <A href=href attr:class="card stat link-card">
                <div class="stat-label">{t(label)}</div>
                <div class="stat-value">{move || value.get()}</div>
            </A>
        }
    };
    let dots = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "…".into());
    view! {
        <div class="page" data-testid="dashboard">
            <div class="page-head">
                <div>
                    <h1>{tf("home.hello", &[("name", &name)])}</h1>
                    <p class="muted">{t("home.intro")}</p>
                </div>
            </div>
            {can_users.then(|| view! {
                <div class="cards">
                    {stat("home.users_total", "/admin/users", Signal::derive(move || dots(people.get().flatten().map(|p| p.0))))}
                    {stat("home.users_active", "/admin/users", Signal::derive(move || dots(people.get().flatten().map(|p| p.1))))}
                    {stat("home.users_blocked", "/admin/users", Signal::derive(move || dots(people.get().flatten().map(|p| p.2))))}
                    {can_orgs.then(|| stat("home.dealers", "/admin/orgs", Signal::derive(move || {
                        dots(network.get().flatten().map(|rows| {
                            rows.iter().filter(|(l, _)| l == kind_label(OrgKind::Dealer)).map(|(_, v)| *v).sum()
                        }))
                    })))}
                </div>
            })}
            <div class="grid-2 align-start">
                {can_orgs.then(|| view! {
                    <section class="card">
                        <h2>{t("home.network")}</h2>
                        {move || match network.get().flatten() {
                            None => view! { <span class="skeleton wide"></span> }.into_any(),
                            Some(rows) => view! { <BarChart rows=rows/> }.into_any(),
                        }}
                    </section>
                })}
                {can_audit.then(|| view! {
                    <section class="card">
                        <div class="card-head">
                            <h2>{t("home.recent")}</h2>
                            <A href="/admin/audit" attr:class="btn btn-small btn-ghost">{t("home.all_changes")}</A>
                        </div>
                        {move || match recent.get().flatten() {
                            None => view! { <span class="skeleton wide"></span> }.into_any(),
                            Some(page) if page.items.is_empty() => view! { <p class="muted">{t("audit.none")}</p> }.into_any(),
                            Some(page) => view! {
                                <ul class="list">
                                    {page.items.into_iter().map(|e| view! {
                                        <li>
                                            <strong>{e.actor_name.clone().unwrap_or_else(|| t("audit.system").to_string())}</strong>
                                            " "
                                            {e.action.clone()}
                                            " "
                                            {format!("{} #{}", t(&format!("resource.{}", e.entity)), e.entity_id)}
                                            <span class="muted small">{format!(" · {}", when(&e.at))}</span>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }
                            .into_any(),
                        }}
                    </section>
                })}
            </div>
        </div>
    }
}
