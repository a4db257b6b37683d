//! API keys for integrations: a key acts with one role inside one organisation node. The secret is
//! shown once, at creation.

use dealernet_domain::Id;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::api_key::{ApiKey, CreateApiKey, CreatedApiKey};
use dealernet_domain::list::Page;
use dealernet_domain::role::Role;
use leptos::prelude::*;
use leptos::task::spawn_local;
use validator::Validate;

use super::shell::Require;
use super::when;
use crate::api;
use crate::components::{
    Breadcrumb, Column, DataTable, FormErrors, ListQuery, Modal, OrgPicker, SelectField,
    StatusBadge, TextField, Toasts, confirm,
};
use crate::i18n::{t, tf};
use crate::session::Session;

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    view! {
        <Require resource=Resource::ApiKeys action=Action::View>
            <ApiKeysList/>
        </Require>
    }
}

#[component]
fn ApiKeysList() -> impl IntoView {
    let session = Session::get();
    let query = ListQuery::new("");
    let data = LocalResource::new(move || {
        let params = query.params();
        async move { api::get_query::<Page<ApiKey>>("/api/v1/api-keys", &params).await }
    });
    let create_open = RwSignal::new(false);
    let secret = RwSignal::new(None::<CreatedApiKey>);
    let can_delete = session.can(Resource::ApiKeys, Action::Delete);
    let revoke = move |k: ApiKey| {
        confirm(
            tf("keys.revoke_confirm", &[("name", &k.name)]),
            t("keys.revoke"),
            true,
            move || {
                let id = k.id;
                spawn_local(async move {
                    match api::delete(&format!("/api/v1/api-keys/{id}")).await {
                        Ok(()) => {
                            Toasts::success(t("keys.revoked"));
                            data.refetch();
                        }
                        Err(e) => Toasts::error(e.message()),
                    }
                });
            },
        );
    };
    let columns = vec![
        Column::new("name", t("keys.name"), |k: &ApiKey| view! { <strong>{k.name.clone()}</strong> }).fixed(),
        Column::new("prefix", t("keys.prefix"), |k: &ApiKey| view! { <span class="mono">{format!("{}…", k.prefix)}</span> }),
        Column::new("role", t("keys.role"), |k: &ApiKey| k.role_code.clone()),
        Column::new("created", t("common.created"), |k: &ApiKey| when(&k.created_at)),
        Column::new("last_used", t("keys.last_used"), |k: &ApiKey| k.last_used_at.as_ref().map(when).unwrap_or_else(|| "—".into())),
        Column::new("status", t("user.status"), |k: &ApiKey| {
            view! { <StatusBadge status=if k.revoked_at.is_some() { "revoked" } else { "active" }/> }
        }),
        Column::new("actions", "", move |k: &ApiKey| {
            let k2 = k.clone();
            (can_delete && k.revoked_at.is_none()).then(|| view! {
                <button type="button" class="btn btn-small btn-ghost danger" on:click=move |_| revoke(k2.clone())>
                    {t("keys.revoke")}
                </button>
            })
        })
        .fixed()
        .class("actions"),
    ];
    view! {
        <div class="page">
            <Breadcrumb items=vec![(t("nav.api_keys").to_string(), None)]/>
            <div class="page-head">
                <h1>{t("nav.api_keys")}</h1>
                <Show when=move || session.can(Resource::ApiKeys, Action::Create)>
                    <button type="button" class="btn btn-primary" on:click=move |_| create_open.set(true)>{t("keys.new")}</button>
                </Show>
            </div>
            <p class="muted">{t("keys.intro")}</p>
            <DataTable id="api-keys" columns=columns query=query data=data row_key=|k: &ApiKey| k.id empty=t("keys.empty")/>
            <CreateKeyDialog open=create_open created=secret on_created=move || data.refetch()/>
            <SecretDialog created=secret/>
        </div>
    }
}

#[component]
fn CreateKeyDialog(
    open: RwSignal<bool>,
    created: RwSignal<Option<CreatedApiKey>>,
    on_created: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = Session::get();
    let errors = FormErrors::new();
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(String::new());
    let org = RwSignal::new(session.me.with_untracked(|m| m.as_ref().map(|m| m.org_id)));
    let roles = LocalResource::new(|| async {
        api::get_query::<Page<Role>>(
            "/api/v1/roles",
            &[
                ("grantable".into(), "true".into()),
                ("limit".into(), "100".into()),
            ],
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default()
    });
    let role_options = Signal::derive(move || {
        roles
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.id.to_string(), r.name))
            .collect::<Vec<_>>()
    });
    Effect::new(move |_| {
        let options = role_options.get();
        if role.get_untracked().is_empty() {
            let pick = options
                .iter()
                .find(|(_, n)| n.to_lowercase().contains("integration"))
                .or(options.first());
            if let Some((id, _)) = pick {
                role.set(id.clone());
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = CreateApiKey {
            name: name.get_untracked().trim().to_string(),
            role_id: role.get_untracked().parse::<Id>().unwrap_or(0),
            org_id: org.get_untracked().unwrap_or(0),
        };
        let mut ok = errors.check(input.validate());
        if org.get_untracked().is_none() {
            errors.set("org_id", t("err.org_required"));
            ok = false;
        }
        if !ok {
            return;
        }
        spawn_local(async move {
            match api::post::<_, CreatedApiKey>("/api/v1/api-keys", &input).await {
                Ok(k) => {
                    open.set(false);
                    name.set(String::new());
                    created.set(Some(k));
                    on_created();
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
        <Modal open=open title=t("keys.new").to_string()>
            <form on:submit=submit novalidate=true>
                <TextField label=t("keys.name") name="name" value=name errors=errors hint=t("keys.name_hint") required=true/>
                <SelectField label=t("keys.role") name="role_id" value=role errors=errors options=role_options/>
                <OrgPicker label=t("keys.org") name="org_id" value=org errors=errors active_only=true/>
                <div class="form-actions">
                    <button type="button" class="btn" on:click=move |_| open.set(false)>{t("common.cancel")}</button>
                    <button type="submit" class="btn btn-primary">{t("common.create")}</button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn SecretDialog(created: RwSignal<Option<CreatedApiKey>>) -> impl IntoView {
    let open = RwSignal::new(false);
    Effect::new(move |_| {
        let want = created.with(Option::is_some);
        if open.get_untracked() != want {
            open.set(want);
        }
    });
    Effect::new(move |_| {
        if !open.get() && created.with_untracked(Option::is_some) {
            created.set(None);
        }
    });
    let copy = move |_| {
        if let Some(k) = created.get_untracked()
            && let Some(w) = web_sys::window()
        {
            let _ = w.navigator().clipboard().write_text(&k.secret);
            Toasts::info(t("keys.copied"));
        }
    };
    view! {
        <Modal open=open title=t("keys.secret_title").to_string()>
            <p>{t("keys.secret_once")}</p>
            <div class="secret">
                <code data-testid="api-key-secret">{move || created.get().map(|k| k.secret).unwrap_or_default()}</code>
                <button type="button" class="btn btn-small" on:click=copy>{t("keys.copy")}</button>
            </div>
            <div class="form-actions">
                <button type="button" class="btn btn-primary" on:click=move |_| open.set(false)>{t("keys.done")}</button>
            </div>
        </Modal>
    }
}
