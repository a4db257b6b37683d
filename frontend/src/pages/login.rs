//! Signing in. Says why a previous session ended, validates before sending, and goes back to the
//! page that was asked for.

use dealernet_domain::ErrorCode;
use dealernet_domain::auth::LoginRequest;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use validator::Validate;

use crate::api::EndReason;
use crate::components::{FormErrors, TextField};
use crate::i18n::t;
use crate::session::Session;

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    let query = use_query_map();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let failure = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let target = move || {
        query
            .with_untracked(|q| q.get("redirect"))
            .filter(|r| r.starts_with('/') && !r.starts_with("//") && !r.starts_with("/login"))
            .unwrap_or_else(|| session.home().to_string())
    };

    // Already signed in (or restored from a stored session): go on.
    {
        let navigate = navigate.clone();
        Effect::new(move |_| {
            if session.ready.get() && session.me.with(Option::is_some) && !busy.get_untracked() {
                navigate(&target(), Default::default());
            }
        });
    }

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        let req = LoginRequest {
            email: email.get_untracked().trim().to_string(),
            password: password.get_untracked(),
        };
        if !errors.check(req.validate()) {
            return;
        }
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match session.login(&req).await {
                Ok(()) => {
                    busy.set(false);
                    navigate(&target(), Default::default());
                }
                Err(e) => {
                    busy.set(false);
                    let msg = match e.code() {
                        Some(ErrorCode::InvalidCredentials) => t("auth.invalid").to_string(),
                        Some(ErrorCode::AccountBlocked) => t("auth.blocked").to_string(),
                        Some(ErrorCode::TooManyRequests) => {
                            format!("{} {}", t("auth.throttled"), e.message())
                        }
                        _ => {
                            if errors.absorb(&e) {
                                return;
                            }
                            e.message()
                        }
                    };
                    failure.set(Some(msg));
                }
            }
        });
    };

    let ended = move || {
        session.ended.get().map(|r| {
            let (tone, text) = match r {
                EndReason::Expired => ("warning", t("auth.ended.expired")),
                EndReason::Blocked => ("danger", t("auth.ended.blocked")),
                EndReason::SignedOut => ("info", t("auth.ended.signed_out")),
            };
            view! { <div class=format!("alert alert-{tone}") role="status" data-testid="session-ended">{text}</div> }
        })
    };

    view! {
        <div class="login-page">
            <div class="login-card">
                <div class="login-brand">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    <span>"DealerNet"</span>
                </div>
                <h1>{t("auth.title")}</h1>
                <p class="muted">{t("auth.subtitle")}</p>
                {ended}
                <form on:submit=submit novalidate=true data-testid="login-form">
                    <TextField
                        label=t("auth.email")
                        name="email"
                        value=email
                        errors=errors
                        kind="email"
                        autocomplete="username"
                        required=true
                    />
                    <TextField
                        label=t("auth.password")
                        name="password"
                        value=password
                        errors=errors
                        kind="password"
                        autocomplete="current-password"
                        required=true
                    />
                    {move || failure.get().map(|f| view! { <div class="alert alert-danger" role="alert">{f}</div> })}
                    <button type="submit" class="btn btn-primary btn-block" disabled=move || busy.get()>
                        {move || if busy.get() { t("auth.signing_in") } else { t("auth.sign_in") }}
                    </button>
                </form>
            </div>
            <p class="login-foot muted small">
                <a href="/api/docs/">{t("auth.api_docs")}</a>
            </p>
        </div>
    }
}
