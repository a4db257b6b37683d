//! Users: the list with filters, create, edit, block/unblock, reset password, grant and revoke
//! roles. The same pages serve the back office (`/admin/users`) and the dealer cabinet
//! (`/cabinet/team`); the API scopes what each sees.

use dealernet_domain::Id;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::list::Page;
use dealernet_domain::role::Role;
use dealernet_domain::user::{CreateUser, ResetPassword, UpdateUser, User, UserStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use validator::Validate;

use super::shell::Require;
use super::when;
use crate::api::{self, ApiError};
use crate::components::{
    Breadcrumb, Column, DataTable, FormErrors, ListQuery, Modal, OrgPicker, SearchBox, SelectField,
    StatusBadge, TextField, Toasts, confirm,
};
use crate::i18n::{t, tf};
use crate::session::Session;

fn section_label(base: &str) -> &'static str {
    if base.starts_with("/cabinet") {
        t("nav.team")
    } else {
        t("nav.users")
    }
}

/// Roles the actor may grant (level at or below its own), for filters and pickers.
fn grantable_roles() -> LocalResource<Vec<Role>> {
    LocalResource::new(|| async {
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
    })
}

fn show_error(err: &ApiError) {
    Toasts::error(err.message());
}

#[component]
pub fn UsersPage(base: &'static str) -> impl IntoView {
    view! {
        <Require resource=Resource::Users action=Action::View>
            <UsersList base=base/>
        </Require>
    }
}

