use leptos::prelude::*;

use crate::i18n::t;

/// A coloured pill. `tone`: neutral, success, warning, danger, info.
#[component]
pub fn Badge(#[prop(into)] tone: String, #[prop(into)] text: String) -> impl IntoView {
    view! { <span class=format!("badge badge-{tone}")>{text}</span> }
}

/// A status value with the colour every module uses for it.
#[component]
pub fn StatusBadge(#[prop(into)] status: String) -> impl IntoView {
    let tone = match status.as_str() {
        "active" | "won" | "delivered" | "yes" => "success",
        "blocked" | "dead" | "revoked" | "no" => "danger",
        "stalled" | "inactive" | "expired" => "warning",
        _ => "neutral",
    };
    let text = t(&format!("status.{status}"));
    let text = if text.starts_with('⟨') {
        status.clone()
    } else {
        text.to_string()
    };
    view! { <Badge tone=tone text=text/> }
}
