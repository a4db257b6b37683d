//! A realistic demo data set: regions, distributors, dealers, sub-dealers, points of sale and a
//! user for every built-in role. Idempotent: a second run changes nothing.

use dealernet_domain::org::{CreateOrgNode, OrgKind};
use dealernet_domain::user::CreateUser;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::context::{Ctx, RequestMeta};
use crate::entities::org_node;
use crate::error::Result;
use crate::identity::{actor, roles, users};
use crate::{bootstrap, orgs};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "DealerNet-demo-2026";
pub const ADMIN_EMAIL: &str = "admin@demo.dealernet.example";

const REGIONS: &[(&str, &str, &[&str])] = &[
    ("Central", "RU-CEN", &["Moscow", "Tula", "Kaluga"]),
    (
        "North-West",
        "RU-NW",
        &["Saint Petersburg", "Pskov", "Novgorod"],
    ),
    ("Volga", "RU-VLG", &["Kazan", "Samara", "Nizhny Novgorod"]),
    ("Siberia", "RU-SIB", &["Novosibirsk", "Omsk", "Tomsk"]),
];

const DEALER_NAMES: &[&str] = &[
    "SatLink",
    "TeleVision Plus",
    "Orbita Service",
    "Signal Pro",
    "Antenna Master",
    "Sky Install",
    "DigitalDom",
    "Efir Group",
];

pub async fn seed(db: &DatabaseConnection) -> Result<()> {
    let root = bootstrap::ensure_foundation(db, "Operator").await?;
    let admin_id =
        bootstrap::create_admin(db, ADMIN_EMAIL, "Anna Administratorova", DEMO_PASSWORD).await?;
    let already = org_node::Entity::find()
        .filter(org_node::Column::Code.eq("RU-CEN"))
        .one(db)
        .await?
        .is_some();
    if already {
        return Ok(());
    }
    let admin = actor::for_user(db, &roles::RoleCache::default(), admin_id, None).await?;
    let meta = RequestMeta {
        request_id: Some("seed-demo".into()),
        ..Default::default()
    };
    let ctx = Ctx {
        actor: &admin,
        meta: &meta,
    };
    let node = |name: String, kind: OrgKind, parent: i64, code: Option<String>| CreateOrgNode {
        name,
        kind,
        parent_id: Some(parent),
        code,
    };

    let mut first_dealer = None;
    let mut first_pos = None;
    let mut first_region = None;
    let mut dealer_no = 0usize;
    for (region, code, cities) in REGIONS {
        let r = orgs::create(
            db,
            ctx,
            node(
                format!("{region} region"),
                OrgKind::Region,
                root,
                Some((*code).to_string()),
            ),
        )
        .await?;
        first_region.get_or_insert(r.id);
        for (d, city) in cities.iter().take(2).enumerate() {
            let dist = orgs::create(
                db,
                ctx,
                node(
                    format!("{city} Distribution"),
                    OrgKind::Distributor,
                    r.id,
                    Some(format!("{code}-D{}", d + 1)),
                ),
            )
            .await?;
            for k in 0..4 {
                dealer_no += 1;
                let brand = DEALER_NAMES[(dealer_no - 1) % DEALER_NAMES.len()];
                let dealer = orgs::create(
                    db,
                    ctx,
                    node(
                        format!("{brand} {city}"),
                        OrgKind::Dealer,
                        dist.id,
                        Some(format!("DLR-{dealer_no:04}")),
                    ),
                )
                .await?;
                first_dealer.get_or_insert(dealer.id);
                for p in 1..=2 {
                    let pos = orgs::create(
                        db,
                        ctx,
                        node(
                            format!("{brand} {city} shop {p}"),
                            OrgKind::PointOfSale,
                            dealer.id,
                            None,
                        ),
                    )
                    .await?;
                    first_pos.get_or_insert(pos.id);
                }
                for s in 0..=(k % 2) {
                    let sub = orgs::create(
                        db,
                        ctx,
                        node(
                            format!("{brand} {city} partner {}", s + 1),
                            OrgKind::SubDealer,
                            dealer.id,
                            Some(format!("DLR-{dealer_no:04}-S{}", s + 1)),
                        ),
                    )
                    .await?;
                    orgs::create(
                        db,
                        ctx,
                        node(
                            format!("{} kiosk", sub.name),
                            OrgKind::PointOfSale,
                            sub.id,
                            None,
                        ),
                    )
                    .await?;
                }
            }
        }
    }

    let dealer = first_dealer.unwrap_or(root);
    let region = first_region.unwrap_or(root);
    let pos = first_pos.unwrap_or(dealer);
    type Person<'a> = (&'a str, &'a str, &'a str, i64, i16, Option<&'a str>);
    let people: [Person<'_>; 8] = [
        (
            "operator_manager",
            "operator@demo.dealernet.example",
            "Oleg Operatorov",
            root,
            7,
            None,
        ),
        (
            "sales_manager",
            "sales@demo.dealernet.example",
            "Svetlana Prodazhina",
            region,
            6,
            None,
        ),
        (
            "contact_centre_agent",
            "callcentre@demo.dealernet.example",
            "Kirill Zvonkov",
            root,
            5,
            None,
        ),
        (
            "integration",
            "integration@demo.dealernet.example",
            "ERP Connector",
            root,
            5,
            None,
        ),
        (
            "auditor",
            "auditor@demo.dealernet.example",
            "Alla Auditova",
            root,
            4,
            None,
        ),
        (
            "dealer_admin",
            "dealer@demo.dealernet.example",
            "Dmitry Dilerov",
            dealer,
            3,
            None,
        ),
        (
            "dealer_technician",
            "technician@demo.dealernet.example",
            "Timur Montazhnikov",
            dealer,
            2,
            None,
        ),
        (
            "seller",
            "seller@demo.dealernet.example",
            "Sofia Prodavtsova",
            pos,
            1,
            Some("S-0001"),
        ),
    ];
    for (role_code, email, name, org_id, level, seller_code) in people {
        let Some(role) = roles::by_code(db, role_code).await? else {
            continue;
        };
        users::create(
            db,
            ctx,
            CreateUser {
                email: email.into(),
                name: name.into(),
                password: DEMO_PASSWORD.into(),
                phone: Some("+7 495 000-00-00".into()),
                org_id,
                access_level: level,
                role_ids: vec![role.id],
                seller_code: seller_code.map(str::to_string),
            },
        )
        .await?;
    }
    crate::notifications::reminders::seed_notifications(db, ctx).await?;
    crate::warehouse::demo::seed_warehouse(db, ctx).await?;
    crate::dealers::seed_dealers(db, ctx).await?;
    crate::crm::demo::seed_crm(db, ctx).await?;
    Ok(())
}
