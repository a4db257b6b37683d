//! Notifications in the SPA: the header bell with its unread counter and panel, the live stream
//! (server-sent events opened with a single-use ticket, reconnecting with back-off), pop-ups
//! (a toast, plus the browser's Notifications API once the user allowed it from a button), and
//! the preferences form of the profile page.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use dealernet_domain::list::Page;
use dealernet_domain::notifications::{
    EventKind, Notification, Preference, Preferences, StreamTicket, UnreadCount,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent, NotificationOptions, NotificationPermission};

use super::when;
use crate::api;
use crate::components::Toasts;
use crate::i18n::t;

/// What the bell shows, shared with whoever pushes into it.
#[derive(Clone, Copy)]
struct NotifState {
    unread: RwSignal<u64>,
    items: RwSignal<Option<Vec<Notification>>>,
}

thread_local! {
    static STREAM: RefCell<Option<EventSource>> = const { RefCell::new(None) };
    /// Bumped on every disconnect, so that pending reconnects of an older stream give up.
    static GENERATION: Cell<u64> = const { Cell::new(0) };
    static ATTEMPT: Cell<u32> = const { Cell::new(0) };
}

fn generation() -> u64 {
    GENERATION.with(Cell::get)
}

impl NotifState {
    async fn load_count(self) {
        if let Ok(c) = api::get::<UnreadCount>("/api/v1/notifications/unread-count").await
            && c.unread != self.unread.get_untracked()
        {
            self.unread.set(c.unread);
        }
    }

    async fn load_items(self) {
        let query = vec![("limit".to_string(), "20".to_string())];
        if let Ok(page) =
            api::get_query::<Page<Notification>>("/api/v1/notifications", &query).await
        {
            self.items.set(Some(page.items));
        }
    }

    fn on_push(self, n: Notification) {
        self.unread.update(|u| *u += 1);
        if self.items.with_untracked(Option::is_some) {
            let copy = n.clone();
            self.items.update(|i| {
                if let Some(list) = i {
                    list.insert(0, copy);
                }
            });
        }
        Toasts::info(format!("{} — {}", kind_label(n.kind), n.title));
        desktop_popup(&n);
        // Pages showing live data (the dealer's job inbox) refresh on this.
        if let (Some(w), Ok(ev)) = (web_sys::window(), web_sys::Event::new("dealernet-push")) {
            let _ = w.dispatch_event(&ev);
        }
    }
}

fn kind_label(kind: EventKind) -> &'static str {
    t(&format!("notify.kind.{}", kind.as_str()))
}

fn permission() -> Option<NotificationPermission> {
    let has_api = js_sys::Reflect::has(&js_sys::global(), &"Notification".into()).unwrap_or(false);
    has_api.then(web_sys::Notification::permission)
}

fn desktop_popup(n: &Notification) {
    if permission() != Some(NotificationPermission::Granted) {
        return;
    }
    let opts = NotificationOptions::new();
    opts.set_body(&n.body);
    opts.set_tag(&format!("dealernet-{}", n.id));
    let _ = web_sys::Notification::new_with_options(&n.title, &opts);
}

/// Opens the live stream; on failure tries again after 1, 2, 4 … 30 seconds.
fn connect(state: NotifState) {
    let my_generation = generation();
    spawn_local(async move {
        let ticket = api::post::<_, StreamTicket>("/api/v1/notifications/stream-ticket", &()).await;
        if generation() != my_generation {
            return;
        }
        let Ok(ticket) = ticket else {
            retry(state, my_generation);
            return;
        };
        let url = format!(
            "/api/v1/notifications/stream?ticket={}",
            js_sys::encode_uri_component(&ticket.ticket)
        );
        let Ok(source) = EventSource::new(&url) else {
            retry(state, my_generation);
            return;
        };
        let on_ready = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
            ATTEMPT.with(|a| a.set(0));
            // Whatever arrived while disconnected is counted again.
            spawn_local(state.load_count());
        });
        let on_notification = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(data) = e.data().as_string()
                && let Ok(n) = serde_json::from_str::<Notification>(&data)
            {
                state.on_push(n);
            }
        });
        let ended = source.clone();
        let on_end = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
            // The session ended: the next API call signs the user out; do not reconnect.
            ended.close();
        });
        let failed = source.clone();
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            failed.close();
            retry(state, my_generation);
        });
        let _ = source.add_event_listener_with_callback("ready", on_ready.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback(
            "notification",
            on_notification.as_ref().unchecked_ref(),
        );
        let _ = source.add_event_listener_with_callback("end", on_end.as_ref().unchecked_ref());
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        // The listeners live as long as the stream; a stream lives until sign-out.
        on_ready.forget();
        on_notification.forget();
        on_end.forget();
        on_error.forget();
        STREAM.with(|s| {
            if let Some(old) = s.borrow_mut().replace(source) {
                old.close();
            }
        });
    });
}

