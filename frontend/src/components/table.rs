//! The data table: server-side filter, sort and pagination; column visibility; loading, empty and
//! error states; row actions as an ordinary column.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use dealernet_domain::list::Page;
use leptos::prelude::*;

use crate::api::ApiResult;
use crate::i18n::{t, tf};

/// The list parameters every list endpoint understands: `q`, `sort`, `limit`, `offset` and filters.
#[derive(Clone, Copy)]
pub struct ListQuery {
    pub q: RwSignal<String>,
    pub sort: RwSignal<String>,
    pub limit: RwSignal<u64>,
    pub offset: RwSignal<u64>,
    pub filters: RwSignal<BTreeMap<String, String>>,
}

impl ListQuery {
    pub fn new(default_sort: &str) -> Self {
        ListQuery {
            q: RwSignal::new(String::new()),
            sort: RwSignal::new(default_sort.to_string()),
            limit: RwSignal::new(20),
            offset: RwSignal::new(0),
            filters: RwSignal::new(BTreeMap::new()),
        }
    }

    /// The query string pairs (reactive: a resource reading them refetches on change).
    pub fn params(self) -> Vec<(String, String)> {
        let mut p = vec![
            ("limit".to_string(), self.limit.get().to_string()),
            ("offset".to_string(), self.offset.get().to_string()),
        ];
        let sort = self.sort.get();
        if !sort.is_empty() {
            p.push(("sort".into(), sort));
        }
        let q = self.q.get();
        if !q.trim().is_empty() {
            p.push(("q".into(), q.trim().to_string()));
        }
        for (k, v) in self.filters.get() {
            if !v.is_empty() {
                p.push((k, v));
            }
        }
        p
    }

    /// Sets a filter (empty removes it) and goes back to the first page.
    pub fn set_filter(self, key: &str, value: String) {
        self.filters.update(|f| {
            if value.is_empty() {
                f.remove(key);
            } else {
                f.insert(key.to_string(), value);
            }
        });
        self.offset.set(0);
    }

    pub fn filter(self, key: &str) -> String {
        self.filters
            .with(|f| f.get(key).cloned().unwrap_or_default())
    }
}

type Render<T> = Arc<dyn Fn(&T) -> AnyView + Send + Sync>;

/// One column: its key, header, optional sort field and how a cell renders.
pub struct Column<T> {
    pub key: &'static str,
    pub label: String,
    pub sort: Option<&'static str>,
    pub hideable: bool,
    pub class: &'static str,
    pub render: Render<T>,
}

impl<T> Clone for Column<T> {
    fn clone(&self) -> Self {
        Column {
            key: self.key,
            label: self.label.clone(),
            sort: self.sort,
            hideable: self.hideable,
            class: self.class,
            render: self.render.clone(),
        }
    }
}

impl<T> Column<T> {
    pub fn new<V: IntoView + 'static>(
        key: &'static str,
        label: impl Into<String>,
        render: impl Fn(&T) -> V + Send + Sync + 'static,
    ) -> Self {
        Column {
            key,
            label: label.into(),
            sort: None,
            hideable: true,
            class: "",
            render: Arc::new(move |row| render(row).into_any()),
        }
    }

    pub fn sortable(mut self, field: &'static str) -> Self {
        self.sort = Some(field);
        self
    }

    /// Always shown (identity and action columns).
    pub fn fixed(mut self) -> Self {
        self.hideable = false;
        self
    }

    pub fn class(mut self, class: &'static str) -> Self {
        self.class = class;
        self
    }
}

fn hidden_key(id: &str) -> String {
    format!("dealernet.columns.{id}")
}

fn load_hidden(id: &str) -> BTreeSet<String> {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(&hidden_key(id)).ok().flatten())
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default()
}

fn save_hidden(id: &str, hidden: &BTreeSet<String>) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten())
        && let Ok(v) = serde_json::to_string(hidden)
    {
        let _ = s.set_item(&hidden_key(id), &v);
    }
}