#[component]
fn UsersList(base: &'static str) -> impl IntoView {
    let session = Session::get();
    let query = ListQuery::new("name");
    let data = LocalResource::new(move || {
        let params = query.params();
        async move { api::get_query::<Page<User>>("/api/v1/users", &params).await }
    });
    let roles = grantable_roles();
    let org_filter = RwSignal::new(None::<Id>);
    let filter_errors = FormErrors::new();
    Effect::new(move |_| {
        let v = org_filter.get().map(|i| i.to_string()).unwrap_or_default();
        if v != query.filter("org_id") {
            query.set_filter("org_id", v);
        }
    });
    let role_filter = RwSignal::new(String::new());
    let status_filter = RwSignal::new(String::new());
    Effect::new(move |_| query.set_filter("role_id", role_filter.get()));
    Effect::new(move |_| query.set_filter("status", status_filter.get()));

    let can_edit = move || session.can(Resource::Users, Action::Edit);
    let toggle_block = move |u: User| {
        let blocking = u.status != Some(UserStatus::Blocked);
        let name = u.name.clone().unwrap_or_else(|| format!("#{}", u.id));
        let (msg, label) = if blocking {
            (
                tf("users.block_confirm", &[("name", &name)]),
                t("users.block"),
            )
        } else {
            (
                tf("users.unblock_confirm", &[("name", &name)]),
                t("users.unblock"),
            )
        };
        confirm(msg, label, blocking, move || {
            let id = u.id;
            spawn_local(async move {
                let body = UpdateUser {
                    status: Some(if blocking {
                        UserStatus::Blocked
                    } else {
                        UserStatus::Active
                    }),
                    ..Default::default()
                };
                match api::patch::<_, User>(&format!("/api/v1/users/{id}"), &body, None).await {
                    Ok(_) => {
                        Toasts::success(if blocking {
                            t("users.blocked_ok")
                        } else {
                            t("users.unblocked_ok")
                        });
                        data.refetch();
                    }
                    Err(e) => show_error(&e),
                }
            });
        });
    };

    let mut columns = vec![
        Column::new("name", t("user.name"), move |u: &User| {
            let label = u.name.clone().unwrap_or_else(|| format!("#{}", u.id));
            view! { <A href=format!("{base}/{}", u.id) attr:class="strong">{label}</A> }
        })
        .sortable("name")
        .fixed(),
    ];
    if !session.hidden(Resource::Users, "email") {
        columns.push(
            Column::new("email", t("user.email"), |u: &User| {
                u.email.clone().unwrap_or_default()
            })
            .sortable("email"),
        );
    }
    if !session.hidden(Resource::Users, "org_id") {
        columns.push(Column::new("org", t("user.org"), |u: &User| {
            u.org_name.clone().unwrap_or_default()
        }));
    }
    columns.push(Column::new("roles", t("user.roles"), |u: &User| {
        u.roles
            .iter()
            .map(|r| view! { <span class="chip">{r.name.clone()}</span> })
            .collect_view()
    }));
    if !session.hidden(Resource::Users, "access_level") {
        columns.push(
            Column::new("access_level", t("user.level"), |u: &User| {
                u.access_level.map(|l| l.to_string()).unwrap_or_default()
            })
            .sortable("access_level")
            .class("num"),
        );
    }
    if !session.hidden(Resource::Users, "status") {
        columns.push(
            Column::new("status", t("user.status"), |u: &User| {
                u.status.map(|s| view! { <StatusBadge status=s.as_str()/> })
            })
            .sortable("status"),
        );
    }
    if !session.hidden(Resource::Users, "last_login_at") {
        columns.push(
            Column::new("last_login_at", t("user.last_login"), |u: &User| {
                u.last_login_at
                    .as_ref()
                    .map(when)
                    .unwrap_or_else(|| "—".into())
            })
            .sortable("last_login_at"),
        );
    }
    columns.push(
        Column::new("actions", "", move |u: &User| {
            let u2 = u.clone();
            let blocked = u.status == Some(UserStatus::Blocked);
            let self_row = session.me.with_untracked(|m| m.as_ref().map(|m| m.id)) == Some(u.id);
            view! {
                <div class="row-actions">
                    <A href=format!("{base}/{}", u.id) attr:class="btn btn-small">{t("common.open")}</A>
                    {(can_edit() && !self_row && u.status.is_some()).then(|| {
                        let u2 = u2.clone();
                        view! {
                            <button
                                type="button"
                                class="btn btn-small btn-ghost"
                                data-testid="toggle-block"
                                on:click=move |_| toggle_block(u2.clone())
                            >
                                {if blocked { t("users.unblock") } else { t("users.block") }}
                            </button>
                        }
                    })}
                    <crate::pages::reminders::RemindButton target_kind=dealernet_domain::reminders::TargetKind::User target_id=u.id label=u.name.clone().unwrap_or_else(|| format!("#{}", u.id))/>
                </div>
            }
        })
        .fixed()
        .class("actions"),
    );

    let role_options = Signal::derive(move || {
        roles
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.id.to_string(), r.name))
            .collect::<Vec<_>>()
    });
    let status_options = Signal::derive(|| {
        vec![
            ("active".to_string(), t("status.active").to_string()),
            ("blocked".to_string(), t("status.blocked").to_string()),
        ]
    });

    view! {
        <div class="page">
            <Breadcrumb items=vec![(section_label(base).to_string(), None)]/>
            <div class="page-head">
                <h1>{section_label(base)}</h1>
                <Show when=move || session.can(Resource::Users, Action::Create)>
                    <A href=format!("{base}/new") attr:class="btn btn-primary" attr:data-testid="new-user">
                        {t("users.new")}
                    </A>
                </Show>
            </div>
            <div class="filters">
                <SearchBox query=query placeholder=t("users.search")/>
                <SelectField
                    label=t("user.role")
                    name="filter-role"
                    value=role_filter
                    errors=filter_errors
                    options=role_options
                    empty=t("common.any")
                />
                <SelectField
                    label=t("user.status")
                    name="filter-status"
                    value=status_filter
                    errors=filter_errors
                    options=status_options
                    empty=t("common.any")
                />
                <OrgPicker label=t("user.org") name="filter-org" value=org_filter errors=filter_errors/>
            </div>
            <DataTable id="users" columns=columns query=query data=data row_key=|u: &User| u.id empty=t("users.empty")/>
        </div>
    }
}

/// Access levels the actor may give: 1 up to its own.
fn level_options() -> Signal<Vec<(String, String)>> {
    let session = Session::get();
    Signal::derive(move || {
        let max = session
            .me
            .with(|m| m.as_ref().map(|m| m.access_level).unwrap_or(1));
        (1..=max)
            .rev()
            .map(|l| (l.to_string(), format!("{l} — {}", t(&format!("level.{l}")))))
            .collect()
    })
}

