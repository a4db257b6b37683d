//! The organisation tree: browse (lazily, level by level), search, create children, rename,
//! move and (de)activate nodes, and each node's history. The back office starts at the
//! operator root; a dealer starts at its own node and never sees above it.

use dealernet_domain::Id;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::list::Page;
use dealernet_domain::org::{CreateOrgNode, OrgKind, OrgNode, UpdateOrgNode};
use leptos::prelude::*;
use leptos::task::spawn_local;
use validator::Validate;

use super::shell::Require;
use crate::api::{self, ApiResult};
use crate::components::{
    Badge, Breadcrumb, FormErrors, ListQuery, Modal, OrgPicker, SearchBox, SelectField, TextField,
    Toasts, confirm,
};
use crate::i18n::{t, tf};
use crate::session::Session;

pub fn kind_label(kind: OrgKind) -> &'static str {
    t(&format!("org.kind.{}", kind.as_str()))
}

/// Which node a dialog is about, and a counter that makes every tree level reload after a change.
#[derive(Clone, Copy)]
struct TreeCtx {
    version: RwSignal<u64>,
    add_under: RwSignal<Option<OrgNode>>,
    edit: RwSignal<Option<OrgNode>>,
    history: RwSignal<Option<OrgNode>>,
}

#[component]
pub fn OrgsPage(base: &'static str) -> impl IntoView {
    view! {
        <Require resource=Resource::Orgs action=Action::View>
            <OrgsTree base=base/>
        </Require>
    }
}

#[component]
fn OrgsTree(base: &'static str) -> impl IntoView {
    let session = Session::get();
    let ctx = TreeCtx {
        version: RwSignal::new(0),
        add_under: RwSignal::new(None),
        edit: RwSignal::new(None),
        history: RwSignal::new(None),
    };
    provide_context(ctx);
    let query = ListQuery::new("path");
    let root = LocalResource::new(move || {
        ctx.version.track();
        let org = session.me.with_untracked(|m| m.as_ref().map(|m| m.org_id));
        async move {
            match org {
                Some(id) => api::get::<OrgNode>(&format!("/api/v1/orgs/{id}")).await,
                None => Err(crate::api::ApiError::Network(String::new())),
            }
        }
    });
    let results = LocalResource::new(move || {
        let params = query.params();
        let searching = !query.q.get().trim().is_empty();
        async move {
            if searching {
                Some(api::get_query::<Page<OrgNode>>("/api/v1/orgs", &params).await)
            } else {
                None
            }
        }
    });
    let title = if base.starts_with("/cabinet") {
        t("nav.network")
    } else {
        t("nav.orgs")
    };

    view! {
        <div class="page">
            <Breadcrumb items=vec![(title.to_string(), None)]/>
            <div class="page-head">
                <h1>{title}</h1>
            </div>
            <div class="filters">
                <SearchBox query=query placeholder=t("org.search")/>
            </div>
            <div class="card tree-card" data-testid="org-tree">
                {move || match results.get().flatten() {
                    Some(Ok(page)) => view! { <SearchResults page=page/> }.into_any(),
                    Some(Err(e)) => view! { <p class="alert alert-danger">{e.message()}</p> }.into_any(),
                    None => match root.get() {
                        None => view! { <div class="tree-loading"><span class="skeleton wide"></span></div> }.into_any(),
                        Some(Err(e)) => view! { <p class="alert alert-danger">{e.message()}</p> }.into_any(),
                        Some(Ok(node)) => view! {
                            <ul class="tree" role="tree">
                                <TreeNode node=node open=true/>
                            </ul>
                        }
                        .into_any(),
                    },
                }}
            </div>
            <AddChildDialog/>
            <EditDialog/>
            <HistoryDialog/>
        </div>
    }
}

