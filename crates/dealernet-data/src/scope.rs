//! Turning the policy's [`Visibility`] into SQL. Every scoped query goes through here.

use dealernet_domain::org::OrgPath;
use dealernet_domain::policy::Visibility;
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, DbBackend, ExprTrait};

use crate::entities::org_node;

/// The ids of the nodes in the subtree rooted at `path`, as a sub-query (an index range scan).
///
/// The bounds are SQL literals, not parameters: scoped lists are skewed (a dealer's subtree holds
/// 20 users, a region's 2,000, the operator's all of them), and a statement planned once for one
/// scope must not be reused for another. With the path in the text, every scope is its own cached
/// statement whose plan knows the real range, and every other query keeps its cached plan.
pub fn subtree_ids(path: &OrgPath) -> sea_orm::sea_query::SelectStatement {
    subtree_between(path, path_literal)
}

/// [`subtree_ids`] with the bounds as parameters, for a statement written to run well for every
/// scope with one plan, so that all callers share it (the users list: see
/// `identity::users::SORT_MATCHES_MAX`).
pub fn shared_subtree_ids(path: &OrgPath) -> sea_orm::sea_query::SelectStatement {
    subtree_between(path, |p| Expr::val(p.to_string()))
}

/// The nodes from `path` up to its upper bound, each bound written by `bound`.
fn subtree_between(
    path: &OrgPath,
    bound: fn(&str) -> SimpleExpr,
) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(org_node::Column::Id)
        .from(org_node::Entity)
        .and_where(path_col().gte(bound(path.as_str())))
        .and_where(path_col().lt(bound(&path.upper_bound())))
        .to_owned()
}

fn path_col() -> SimpleExpr {
    Expr::col(org_node::Column::Path.as_column_ref())
}

/// A materialised path (digits and `/` only, as [`OrgPath::parse`] guarantees) as a literal;
/// anything else stays a bound parameter.
fn path_literal(p: &str) -> SimpleExpr {
    if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit() || b == b'/') {
        Expr::cust(format!("'{p}'"))
    } else {
        Expr::val(p.to_string())
    }
}

/// Records whose node is `org_col`'s value and, for "own" scope, whose responsible user is in
/// `responsible_col`.
pub fn condition<O, R>(visibility: &Visibility, org_col: O, responsible_col: Option<R>) -> Condition
where
    O: ColumnTrait,
    R: ColumnTrait,
{
    condition_with(visibility, org_col, responsible_col, subtree_ids)
}

/// [`condition`] with the subtree's bounds as parameters (see [`shared_subtree_ids`]).
pub fn shared_condition<O, R>(
    visibility: &Visibility,
    org_col: O,
    responsible_col: Option<R>,
) -> Condition
where
    O: ColumnTrait,
    R: ColumnTrait,
{
    condition_with(visibility, org_col, responsible_col, shared_subtree_ids)
}

fn condition_with<O, R>(
    visibility: &Visibility,
    org_col: O,
    responsible_col: Option<R>,
    subtree: fn(&OrgPath) -> sea_orm::sea_query::SelectStatement,
) -> Condition
where
    O: ColumnTrait,
    R: ColumnTrait,
{
    match visibility {
        Visibility::All => Condition::all(),
        Visibility::Subtree(path) => Condition::all().add(org_col.in_subquery(subtree(path))),
        Visibility::Responsible(user_id) => match responsible_col {
            Some(col) => Condition::all().add(col.eq(*user_id)),
            None => Condition::all().add(nothing()),
        },
        Visibility::Nothing => Condition::all().add(nothing()),
    }
}

/// [`condition`] for a list of clients or requests, which may be `searched` by text. On
/// PostgreSQL those records carry `scope_ids` (their node and every node above it), indexed
/// together with the search text, so a searched subtree is `scope_ids @> ARRAY[root]` and one
/// index scan yields only the matches in scope; anything else is [`condition`].
pub fn record_condition<O, R>(
    backend: DbBackend,
    searched: bool,
    visibility: &Visibility,
    org_col: O,
    responsible_col: Option<R>,
) -> Condition
where
    O: ColumnTrait,
    R: ColumnTrait,
{
    match (backend, visibility) {
        (DbBackend::Postgres, Visibility::Subtree(path)) if searched => match path.ids().last() {
            Some(root) => Condition::all().add(Expr::cust(format!(
                "\"{}\".\"scope_ids\" @> ARRAY[{root}::bigint]",
                org_col.entity_name()
            ))),
            None => Condition::all().add(nothing()),
        },
        _ => condition(visibility, org_col, responsible_col),
    }
}

fn nothing() -> SimpleExpr {
    Expr::val(1).eq(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    #[test]
    fn subtree_bounds_are_literals() -> Result<(), Box<dyn std::error::Error>> {
        let path = OrgPath::parse("/1/25/")?;
        let (sql, values) = subtree_ids(&path).build(PostgresQueryBuilder);
        assert!(sql.contains("'/1/25/'"), "{sql}");
        assert!(sql.contains("'/1/250'"), "{sql}");
        assert!(values.0.is_empty());
        let (sql, values) = subtree_ids(&path).build(SqliteQueryBuilder);
        assert!(sql.contains("'/1/25/'"), "{sql}");
        assert!(values.0.is_empty());
        Ok(())
    }

    #[test]
    fn shared_subtree_bounds_are_parameters() -> Result<(), Box<dyn std::error::Error>> {
        let path = OrgPath::parse("/1/25/")?;
        let (sql, values) = shared_subtree_ids(&path).build(PostgresQueryBuilder);
        assert!(!sql.contains("'/1/25/'"), "{sql}");
        assert_eq!(values.0.len(), 2);
        Ok(())
    }

    #[test]
    fn anything_but_a_path_stays_a_parameter() {
        let (sql, values) = Query::select()
            .expr(path_literal("/1/' OR 1=1 --"))
            .build(PostgresQueryBuilder);
        assert!(!sql.contains("OR 1=1"), "{sql}");
        assert_eq!(values.0.len(), 1);
    }
}