#[component]
fn RolePicker(
    roles: LocalResource<Vec<Role>>,
    chosen: RwSignal<Vec<Id>>,
    #[prop(into)] disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <fieldset class="field role-picker" data-field="role_ids">
            <legend class="field-label">{t("user.roles")}</legend>
            {move || match roles.get() {
                None => view! { <span class="skeleton"></span> }.into_any(),
                Some(list) => list
                    .into_iter()
                    .map(|r| {
                        let id = r.id;
                        view! {
                            <label class="check role-option">
                                <input
                                    type="checkbox"
                                    name="role"
                                    value=r.code.clone()
                                    disabled=move || disabled.get()
                                    prop:checked=move || chosen.get().contains(&id)
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|c| {
                                            c.retain(|x| *x != id);
                                            if on {
                                                c.push(id);
                                            }
                                        });
                                    }
                                />
                                <span>
                                    <strong>{r.name.clone()}</strong>
                                    <span class="muted small">{format!(" · {} {}", t("user.level"), r.level)}</span>
                                </span>
                            </label>
                        }
                    })
                    .collect_view()
                    .into_any(),
            }}
        </fieldset>
    }
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

#[component]
pub fn UserCreate(base: &'static str) -> impl IntoView {
    view! {
        <Require resource=Resource::Users action=Action::Create>
            <UserCreateForm base=base/>
        </Require>
    }
}

#[component]
fn UserCreateForm(base: &'static str) -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    let errors = FormErrors::new();
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let seller_code = RwSignal::new(String::new());
    let org = RwSignal::new(session.me.with_untracked(|m| m.as_ref().map(|m| m.org_id)));
    let level = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<Id>::new());
    let roles = grantable_roles();
    let busy = RwSignal::new(false);
    let level_locked = session.read_only(Resource::Users, "access_level");

    // The access level follows the highest role chosen, unless the user picked another by hand.
    let auto_level = StoredValue::new(String::new());
    Effect::new(move |_| {
        let ids = chosen.get();
        let top = roles
            .get()
            .unwrap_or_default()
            .into_iter()
            .filter(|r| ids.contains(&r.id))
            .map(|r| r.level)
            .max()
            .unwrap_or(1)
            .to_string();
        let current = level.get_untracked();
        if level_locked || current.is_empty() || current == auto_level.get_value() {
            auto_level.set_value(top.clone());
            if current != top {
                level.set(top);
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = CreateUser {
            email: email.get_untracked().trim().to_string(),
            name: name.get_untracked().trim().to_string(),
            password: password.get_untracked(),
            phone: opt(&phone.get_untracked()),
            org_id: org.get_untracked().unwrap_or(0),
            access_level: level.get_untracked().parse().unwrap_or(0),
            role_ids: chosen.get_untracked(),
            seller_code: opt(&seller_code.get_untracked()),
        };
        let mut valid = errors.check(input.validate());
        if org.get_untracked().is_none() {
            errors.set("org_id", t("err.org_required"));
            valid = false;
        }
        if !valid {
            return;
        }
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::post::<_, User>("/api/v1/users", &input).await {
                Ok(u) => {
                    Toasts::success(tf("users.created", &[("name", &input.name)]));
                    navigate(&format!("{base}/{}", u.id), Default::default());
                }
                Err(e) => {
                    busy.set(false);
                    if !errors.absorb(&e) {
                        show_error(&e);
                    }
                }
            }
        });
    };

    view! {
        <div class="page narrow">
            <Breadcrumb items=vec![
                (section_label(base).to_string(), Some(base.to_string())),
                (t("users.new").to_string(), None),
            ]/>
            <h1>{t("users.new")}</h1>
            <form class="card form" on:submit=submit novalidate=true data-testid="user-form">
                <div class="grid-2">
                    <TextField label=t("user.name") name="name" value=name errors=errors required=true/>
                    <TextField label=t("user.email") name="email" value=email errors=errors kind="email" required=true/>
                    <TextField label=t("user.phone") name="phone" value=phone errors=errors kind="tel" hint=t("user.phone_hint")/>
                    <TextField
                        label=t("user.password")
                        name="password"
                        value=password
                        errors=errors
                        kind="password"
                        autocomplete="new-password"
                        hint=t("user.password_hint")
                        required=true
                    />
                    <OrgPicker label=t("user.org") name="org_id" value=org errors=errors active_only=true/>
                    <SelectField
                        label=t("user.level")
                        name="access_level"
                        value=level
                        errors=errors
                        options=level_options()
                        disabled=level_locked
                    />
                    {(!session.hidden(Resource::Users, "seller_code")).then(|| view! {
                        <TextField
                            label=t("user.seller_code")
                            name="seller_code"
                            value=seller_code
                            errors=errors
                            hint=t("user.seller_code_hint")
                        />
                    })}
                </div>
                <RolePicker roles=roles chosen=chosen disabled=false/>
                <div class="form-actions">
                    <A href=base attr:class="btn">{t("common.cancel")}</A>
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get()>
                        {t("users.create")}
                    </button>
                </div>
            </form>
        </div>
    }
}

