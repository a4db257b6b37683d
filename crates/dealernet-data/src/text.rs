//! Text search helpers shared by every list query.

use sea_orm::sea_query::{Expr, Func, LikeExpr, SimpleExpr};
use sea_orm::{ColumnTrait, ExprTrait};

/// Case-insensitive "contains" that treats `%`, `_` and `\` in the user's text literally.
pub fn contains_ci<C: ColumnTrait>(col: C, text: &str) -> SimpleExpr {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(col.as_column_ref())))
        .like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}
