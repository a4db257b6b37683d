//! CRM: client organisations and contacts ([`clients`]), requests/deals with line items, status
//! and delivery timeline ([`deals`]), comments ([`comments`]), documents ([`documents`]) and
//! imports ([`import`]).
//!
//! A client and a request sit at an organisation node (`org_id`) and have a responsible manager
//! (`manager_id`); the policy decides on those two, list queries are scoped through
//! [`crate::scope::condition`] on them. Every mutation writes its audit entry in its transaction,
//! and changes people care about are published with [`crate::notifications::publish`] in that
//! same transaction.

pub mod clients;
pub mod comments;
pub mod deals;
pub mod demo;
pub mod documents;
mod entity;
pub mod export;
pub mod import;

use std::collections::HashMap;

use dealernet_domain::access::{Action, Resource};
use dealernet_domain::policy::{Actor, Denied, Visibility};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::entities::{org_node, user};
use crate::error::{Result, ServiceError};
use crate::identity::{actor as actors, roles::RoleCache};
use crate::notifications::targets::Located;
use crate::orgs;

/// Finds a client without a policy check (callers authorize).
pub async fn locate_client<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Located> {
    let c = entity::client::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let org_path = orgs::path(conn, c.org_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(Located {
        org_id: c.org_id,
        org_path,
        responsible_id: c.manager_id,
        label: c.name,
    })
}

/// Finds a request without a policy check (callers authorize).
pub async fn locate_deal<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Located> {
    let d = entity::deal::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let org_path = orgs::path(conn, d.org_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(Located {
        org_id: d.org_id,
        org_path,
        responsible_id: d.manager_id,
        label: format!("{} · {}", d.number, d.client_name),
    })
}

/// A client or a request the actor may `action` (404 when it may not even see it).
pub async fn visible<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    resource: Resource,
    id: i64,
    action: Action,
) -> Result<Located> {
    let located = match resource {
        Resource::Clients => locate_client(conn, id).await?,
        Resource::Deals => locate_deal(conn, id).await?,
        _ => return Err(ServiceError::NotFound),
    };
    actor.authorize(resource, action, located.record())?;
    Ok(located)
}

/// Names of users, by id (for "responsible manager" columns).
pub(crate) async fn user_names<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::Name)
        .filter(user::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Names of organisation nodes, by id.
pub(crate) async fn org_names<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = org_node::Entity::find()
        .select_only()
        .column(org_node::Column::Id)
        .column(org_node::Column::Name)
        .filter(org_node::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Resolves the node a record is placed at: the given one or the actor's, which the actor must
/// be allowed to create `resource` records under.
pub(crate) async fn placeable_org<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    resource: Resource,
    org_id: Option<i64>,
) -> Result<(i64, dealernet_domain::org::OrgPath)> {
    let id = org_id.unwrap_or(actor.org_id);
    let not_found = || ServiceError::field("org_id", "not_found", "no such organisation node");
    let path = orgs::path(conn, id).await?.ok_or_else(not_found)?;
    actor
        .authorize_create(resource, &path)
        .map_err(|e| match e {
            Denied::OutOfScope => not_found(),
            other => ServiceError::Denied(other),
        })?;
    Ok((id, path))
}

/// Checks that a responsible manager exists, is active and may see the record.
pub(crate) async fn check_manager<C: ConnectionTrait>(
    conn: &C,
    resource: Resource,
    manager_id: i64,
    record: dealernet_domain::policy::RecordRef<'_>,
) -> Result<()> {
    let cache = RoleCache::default();
    let manager = actors::for_user(conn, &cache, manager_id, None)
        .await
        .map_err(|_| {
            ServiceError::field(
                "manager_id",
                "not_found",
                "no such active user to be responsible",
            )
        })?;
    manager
        .authorize(resource, Action::View, record)
        .map_err(|_| {
            ServiceError::field(
                "manager_id",
                "out_of_scope",
                "this user may not see the record, so cannot be responsible for it",
            )
        })
}

/// Trims optional text; blank becomes `None`.
pub(crate) fn clean(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The lower-cased text the any-field search looks in.
pub(crate) fn search_text<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for p in parts {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&p.to_lowercase());
    }
    out
}

/// How a free-text search may use the trigram index on the search text (PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SearchIndex {
    /// The index finds the candidates.
    Use,
    /// The scope's own index finds fewer rows than any pattern would (a manager's own records),
    /// so the pattern only filters them: asked for both, the planner intersected the two and
    /// spent 25–40 ms in the trigram index to narrow 600 rows.
    Skip,
}

impl SearchIndex {
    /// [`SearchIndex::Skip`] for a scope of the records one is responsible for.
    pub(crate) fn for_scope(visibility: &Visibility) -> Self {
        match visibility {
            Visibility::Responsible(_) => SearchIndex::Skip,
            _ => SearchIndex::Use,
        }
    }
}

