//! Short-lived messages in a corner of the screen.

use std::cell::Cell;
use std::time::Duration;

use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq)]
struct Toast {
    id: u64,
    tone: &'static str,
    text: String,
}

thread_local! {
    static TOASTS: Cell<Option<RwSignal<Vec<Toast>>>> = const { Cell::new(None) };
    static NEXT: Cell<u64> = const { Cell::new(1) };
}

/// Pushes toasts from anywhere (event handlers, async tasks).
pub struct Toasts;

impl Toasts {
    pub fn success(text: impl Into<String>) {
        push("success", text.into());
    }
    pub fn error(text: impl Into<String>) {
        push("danger", text.into());
    }
    pub fn info(text: impl Into<String>) {
        push("info", text.into());
    }
}

fn push(tone: &'static str, text: String) {
    let Some(list) = TOASTS.with(|t| t.get()) else {
        return;
    };
    let id = NEXT.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    });
    list.update(|l| l.push(Toast { id, tone, text }));
    set_timeout(
        move || list.update(|l| l.retain(|t| t.id != id)),
        Duration::from_millis(if tone == "danger" { 8000 } else { 4000 }),
    );
}

/// Renders the toasts; mount once at the root.
#[component]
pub fn ToastHost() -> impl IntoView {
    let list = RwSignal::new(Vec::<Toast>::new());
    TOASTS.with(|t| t.set(Some(list)));
    view! {
        <div class="toasts" aria-live="polite">
            <For each=move || list.get() key=|t| t.id let:toast>
                <div class=format!("toast toast-{}", toast.tone) role="status">
                    <span>{toast.text.clone()}</span>
                    <button
                        type="button"
                        class="icon-btn"
                        aria-label="dismiss"
                        on:click=move |_| list.update(|l| l.retain(|t| t.id != toast.id))
                    >
                        "✕"
                    </button>
                </div>
            </For>
        </div>
    }
}
