//! Reminders in the SPA: the reminder dialog (usable from any row), the "Remind" row button,
//! the "My reminders" page and the "my reminders today" banner shown after sign-in.

use chrono::{Local, NaiveDateTime, Utc};
use dealernet_domain::Id;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::list::Page;
use dealernet_domain::reminders::{CreateReminder, Reminder, ReminderState, Repeat, TargetKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use validator::Validate;

use super::when;
use crate::api;
use crate::components::{
    Badge, Breadcrumb, FormErrors, Modal, SelectField, TextField, Toasts, confirm,
};
use crate::i18n::{t, tf};
use crate::session::Session;

fn repeat_label(r: Repeat) -> &'static str {
    t(&format!("notify.repeat.{}", r.as_str()))
}

/// The local time an hour from now, as a `datetime-local` value.
fn default_due() -> String {
    (Local::now() + chrono::Duration::hours(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// A `datetime-local` value (local time, with or without seconds) as UTC.
fn parse_local(value: &str) -> Option<chrono::DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M"))
        .ok()?;
    naive
        .and_local_timezone(Local)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}

/// The dialog that sets a reminder, personal or about a record (`target_kind` + `target_id`,
/// shown as `label`). Calls `on_saved` after the reminder is created.
#[component]
pub fn ReminderDialog(
    open: RwSignal<bool>,
    target_kind: TargetKind,
    #[prop(optional)] target_id: Option<Id>,
    #[prop(optional, into)] label: String,
    #[prop(optional)] on_saved: Option<Callback<Reminder>>,
) -> impl IntoView {
    let title = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let due = RwSignal::new(default_due());
    let repeat = RwSignal::new(Repeat::None.as_str().to_string());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);
    let label = StoredValue::new(label);
    // A fresh form every time the dialog opens.
    Effect::new(move |was_open: Option<bool>| {
        let is_open = open.get();
        if is_open && was_open != Some(true) {
            title.set(String::new());
            note.set(String::new());
            due.set(default_due());
            repeat.set(Repeat::None.as_str().to_string());
            errors.clear();
        }
        is_open
    });
    let repeat_options = Signal::derive(|| {
        Repeat::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), repeat_label(*r).to_string()))
            .collect::<Vec<_>>()
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(due_at) = parse_local(&due.get_untracked()) else {
            errors.set("due_at", t("notify.reminders.due_invalid"));
            return;
        };
        let input = CreateReminder {
            title: title.get_untracked().trim().to_string(),
            note: note.get_untracked().trim().to_string(),
            due_at,
            repeat: repeat.get_untracked().parse().unwrap_or_default(),
            target_kind,
            target_id,
        };
        if !errors.check(input.validate()) {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            match api::post::<_, Reminder>("/api/v1/reminders", &input).await {
                Ok(r) => {
                    Toasts::success(t("notify.reminders.saved"));
                    open.set(false);
                    if let Some(cb) = on_saved {
                        cb.run(r);
                    }
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
    view! {
        <Modal open=open title=Signal::derive(|| t("notify.reminders.dialog").to_string())>
            <form class="form" on:submit=submit novalidate=true data-testid="reminder-form">
                {move || {
                    let l = label.get_value();
                    (!l.is_empty()).then(|| view! {
                        <p class="muted">{tf("notify.reminders.about", &[("label", &l)])}</p>
                    })
                }}
                <TextField label=t("notify.reminders.title_field") name="title" value=title errors=errors required=true/>
                <TextField label=t("notify.reminders.note") name="note" value=note errors=errors/>
                <div class="field" data-field="due_at">
                    <label for="f-due_at" class="field-label">{t("notify.reminders.due")}</label>
                    <input
                        id="f-due_at"
                        name="due_at"
                        type="datetime-local"
                        step="1"
                        prop:value=move || due.get()
                        on:input=move |ev| {
                            due.set(event_target_value(&ev));
                            errors.clear_field("due_at");
                        }
                    />
                    <p class="field-error" role="alert">{move || errors.get("due_at")}</p>
                </div>
                <SelectField label=t("notify.reminders.repeat") name="repeat" value=repeat errors=errors options=repeat_options/>
                <p class="field-error" role="alert">{move || errors.get("target_kind").or_else(|| errors.get("target_id"))}</p>
                <div class="form-actions">
                    <button type="button" class="btn" on:click=move |_| open.set(false)>{t("common.cancel")}</button>
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get() data-testid="reminder-save">
                        {t("notify.reminders.save")}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

/// A row action that opens the reminder dialog about that row's record.
#[component]
pub fn RemindButton(
    target_kind: TargetKind,
    target_id: Id,
    #[prop(into)] label: String,
) -> impl IntoView {
    let session = Session::get();
    let open = RwSignal::new(false);
    move || {
        session.can(Resource::Reminders, Action::Create).then(|| {
            view! {
                <button
                    type="button"
                    class="btn btn-small btn-ghost"
                    data-testid="remind"
                    on:click=move |_| open.set(true)
                >
                    {t("notify.reminders.remind")}
                </button>
                <ReminderDialog open=open target_kind=target_kind target_id=target_id label=label.clone()/>
            }
        })
    }
}

fn state_badge(s: ReminderState) -> impl IntoView {
    let tone = match s {
        ReminderState::Scheduled => "info",
        ReminderState::Fired => "warning",
        ReminderState::Done => "success",
    };
    view! { <Badge tone=tone text=t(&format!("notify.state.{}", s.as_str())).to_string()/> }
}

/// `/reminders`: my reminders, soonest first, with done and delete.
#[component]
pub fn MyRemindersPage() -> impl IntoView {
    let open = RwSignal::new(false);
    let list = LocalResource::new(|| async {
        let query = vec![("limit".to_string(), "100".to_string())];
        api::get_query::<Page<Reminder>>("/api/v1/reminders", &query).await
    });
    let saved = Callback::new(move |_: Reminder| list.refetch());
    let done = move |id: Id| {
        spawn_local(async move {
            match api::post_empty(&format!("/api/v1/reminders/{id}/done"), &()).await {
                Ok(()) => list.refetch(),
                Err(e) => Toasts::error(e.message()),
            }
        });
    };
    let remove = move |id: Id| {
        confirm(
            t("notify.reminders.confirm_delete"),
            t("notify.reminders.delete"),
            true,
            move || {
                spawn_local(async move {
                    match api::delete(&format!("/api/v1/reminders/{id}")).await {
                        Ok(()) => {
                            Toasts::success(t("notify.reminders.deleted"));
                            list.refetch();
                        }
                        Err(e) => Toasts::error(e.message()),
                    }
                });
            },
        );
    };
    view! {
        <div class="page" data-testid="reminders-page">
            <Breadcrumb items=vec![(t("notify.reminders.title").to_string(), None)]/>
            <div class="page-head">
                <h1>{t("notify.reminders.title")}</h1>
                <button type="button" class="btn btn-primary" data-testid="reminder-new" on:click=move |_| open.set(true)>
                    {t("notify.reminders.new")}
                </button>
            </div>
            <ReminderDialog open=open target_kind=TargetKind::Personal on_saved=saved/>
            <div class="table-card">
                {move || match list.get() {
                    None => view! { <p class="table-state">"…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="table-state error">{e.message()}</p> }.into_any(),
                    Some(Ok(page)) if page.items.is_empty() => {
                        view! { <p class="table-state">{t("notify.reminders.empty")}</p> }.into_any()
                    }
                    Some(Ok(page)) => view! {
                        <table class="data-table">
                            <thead>
                                <tr>
                                    <th>{t("notify.reminders.title_field")}</th>
                                    <th>{t("notify.reminders.due")}</th>
                                    <th>{t("notify.reminders.repeat")}</th>
                                    <th>{t("notify.reminders.target")}</th>
                                    <th>{t("user.status")}</th>
                                    <th></th>
                                </tr>
                            </thead>
                            <tbody>
                                {page.items.into_iter().map(|r| {
                                    let id = r.id;
                                    let target = match (r.target_label.clone(), r.link.clone()) {
                                        (Some(l), Some(link)) => view! { <A href=link>{l}</A> }.into_any(),
                                        _ => view! { <span class="muted">{t("notify.reminders.personal")}</span> }.into_any(),
                                    };
                                    view! {
                                        <tr data-testid="reminder-row">
                                            <td>
                                                <div>{r.title.clone()}</div>
                                                {(!r.note.is_empty()).then(|| view! { <div class="muted small">{r.note.clone()}</div> })}
                                            </td>
                                            <td>{when(&r.due_at)}</td>
                                            <td>{repeat_label(r.repeat)}</td>
                                            <td>{target}</td>
                                            <td>{state_badge(r.state)}</td>
                                            <td class="actions">
                                                <div class="row-actions">
                                                    {(r.state != ReminderState::Done).then(|| view! {
                                                        <button type="button" class="btn btn-small" on:click=move |_| done(id)>
                                                            {t("notify.reminders.done")}
                                                        </button>
                                                    })}
                                                    <button type="button" class="btn btn-small btn-ghost" on:click=move |_| remove(id)>
                                                        {t("notify.reminders.delete")}
                                                    </button>
                                                </div>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any(),
                }}
            </div>
        </div>
    }
}

/// After sign-in: "your reminders for today", until dismissed.
#[component]
pub fn TodayBanner() -> impl IntoView {
    let session = Session::get();
    let items: RwSignal<Vec<Reminder>> = RwSignal::new(vec![]);
    let dismissed = RwSignal::new(false);
    if session.can(Resource::Reminders, Action::View) {
        spawn_local(async move {
            let offset = Local::now().offset().local_minus_utc() / 60;
            let query = vec![("utc_offset_minutes".to_string(), offset.to_string())];
            if let Ok(list) =
                api::get_query::<Vec<Reminder>>("/api/v1/reminders/today", &query).await
                && !list.is_empty()
            {
                items.set(list);
            }
        });
    }
    move || {
        let list = items.get();
        (!dismissed.get() && !list.is_empty()).then(|| {
            let count = list.len().to_string();
            let titles = list
                .iter()
                .take(3)
                .map(|r| r.title.clone())
                .collect::<Vec<_>>()
                .join(" · ");
            view! {
                <div class="alert alert-info today-banner" role="status" data-testid="reminders-today">
                    <div>
                        <strong>{tf("notify.today.banner", &[("count", &count)])}</strong>
                        <span class="muted small">" " {titles}</span>
                    </div>
                    <div class="row-actions">
                        <A href="/reminders" attr:class="btn btn-small">{t("notify.today.open")}</A>
                        <button type="button" class="icon-btn" aria-label=t("common.close") on:click=move |_| dismissed.set(true)>"✕"</button>
                    </div>
                </div>
            }
        })
    }
}
