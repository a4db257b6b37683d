//! Roles are data: a permission matrix, a record scope and field policies. Everyone who may view
//! roles sees them; holders of `roles:edit` change them (the API checks levels).

use std::collections::BTreeSet;

use dealernet_domain::Id;
use dealernet_domain::access::{Action, FieldMode, FieldPolicy, Permission, RecordScope, Resource};
use dealernet_domain::list::Page;
use dealernet_domain::role::{CreateRole, Role, UpdateRole};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use validator::Validate;

use super::shell::Require;
use crate::api;
use crate::components::{
    Badge, Breadcrumb, CheckboxField, Column, DataTable, FormErrors, ListQuery, Modal, SelectField,
    TextField, Toasts,
};
use crate::i18n::{t, tf};
use crate::session::Session;

pub fn scope_label(s: RecordScope) -> &'static str {
    match s {
        RecordScope::All => t("scope.all"),
        RecordScope::Subtree => t("scope.subtree"),
        RecordScope::Own => t("scope.own"),
    }
}

fn scope_options() -> Signal<Vec<(String, String)>> {
    Signal::derive(|| {
        [RecordScope::All, RecordScope::Subtree, RecordScope::Own]
            .into_iter()
            .map(|s| (scope_code(s).to_string(), scope_label(s).to_string()))
            .collect()
    })
}

fn scope_code(s: RecordScope) -> &'static str {
    match s {
        RecordScope::All => "all",
        RecordScope::Subtree => "subtree",
        RecordScope::Own => "own",
    }
}

fn parse_scope(s: &str) -> Option<RecordScope> {
    match s {
        "all" => Some(RecordScope::All),
        "subtree" => Some(RecordScope::Subtree),
        "own" => Some(RecordScope::Own),
        _ => None,
    }
}

pub fn resource_label(r: Resource) -> &'static str {
    t(&format!("resource.{}", r.as_str()))
}

#[component]
pub fn RolesPage() -> impl IntoView {
    view! {
        <Require resource=Resource::Roles action=Action::View>
            <RolesList/>
        </Require>
    }
}

#[component]
fn RolesList() -> impl IntoView {
    let session = Session::get();
    let query = ListQuery::new("");
    let data = LocalResource::new(move || {
        let params = query.params();
        async move { api::get_query::<Page<Role>>("/api/v1/roles", &params).await }
    });
    let create_open = RwSignal::new(false);
    let columns = vec![
        Column::new("name", t("role.name"), |r: &Role| {
            let href = format!("/admin/roles/{}", r.id);
            let name = r.name.clone();
            let code = r.code.clone();
            view! {
                <A href=href attr:class="strong">{name}</A>
                <div class="muted small mono">{code}</div>
            }
        })
        .fixed(),
        Column::new("level", t("role.level"), |r: &Role| r.level.to_string()).class("num"),
        Column::new("scope", t("role.scope"), |r: &Role| scope_label(r.scope)),
        Column::new("area", t("role.area"), |r: &Role| {
            if r.back_office {
                view! { <Badge tone="info" text=t("role.back_office")/> }
            } else {
                view! { <Badge tone="neutral" text=t("role.cabinet")/> }
            }
        }),
        Column::new("permissions", t("role.permissions"), |r: &Role| {
            r.permissions.len().to_string()
        })
        .class("num"),
        Column::new("description", t("role.description"), |r: &Role| {
            r.description.clone()
        }),
        Column::new("builtin", "", |r: &Role| {
            r.builtin
                .then(|| view! { <Badge tone="neutral" text=t("role.builtin")/> })
        }),
    ];
    view! {
        <div class="page">
            <Breadcrumb items=vec![(t("nav.roles").to_string(), None)]/>
            <div class="page-head">
                <h1>{t("nav.roles")}</h1>
                <Show when=move || session.can(Resource::Roles, Action::Create)>
                    <button type="button" class="btn btn-primary" on:click=move |_| create_open.set(true)>{t("role.new")}</button>
                </Show>
            </div>
            <DataTable id="roles" columns=columns query=query data=data row_key=|r: &Role| r.id/>
            <CreateRoleDialog open=create_open/>
        </div>
    }
}

