//! Choose an organisation node by typing part of its name; only nodes the user may see are offered
//! (the API scopes the search).

use std::time::Duration;

use dealernet_domain::Id;
use dealernet_domain::list::Page;
use dealernet_domain::org::OrgNode;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::FormErrors;
use crate::api;
use crate::i18n::t;

#[component]
pub fn OrgPicker(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    value: RwSignal<Option<Id>>,
    errors: FormErrors,
    #[prop(optional, into)] disabled: Signal<bool>,
    /// Offer only active nodes.
    #[prop(optional)]
    active_only: bool,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let options = RwSignal::new(Vec::<OrgNode>::new());
    let open = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    let id = format!("f-{name}");
    let field = name.clone();

    // Show the name of the node already chosen.
    Effect::new(move |_| {
        if let Some(org) = value.get()
            && text.get_untracked().is_empty()
        {
            spawn_local(async move {
                if let Ok(node) = api::get::<OrgNode>(&format!("/api/v1/orgs/{org}")).await {
                    text.set(node.name);
                }
            });
        }
    });

    let search = move |q: String| {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        set_timeout(
            move || {
                if generation.get_value() != mine {
                    return;
                }
                spawn_local(async move {
                    let mut params = vec![
                        ("limit".to_string(), "10".to_string()),
                        ("sort".to_string(), "path".to_string()),
                    ];
                    if !q.trim().is_empty() {
                        params.push(("q".into(), q.trim().to_string()));
                    }
                    if active_only {
                        params.push(("active".into(), "true".into()));
                    }
                    if let Ok(page) = api::get_query::<Page<OrgNode>>("/api/v1/orgs", &params).await
                        && generation.get_value() == mine
                    {
                        options.set(page.items);
                        open.set(true);
                    }
                });
            },
            Duration::from_millis(200),
        );
    };

    view! {
        <div class="field org-picker" class:has-error={
            let f = name.clone();
            move || errors.get(&f).is_some()
        } data-field=name.clone()>
            <label for=id.clone() class="field-label">{label}</label>
            <input
                id=id
                type="text"
                role="combobox"
                autocomplete="off"
                aria-expanded=move || open.get().to_string()
                placeholder=t("org.picker_placeholder")
                disabled=move || disabled.get()
                prop:value=move || text.get()
                on:focus=move |_| search(text.get_untracked())
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    text.set(v.clone());
                    value.set(None);
                    search(v);
                }
                on:blur=move |_| set_timeout(move || open.set(false), Duration::from_millis(200))
            />
            <ul class="picker-list" class:open=move || open.get() role="listbox">
                {move || {
                    let items = options.get();
                    if items.is_empty() {
                        return view! { <li class="picker-empty">{t("table.empty")}</li> }.into_any();
                    }
                    items
                        .into_iter()
                        .map(|o| {
                            let OrgNode { id, name, kind, depth, .. } = o;
                            let label = name.clone();
                            let errors_field = field.clone();
                            view! {
                                <li
                                    role="option"
                                    style=format!("padding-left: {}rem", 0.75 + 0.75 * (depth.max(0) as f32))
                                    on:mousedown=move |_| {
                                        value.set(Some(id));
                                        text.set(label.clone());
                                        open.set(false);
                                        errors.clear_field(&errors_field);
                                    }
                                >
                                    <span>{name}</span>
                                    <span class="muted small">{t(&format!("org.kind.{}", kind.as_str()))}</span>
                                </li>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
            </ul>
            <p class="field-error" role="alert">{
                let f = name.clone();
                move || errors.get(&f)
            }</p>
        </div>
    }
}
