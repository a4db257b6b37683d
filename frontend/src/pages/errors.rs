use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::t;
use crate::session::Session;

/// What a user sees on a page its roles do not open. The API would refuse the data anyway.
#[component]
pub fn NoAccess() -> impl IntoView {
    let session = Session::get();
    view! {
        <div class="state-page" data-testid="no-access">
            <div class="state-icon" aria-hidden="true">"⊘"</div>
            <h1>{t("noaccess.title")}</h1>
            <p class="muted">{t("noaccess.text")}</p>
            <A href=move || session.home().to_string() attr:class="btn btn-primary">{t("noaccess.home")}</A>
        </div>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <div class="state-page" data-testid="not-found">
            <div class="state-icon" aria-hidden="true">"?"</div>
            <h1>{t("notfound.title")}</h1>
            <p class="muted">{t("notfound.text")}</p>
            <A href="/" attr:class="btn btn-primary">{t("noaccess.home")}</A>
        </div>
    }
}
