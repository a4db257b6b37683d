//! What the CRM pages share: file transfer (uploads with progress, downloads of exports),
//! status and delivery labels, and the comments, documents and reminders panels of a card.

use dealernet_domain::Id;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::crm::{
    Comment, DOCUMENT_CONTENT_TYPES, DealStatus, DeliveryStage, Document, DocumentCategory,
    NewComment,
};
use dealernet_domain::list::Page;
use dealernet_domain::reminders::{Reminder, TargetKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use validator::Validate;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::api::{self, ApiError};
use crate::components::{Badge, FormErrors, SelectField, Toasts, confirm};
use crate::i18n::{t, tf};
use crate::pages::reminders::RemindButton;
use crate::pages::when;
use crate::session::Session;

pub fn status_label(s: DealStatus) -> &'static str {
    t(&format!("crm.status.{}", s.as_str()))
}

pub fn status_tone(s: DealStatus) -> &'static str {
    match s {
        DealStatus::PreparingOffer => "info",
        DealStatus::InProgress => "info",
        DealStatus::Stalled => "warning",
        DealStatus::Won => "success",
        DealStatus::Dead => "danger",
    }
}

#[component]
pub fn DealStatusBadge(status: DealStatus) -> impl IntoView {
    view! { <Badge tone=status_tone(status) text=status_label(status).to_string()/> }
}

pub fn stage_label(s: DeliveryStage) -> &'static str {
    t(&format!("crm.stage.{}", s.as_str()))
}

pub fn category_label(c: DocumentCategory) -> &'static str {
    t(&format!("crm.doc.{}", c.as_str()))
}

/// Uploads a file with `XMLHttpRequest` (which reports upload progress, unlike `fetch`),
/// calling `progress` with 0.0–1.0; answers the status and the body text.
pub async fn upload(
    url: String,
    file: web_sys::File,
    progress: impl Fn(f64) + 'static,
) -> Result<(u16, String), String> {
    let xhr = web_sys::XmlHttpRequest::new().map_err(|_| "no XMLHttpRequest".to_string())?;
    xhr.open_with_async("POST", &url, true)
        .map_err(|_| "cannot open the request".to_string())?;
    if let Some(token) = api::access_token() {
        let _ = xhr.set_request_header("authorization", &format!("Bearer {token}"));
    }
    let ct = file.type_();
    let ct = if ct.is_empty() {
        guess_type(&file.name()).to_string()
    } else {
        ct
    };
    let _ = xhr.set_request_header("content-type", &ct);
    let _ = xhr.set_request_header("accept", "application/json");
    if let Ok(up) = xhr.upload() {
        let on_progress =
            Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
                if e.length_computable() && e.total() > 0.0 {
                    progress(e.loaded() / e.total());
                }
            });
        up.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        on_progress.forget();
    }
    let xhr2 = xhr.clone();
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let done = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let failed = Closure::once_into_js(move || {
            let _ = reject.call0(&JsValue::NULL);
        });
        xhr2.set_onload(Some(done.unchecked_ref()));
        xhr2.set_onerror(Some(failed.unchecked_ref()));
    });
    xhr.send_with_opt_blob(Some(&file))
        .map_err(|_| "the file could not be sent".to_string())?;
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|_| t("crm.upload.network").to_string())?;
    let status = xhr.status().unwrap_or(0);
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    Ok((status, text))
}

/// A content type from a file name, when the browser did not give one.
pub fn guess_type(name: &str) -> &'static str {
    let lower = name.to_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or("");
    match ext {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "zip" => "application/zip",
        "doc" => "application/msword",
        "xls" => "application/vnd.ms-excel",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

/// The problem in an error answer's body, as a message.
pub fn problem_message(status: u16, body: &str) -> String {
    match serde_json::from_str::<dealernet_domain::Problem>(body) {
        Ok(p) => {
            let fields: Vec<String> = p
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            if fields.is_empty() {
                p.detail.unwrap_or(p.title)
            } else {
                fields.join("; ")
            }
        }
        Err(_) => format!("HTTP {status}"),
    }
}

/// Downloads an export through the API (with the caller's token) and saves it as `file_name`.
pub fn download(path: String, query: Vec<(String, String)>, file_name: String) {
    spawn_local(async move {
        match api::get_bytes(&path, &query).await {
            Ok((bytes, ct)) => {
                let array = js_sys::Uint8Array::from(bytes.as_slice());
                let parts = js_sys::Array::of1(&array);
                let opts = web_sys::BlobPropertyBag::new();
                opts.set_type(&ct);
                let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts)
                else {
                    return;
                };
                let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
                    return;
                };
                if let Some(a) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.create_element("a").ok())
                    .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
                {
                    a.set_href(&url);
                    a.set_download(&file_name);
                    a.click();
                }
                let _ = web_sys::Url::revoke_object_url(&url);
            }
            Err(e) => Toasts::error(e.message()),
        }
    });
}

