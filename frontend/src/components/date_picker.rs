use leptos::prelude::*;

/// A date input bound to an ISO `YYYY-MM-DD` string (empty when unset), with optional bounds.
#[component]
pub fn DatePicker(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    value: RwSignal<String>,
    #[prop(optional, into)] min: Option<String>,
    #[prop(optional, into)] max: Option<String>,
) -> impl IntoView {
    let id = format!("f-{name}");
    let for_id = id.clone();
    view! {
        <label class="field compact" for=for_id>
            <span class="field-label">{label}</span>
            <input
                id=id
                name=name
                type="date"
                min=min
                max=max
                prop:value=move || value.get()
                on:change=move |ev| value.set(event_target_value(&ev))
            />
        </label>
    }
}
