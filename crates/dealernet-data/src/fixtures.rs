//! Bulk fixtures for benchmarks: a large organisation tree with many users, inserted in batches.
//! Not used by the product; `dealernet-bench` calls it.

use chrono::Utc;
use dealernet_domain::org::OrgPath;
use sea_orm::sea_query::Query;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::error::Result;
use crate::identity::{password, roles};

/// What [`load_users`] built.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub regions: Vec<i64>,
    pub dealers: Vec<i64>,
    pub users: i64,
    pub first_user_id: i64,
    pub last_user_id: i64,
}

async fn max_id<C: ConnectionTrait>(conn: &C, table: &str) -> Result<i64> {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT COALESCE(MAX(id), 0) AS m FROM {table}"),
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "m"))
        .transpose()?
        .unwrap_or(0))
}

/// Builds `regions` regions × `dealers_per_region` dealers under the root, and spreads
/// `users` users over the dealers, all active with the dealer-technician role.
pub async fn load_users(
    db: &DatabaseConnection,
    root: i64,
    regions: usize,
    dealers_per_region: usize,
    users: usize,
) -> Result<Fixture> {
    let now = Utc::now();
    let hash = password::hash_async("bench password 1".into()).await?;
    let tech = roles::by_code(db, "dealer_technician")
        .await?
        .map(|r| r.id)
        .unwrap_or(1);
    let root_path = OrgPath::root(root);
    let mut next_org = max_id(db, "org_nodes").await? + 1;
    let mut region_ids = Vec::new();
    let mut dealer_rows: Vec<(i64, i64, String)> = Vec::new();
    let mut org_rows: Vec<(i64, i64, &str, String, String, i32)> = Vec::new();
    for r in 0..regions {
        let rid = next_org;
        next_org += 1;
        let rpath = root_path.child(rid);
        org_rows.push((
            rid,
            root,
            "region",
            format!("Bench region {r}"),
            rpath.as_str().to_string(),
            1,
        ));
        region_ids.push(rid);
        for d in 0..dealers_per_region {
            let did = next_org;
            next_org += 1;
            let dpath = rpath.child(did);
            org_rows.push((
                did,
                rid,
                "dealer",
                format!("Bench dealer {r}-{d}"),
                dpath.as_str().to_string(),
                2,
            ));
            dealer_rows.push((did, rid, dpath.as_str().to_string()));
        }
    }
    for chunk in org_rows.chunks(1000) {
        let mut q = Query::insert();
        q.into_table("org_nodes").columns([
            "id",
            "parent_id",
            "kind",
            "name",
            "path",
            "depth",
            "active",
            "version",
            "created_at",
            "updated_at",
        ]);
        for (id, parent, kind, name, path, depth) in chunk {
            q.values_panic([
                (*id).into(),
                (*parent).into(),
                (*kind).into(),
                name.clone().into(),
                path.clone().into(),
                (*depth).into(),
                true.into(),
                1.into(),
                now.into(),
                now.into(),
            ]);
        }
        db.execute(&q).await?;
    }
    let first_user = max_id(db, "users").await? + 1;
    let mut id = first_user;
    for chunk_start in (0..users).step_by(1000) {
        let end = (chunk_start + 1000).min(users);
        let mut q = Query::insert();
        q.into_table("users").columns([
            "id",
            "email",
            "name",
            "phone",
            "org_id",
            "access_level",
            "status",
            "password_hash",
            "version",
            "created_at",
            "updated_at",
        ]);
        let mut links = Query::insert();
        links
            .into_table("user_roles")
            .columns(["user_id", "role_id", "granted_at"]);
        for n in chunk_start..end {
            let (dealer, _, _) = &dealer_rows[n % dealer_rows.len().max(1)];
            q.values_panic([
                id.into(),
                format!("bench{n}@bench.example").into(),
                format!("Bench User {n:06}").into(),
                format!("+7 900 {:07}", n).into(),
                (*dealer).into(),
                2i16.into(),
                (if n % 10 == 0 { "blocked" } else { "active" }).into(),
                hash.clone().into(),
                1.into(),
                now.into(),
                now.into(),
            ]);
            links.values_panic([id.into(), tech.into(), now.into()]);
            id += 1;
        }
        db.execute(&q).await?;
        db.execute(&links).await?;
    }
    if db.get_database_backend() == DbBackend::Postgres {
        // Explicit ids were inserted: move the identity sequences past them. Then do what
        // autovacuum does to a freshly loaded table in steady state: statistics and the
        // visibility map (without it, index-only scans such as scoped counts visit the heap).
        for table in ["org_nodes", "users"] {
            db.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .await?;
        }
        db.execute_unprepared("VACUUM ANALYZE").await?;
    }
    Ok(Fixture {
        regions: region_ids,
        dealers: dealer_rows.iter().map(|d| d.0).collect(),
        users: users as i64,
        first_user_id: first_user,
        last_user_id: id - 1,
    })
}
