//! The signed-in user: restoring the session on start, logging in and out, refreshing the access
//! token before it expires, and what the SPA may show (taken from `/api/v1/me`, never decided here).

use std::cell::Cell;
use std::time::Duration;

use dealernet_domain::access::{Action, FieldMode, Resource};
use dealernet_domain::auth::{LoginRequest, LogoutRequest, Me, TokenResponse};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiResult, EndReason};

#[derive(Clone, Copy)]
pub struct Session {
    /// The signed-in user, `None` when signed out.
    pub me: RwSignal<Option<Me>>,
    /// The start-up restore has finished (until then the app shows a splash).
    pub ready: RwSignal<bool>,
    /// Why the last session ended, for the login page.
    pub ended: RwSignal<Option<EndReason>>,
}

thread_local! {
    static REFRESH_GENERATION: Cell<u64> = const { Cell::new(0) };
}

impl Session {
    pub fn provide() -> Session {
        let s = Session {
            me: RwSignal::new(None),
            ready: RwSignal::new(false),
            ended: RwSignal::new(None),
        };
        provide_context(s);
        api::on_session_end(move |reason| {
            if s.me.get_untracked().is_some() || reason != EndReason::Expired {
                s.ended.set(Some(reason));
            }
            s.me.set(None);
        });
        api::on_new_token(schedule_refresh);
        s
    }

    pub fn get() -> Session {
        expect_context::<Session>()
    }

    /// On start: trade a stored refresh token for a session, if there is one.
    pub async fn restore(self) {
        if api::stored_refresh_token().is_some() && api::refresh().await.is_ok() {
            let _ = self.load_me().await;
        }
        self.ready.set(true);
    }

    pub async fn load_me(self) -> ApiResult<()> {
        let me: Me = api::get("/api/v1/me").await?;
        self.me.set(Some(me));
        Ok(())
    }

    pub async fn login(self, req: &LoginRequest) -> ApiResult<()> {
        let tokens: TokenResponse = api::post_public("/api/v1/auth/login", req).await?;
        api::set_tokens(&tokens);
        self.ended.set(None);
        self.load_me().await
    }

    pub async fn logout(self) {
        let refresh_token = api::stored_refresh_token();
        let _ = api::post_empty("/api/v1/auth/logout", &LogoutRequest { refresh_token }).await;
        api::clear_tokens();
        self.ended.set(Some(EndReason::SignedOut));
        self.me.set(None);
    }

    /// Whether `/me` grants the action (reactive). Only hides UI; the API decides.
    pub fn can(self, resource: Resource, action: Action) -> bool {
        self.me
            .with(|m| m.as_ref().is_some_and(|m| m.can(resource, action)))
    }

    pub fn back_office(self) -> bool {
        self.me.with(|m| m.as_ref().is_some_and(|m| m.back_office))
    }

    pub fn field_mode(self, resource: Resource, field: &str) -> Option<FieldMode> {
        self.me
            .with(|m| m.as_ref().and_then(|m| m.field_mode(resource, field)))
    }

    pub fn hidden(self, resource: Resource, field: &str) -> bool {
        self.field_mode(resource, field) == Some(FieldMode::Hidden)
    }

    pub fn read_only(self, resource: Resource, field: &str) -> bool {
        self.field_mode(resource, field).is_some()
    }

    /// The landing page for this user: back office or dealer cabinet.
    pub fn home(self) -> &'static str {
        if self.back_office() {
            "/admin"
        } else {
            "/cabinet"
        }
    }
}

/// Refreshes a minute before the access token expires. A newer token cancels older timers.
fn schedule_refresh(expires_in: i64) {
    let generation = REFRESH_GENERATION.with(|g| {
        g.set(g.get() + 1);
        g.get()
    });
    let secs = (expires_in - 60).max(10) as u64;
    set_timeout(
        move || {
            if REFRESH_GENERATION.with(|g| g.get()) == generation && api::has_access_token() {
                spawn_local(async move {
                    let _ = api::refresh().await;
                });
            }
        },
        Duration::from_secs(secs),
    );
}