#[component]
fn SearchResults(page: Page<OrgNode>) -> impl IntoView {
    if page.items.is_empty() {
        return view! { <p class="table-state empty">{t("table.empty")}</p> }.into_any();
    }
    view! {
        <p class="muted small">{tf("org.found", &[("n", &page.total.to_string())])}</p>
        <ul class="tree flat" role="tree">
            {page.items.into_iter().map(|n| view! { <TreeNode node=n open=false/> }).collect_view()}
        </ul>
    }
    .into_any()
}

fn children_of(id: Id, version: RwSignal<u64>) -> LocalResource<ApiResult<Page<OrgNode>>> {
    LocalResource::new(move || {
        version.track();
        async move {
            api::get_query::<Page<OrgNode>>(
                "/api/v1/orgs",
                &[
                    ("parent_id".into(), id.to_string()),
                    ("sort".into(), "name".into()),
                    ("limit".into(), "100".into()),
                ],
            )
            .await
        }
    })
}

#[component]
fn TreeNode(node: OrgNode, open: bool) -> impl IntoView {
    let session = Session::get();
    let ctx = expect_context::<TreeCtx>();
    let expanded = RwSignal::new(open && node.children > 0);
    let has_children = node.children > 0;
    let id = node.id;
    let stored = StoredValue::new(node.clone());
    let kids = move || {
        expanded.get().then(|| {
            let list = children_of(id, ctx.version);
            view! {
                <ul class="tree" role="group">
                    {move || match list.get() {
                        None => view! { <li class="tree-loading"><span class="skeleton"></span></li> }.into_any(),
                        Some(Err(e)) => view! { <li class="alert alert-danger">{e.message()}</li> }.into_any(),
                        Some(Ok(page)) => {
                            let more = page.total.saturating_sub(page.items.len() as u64);
                            view! {
                                {page.items.into_iter().map(|n| view! { <TreeNode node=n open=false/> }).collect_view()}
                                {(more > 0).then(|| view! {
                                    <li class="muted small tree-more">{tf("org.more", &[("n", &more.to_string())])}</li>
                                })}
                            }
                            .into_any()
                        }
                    }}
                </ul>
            }
        })
    };
    let can_create =
        session.can(Resource::Orgs, Action::Create) && node.kind != OrgKind::PointOfSale;
    let can_edit = session.can(Resource::Orgs, Action::Edit);
    let can_audit = session.can(Resource::Audit, Action::View);
    let toggle_active = move |_| {
        let n = stored.get_value();
        let activate = !n.active;
        let msg = tf(
            if activate {
                "org.activate_confirm"
            } else {
                "org.deactivate_confirm"
            },
            &[("name", &n.name)],
        );
        let label = if activate {
            t("org.activate")
        } else {
            t("org.deactivate")
        };
        confirm(msg, label, !activate, move || {
            spawn_local(async move {
                let body = UpdateOrgNode {
                    active: Some(activate),
                    ..Default::default()
                };
                match api::patch::<_, OrgNode>(&format!("/api/v1/orgs/{id}"), &body, None).await {
                    Ok(_) => {
                        Toasts::success(t("common.saved"));
                        ctx.version.update(|v| *v += 1);
                    }
                    Err(e) => Toasts::error(e.message()),
                }
            });
        });
    };
    view! {
        <li role="treeitem" aria-expanded=move || has_children.then(|| expanded.get().to_string()) data-org=node.name.clone()>
            <div class="tree-row" class:inactive=!node.active>
                <button
                    type="button"
                    class="tree-toggle"
                    disabled=!has_children
                    aria-label=t("org.expand")
                    on:click=move |_| expanded.update(|e| *e = !*e)
                >
                    {move || if !has_children { "•" } else if expanded.get() { "▾" } else { "▸" }}
                </button>
                <span class="tree-name">{node.name.clone()}</span>
                <Badge tone="info" text=kind_label(node.kind)/>
                {node.code.clone().map(|c| view! { <span class="muted small mono">{c}</span> })}
                {(!node.active).then(|| view! { <Badge tone="warning" text=t("status.inactive")/> })}
                {has_children.then(|| view! { <span class="muted small">{tf("org.children", &[("n", &node.children.to_string())])}</span> })}
                <span class="tree-actions">
                    {can_create.then(|| view! {
                        <button type="button" class="btn btn-small btn-ghost" data-testid="add-child"
                            on:click=move |_| ctx.add_under.set(Some(stored.get_value()))>
                            {t("org.add_child")}
                        </button>
                    })}
                    {(can_edit && node.parent_id.is_some()).then(|| view! {
                        <button type="button" class="btn btn-small btn-ghost" on:click=move |_| ctx.edit.set(Some(stored.get_value()))>
                            {t("common.edit")}
                        </button>
                        <button type="button" class="btn btn-small btn-ghost" on:click=toggle_active>
                            {if node.active { t("org.deactivate") } else { t("org.activate") }}
                        </button>
                    })}
                    {can_audit.then(|| view! {
                        <button type="button" class="btn btn-small btn-ghost" on:click=move |_| ctx.history.set(Some(stored.get_value()))>
                            {t("audit.history")}
                        </button>
                    })}
                </span>
            </div>
            {kids}
        </li>
    }
    .into_any()
}

