//! The import wizard: choose a CSV or XLSX file, check it (a dry run that lists every row's
//! error), then import. Uploads show their progress, so large files do not look stuck.

use dealernet_domain::access::{Action, Resource};
use dealernet_domain::crm::{IMPORT_COLUMNS, ImportReport};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use super::shared::{problem_message, upload};
use crate::components::Breadcrumb;
use crate::i18n::{t, tf};
use crate::pages::shell::Require;

#[component]
pub fn ImportPage() -> impl IntoView {
    view! {
        <Require resource=Resource::Clients action=Action::Create>
            <ImportWizard/>
        </Require>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Choose,
    Checking,
    Checked,
    Importing,
    Done,
}

#[component]
fn ImportWizard() -> impl IntoView {
    let input_ref = NodeRef::<leptos::html::Input>::new();
    let phase = RwSignal::new(Phase::Choose);
    let progress = RwSignal::new(0.0f64);
    let report = RwSignal::new(None::<ImportReport>);
    let error = RwSignal::new(None::<String>);
    let file_name = RwSignal::new(String::new());
    let run = move |dry_run: bool| {
        let Some(file) = input_ref
            .get_untracked()
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            error.set(Some(t("crm.upload.choose").to_string()));
            return;
        };
        file_name.set(file.name());
        error.set(None);
        progress.set(0.0);
        phase.set(if dry_run {
            Phase::Checking
        } else {
            Phase::Importing
        });
        let url = format!("/api/v1/clients/import?dry_run={dry_run}");
        spawn_local(async move {
            let res = upload(url, file, move |p| progress.set(p)).await;
            progress.set(1.0);
            match res {
                Ok((200, body)) => match serde_json::from_str::<ImportReport>(&body) {
                    Ok(r) => {
                        let applied = r.applied;
                        report.set(Some(r));
                        phase.set(if applied { Phase::Done } else { Phase::Checked });
                    }
                    Err(e) => {
                        error.set(Some(e.to_string()));
                        phase.set(Phase::Choose);
                    }
                },
                Ok((status, body)) => {
                    error.set(Some(problem_message(status, &body)));
                    phase.set(Phase::Choose);
                }
                Err(e) => {
                    error.set(Some(e));
                    phase.set(Phase::Choose);
                }
            }
        });
    };
    let busy = move || matches!(phase.get(), Phase::Checking | Phase::Importing);
    let step_class = move |n: u8| {
        let current = match phase.get() {
            Phase::Choose | Phase::Checking => 1,
            Phase::Checked | Phase::Importing => 2,
            Phase::Done => 3,
        };
        if n < current {
            "step step-done"
        } else if n == current {
            "step step-next"
        } else {
            "step step-todo"
        }
    };
    view! {
        <div class="page narrow wide-form">
            <Breadcrumb items=vec![
                (t("crm.clients").to_string(), Some("/crm/clients".to_string())),
                (t("crm.import.title").to_string(), None),
            ]/>
            <h1>{t("crm.import.title")}</h1>
            <ol class="stepper">
                <li class=move || step_class(1)><span class="step-dot">"1"</span><span class="step-label">{t("crm.import.step_check")}</span></li>
                <li class=move || step_class(2)><span class="step-dot">"2"</span><span class="step-label">{t("crm.import.step_import")}</span></li>
                <li class=move || step_class(3)><span class="step-dot">"3"</span><span class="step-label">{t("crm.import.step_done")}</span></li>
            </ol>
            <section class="card form" data-testid="import-wizard">
                <p>{t("crm.import.intro")}</p>
                <p class="muted small"><code>{IMPORT_COLUMNS.join(", ")}</code></p>
                <div class="field">
                    <label class="field-label" for="f-import-file">{t("crm.import.file")}</label>
                    <input id="f-import-file" type="file" node_ref=input_ref accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                        on:change=move |_| { phase.set(Phase::Choose); report.set(None); error.set(None); }/>
                </div>
                {move || error.get().map(|e| view! { <p class="alert alert-danger" role="alert">{e}</p> })}
                <Show when=busy>
                    <div class="progress" role="progressbar" data-testid="import-progress" aria-valuenow=move || format!("{:.0}", progress.get() * 100.0)>
                        <div class="progress-bar" style=move || format!("width: {:.0}%", progress.get() * 100.0)></div>
                    </div>
                    <p class="muted small">{move || if progress.get() >= 1.0 { t("crm.import.processing").to_string() } else { tf("crm.import.uploading", &[("pct", &format!("{:.0}", progress.get() * 100.0))]) }}</p>
                </Show>
                <div class="form-actions">
                    <A href="/crm/clients" attr:class="btn">{t("common.back")}</A>
                    <button type="button" class="btn" disabled=busy data-testid="import-check" on:click=move |_| run(true)>{t("crm.import.check")}</button>
                    <button type="button" class="btn btn-primary" data-testid="import-run"
                        disabled=move || busy() || !report.get().is_some_and(|r| r.errors.is_empty() && !r.applied)
                        on:click=move |_| run(false)>{t("crm.import.run")}</button>
                </div>
            </section>
            {move || report.get().map(|r| view! {
                <section class="card" data-testid="import-report">
                    <h2>{if r.applied { t("crm.import.applied") } else if r.errors.is_empty() { t("crm.import.ready") } else { t("crm.import.has_errors") }}</h2>
                    <p>{tf("crm.import.summary", &[
                        ("file", &file_name.get_untracked()),
                        ("rows", &r.rows.to_string()),
                        ("created", &r.created.to_string()),
                        ("updated", &r.updated.to_string()),
                        ("unchanged", &r.unchanged.to_string()),
                        ("contacts", &r.contacts_created.to_string()),
                    ])}</p>
                    {(!r.errors.is_empty()).then(|| view! {
                        <table class="table" data-testid="import-errors">
                            <thead><tr><th class="num">{t("crm.import.row")}</th><th>{t("crm.import.field")}</th><th>{t("crm.import.problem")}</th></tr></thead>
                            <tbody>
                                {r.errors.iter().map(|e| view! {
                                    <tr><td class="num">{if e.row == 0 { "—".to_string() } else { e.row.to_string() }}</td><td>{e.field.clone()}</td><td>{e.message.clone()}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    })}
                </section>
            })}
        </div>
    }
}