fn retry(state: NotifState, of_generation: u64) {
    if generation() != of_generation {
        return;
    }
    let attempt = ATTEMPT.with(|a| {
        let n = a.get();
        a.set(n.saturating_add(1));
        n
    });
    let delay = 1000u64.saturating_mul(1 << attempt.min(5)).min(30_000);
    set_timeout(
        move || {
            if generation() == of_generation && api::has_access_token() {
                connect(state);
            }
        },
        Duration::from_millis(delay),
    );
}

fn disconnect() {
    GENERATION.with(|g| g.set(g.get() + 1));
    ATTEMPT.with(|a| a.set(0));
    STREAM.with(|s| {
        if let Some(source) = s.borrow_mut().take() {
            source.close();
        }
    });
}

/// The header bell: unread counter, the panel, and the live stream while signed in.
#[component]
pub fn NotificationBell() -> impl IntoView {
    let state = NotifState {
        unread: RwSignal::new(0),
        items: RwSignal::new(None),
    };
    let open = RwSignal::new(false);
    let desktop = RwSignal::new(permission());
    spawn_local(state.load_count());
    connect(state);
    on_cleanup(disconnect);
    let navigate = use_navigate();
    let toggle = move |_| {
        let now_open = !open.get_untracked();
        open.set(now_open);
        if now_open {
            spawn_local(state.load_items());
        }
    };
    let mark_all = move |_| {
        spawn_local(async move {
            match api::post::<_, serde_json::Value>("/api/v1/notifications/read-all", &()).await {
                Ok(_) => {
                    state.unread.set(0);
                    state.load_items().await;
                }
                Err(e) => Toasts::error(e.message()),
            }
        });
    };
    let ask_permission = move |_| {
        if let Ok(promise) = web_sys::Notification::request_permission() {
            spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
                desktop.set(permission());
            });
        }
    };
    let open_item = move |n: Notification| {
        let navigate = navigate.clone();
        open.set(false);
        if n.read_at.is_none() {
            state.unread.update(|u| *u = u.saturating_sub(1));
            spawn_local(async move {
                let _ = api::post_empty(&format!("/api/v1/notifications/{}/read", n.id), &()).await;
            });
        }
        if let Some(link) = n.link {
            navigate(&link, Default::default());
        }
    };
    view! {
        <div class="notif">
            <button
                type="button"
                class="icon-btn notif-bell"
                data-testid="notif-bell"
                aria-label=t("notif.title")
                aria-expanded=move || open.get().to_string()
                on:click=toggle
            >
                <svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
                    <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"></path>
                    <path d="M13.7 21a2 2 0 0 1-3.4 0"></path>
                </svg>
                {move || {
                    let n = state.unread.get();
                    (n > 0).then(|| view! {
                        <span class="notif-count" data-testid="notif-count">
                            {if n > 99 { "99+".to_string() } else { n.to_string() }}
                        </span>
                    })
                }}
            </button>
            <div class="menu menu-right notif-panel" class:open=move || open.get() data-testid="notif-panel">
                <div class="menu-head notif-head">
                    <span>{t("notif.title")}</span>
                    <button type="button" class="btn btn-small btn-ghost" on:click=mark_all data-testid="notif-read-all">
                        {t("notify.mark_all")}
                    </button>
                </div>
                {move || (desktop.get() == Some(NotificationPermission::Default)).then(|| view! {
                    <button type="button" class="menu-item notif-desktop" on:click=ask_permission data-testid="notif-desktop">
                        {t("notify.enable_desktop")}
                    </button>
                })}
                <div class="notif-list">
                    {move || {
                        let open_item = open_item.clone();
                        match state.items.get() {
                            None => view! { <p class="muted small pad">"…"</p> }.into_any(),
                            Some(items) if items.is_empty() => {
                                view! { <p class="muted small pad">{t("notif.none")}</p> }.into_any()
                            }
                            Some(items) => items
                                .into_iter()
                                .map(|n| {
                                    let open_item = open_item.clone();
                                    let unread = n.read_at.is_none();
                                    let item = n.clone();
                                    view! {
                                        <button
                                            type="button"
                                            class="menu-item notif-item"
                                            class:unread=unread
                                            on:click=move |_| open_item(item.clone())
                                        >
                                            <span class="notif-kind">{kind_label(n.kind)}</span>
                                            <span class="notif-title">{n.title.clone()}</span>
                                            {(!n.body.is_empty()).then(|| view! { <span class="notif-body">{n.body.clone()}</span> })}
                                            <span class="notif-time">{when(&n.created_at)}</span>
                                        </button>
                                    }
                                })
                                .collect_view()
                                .into_any(),
                        }
                    }}
                </div>
            </div>
        </div>
    }
}