#[component]
fn AddChildDialog() -> impl IntoView {
    let ctx = expect_context::<TreeCtx>();
    let open = RwSignal::new(false);
    Effect::new(move |_| {
        let want = ctx.add_under.with(Option::is_some);
        if open.get_untracked() != want {
            open.set(want);
        }
    });
    Effect::new(move |_| {
        if !open.get() && ctx.add_under.with_untracked(Option::is_some) {
            ctx.add_under.set(None);
        }
    });
    let errors = FormErrors::new();
    let name = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    let kinds: Signal<Vec<(String, String)>> = Signal::derive(move || {
        ctx.add_under
            .get()
            .map(|p| {
                OrgKind::ALL
                    .into_iter()
                    .filter(|k| k.may_be_child_of(p.kind))
                    .map(|k| (k.as_str().to_string(), kind_label(k).to_string()))
                    .collect()
            })
            .unwrap_or_default()
    });
    Effect::new(move |_| {
        let options = kinds.get();
        if !options.iter().any(|(k, _)| *k == kind.get_untracked()) {
            kind.set(options.first().map(|(k, _)| k.clone()).unwrap_or_default());
        }
    });
    let title = Signal::derive(move || {
        ctx.add_under
            .get()
            .map(|p| tf("org.add_under", &[("name", &p.name)]))
            .unwrap_or_default()
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(parent) = ctx.add_under.get_untracked() else {
            return;
        };
        let Some(k) = OrgKind::parse(&kind.get_untracked()) else {
            errors.set("kind", t("err.required"));
            return;
        };
        let c = code.get_untracked().trim().to_string();
        let input = CreateOrgNode {
            name: name.get_untracked().trim().to_string(),
            kind: k,
            parent_id: Some(parent.id),
            code: (!c.is_empty()).then_some(c),
        };
        if !errors.check(input.validate()) {
            return;
        }
        spawn_local(async move {
            match api::post::<_, OrgNode>("/api/v1/orgs", &input).await {
                Ok(n) => {
                    Toasts::success(tf("org.created", &[("name", &n.name)]));
                    name.set(String::new());
                    code.set(String::new());
                    open.set(false);
                    ctx.version.update(|v| *v += 1);
                }
                Err(e) => {
                    if !errors.absorb(&e) {
                        Toasts::error(e.message());
                    }
                }
            }
        });
    };
    view! {
        <Modal open=open title=title>
            <form on:submit=submit novalidate=true data-testid="org-form">
                <TextField label=t("org.name") name="name" value=name errors=errors required=true/>
                <SelectField label=t("org.kind") name="kind" value=kind errors=errors options=kinds/>
                <TextField label=t("org.code") name="code" value=code errors=errors hint=t("org.code_hint")/>
                <div class="form-actions">
                    <button type="button" class="btn" on:click=move |_| open.set(false)>{t("common.cancel")}</button>
                    <button type="submit" class="btn btn-primary">{t("common.create")}</button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn EditDialog() -> impl IntoView {
    let ctx = expect_context::<TreeCtx>();
    let session = Session::get();
    let open = RwSignal::new(false);
    let errors = FormErrors::new();
    let name = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let parent = RwSignal::new(None::<Id>);
    Effect::new(move |_| {
        if let Some(n) = ctx.edit.get() {
            name.set(n.name.clone());
            code.set(n.code.clone().unwrap_or_default());
            parent.set(n.parent_id);
            errors.clear();
            open.set(true);
        }
    });
    Effect::new(move |_| {
        if !open.get() && ctx.edit.with_untracked(Option::is_some) {
            ctx.edit.set(None);
        }
    });
    let title = Signal::derive(move || {
        ctx.edit
            .get()
            .map(|n| tf("org.edit_title", &[("name", &n.name)]))
            .unwrap_or_default()
    });
    let code_ro = session.read_only(Resource::Orgs, "code");
    let code_hidden = session.hidden(Resource::Orgs, "code");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(node) = ctx.edit.get_untracked() else {
            return;
        };
        let mut input = UpdateOrgNode::default();
        let n = name.get_untracked().trim().to_string();
        if n != node.name {
            input.name = Some(n);
        }
        let c = code.get_untracked().trim().to_string();
        if !code_ro && !code_hidden && Some(c.as_str()) != node.code.as_deref() && !c.is_empty() {
            input.code = Some(c);
        }
        if parent.get_untracked() != node.parent_id {
            input.parent_id = parent.get_untracked();
        }
        if !errors.check(input.validate()) {
            return;
        }
        if input == UpdateOrgNode::default() {
            open.set(false);
            return;
        }
        let id = node.id;
        spawn_local(async move {
            match api::patch::<_, OrgNode>(&format!("/api/v1/orgs/{id}"), &input, None).await {
                Ok(_) => {
                    Toasts::success(t("common.saved"));
                    open.set(false);
                    ctx.version.update(|v| *v += 1);
                }
                Err(e) => {
                    if !errors.absorb(&e) {
                        Toasts::error(e.message());
                    }
                }
            }
        });
    };
    view! {
        <Modal open=open title=title>
            <form on:submit=submit novalidate=true>
                <TextField label=t("org.name") name="name" value=name errors=errors required=true/>
                {(!code_hidden).then(|| view! {
                    <TextField label=t("org.code") name="code" value=code errors=errors disabled=code_ro/>
                })}
                <OrgPicker label=t("org.parent") name="parent_id" value=parent errors=errors active_only=true/>
                <p class="field-hint">{t("org.move_hint")}</p>
                <div class="form-actions">
                    <button type="button" class="btn" on:click=move |_| open.set(false)>{t("common.cancel")}</button>
                    <button type="submit" class="btn btn-primary">{t("common.save")}</button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn HistoryDialog() -> impl IntoView {
    let ctx = expect_context::<TreeCtx>();
    let open = RwSignal::new(false);
    Effect::new(move |_| {
        let want = ctx.history.with(Option::is_some);
        if open.get_untracked() != want {
            open.set(want);
        }
    });
    Effect::new(move |_| {
        if !open.get() && ctx.history.with_untracked(Option::is_some) {
            ctx.history.set(None);
        }
    });
    let title = Signal::derive(move || {
        ctx.history
            .get()
            .map(|n| tf("audit.history_of", &[("name", &n.name)]))
            .unwrap_or_default()
    });
    view! {
        <Modal open=open title=title wide=true>
            {move || ctx.history.get().map(|n| view! { <super::audit::History entity=Resource::Orgs id=n.id/> })}
        </Modal>
    }
}
