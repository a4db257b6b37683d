//! Modal dialogs and the one app-wide confirm dialog.

use std::cell::Cell;
use std::sync::Arc;

use leptos::ev;
use leptos::prelude::*;

use crate::i18n::t;

/// A dialog over the page; Escape, the close button or a click outside closes it.
#[component]
pub fn Modal(
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    #[prop(optional, into)] wide: bool,
    children: ChildrenFn,
) -> impl IntoView {
    let handle = window_event_listener(ev::keydown, move |e| {
        if e.key() == "Escape" && open.get_untracked() {
            open.set(false);
        }
    });
    on_cleanup(move || handle.remove());
    move || {
        let children = children.clone();
        open.get().then(move || {
            view! {
                <div class="modal-backdrop" on:click=move |_| open.set(false)>
                    <div
                        class="modal"
                        class:wide=wide
                        role="dialog"
                        aria-modal="true"
                        aria-label=move || title.get()
                        on:click=|e| e.stop_propagation()
                    >
                        <header class="modal-head">
                            <h2>{move || title.get()}</h2>
                            <button
                                type="button"
                                class="icon-btn"
                                aria-label=t("common.close")
                                on:click=move |_| open.set(false)
                            >
                                "✕"
                            </button>
                        </header>
                        <div class="modal-body">{children()}</div>
                    </div>
                </div>
            }
        })
    }
}

#[derive(Clone)]
struct ConfirmRequest {
    message: String,
    confirm_label: String,
    danger: bool,
    on_confirm: Arc<dyn Fn() + Send + Sync>,
}

thread_local! {
    static CONFIRM: Cell<Option<RwSignal<Option<ConfirmRequest>>>> = const { Cell::new(None) };
}

/// Asks the user to confirm before `on_confirm` runs.
pub fn confirm(
    message: impl Into<String>,
    confirm_label: impl Into<String>,
    danger: bool,
    on_confirm: impl Fn() + Send + Sync + 'static,
) {
    if let Some(sig) = CONFIRM.with(|c| c.get()) {
        sig.set(Some(ConfirmRequest {
            message: message.into(),
            confirm_label: confirm_label.into(),
            danger,
            on_confirm: Arc::new(on_confirm),
        }));
    }
}

/// Renders the pending confirmation; mount once at the root.
#[component]
pub fn ConfirmHost() -> impl IntoView {
    let pending: RwSignal<Option<ConfirmRequest>> = RwSignal::new(None);
    CONFIRM.with(|c| c.set(Some(pending)));
    move || {
        pending.get().map(|req| {
            let on_confirm = req.on_confirm.clone();
            view! {
                <div class="modal-backdrop" on:click=move |_| pending.set(None)>
                    <div
                        class="modal confirm"
                        role="alertdialog"
                        aria-modal="true"
                        on:click=|e| e.stop_propagation()
                    >
                        <div class="modal-body">
                            <p>{req.message.clone()}</p>
                        </div>
                        <footer class="modal-foot">
                            <button type="button" class="btn" on:click=move |_| pending.set(None)>
                                {t("common.cancel")}
                            </button>
                            <button
                                type="button"
                                class=if req.danger { "btn btn-danger" } else { "btn btn-primary" }
                                data-testid="confirm-ok"
                                on:click=move |_| {
                                    pending.set(None);
                                    on_confirm();
                                }
                            >
                                {req.confirm_label.clone()}
                            </button>
                        </footer>
                    </div>
                </div>
            }
        })
    }
}
