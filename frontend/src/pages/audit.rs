//! The audit log: everything, filtered (back office), and the history of one record.

use dealernet_domain::Id;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::audit::AuditEntry;
use dealernet_domain::list::Page;
use leptos::prelude::*;

use super::shell::Require;
use super::when;
use crate::api;
use crate::components::{
    Breadcrumb, Column, DataTable, FormErrors, ListQuery, SelectField, TextField,
};
use crate::i18n::{t, tf};
use crate::session::Session;

fn summary(e: &AuditEntry) -> String {
    if e.changed.is_empty() {
        String::new()
    } else {
        e.changed.join(", ")
    }
}

fn action_label(action: &str) -> String {
    let s = t(&format!("audit.action.{action}"));
    if s.starts_with('⟨') {
        action.to_string()
    } else {
        s.to_string()
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <Require resource=Resource::Audit action=Action::View>
            <AuditList/>
        </Require>
    }
}

#[component]
fn AuditList() -> impl IntoView {
    let query = ListQuery::new("");
    let data = LocalResource::new(move || {
        let params = query.params();
        async move { api::get_query::<Page<AuditEntry>>("/api/v1/audit", &params).await }
    });
    let errors = FormErrors::new();
    let entity = RwSignal::new(String::new());
    let id = RwSignal::new(String::new());
    Effect::new(move |_| query.set_filter("entity", entity.get()));
    Effect::new(move |_| {
        let v = id.get();
        let v = v.trim();
        if v.is_empty() || v.parse::<Id>().is_ok() {
            errors.clear_field("id");
            query.set_filter("id", v.to_string());
        } else {
            errors.set("id", t("err.number"));
        }
    });
    let entities = Signal::derive(|| {
        [
            Resource::Users,
            Resource::Roles,
            Resource::Orgs,
            Resource::ApiKeys,
        ]
        .into_iter()
        .map(|r| {
            (
                r.as_str().to_string(),
                t(&format!("resource.{}", r.as_str())).to_string(),
            )
        })
        .collect::<Vec<_>>()
    });
    let columns = vec![
        Column::new("at", t("audit.at"), |e: &AuditEntry| when(&e.at)).fixed(),
        Column::new("actor", t("audit.actor"), |e: &AuditEntry| {
            e.actor_name
                .clone()
                .unwrap_or_else(|| t("audit.system").to_string())
        }),
        Column::new("action", t("audit.action"), |e: &AuditEntry| {
            action_label(&e.action)
        }),
        Column::new("entity", t("audit.entity"), |e: &AuditEntry| {
            format!("{} #{}", t(&format!("resource.{}", e.entity)), e.entity_id)
        }),
        Column::new("changed", t("audit.changed"), summary),
        Column::new("ip", t("audit.ip"), |e: &AuditEntry| {
            e.client_ip.clone().unwrap_or_default()
        }),
        Column::new("request", t("audit.request"), |e: &AuditEntry| {
            view! { <span class="mono small">{e.request_id.clone().unwrap_or_default()}</span> }
        }),
    ];
    view! {
        <div class="page">
            <Breadcrumb items=vec![(t("nav.audit").to_string(), None)]/>
            <div class="page-head"><h1>{t("nav.audit")}</h1></div>
            <div class="filters">
                <SelectField label=t("audit.entity") name="entity" value=entity errors=errors options=entities empty=t("common.any")/>
                <TextField label=t("audit.record_id") name="id" value=id errors=errors kind="text"/>
            </div>
            <DataTable id="audit" columns=columns query=query data=data row_key=|e: &AuditEntry| e.id/>
        </div>
    }
}

/// The history of one record, newest first, with what changed from what to what.
#[component]
pub fn History(entity: Resource, id: Id) -> impl IntoView {
    let session = Session::get();
    if !session.can(Resource::Audit, Action::View) {
        return ().into_any();
    }
    let entries = LocalResource::new(move || async move {
        api::get_query::<Page<AuditEntry>>(
            "/api/v1/audit",
            &[
                ("entity".into(), entity.as_str().into()),
                ("id".into(), id.to_string()),
                ("limit".into(), "50".into()),
            ],
        )
        .await
    });
    view! {
        <section class="card history" data-testid="history">
            <h2>{t("audit.history")}</h2>
            {move || match entries.get() {
                None => view! { <span class="skeleton wide"></span> }.into_any(),
                Some(Err(e)) => view! { <p class="alert alert-danger">{e.message()}</p> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => view! { <p class="muted">{t("audit.none")}</p> }.into_any(),
                Some(Ok(page)) => view! {
                    <ol class="timeline">
                        {page.items.into_iter().map(|e| view! { <HistoryEntry entry=e/> }).collect_view()}
                    </ol>
                    {(page.total > 50).then(|| view! { <p class="muted small">{tf("audit.more", &[("n", &(page.total - 50).to_string())])}</p> })}
                }
                .into_any(),
            }}
        </section>
    }
    .into_any()
}

fn show(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => "—".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[component]
fn HistoryEntry(entry: AuditEntry) -> impl IntoView {
    let rows = entry
        .changed
        .iter()
        .map(|f| {
            let before = show(entry.before.as_ref().and_then(|b| b.get(f)));
            let after = show(entry.after.as_ref().and_then(|a| a.get(f)));
            view! {
                <tr>
                    <th>{f.clone()}</th>
                    <td class="before">{before}</td>
                    <td class="arrow">"→"</td>
                    <td class="after">{after}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <li>
            <div class="timeline-head">
                <strong>{action_label(&entry.action)}</strong>
                <span class="muted small">
                    {format!(
                        "{} · {}",
                        when(&entry.at),
                        entry.actor_name.clone().unwrap_or_else(|| t("audit.system").to_string())
                    )}
                </span>
            </div>
            {(!entry.changed.is_empty()).then(|| view! { <table class="diff">{rows}</table> })}
        </li>
    }
}