/// "Contains" on an already lower-cased search column, with LIKE wildcards escaped.
///
/// The pattern is written into the SQL as a literal (quotes doubled, NUL dropped; nothing else
/// is special in a standard string) rather than bound: a prepared statement is planned for its
/// parameters only for its first executions, and the plan PostgreSQL then keeps cannot see the
/// pattern. For "my region's clients containing …" that generic plan took 0.7–2.7 s where a plan
/// made for the pattern takes 5–100 ms (measured on 1,000,000 clients).
///
/// The trigram index finds a pattern's candidates by intersecting the lists of the rows that
/// hold each of its trigrams. A one-letter word gives trigrams nearly every row holds (every
/// request number starts "R-", every phone "+7"), and reading those lists took 30 of the 37 ms
/// of a search for a request number. So the condition the index serves leaves out the one-letter
/// words the pattern starts with ([`index_core`]), and the whole pattern is checked, as a filter
/// the index cannot serve, on the candidates only. (Only leading ones: codes start with letters
/// ("R-2026-…", "+7 495"), and a trailing one-letter word, as in "nord stroy 1", made the
/// candidates fewer and the search faster, 8 ms against 56 without it.)
pub(crate) fn search_like<C: ColumnTrait>(
    col: C,
    text: &str,
    index: SearchIndex,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::Expr;
    let text = text.trim().to_lowercase();
    let column = format!("\"{}\".\"{}\"", col.entity_name(), col.as_str());
    let whole = like_literal(&text);
    let filter = format!("({column} || '') LIKE '%{whole}%' ESCAPE '\\'");
    match (index, index_core(&text)) {
        (SearchIndex::Skip, _) => Expr::cust(filter),
        (SearchIndex::Use, Some(core)) => Expr::cust(format!(
            "({column} LIKE '%{}%' ESCAPE '\\' AND {filter})",
            like_literal(core)
        )),
        (SearchIndex::Use, None) => Expr::cust(format!("{column} LIKE '%{whole}%' ESCAPE '\\'")),
    }
}

/// A LIKE pattern's text as the inside of a standard SQL string: wildcards and the escape
/// character escaped, quotes doubled, NUL dropped.
fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
        .replace('\0', "")
        .replace('\'', "''")
}

/// The part of a search term the trigram index should look for: the term from its first word
/// of two or more letters or digits on, when that leaves a different term of three characters
/// or more; `None` when the whole term is what to look for.
fn index_core(text: &str) -> Option<&str> {
    // Words as pg_trgm sees them: runs of letters and digits; the first one two long starts
    // the core.
    let mut chars = text.char_indices().peekable();
    let start = loop {
        let (i, c) = chars.next()?;
        if c.is_alphanumeric()
            && chars
                .peek()
                .is_some_and(|&(_, next)| next.is_alphanumeric())
        {
            break i;
        }
    };
    let core = &text[start..];
    (start > 0 && core.chars().count() >= 3).then_some(core)
}

/// Whether a list's free text `q` asks for a search at all.
pub(crate) fn searched(q: Option<&str>) -> bool {
    q.is_some_and(|t| !t.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{PostgresQueryBuilder, Query, SqliteQueryBuilder};

    #[test]
    fn search_patterns_are_literals_with_quotes_and_wildcards_escaped() {
        let expr = search_like(
            entity::client::Column::SearchText,
            " Mc'Brien 50%_a\\bc ",
            SearchIndex::Use,
        );
        let q = Query::select()
            .column(entity::client::Column::Id)
            .from(entity::client::Entity)
            .and_where(expr)
            .to_owned();
        for (sql, values) in [q.build(PostgresQueryBuilder), q.build(SqliteQueryBuilder)] {
            assert!(values.0.is_empty(), "{sql}");
            assert!(
                sql.contains(
                    r#""clients"."search_text" LIKE '%mc''brien 50\%\_a\\bc%' ESCAPE '\'"#
                ),
                "{sql}"
            );
        }
    }

    #[test]
    fn the_index_looks_for_a_term_without_its_one_letter_end_words() {
        assert_eq!(index_core("r-2026-000123"), Some("2026-000123"));
        assert_eq!(index_core("+7 495"), Some("495"));
        assert_eq!(index_core("a big b"), Some("big b"));
        assert_eq!(index_core("я ёжик"), Some("ёжик"));
        // Nothing to leave out, nothing long enough left, or nothing but one-letter words.
        assert_eq!(index_core("nord stroy 1"), None);
        assert_eq!(index_core("office77@"), None);
        assert_eq!(index_core("x 42"), None);
        assert_eq!(index_core("a b c"), None);
        assert_eq!(index_core("ёж я"), None);
    }

    /// The PostgreSQL text of a request search for `text`.
    fn deal_search_sql(text: &str, index: SearchIndex) -> String {
        Query::select()
            .column(entity::deal::Column::Id)
            .from(entity::deal::Entity)
            .and_where(search_like(entity::deal::Column::SearchText, text, index))
            .to_string(PostgresQueryBuilder)
    }

    #[test]
    fn a_shortened_index_term_still_checks_the_whole_term() {
        let sql = deal_search_sql("R-2026-000123", SearchIndex::Use);
        assert!(
            sql.contains(r#""deals"."search_text" LIKE '%2026-000123%' ESCAPE '\' AND ("deals"."search_text" || '') LIKE '%r-2026-000123%' ESCAPE '\')"#),
            "{sql}"
        );
        let sql = deal_search_sql("nord", SearchIndex::Skip);
        assert!(
            sql.contains(r#"("deals"."search_text" || '') LIKE '%nord%' ESCAPE '\'"#),
            "{sql}"
        );
    }
}
