//! Turning the policy's [`Visibility`] into SQL. Every scoped query goes through here.

use dealernet_domain::org::OrgPath;
use dealernet_domain::policy::Visibility;
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ExprTrait};

use crate::entities::org_node;

/// The ids of the nodes in the subtree rooted at `path`, as a sub-query (an index range scan).
pub fn subtree_ids(path: &OrgPath) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(org_node::Column::Id)
        .from(org_node::Entity)
        .and_where(org_node::Column::Path.gte(path.as_str()))
        .and_where(org_node::Column::Path.lt(path.upper_bound()))
        .to_owned()
}

/// Records whose node is `org_col`'s value and, for "own" scope, whose responsible user is in
/// `responsible_col`.
pub fn condition<O, R>(visibility: &Visibility, org_col: O, responsible_col: Option<R>) -> Condition
where
    O: ColumnTrait,
    R: ColumnTrait,
{
    match visibility {
        Visibility::All => Condition::all(),
        Visibility::Subtree(path) => Condition::all().add(org_col.in_subquery(subtree_ids(path))),
        Visibility::Responsible(user_id) => match responsible_col {
            Some(col) => Condition::all().add(col.eq(*user_id)),
            None => Condition::all().add(nothing()),
        },
        Visibility::Nothing => Condition::all().add(nothing()),
    }
}

fn nothing() -> SimpleExpr {
    Expr::val(1).eq(0)
}