#[component]
pub fn UserEdit(base: &'static str) -> impl IntoView {
    view! {
        <Require resource=Resource::Users action=Action::View>
            <UserEditForm base=base/>
        </Require>
    }
}

#[component]
fn UserEditForm(base: &'static str) -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<Id>().ok()));
    let user = LocalResource::new(move || {
        let id = id();
        async move {
            match id {
                Some(id) => api::get_versioned::<User>(&format!("/api/v1/users/{id}")).await,
                None => Err(ApiError::Network(t("notfound.title").to_string())),
            }
        }
    });
    view! {
        <div class="page narrow">
            {move || match user.get() {
                None => view! { <div class="card"><span class="skeleton wide"></span></div> }.into_any(),
                Some(Err(e)) => view! {
                    <div class="state-page" data-testid="not-found">
                        <h1>{if e.status() == 404 { t("notfound.title").to_string() } else { e.message() }}</h1>
                        <A href=base attr:class="btn">{t("common.back")}</A>
                    </div>
                }
                .into_any(),
                Some(Ok(v)) => view! { <UserEditor base=base user=v.value etag=v.etag on_saved=move || user.refetch()/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn UserEditor(
    base: &'static str,
    user: User,
    etag: Option<String>,
    on_saved: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = Session::get();
    let errors = FormErrors::new();
    let ro = move |f: &str| {
        session.read_only(Resource::Users, f) || !session.can(Resource::Users, Action::Edit)
    };
    let hidden = move |f: &str| session.hidden(Resource::Users, f);
    let name = RwSignal::new(user.name.clone().unwrap_or_default());
    let email = RwSignal::new(user.email.clone().unwrap_or_default());
    let phone = RwSignal::new(user.phone.clone().unwrap_or_default());
    let seller_code = RwSignal::new(user.seller_code.clone().unwrap_or_default());
    let org = RwSignal::new(user.org_id);
    let level = RwSignal::new(user.access_level.map(|l| l.to_string()).unwrap_or_default());
    let chosen = RwSignal::new(user.roles.iter().map(|r| r.id).collect::<Vec<_>>());
    let roles = grantable_roles();
    let busy = RwSignal::new(false);
    let reset_open = RwSignal::new(false);
    let original = StoredValue::new(user.clone());
    let etag = StoredValue::new(etag);
    let id = user.id;

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let before = original.get_value();
        let mut input = UpdateUser::default();
        let n = name.get_untracked().trim().to_string();
        if before.name.as_deref() != Some(n.as_str()) && !ro("name") {
            input.name = Some(n);
        }
        let e = email.get_untracked().trim().to_string();
        if before.email.as_deref() != Some(e.as_str()) && !ro("email") && !hidden("email") {
            input.email = Some(e);
        }
        let p = opt(&phone.get_untracked());
        if before.phone != p && !ro("phone") && !hidden("phone") {
            input.phone = Some(p);
        }
        let s = opt(&seller_code.get_untracked());
        if before.seller_code != s && !ro("seller_code") && !hidden("seller_code") {
            input.seller_code = Some(s);
        }
        if org.get_untracked() != before.org_id && !ro("org_id") {
            input.org_id = org.get_untracked();
        }
        let l = level.get_untracked().parse::<i16>().ok();
        if l != before.access_level && !ro("access_level") {
            input.access_level = l;
        }
        let mut now = chosen.get_untracked();
        now.sort_unstable();
        let mut was: Vec<Id> = before.roles.iter().map(|r| r.id).collect();
        was.sort_unstable();
        if now != was {
            input.role_ids = Some(now);
        }
        if !errors.check(input.validate()) {
            return;
        }
        if input == UpdateUser::default() {
            Toasts::info(t("common.nothing_changed"));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let tag = etag.get_value();
            match api::patch::<_, User>(&format!("/api/v1/users/{id}"), &input, tag.as_deref())
                .await
            {
                Ok(v) => {
                    busy.set(false);
                    original.set_value(v.value);
                    etag.set_value(v.etag);
                    Toasts::success(t("common.saved"));
                    on_saved();
                }
                Err(e) => {
                    busy.set(false);
                    if e.status() == 412 {
                        Toasts::error(t("common.stale"));
                    } else if !errors.absorb(&e) {
                        show_error(&e);
                    }
                }
            }
        });
    };

    let title = user.name.clone().unwrap_or_else(|| format!("#{}", user.id));
    let status = user.status;
    let can_edit = session.can(Resource::Users, Action::Edit);
    view! {
        <Breadcrumb items=vec![(section_label(base).to_string(), Some(base.to_string())), (title.clone(), None)]/>
        <div class="page-head">
            <h1>
                {title.clone()} " "
                {status.map(|s| view! { <StatusBadge status=s.as_str()/> })}
            </h1>
            <div class="head-actions">
                {can_edit.then(|| view! {
                    <button type="button" class="btn" data-testid="reset-password" on:click=move |_| reset_open.set(true)>
                        {t("users.reset_password")}
                    </button>
                })}
            </div>
        </div>
        <form class="card form" on:submit=submit novalidate=true data-testid="user-form">
            <div class="grid-2">
                <TextField label=t("user.name") name="name" value=name errors=errors disabled=ro("name") required=true/>
                {(!hidden("email")).then(|| view! {
                    <TextField label=t("user.email") name="email" value=email errors=errors kind="email" disabled=ro("email")/>
                })}
                {(!hidden("phone")).then(|| view! {
                    <TextField label=t("user.phone") name="phone" value=phone errors=errors kind="tel" disabled=ro("phone")/>
                })}
                {(!hidden("org_id")).then(|| view! {
                    <OrgPicker label=t("user.org") name="org_id" value=org errors=errors disabled=ro("org_id") active_only=true/>
                })}
                {(!hidden("access_level")).then(|| view! {
                    <SelectField
                        label=t("user.level")
                        name="access_level"
                        value=level
                        errors=errors
                        options=level_options()
                        disabled=ro("access_level")
                    />
                })}
                {(!hidden("seller_code")).then(|| view! {
                    <TextField label=t("user.seller_code") name="seller_code" value=seller_code errors=errors disabled=ro("seller_code")/>
                })}
            </div>
            <RolePicker roles=roles chosen=chosen disabled=!can_edit/>
            <dl class="meta">
                <dt>{t("user.last_login")}</dt>
                <dd>{user.last_login_at.as_ref().map(when).unwrap_or_else(|| "—".into())}</dd>
                <dt>{t("common.created")}</dt>
                <dd>{when(&user.created_at)}</dd>
                <dt>{t("common.updated")}</dt>
                <dd>{when(&user.updated_at)}</dd>
            </dl>
            {can_edit.then(|| view! {
                <div class="form-actions">
                    <A href=base attr:class="btn">{t("common.back")}</A>
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get()>{t("common.save")}</button>
                </div>
            })}
        </form>
        <super::audit::History entity=Resource::Users id=id/>
        <ResetPasswordDialog open=reset_open id=id/>
    }
}

#[component]
fn ResetPasswordDialog(open: RwSignal<bool>, id: Id) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = ResetPassword {
            password: password.get_untracked(),
        };
        if !errors.check(input.validate()) {
            return;
        }
        spawn_local(async move {
            match api::post_empty(&format!("/api/v1/users/{id}/password"), &input).await {
                Ok(()) => {
                    open.set(false);
                    password.set(String::new());
                    Toasts::success(t("users.password_reset_ok"));
                }
                Err(e) => {
                    if !errors.absorb(&e) {
                        show_error(&e);
                    }
                }
            }
        });
    };
    view! {
        <Modal open=open title=t("users.reset_password").to_string()>
            <form on:submit=submit novalidate=true>
                <p class="muted">{t("users.reset_password_text")}</p>
                <TextField
                    label=t("user.new_password")
                    name="password"
                    value=password
                    errors=errors
                    kind="password"
                    autocomplete="new-password"
                    hint=t("user.password_hint")
                />
                <div class="form-actions">
                    <button type="button" class="btn" on:click=move |_| open.set(false)>{t("common.cancel")}</button>
                    <button type="submit" class="btn btn-primary">{t("users.reset_password")}</button>
                </div>
            </form>
        </Modal>
    }
}
