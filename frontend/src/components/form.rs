//! Form fields with inline errors. Errors come from the shared validators before anything is sent
//! and from problem+json field errors after.

use std::collections::BTreeMap;

use dealernet_domain::FieldError;
use leptos::prelude::*;
use validator::ValidationErrors;

use crate::api::ApiError;
use crate::i18n::t;

/// The field errors of one form, keyed by JSON field name.
#[derive(Clone, Copy)]
pub struct FormErrors(RwSignal<BTreeMap<String, String>>);

impl Default for FormErrors {
    fn default() -> Self {
        Self::new()
    }
}

impl FormErrors {
    pub fn new() -> Self {
        FormErrors(RwSignal::new(BTreeMap::new()))
    }

    pub fn get(self, field: &str) -> Option<String> {
        self.0.with(|m| m.get(field).cloned())
    }

    pub fn clear(self) {
        self.0.set(BTreeMap::new());
    }

    pub fn clear_field(self, field: &str) {
        if self.0.with_untracked(|m| m.contains_key(field)) {
            self.0.update(|m| {
                m.remove(field);
            });
        }
    }

    pub fn set(self, field: &str, message: impl Into<String>) {
        let message = message.into();
        self.0.update(|m| {
            m.insert(field.to_string(), message);
        });
    }

    pub fn is_empty(self) -> bool {
        self.0.with(|m| m.is_empty())
    }

    fn set_all(self, errors: &[FieldError]) {
        let mut m = BTreeMap::new();
        for e in errors {
            m.entry(e.field.clone()).or_insert_with(|| localise(e));
        }
        self.0.set(m);
    }

    /// Shows the shared validators' verdict; `true` when the form is valid.
    pub fn check(self, result: Result<(), ValidationErrors>) -> bool {
        match result {
            Ok(()) => {
                self.clear();
                true
            }
            Err(e) => {
                self.set_all(&dealernet_domain::validation::field_errors(&e));
                false
            }
        }
    }

    /// Shows the API's field errors; `true` when there were any (else show a toast).
    pub fn absorb(self, err: &ApiError) -> bool {
        let fields = err.field_errors();
        if fields.is_empty() {
            return false;
        }
        self.set_all(fields);
        true
    }
}

/// The message for a field error in the current language (the server's English as fallback).
fn localise(e: &FieldError) -> String {
    let key = format!("err.{}", e.code);
    let s = t(&key);
    if s.starts_with('⟨') {
        e.message.clone()
    } else {
        s.to_string()
    }
}

fn field_id(name: &str) -> String {
    format!("f-{}", name.replace(['[', ']', '.'], "-"))
}

/// A text input with its label, hint and inline error.
#[component]
pub fn TextField(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    value: RwSignal<String>,
    errors: FormErrors,
    #[prop(optional, into)] kind: Option<&'static str>,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional, into)] disabled: Signal<bool>,
    #[prop(optional)] required: bool,
    #[prop(optional, into)] autocomplete: Option<&'static str>,
    #[prop(optional, into)] placeholder: Option<String>,
) -> impl IntoView {
    let id = field_id(&name);
    let err_id = format!("{id}-error");
    let field = name.clone();
    let field2 = name.clone();
    let error = move || errors.get(&field);
    let has_error = {
        let f = name.clone();
        move || errors.get(&f).is_some()
    };
    let has_error2 = has_error.clone();
    let data_field = name.clone();
    let for_id = id.clone();
    view! {
        <div class="field" class:has-error=has_error2 data-field=data_field>
            <label for=for_id class="field-label">
                {label}
                {required.then(|| view! { <span class="req" aria-hidden="true">" *"</span> })}
            </label>
            <input
                id=id
                name=name
                type=kind.unwrap_or("text")
                autocomplete=autocomplete
                placeholder=placeholder
                disabled=move || disabled.get()
                aria-invalid=move || if has_error() { "true" } else { "false" }
                aria-describedby=err_id.clone()
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    errors.clear_field(&field2);
                }
            />
            {hint.map(|h| view! { <p class="field-hint">{h}</p> })}
            <p class="field-error" id=err_id role="alert">{error}</p>
        </div>
    }
}

/// A select bound to the option's value string.
#[component]
pub fn SelectField(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    value: RwSignal<String>,
    errors: FormErrors,
    #[prop(into)] options: Signal<Vec<(String, String)>>,
    #[prop(optional, into)] disabled: Signal<bool>,
    #[prop(optional, into)] empty: Option<String>,
) -> impl IntoView {
    let id = field_id(&name);
    let field = name.clone();
    let field2 = name.clone();
    let data_field = name.clone();
    let for_id = id.clone();
    view! {
        <div class="field" data-field=data_field>
            <label for=for_id class="field-label">{label}</label>
            <select
                id=id
                name=name
                disabled=move || disabled.get()
                on:change=move |ev| {
                    value.set(event_target_value(&ev));
                    errors.clear_field(&field2);
                }
            >
                {empty.map(|e| view! { <option value="">{e}</option> })}
                {move || {
                    let current = value.get();
                    options
                        .get()
                        .into_iter()
                        .map(|(v, l)| {
                            let selected = v == current;
                            view! { <option value=v selected=selected>{l}</option> }
                        })
                        .collect_view()
                }}
            </select>
            <p class="field-error" role="alert">{move || errors.get(&field)}</p>
        </div>
    }
}

/// A checkbox with its label.
#[component]
pub fn CheckboxField(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    value: RwSignal<bool>,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    let id = field_id(&name);
    let for_id = id.clone();
    view! {
        <label class="check" for=for_id>
            <input
                id=id
                name=name
                type="checkbox"
                disabled=move || disabled.get()
                prop:checked=move || value.get()
                on:change=move |ev| value.set(event_target_checked(&ev))
            />
            <span>{label}</span>
        </label>
    }
}