/// Export buttons (CSV and XLSX) for a list, with its current filters.
#[component]
pub fn ExportButtons(
    resource: Resource,
    path: &'static str,
    base_name: &'static str,
    params: Signal<Vec<(String, String)>>,
) -> impl IntoView {
    let session = Session::get();
    let go = move |format: &'static str| {
        let mut q: Vec<(String, String)> = params
            .get_untracked()
            .into_iter()
            .filter(|(k, _)| k != "limit" && k != "offset")
            .collect();
        q.push(("format".into(), format.into()));
        download(path.to_string(), q, format!("{base_name}.{format}"));
    };
    move || {
        session.can(resource, Action::Export).then(|| {
            view! {
                <div class="btn-group">
                    <button type="button" class="btn" data-testid="export-csv" on:click=move |_| go("csv")>
                        {t("crm.export_csv")}
                    </button>
                    <button type="button" class="btn" data-testid="export-xlsx" on:click=move |_| go("xlsx")>
                        {t("crm.export_xlsx")}
                    </button>
                </div>
            }
        })
    }
}

/// Tabs of a card: a row of buttons and the chosen panel.
#[component]
pub fn Tabs(
    tabs: Vec<(&'static str, &'static str)>,
    active: RwSignal<&'static str>,
) -> impl IntoView {
    view! {
        <div class="tabs" role="tablist">
            {tabs
                .into_iter()
                .map(|(key, label)| {
                    view! {
                        <button
                            type="button"
                            role="tab"
                            class="tab"
                            class:active=move || active.get() == key
                            aria-selected=move || if active.get() == key { "true" } else { "false" }
                            data-testid=format!("tab-{key}")
                            on:click=move |_| active.set(key)
                        >
                            {t(label)}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// Comments on a client (`clients`) or a request (`deals`), newest first, with a box to add one.
#[component]
pub fn CommentsPanel(kind: &'static str, id: Id) -> impl IntoView {
    let list = LocalResource::new(move || async move {
        api::get_query::<Page<Comment>>(
            &format!("/api/v1/{kind}/{id}/comments"),
            &[("limit".into(), "100".into())],
        )
        .await
    });
    let body = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = NewComment {
            body: body.get_untracked().trim().to_string(),
        };
        if !errors.check(input.validate()) {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            match api::post::<_, Comment>(&format!("/api/v1/{kind}/{id}/comments"), &input).await {
                Ok(_) => {
                    body.set(String::new());
                    list.refetch();
                }
                Err(e) => {
                    if !errors.absorb(&e) {
                        Toasts::error(e.message());
                    }
                }
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card" data-testid="comments">
            <form class="form comment-form" on:submit=submit novalidate=true>
                <div class="field" data-field="body">
                    <label class="field-label" for="f-comment">{t("crm.comment.new")}</label>
                    <textarea
                        id="f-comment"
                        name="comment"
                        rows="3"
                        prop:value=move || body.get()
                        on:input=move |ev| {
                            body.set(event_target_value(&ev));
                            errors.clear_field("body");
                        }
                    ></textarea>
                    <p class="field-error" role="alert">{move || errors.get("body")}</p>
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get() data-testid="comment-add">
                        {t("crm.comment.add")}
                    </button>
                </div>
            </form>
            {move || match list.get() {
                None => view! { <span class="skeleton wide"></span> }.into_any(),
                Some(Err(e)) => view! { <p class="alert alert-danger">{e.message()}</p> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => view! { <p class="muted">{t("crm.comment.none")}</p> }.into_any(),
                Some(Ok(page)) => view! {
                    <ul class="comments">
                        {page.items.into_iter().map(|c| view! {
                            <li class="comment">
                                <div class="muted small">{format!("{} · {}", c.author_name, when(&c.created_at))}</div>
                                <div class="comment-body">{c.body}</div>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

/// Documents of a client or a request: upload by category (with progress), download, delete.
#[component]
pub fn DocumentsPanel(kind: &'static str, id: Id) -> impl IntoView {
    let session = Session::get();
    let list = LocalResource::new(move || async move {
        api::get::<Vec<Document>>(&format!("/api/v1/{kind}/{id}/documents")).await
    });
    let category = RwSignal::new(DocumentCategory::Other.as_str().to_string());
    let errors = FormErrors::new();
    let progress = RwSignal::new(None::<f64>);
    let input_ref = NodeRef::<leptos::html::Input>::new();
    let categories = Signal::derive(|| {
        DocumentCategory::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), category_label(*c).to_string()))
            .collect::<Vec<_>>()
    });
    let start = move |_| {
        let Some(file) = input_ref
            .get_untracked()
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            errors.set("file", t("crm.upload.choose"));
            return;
        };
        let url = format!(
            "/api/v1/{kind}/{id}/documents?category={}&file_name={}",
            category.get_untracked(),
            js_sys::encode_uri_component(&file.name())
        );
        progress.set(Some(0.0));
        spawn_local(async move {
            let res = upload(url, file, move |p| progress.set(Some(p))).await;
            progress.set(None);
            match res {
                Ok((201, _)) => {
                    Toasts::success(t("crm.upload.done"));
                    if let Some(i) = input_ref.get_untracked() {
                        i.set_value("");
                    }
                    list.refetch();
                }
                Ok((status, body)) => errors.set("file", problem_message(status, &body)),
                Err(e) => errors.set("file", e),
            }
        });
    };
    let remove = move |d: Document| {
        confirm(
            tf("crm.doc.delete_confirm", &[("name", &d.file_name)]),
            t("common.remove"),
            true,
            move || {
                spawn_local(async move {
                    match api::delete(&format!("/api/v1/documents/{}", d.id)).await {
                        Ok(()) => list.refetch(),
                        Err(e) => Toasts::error(e.message()),
                    }
                });
            },
        );
    };
    let fetch_file = move |d: Document| {
        download(
            format!("/api/v1/documents/{}/content", d.id),
            vec![],
            d.file_name.clone(),
        );
    };
    view! {
        <section class="card" data-testid="documents">
            <Show when=move || session.can(Resource::Documents, Action::Create)>
                <div class="upload-row">
                    <SelectField label=t("crm.doc.category") name="category" value=category errors=errors options=categories/>
                    <div class="field" data-field="file">
                        <label class="field-label" for="f-file">{t("crm.doc.file")}</label>
                        <input id="f-file" type="file" node_ref=input_ref accept=DOCUMENT_CONTENT_TYPES.join(",") on:change=move |_| errors.clear_field("file")/>
                        <p class="field-error" role="alert">{move || errors.get("file")}</p>
                    </div>
                    <button type="button" class="btn btn-primary" on:click=start disabled=move || progress.get().is_some() data-testid="upload">
                        {t("crm.doc.upload")}
                    </button>
                </div>
                {move || progress.get().map(|p| view! {
                    <div class="progress" role="progressbar" aria-valuenow=format!("{:.0}", p * 100.0)>
                        <div class="progress-bar" style=format!("width: {:.0}%", p * 100.0)></div>
                    </div>
                })}
            </Show>
            {move || match list.get() {
                None => view! { <span class="skeleton wide"></span> }.into_any(),
                Some(Err(e)) => view! { <p class="alert alert-danger">{e.message()}</p> }.into_any(),
                Some(Ok(docs)) if docs.is_empty() => view! { <p class="muted">{t("crm.doc.none")}</p> }.into_any(),
                Some(Ok(docs)) => view! {
                    <table class="table">
                        <thead><tr>
                            <th>{t("crm.doc.file")}</th><th>{t("crm.doc.category")}</th>
                            <th>{t("crm.doc.uploaded")}</th><th class="num">{t("crm.doc.size")}</th><th></th>
                        </tr></thead>
                        <tbody>
                            {docs.into_iter().map(|d| {
                                let d1 = d.clone();
                                let d2 = d.clone();
                                view! {
                                    <tr>
                                        <td><button type="button" class="link" on:click=move |_| fetch_file(d1.clone())>{d.file_name.clone()}</button></td>
                                        <td><span class="chip">{category_label(d.category)}</span></td>
                                        <td>{format!("{} · {}", d.uploaded_by_name, when(&d.uploaded_at))}</td>
                                        <td class="num">{format!("{:.1} KB", d.size_bytes as f64 / 1024.0)}</td>
                                        <td class="actions">
                                            <Show when=move || session.can(Resource::Documents, Action::Delete)>
                                                {
                                                    let d2 = d2.clone();
                                                    view! { <button type="button" class="btn btn-small btn-ghost" on:click=move |_| remove(d2.clone())>{t("common.remove")}</button> }
                                                }
                                            </Show>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

/// The caller's reminders about one record, with the button that sets another.
#[component]
pub fn RemindersPanel(kind: TargetKind, id: Id, #[prop(into)] label: String) -> impl IntoView {
    let list = LocalResource::new(move || async move {
        api::get_query::<Page<Reminder>>(
            "/api/v1/reminders",
            &[
                ("target_kind".into(), kind.as_str().into()),
                ("target_id".into(), id.to_string()),
                ("limit".into(), "100".into()),
            ],
        )
        .await
    });
    view! {
        <section class="card" data-testid="record-reminders">
            <div class="card-head">
                <h2>{t("crm.tab.reminders")}</h2>
                <RemindButton target_kind=kind target_id=id label=label/>
                <button type="button" class="btn btn-small btn-ghost" on:click=move |_| list.refetch()>{t("crm.refresh")}</button>
            </div>
            {move || match list.get() {
                None => view! { <span class="skeleton wide"></span> }.into_any(),
                Some(Err(e)) => view! { <p class="alert alert-danger">{e.message()}</p> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => view! { <p class="muted">{t("crm.reminders.none")}</p> }.into_any(),
                Some(Ok(page)) => view! {
                    <ul class="plain-list">
                        {page.items.into_iter().map(|r| view! {
                            <li>
                                <strong>{r.title}</strong>
                                <span class="muted small">{format!(" · {} · {}", when(&r.due_at), t(&format!("notify.state.{}", r.state.as_str())))}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

/// Shows an API error as a toast unless the form took its field errors.
pub fn report(errors: FormErrors, e: &ApiError) {
    if !errors.absorb(e) {
        Toasts::error(e.message());
    }
}
