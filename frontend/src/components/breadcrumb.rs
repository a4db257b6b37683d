use leptos::prelude::*;
use leptos_router::components::A;

/// Where the page sits: `(label, link)` pairs; the last one is the current page.
#[component]
pub fn Breadcrumb(items: Vec<(String, Option<String>)>) -> impl IntoView {
    let last = items.len().saturating_sub(1);
    view! {
        <nav class="breadcrumb" aria-label="breadcrumb">
            {items
                .into_iter()
                .enumerate()
                .map(|(i, (label, href))| {
                    let sep = (i > 0).then(|| view! { <span class="sep">"/"</span> });
                    let item = match href {
                        Some(h) if i != last => view! { <A href=h>{label}</A> }.into_any(),
                        _ => view! { <span aria-current="page">{label}</span> }.into_any(),
                    };
                    view! { {sep} {item} }
                })
                .collect_view()}
        </nav>
    }
}