/// A server-paged table over a list resource.
#[component]
pub fn DataTable<T, K>(
    /// Stable id: column choices are remembered under it; also the `data-testid`.
    id: &'static str,
    columns: Vec<Column<T>>,
    query: ListQuery,
    data: LocalResource<ApiResult<Page<T>>>,
    row_key: K,
    /// What to say when nothing matches.
    #[prop(optional, into)]
    empty: Option<String>,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    K: Fn(&T) -> i64 + Copy + Send + Sync + 'static,
{
    let hidden = RwSignal::new(load_hidden(id));
    let menu_open = RwSignal::new(false);
    let columns = StoredValue::new(columns);
    let visible = move || {
        let h = hidden.get();
        columns.with_value(|c| {
            c.iter()
                .filter(|c| !h.contains(c.key))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let empty = empty.unwrap_or_else(|| t("table.empty").to_string());

    let header = move || {
        visible()
            .into_iter()
            .map(|c| {
                let label = c.label.clone();
                match c.sort {
                    Some(field) => {
                        let state = move || {
                            let s = query.sort.get();
                            if s == field {
                                "ascending"
                            } else if s.strip_prefix('-') == Some(field) {
                                "descending"
                            } else {
                                "none"
                            }
                        };
                        view! {
                            <th class=c.class aria-sort=state>
                                <button
                                    type="button"
                                    class="th-sort"
                                    on:click=move |_| {
                                        let s = query.sort.get_untracked();
                                        query.sort.set(if s == field { format!("-{field}") } else { field.to_string() });
                                        query.offset.set(0);
                                    }
                                >
                                    {label}
                                    <span class="sort-mark" aria-hidden="true">
                                        {move || match state() {
                                            "ascending" => "▲",
                                            "descending" => "▼",
                                            _ => "↕",
                                        }}
                                    </span>
                                </button>
                            </th>
                        }
                        .into_any()
                    }
                    None => view! { <th class=c.class>{label}</th> }.into_any(),
                }
            })
            .collect_view()
    };

    let body = move || {
        let cols = visible();
        let span = cols.len().max(1);
        match data.get() {
            None => (0..5)
                .map(|_| {
                    view! {
                        <tr class="skeleton-row">
                            {cols.iter().map(|_| view! { <td><span class="skeleton"></span></td> }).collect_view()}
                        </tr>
                    }
                })
                .collect_view()
                .into_any(),
            Some(Err(e)) => view! {
                <tr>
                    <td colspan=span class="table-state error">
                        <strong>{t("table.failed")}</strong>
                        " "
                        {e.message()}
                        " "
                        <button type="button" class="btn btn-small" on:click=move |_| data.refetch()>
                            {t("common.retry")}
                        </button>
                    </td>
                </tr>
            }
            .into_any(),
            Some(Ok(page)) if page.items.is_empty() => view! {
                <tr>
                    <td colspan=span class="table-state empty" data-testid="table-empty">
                        <div class="empty-icon" aria-hidden="true">"∅"</div>
                        {empty.clone()}
                    </td>
                </tr>
            }
            .into_any(),
            Some(Ok(page)) => page
                .items
                .into_iter()
                .map(|row| {
                    let key = row_key(&row);
                    view! {
                        <tr data-row-id=key>
                            {cols
                                .iter()
                                .map(|c| view! { <td class=c.class data-col=c.key>{(c.render)(&row)}</td> })
                                .collect_view()}
                        </tr>
                    }
                })
                .collect_view()
                .into_any(),
        }
    };

    let column_menu = move || {
        menu_open.get().then(|| {
            columns.with_value(|cols| {
                cols.iter()
                    .filter(|c| c.hideable)
                    .map(|c| {
                        let key = c.key;
                        view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    prop:checked=move || !hidden.get().contains(key)
                                    on:change=move |_| {
                                        hidden.update(|h| {
                                            if !h.remove(key) {
                                                h.insert(key.to_string());
                                            }
                                        });
                                        save_hidden(id, &hidden.get_untracked());
                                    }
                                />
                                <span>{c.label.clone()}</span>
                            </label>
                        }
                    })
                    .collect_view()
            })
        })
    };

    view! {
        <div class="table-card" data-testid=id>
            <div class="table-tools">
                <div class="column-menu">
                    <button
                        type="button"
                        class="btn btn-small btn-ghost"
                        aria-expanded=move || menu_open.get().to_string()
                        on:click=move |_| menu_open.update(|o| *o = !*o)
                    >
                        {t("table.columns")}
                    </button>
                    <div class="menu" class:open=move || menu_open.get()>{column_menu}</div>
                </div>
            </div>
            <div class="table-scroll">
                <table class="data-table">
                    <thead>
                        <tr>{header}</tr>
                    </thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
            <Pager
                query=query
                total=Signal::derive(move || data.get().and_then(|r| r.ok()).map(|p| p.total))
                capped=Signal::derive(move || data.get().and_then(|r| r.ok()).is_some_and(|p| p.total_capped))
            />
        </div>
    }
}

/// "1–20 of 345" ("of more than 1,000" when a search stopped counting), page size and
/// previous/next.
#[component]
pub fn Pager(
    query: ListQuery,
    #[prop(into)] total: Signal<Option<u64>>,
    #[prop(into)] capped: Signal<bool>,
) -> impl IntoView {
    let range = move || {
        let total = total.get().unwrap_or(0);
        let from = if total == 0 {
            0
        } else {
            query.offset.get() + 1
        };
        let to = (query.offset.get() + query.limit.get()).min(total);
        tf(
            if capped.get() {
                "table.range_capped"
            } else {
                "table.range"
            },
            &[
                ("from", &from.to_string()),
                ("to", &to.to_string()),
                ("total", &total.to_string()),
            ],
        )
    };
    let has_prev = move || query.offset.get() > 0;
    let has_next = move || query.offset.get() + query.limit.get() < total.get().unwrap_or(0);
    view! {
        <div class="pager">
            <span class="pager-range" data-testid="pager-range">{range}</span>
            <label class="pager-size">
                {t("table.per_page")}
                <select on:change=move |ev| {
                    if let Ok(n) = event_target_value(&ev).parse::<u64>() {
                        query.limit.set(n);
                        query.offset.set(0);
                    }
                }>
                    {[10u64, 20, 50, 100]
                        .into_iter()
                        .map(|n| view! { <option value=n selected=move || query.limit.get() == n>{n}</option> })
                        .collect_view()}
                </select>
            </label>
            <button
                type="button"
                class="btn btn-small"
                disabled=move || !has_prev()
                on:click=move |_| query.offset.update(|o| *o = o.saturating_sub(query.limit.get_untracked()))
            >
                {t("table.prev")}
            </button>
            <button
                type="button"
                class="btn btn-small"
                disabled=move || !has_next()
                on:click=move |_| query.offset.update(|o| *o += query.limit.get_untracked())
            >
                {t("table.next")}
            </button>
        </div>
    }
}

/// A search box that updates `query.q` 300 ms after the last keystroke.
#[component]
pub fn SearchBox(query: ListQuery, #[prop(into)] placeholder: String) -> impl IntoView {
    let generation = StoredValue::new(0u64);
    view! {
        <input
            type="search"
            class="search"
            placeholder=placeholder.clone()
            aria-label=placeholder
            prop:value=move || query.q.get()
            on:input=move |ev| {
                let v = event_target_value(&ev);
                generation.update_value(|g| *g += 1);
                let mine = generation.get_value();
                set_timeout(
                    move || {
                        if generation.get_value() == mine {
                            query.q.set(v);
                            query.offset.set(0);
                        }
                    },
                    Duration::from_millis(300),
                );
            }
        />
    }
}
