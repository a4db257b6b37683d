//! Taking one sorted page of a scoped, filtered list.
//!
//! The obvious plan for `… ORDER BY date DESC LIMIT 20` walks an index in date order and drops
//! every row outside the actor's scope until twenty are found. When the scope is a small part
//! of the table and is not spread evenly over the dates (a region that joined last year, a
//! dealer with few requests), that walk reads hundreds of thousands of rows: on 3,000,000
//! requests, a region's "stalled, newest first" page took 1.3 s that way. When the matches are
//! few enough ([`SORT_MATCHES_MAX`], known from the total counted first), the page is instead
//! chosen by sorting the matches' ids (found through whichever index fits the filters, usually
//! without touching the table) and only the page's rows are read. The sort keys are wrapped in
//! order-preserving expressions (`text || ''`, `number + 0`) so no index can serve the order and
//! the planner cannot fall back to the walk.

use dealernet_domain::list::{Direction, Paging};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select,
};

use crate::error::Result;

/// Up to this many matches, a page is chosen by sorting the matches.
pub const SORT_MATCHES_MAX: u64 = 50_000;

/// A list's sort direction as SQL's.
pub fn order(dir: Direction) -> Order {
    match dir {
        Direction::Asc => Order::Asc,
        Direction::Desc => Order::Desc,
    }
}

/// How a sort column compares, which decides the expression that hides it from the indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Text,
    Number,
    /// Anything else (timestamps): pages sorted by it always take the plain plan.
    Other,
}

/// One `ORDER BY` key.
#[derive(Debug, Clone)]
pub struct SortKey<C> {
    pub col: C,
    pub order: Order,
    pub kind: KeyKind,
}

impl<C: ColumnTrait> SortKey<C> {
    pub fn new(col: C, order: Order, kind: KeyKind) -> Self {
        SortKey { col, order, kind }
    }

    fn fenced(&self) -> SimpleExpr {
        let name = self.col.as_str();
        match self.kind {
            KeyKind::Text => Expr::cust(format!("\"{name}\" || ''")),
            _ => Expr::cust(format!("\"{name}\" + 0")),
        }
    }
}

/// The rows of one page of `q` (which already holds the scope and the filters) in `keys` order;
/// `total` is the number of matches, `id` the primary key.
pub async fn rows<E, C>(
    db: &DatabaseConnection,
    q: Select<E>,
    keys: &[SortKey<C>],
    id: C,
    paging: Paging,
    total: u64,
) -> Result<Vec<E::Model>>
where
    E: EntityTrait<Column = C>,
    C: ColumnTrait,
{
    if paging.offset >= total {
        return Ok(vec![]);
    }
    let sort_matches = total <= SORT_MATCHES_MAX && keys.iter().all(|k| k.kind != KeyKind::Other);
    if !sort_matches {
        let mut q = q;
        for k in keys {
            q = q.order_by(k.col, k.order.clone());
        }
        return Ok(q.limit(paging.limit).offset(paging.offset).all(db).await?);
    }
    let mut ids = q.select_only().column(id);
    for k in keys {
        ids = ids.order_by(k.fenced(), k.order.clone());
    }
    let ids = ids.limit(paging.limit).offset(paging.offset).into_query();
    let mut page = E::find().filter(id.in_subquery(ids));
    for k in keys {
        page = page.order_by(k.col, k.order.clone());
    }
    Ok(page.all(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::user;
    use sea_orm::DbBackend;

    #[test]
    fn the_page_sorts_ids_by_fenced_keys_and_reads_only_them() {
        let q = user::Entity::find().filter(user::Column::OrgId.eq(7));
        let keys = [
            SortKey::new(user::Column::Name, Order::Asc, KeyKind::Text),
            SortKey::new(user::Column::Id, Order::Desc, KeyKind::Number),
        ];
        let mut ids = q.select_only().column(user::Column::Id);
        for k in &keys {
            ids = ids.order_by(k.fenced(), k.order.clone());
        }
        let sql = ids.limit(20).build(DbBackend::Postgres).to_string();
        assert!(
            sql.contains(r#"ORDER BY "name" || '' ASC, "id" + 0 DESC"#),
            "{sql}"
        );
        assert!(sql.contains("LIMIT 20"), "{sql}");
    }
}
