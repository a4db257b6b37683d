//! My profile: own details, password, and the sessions signed in on other devices.

use dealernet_domain::auth::{ChangePassword, Me, Session as SignedSession, UpdateMe};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use validator::Validate;

use super::when;
use crate::api;
use crate::components::{Breadcrumb, FormErrors, TextField, Toasts, confirm};
use crate::i18n::t;
use crate::session::Session;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let session = Session::get();
    move || {
        session.me.get().map(|me| {
            view! {
                <div class="page narrow">
                    <Breadcrumb items=vec![(t("nav.profile").to_string(), None)]/>
                    <div class="page-head"><h1>{t("nav.profile")}</h1></div>
                    <Details me=me/>
                    <PasswordForm/>
                    <Sessions/>
                    <crate::pages::notifications::NotificationPreferences/>
                </div>
            }
        })
    }
}

#[component]
fn Details(me: Me) -> impl IntoView {
    let session = Session::get();
    let errors = FormErrors::new();
    let name = RwSignal::new(me.name.clone());
    let phone = RwSignal::new(me.phone.clone().unwrap_or_default());
    let busy = RwSignal::new(false);
    let original = StoredValue::new(me.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let before = original.get_value();
        let n = name.get_untracked().trim().to_string();
        let p = phone.get_untracked().trim().to_string();
        let p = (!p.is_empty()).then_some(p);
        let input = UpdateMe {
            name: (n != before.name).then_some(n),
            phone: (p != before.phone).then_some(p),
        };
        if !errors.check(input.validate()) {
            return;
        }
        if input == UpdateMe::default() {
            Toasts::info(t("common.nothing_changed"));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            match api::patch::<_, Me>("/api/v1/me", &input, None).await {
                Ok(v) => {
                    original.set_value(v.value.clone());
                    session.me.set(Some(v.value));
                    Toasts::success(t("common.saved"));
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
    let roles = me
        .roles
        .iter()
        .map(|r| r.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <form class="card form" on:submit=submit novalidate=true data-testid="profile-form">
            <h2>{t("profile.details")}</h2>
            <dl class="meta">
                <dt>{t("user.email")}</dt><dd>{me.email.clone()}</dd>
                <dt>{t("user.org")}</dt><dd>{me.org_name.clone()}</dd>
                <dt>{t("user.roles")}</dt><dd>{roles}</dd>
                <dt>{t("user.level")}</dt><dd>{me.access_level}</dd>
                {me.seller_code.clone().map(|c| view! { <dt>{t("user.seller_code")}</dt><dd class="mono">{c}</dd> })}
            </dl>
            <div class="grid-2">
                <TextField label=t("user.name") name="name" value=name errors=errors required=true/>
                <TextField label=t("user.phone") name="phone" value=phone errors=errors kind="tel" hint=t("user.phone_hint")/>
            </div>
            <div class="form-actions">
                <button type="submit" class="btn btn-primary" disabled=move || busy.get()>{t("common.save")}</button>
            </div>
        </form>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let errors = FormErrors::new();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = ChangePassword {
            current_password: current.get_untracked(),
            new_password: new.get_untracked(),
        };
        let mut ok = errors.check(input.validate());
        if new.get_untracked() != repeat.get_untracked() {
            errors.set("repeat", t("err.password_mismatch"));
            ok = false;
        }
        if !ok {
            return;
        }
        spawn_local(async move {
            match api::post_empty("/api/v1/me/password", &input).await {
                Ok(()) => {
                    current.set(String::new());
                    new.set(String::new());
                    repeat.set(String::new());
                    Toasts::success(t("profile.password_changed"));
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
        <form class="card form" on:submit=submit novalidate=true data-testid="password-form">
            <h2>{t("profile.password")}</h2>
            <TextField label=t("profile.current_password") name="current_password" value=current errors=errors kind="password" autocomplete="current-password"/>
            <div class="grid-2">
                <TextField label=t("user.new_password") name="new_password" value=new errors=errors kind="password" autocomplete="new-password" hint=t("user.password_hint")/>
                <TextField label=t("profile.repeat_password") name="repeat" value=repeat errors=errors kind="password" autocomplete="new-password"/>
            </div>
            <div class="form-actions">
                <button type="submit" class="btn btn-primary">{t("profile.change_password")}</button>
            </div>
        </form>
    }
}

#[component]
fn Sessions() -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    let list = LocalResource::new(|| async {
        api::get::<Vec<SignedSession>>("/api/v1/me/sessions").await
    });
    let end_one = move |id: String| {
        spawn_local(async move {
            match api::delete(&format!("/api/v1/me/sessions/{id}")).await {
                Ok(()) => {
                    Toasts::success(t("profile.session_ended"));
                    list.refetch();
                }
                Err(e) => Toasts::error(e.message()),
            }
        });
    };
    let everywhere = move |_| {
        let navigate = navigate.clone();
        confirm(
            t("profile.everywhere_confirm"),
            t("profile.everywhere"),
            true,
            move || {
                let navigate = navigate.clone();
                spawn_local(async move {
                    match api::delete("/api/v1/me/sessions").await {
                        Ok(()) => {
                            api::clear_tokens();
                            session.ended.set(Some(crate::api::EndReason::SignedOut));
                            session.me.set(None);
                            navigate("/login", Default::default());
                        }
                        Err(e) => Toasts::error(e.message()),
                    }
                });
            },
        );
    };
    view! {
        <section class="card">
            <div class="card-head">
                <h2>{t("profile.sessions")}</h2>
                <button type="button" class="btn btn-danger btn-small" data-testid="sign-out-everywhere" on:click=everywhere>
                    {t("profile.everywhere")}
                </button>
            </div>
            {move || match list.get() {
                None => view! { <span class="skeleton wide"></span> }.into_any(),
                Some(Err(e)) => view! { <p class="alert alert-danger">{e.message()}</p> }.into_any(),
                Some(Ok(items)) => view! {
                    <table class="data-table compact">
                        <thead>
                            <tr>
                                <th>{t("profile.device")}</th>
                                <th>{t("audit.ip")}</th>
                                <th>{t("common.created")}</th>
                                <th>{t("profile.last_used")}</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            {items.into_iter().map(|s| {
                                let id = s.id.clone();
                                view! {
                                    <tr>
                                        <td>
                                            {s.user_agent.clone().unwrap_or_else(|| "—".into())}
                                            {s.current.then(|| view! { " " <span class="badge badge-success">{t("profile.this_device")}</span> })}
                                        </td>
                                        <td class="mono small">{s.ip.clone().unwrap_or_default()}</td>
                                        <td>{when(&s.created_at)}</td>
                                        <td>{when(&s.last_used_at)}</td>
                                        <td class="actions">
                                            {(!s.current).then(|| view! {
                                                <button type="button" class="btn btn-small btn-ghost" on:click=move |_| end_one(id.clone())>
                                                    {t("profile.end_session")}
                                                </button>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any(),
            }}
        </section>
    }
}