#[component]
fn CreateRoleDialog(open: RwSignal<bool>) -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    let goto = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(path) = goto.get() {
            navigate(&path, Default::default());
        }
    });
    let errors = FormErrors::new();
    let code = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let level = RwSignal::new("1".to_string());
    let scope = RwSignal::new("subtree".to_string());
    let back_office = RwSignal::new(false);
    let levels = Signal::derive(move || {
        let max = session
            .me
            .with(|m| m.as_ref().map(|m| m.access_level).unwrap_or(1));
        (1..=max)
            .rev()
            .map(|l| (l.to_string(), l.to_string()))
            .collect()
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = CreateRole {
            code: code.get_untracked().trim().to_string(),
            name: name.get_untracked().trim().to_string(),
            description: description.get_untracked().trim().to_string(),
            level: level.get_untracked().parse().unwrap_or(0),
            scope: parse_scope(&scope.get_untracked()).unwrap_or(RecordScope::Own),
            permissions: vec![],
            field_policies: vec![],
            back_office: back_office.get_untracked(),
        };
        if !errors.check(input.validate()) {
            return;
        }
        spawn_local(async move {
            match api::post::<_, Role>("/api/v1/roles", &input).await {
                Ok(r) => {
                    open.set(false);
                    Toasts::success(tf("role.created", &[("name", &r.name)]));
                    goto.set(Some(format!("/admin/roles/{}", r.id)));
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
        <Modal open=open title=t("role.new").to_string()>
            <form on:submit=submit novalidate=true>
                <TextField label=t("role.code") name="code" value=code errors=errors hint=t("role.code_hint") required=true/>
                <TextField label=t("role.name") name="name" value=name errors=errors required=true/>
                <TextField label=t("role.description") name="description" value=description errors=errors/>
                <div class="grid-2">
                    <SelectField label=t("role.level") name="level" value=level errors=errors options=levels/>
                    <SelectField label=t("role.scope") name="scope" value=scope errors=errors options=scope_options()/>
                </div>
                <CheckboxField label=t("role.back_office") name="back_office" value=back_office/>
                <div class="form-actions">
                    <button type="button" class="btn" on:click=move |_| open.set(false)>{t("common.cancel")}</button>
                    <button type="submit" class="btn btn-primary">{t("common.create")}</button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
pub fn RolePage() -> impl IntoView {
    view! {
        <Require resource=Resource::Roles action=Action::View>
            <RoleDetail/>
        </Require>
    }
}

#[component]
fn RoleDetail() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<Id>().ok()));
    let role = LocalResource::new(move || {
        let id = id();
        async move { api::get_versioned::<Role>(&format!("/api/v1/roles/{}", id.unwrap_or(0))).await }
    });
    view! {
        <div class="page">
            {move || match role.get() {
                None => view! { <div class="card"><span class="skeleton wide"></span></div> }.into_any(),
                Some(Err(e)) => view! { <div class="state-page"><h1>{e.message()}</h1></div> }.into_any(),
                Some(Ok(v)) => view! { <RoleEditor role=v.value etag=v.etag/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn RoleEditor(role: Role, etag: Option<String>) -> impl IntoView {
    let session = Session::get();
    let editable = session.can(Resource::Roles, Action::Edit)
        && session
            .me
            .with_untracked(|m| m.as_ref().is_some_and(|m| m.access_level >= role.level));
    let errors = FormErrors::new();
    let name = RwSignal::new(role.name.clone());
    let description = RwSignal::new(role.description.clone());
    let level = RwSignal::new(role.level.to_string());
    let scope = RwSignal::new(scope_code(role.scope).to_string());
    let back_office = RwSignal::new(role.back_office);
    let perms = RwSignal::new(
        role.permissions
            .iter()
            .copied()
            .collect::<BTreeSet<Permission>>(),
    );
    let policies = RwSignal::new(role.field_policies.clone());
    let etag = StoredValue::new(etag);
    let id = role.id;
    let busy = RwSignal::new(false);
    let levels = Signal::derive(move || {
        let max = session
            .me
            .with(|m| m.as_ref().map(|m| m.access_level).unwrap_or(1));
        (1..=max)
            .rev()
            .map(|l| (l.to_string(), l.to_string()))
            .collect()
    });

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = UpdateRole {
            name: Some(name.get_untracked().trim().to_string()),
            description: Some(description.get_untracked().trim().to_string()),
            level: level.get_untracked().parse().ok(),
            scope: parse_scope(&scope.get_untracked()),
            permissions: Some(perms.get_untracked().into_iter().collect()),
            field_policies: Some(policies.get_untracked()),
            back_office: Some(back_office.get_untracked()),
        };
        if !errors.check(input.validate()) {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let tag = etag.get_value();
            match api::patch::<_, Role>(&format!("/api/v1/roles/{id}"), &input, tag.as_deref())
                .await
            {
                Ok(v) => {
                    etag.set_value(v.etag);
                    Toasts::success(t("common.saved"));
                }
                Err(e) => {
                    if e.status() == 412 {
                        Toasts::error(t("common.stale"));
                    } else if !errors.absorb(&e) {
                        Toasts::error(e.message());
                    }
                }
            }
            busy.set(false);
        });
    };

    let matrix = Resource::ALL
        .into_iter()
        .map(|r| {
            let cells = Action::ALL
                .into_iter()
                .map(|a| {
                    let p = Permission::new(r, a);
                    view! {
                        <td class="center">
                            <input
                                type="checkbox"
                                aria-label=format!("{p}")
                                disabled=!editable
                                prop:checked=move || perms.with(|s| s.contains(&p))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    perms.update(|s| {
                                        if on { s.insert(p); } else { s.remove(&p); }
                                    });
                                }
                            />
                        </td>
                    }
                })
                .collect_view();
            view! {
                <tr>
                    <th>{resource_label(r)}</th>
                    {cells}
                </tr>
            }
        })
        .collect_view();

    view! {
        <Breadcrumb items=vec![(t("nav.roles").to_string(), Some("/admin/roles".into())), (role.name.clone(), None)]/>
        <div class="page-head">
            <h1>{role.name.clone()} " " <span class="muted mono small">{role.code.clone()}</span></h1>
            {role.builtin.then(|| view! { <Badge tone="neutral" text=t("role.builtin")/> })}
        </div>
        <form class="stack" on:submit=save novalidate=true>
            <div class="card form">
                <div class="grid-2">
                    <TextField label=t("role.name") name="name" value=name errors=errors disabled=!editable/>
                    <TextField label=t("role.description") name="description" value=description errors=errors disabled=!editable/>
                    <SelectField label=t("role.level") name="level" value=level errors=errors options=levels disabled=!editable/>
                    <SelectField label=t("role.scope") name="scope" value=scope errors=errors options=scope_options() disabled=!editable/>
                </div>
                <CheckboxField label=t("role.back_office") name="back_office" value=back_office disabled=!editable/>
                <p class="field-hint">{t("role.scope_hint")}</p>
            </div>
            <div class="card">
                <h2>{t("role.permissions")}</h2>
                <div class="table-scroll">
                    <table class="matrix" data-testid="permission-matrix">
                        <thead>
                            <tr>
                                <th></th>
                                {Action::ALL.into_iter().map(|a| view! { <th class="center">{t(&format!("action.{}", a.as_str()))}</th> }).collect_view()}
                            </tr>
                        </thead>
                        <tbody>{matrix}</tbody>
                    </table>
                </div>
            </div>
            <div class="card">
                <h2>{t("role.field_policies")}</h2>
                <FieldPolicies policies=policies editable=editable/>
            </div>
            {editable.then(|| view! {
                <div class="form-actions sticky">
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get()>{t("common.save")}</button>
                </div>
            })}
        </form>
        <super::audit::History entity=Resource::Roles id=id/>
    }
}

#[component]
fn FieldPolicies(policies: RwSignal<Vec<FieldPolicy>>, editable: bool) -> impl IntoView {
    let errors = FormErrors::new();
    let resource = RwSignal::new("users".to_string());
    let field = RwSignal::new(String::new());
    let mode = RwSignal::new("hidden".to_string());
    let resources = Signal::derive(|| {
        Resource::ALL
            .into_iter()
            .filter(|r| !r.policy_fields().is_empty())
            .map(|r| (r.as_str().to_string(), resource_label(r).to_string()))
            .collect()
    });
    let fields: Signal<Vec<(String, String)>> = Signal::derive(move || {
        resource
            .get()
            .parse::<Resource>()
            .map(|r| {
                r.policy_fields()
                    .iter()
                    .map(|f| (f.to_string(), f.to_string()))
                    .collect()
            })
            .unwrap_or_default()
    });
    Effect::new(move |_| {
        let options = fields.get();
        if !options.iter().any(|(f, _)| *f == field.get_untracked()) {
            field.set(options.first().map(|(f, _)| f.clone()).unwrap_or_default());
        }
    });
    let modes = Signal::derive(|| {
        vec![
            ("hidden".to_string(), t("field.hidden").to_string()),
            ("read_only".to_string(), t("field.read_only").to_string()),
        ]
    });
    let add = move |_| {
        let Ok(r) = resource.get_untracked().parse::<Resource>() else {
            return;
        };
        let f = field.get_untracked();
        let m = if mode.get_untracked() == "hidden" {
            FieldMode::Hidden
        } else {
            FieldMode::ReadOnly
        };
        policies.update(|p| {
            p.retain(|x| !(x.resource == r && x.field == f));
            p.push(FieldPolicy {
                resource: r,
                field: f,
                mode: m,
            });
        });
    };
    view! {
        {move || {
            let list = policies.get();
            if list.is_empty() {
                return view! { <p class="muted">{t("role.no_field_policies")}</p> }.into_any();
            }
            view! {
                <table class="data-table compact">
                    <thead><tr><th>{t("role.resource")}</th><th>{t("role.field")}</th><th>{t("role.mode")}</th><th></th></tr></thead>
                    <tbody>
                        {list.into_iter().enumerate().map(|(i, p)| view! {
                            <tr>
                                <td>{resource_label(p.resource)}</td>
                                <td class="mono">{p.field.clone()}</td>
                                <td>{match p.mode { FieldMode::Hidden => t("field.hidden"), FieldMode::ReadOnly => t("field.read_only") }}</td>
                                <td class="actions">
                                    {editable.then(|| view! {
                                        <button type="button" class="btn btn-small btn-ghost" on:click=move |_| policies.update(|p| { p.remove(i); })>
                                            {t("common.remove")}
                                        </button>
                                    })}
                                </td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }
            .into_any()
        }}
        {editable.then(|| view! {
            <div class="inline-form">
                <SelectField label=t("role.resource") name="fp-resource" value=resource errors=errors options=resources/>
                <SelectField label=t("role.field") name="fp-field" value=field errors=errors options=fields/>
                <SelectField label=t("role.mode") name="fp-mode" value=mode errors=errors options=modes/>
                <button type="button" class="btn" on:click=add>{t("common.add")}</button>
            </div>
        })}
    }
}