/// The profile's notification preferences: each event kind on or off per channel.
#[component]
pub fn NotificationPreferences() -> impl IntoView {
    let prefs: RwSignal<Option<Vec<Preference>>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    spawn_local(async move {
        if let Ok(p) = api::get::<Preferences>("/api/v1/notifications/preferences").await {
            prefs.set(Some(p.items));
        }
    });
    let save = move |_| {
        let Some(items) = prefs.get_untracked() else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            match api::put_empty("/api/v1/notifications/preferences", &Preferences { items }).await
            {
                Ok(()) => Toasts::success(t("notify.saved")),
                Err(e) => Toasts::error(e.message()),
            }
            busy.set(false);
        });
    };
    let set = move |kind: EventKind, channel: usize, on: bool| {
        prefs.update(|p| {
            if let Some(p) = p
                && let Some(row) = p.iter_mut().find(|r| r.kind == kind)
            {
                match channel {
                    0 => row.in_app = on,
                    1 => row.email = on,
                    _ => row.push = on,
                }
            }
        });
    };
    view! {
        <section class="card" data-testid="notif-prefs">
            <div class="card-head">
                <h2>{t("notify.prefs.title")}</h2>
                <button type="button" class="btn btn-primary btn-small" disabled=move || busy.get() on:click=save data-testid="notif-prefs-save">
                    {t("common.save")}
                </button>
            </div>
            <p class="muted small">{t("notify.prefs.hint")}</p>
            {move || match prefs.get() {
                None => view! { <span class="skeleton wide"></span> }.into_any(),
                Some(rows) => view! {
                    <table class="data-table compact">
                        <thead>
                            <tr>
                                <th>{t("notify.prefs.event")}</th>
                                <th>{t("notify.channel.in_app")}</th>
                                <th>{t("notify.channel.email")}</th>
                                <th>{t("notify.channel.push")}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows.into_iter().map(|r| {
                                let kind = r.kind;
                                let cell = move |channel: usize, on: bool| view! {
                                    <td>
                                        <input
                                            type="checkbox"
                                            aria-label=format!("{} {}", kind_label(kind), channel)
                                            data-testid=format!("pref-{}-{channel}", kind.as_str())
                                            prop:checked=on
                                            on:change=move |ev| set(kind, channel, event_target_checked(&ev))
                                        />
                                    </td>
                                };
                                view! {
                                    <tr>
                                        <td>{kind_label(kind)}</td>
                                        {cell(0, r.in_app)}
                                        {cell(1, r.email)}
                                        {cell(2, r.push)}
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
