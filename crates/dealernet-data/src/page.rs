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
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
};

use crate::error::Result;

/// Up to this many matches, a page is chosen by sorting the matches.
pub const SORT_MATCHES_MAX: u64 = 50_000;

/// A free-text search counts its matches up to this many past the page's offset.
///
/// An exact count of a search term that most records contain ("chiller" in a dealer network
/// that sells chillers) reads every match: 150,000 of a region's requests took 200 ms to count,
/// where the page itself took under a millisecond. Past the cap the list says "at least"
/// ([`Total::capped`]), as search engines do, and the count stops as soon as it gets there.
pub const SEARCH_COUNT_CAP: u64 = 1_000;

/// How many records match a list's query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    pub n: u64,
    /// The count stopped at its cap: at least `n` match.
    pub capped: bool,
}

/// Counts the matches of `q`: exactly, or, for a free-text `search`, up to
/// [`SEARCH_COUNT_CAP`] past `paging`'s offset.
pub async fn count<E>(
    db: &DatabaseConnection,
    q: Select<E>,
    search: bool,
    paging: Paging,
) -> Result<Total>
where
    E: EntityTrait,
    E::Model: Sync,
{
    if !search {
        let n = q.count(db).await?;
        return Ok(Total { n, capped: false });
    }
    let cap = paging.offset.saturating_add(SEARCH_COUNT_CAP);
    let matches = q
        .select_only()
        .expr(Expr::val(1))
        .limit(cap.saturating_add(1))
        .into_query();
    let stmt = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(matches, Alias::new("matches"))
        .to_owned();
    let n = count_rows(db, &stmt).await?;
    Ok(if n > cap {
        Total {
            n: cap,
            capped: true,
        }
    } else {
        Total { n, capped: false }
    })
}

/// The count a `SELECT COUNT(*) …` statement answers.
pub async fn count_rows(db: &DatabaseConnection, count: &SelectStatement) -> Result<u64> {
    let n: i64 = match db
        .query_one_raw(db.get_database_backend().build(count))
        .await?
    {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or_default())
}

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

    /// The key in an expression no index can serve, so the planner sorts the matches.
    pub(crate) fn fenced(&self) -> SimpleExpr {
        let name = self.col.as_str();
        match self.kind {
            KeyKind::Text => Expr::cust(format!("\"{name}\" || ''")),
            _ => Expr::cust(format!("\"{name}\" + 0")),
        }
    }
}

/// The planner's estimate of how many rows `q` yields, on PostgreSQL (`None` elsewhere, or
/// when the plan does not say).
async fn estimate<E: EntityTrait>(db: &DatabaseConnection, q: Select<E>) -> Result<Option<u64>> {
    let backend = db.get_database_backend();
    if backend != DbBackend::Postgres {
        return Ok(None);
    }
    let mut stmt = backend.build(&q.select_only().expr(Expr::val(1)).into_query());
    stmt.sql = format!("EXPLAIN {}", stmt.sql);
    let Some(row) = db.query_one_raw(stmt).await? else {
        return Ok(None);
    };
    let plan: String = row.try_get_by_index(0)?;
    Ok(plan_rows(&plan))
}

/// The `rows=N` of a plan's top line.
fn plan_rows(line: &str) -> Option<u64> {
    let (_, rest) = line.split_once("rows=")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The rows of one page of `q` (which already holds the scope and the filters) in `keys` order;
/// `total` is the number of matches, `id` the primary key. A capped total says nothing about how
/// many match beyond it, so for such a page the planner's estimate decides.
pub async fn rows<E, C>(
    db: &DatabaseConnection,
    q: Select<E>,
    keys: &[SortKey<C>],
    id: C,
    paging: Paging,
    total: Total,
) -> Result<Vec<E::Model>>
where
    E: EntityTrait<Column = C>,
    C: ColumnTrait,
{
    if paging.offset >= total.n {
        return Ok(vec![]);
    }
    let few = if total.capped {
        // How many match is unknown past the cap: ask the planner. Walking the sort order
        // suits a term most records hold ("chiller": the first twenty rows in date order are
        // the page), sorting the matches a term that is merely common ("baltic" in a name
        // list sorted by name, whose first matches lie past every "Altai …").
        estimate(db, q.clone())
            .await?
            .is_none_or(|n| n <= SORT_MATCHES_MAX)
    } else {
        total.n <= SORT_MATCHES_MAX
    };
    let sort_matches = few && keys.iter().all(|k| k.kind != KeyKind::Other);
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
    fn a_plans_estimate_is_its_top_lines_rows() {
        let top = "Seq Scan on deals  (cost=0.00..144996.04 rows=154795 width=4)";
        assert_eq!(plan_rows(top), Some(154_795));
        assert_eq!(
            plan_rows("Result  (cost=0.00..0.01 rows=1 width=4)"),
            Some(1)
        );
        assert_eq!(plan_rows("JIT:"), None);
    }

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
