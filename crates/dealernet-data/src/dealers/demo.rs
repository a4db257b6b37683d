//! Demo data for the dealer network: a profile for every demo dealer with territories around
//! its city (Moscow's dealers with service areas on the map, the others by region code), the
//! registry entries of their shops, and a second dealer administrator in Moscow so the whole
//! offer → reject → reassign → accept → complete path can be walked with demo accounts.

use dealernet_domain::dealers::geo::{GeoPoint, ServiceArea, Territory};
use dealernet_domain::dealers::{
    Contact, CreateDealer, CreatePointOfSale, DayHours, DealerStatus, ServiceType,
};
use dealernet_domain::org::OrgKind;
use dealernet_domain::user::CreateUser;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::{points_of_sale, profiles};
use crate::context::Ctx;
use crate::entities::org_node;
use crate::error::Result;
use crate::identity::{roles, users};

/// The second Moscow dealer's administrator (password: the demo password).
pub const SECOND_DEALER_EMAIL: &str = "dealer2@demo.dealernet.example";

const CITIES: &[(&str, &str, f64, f64)] = &[
    ("Moscow", "RU-MOW", 55.7558, 37.6173),
    ("Tula", "RU-TUL", 54.1931, 37.6177),
    ("Saint Petersburg", "RU-SPE", 59.9343, 30.3351),
    ("Pskov", "RU-PSK", 57.8136, 28.3496),
    ("Kazan", "RU-TA", 55.7961, 49.1064),
    ("Samara", "RU-SAM", 53.1959, 50.1002),
    ("Novosibirsk", "RU-NVS", 55.0084, 82.9357),
    ("Omsk", "RU-OMS", 54.9885, 73.3242),
];

fn weekdays() -> Vec<DayHours> {
    (1..=5)
        .map(|day| DayHours {
            day,
            opens: "09:00".into(),
            closes: "19:00".into(),
        })
        .chain(std::iter::once(DayHours {
            day: 6,
            opens: "10:00".into(),
            closes: "16:00".into(),
        }))
        .collect()
}

/// How the demo dealer number `n` (0-based within its city) is set up in a big city with
/// service areas: (base offset in degrees, area, services, rating, capacity, status).
fn moscow_profile(
    n: usize,
    city: GeoPoint,
) -> (
    GeoPoint,
    Territory,
    Vec<ServiceType>,
    f64,
    i32,
    DealerStatus,
) {
    use ServiceType::*;
    match n {
        0 => {
            let base = GeoPoint::new(city.lat + 0.004, city.lon + 0.003);
            (
                base,
                Territory {
                    region_codes: vec![],
                    areas: vec![ServiceArea::Circle {
                        center: base,
                        radius_km: 25.0,
                    }],
                },
                vec![Installation, Repair],
                4.6,
                5,
                DealerStatus::Active,
            )
        }
        1 => (
            GeoPoint::new(city.lat - 0.06, city.lon - 0.12),
            Territory {
                region_codes: vec!["RU-MOS".into()],
                areas: vec![ServiceArea::Polygon {
                    points: vec![
                        GeoPoint::new(city.lat - 0.2, city.lon - 0.32),
                        GeoPoint::new(city.lat - 0.2, city.lon + 0.23),
                        GeoPoint::new(city.lat + 0.2, city.lon + 0.23),
                        GeoPoint::new(city.lat + 0.2, city.lon - 0.32),
                    ],
                }],
            },
            vec![Installation, Repair],
            4.2,
            4,
            DealerStatus::Active,
        ),
        2 => {
            let base = GeoPoint::new(city.lat + 0.045, city.lon + 0.13);
            (
                base,
                Territory {
                    region_codes: vec![],
                    areas: vec![ServiceArea::Circle {
                        center: base,
                        radius_km: 20.0,
                    }],
                },
                vec![Repair],
                4.8,
                3,
                DealerStatus::Active,
            )
        }
        _ => {
            let base = GeoPoint::new(city.lat - 0.005, city.lon - 0.02);
            (
                base,
                Territory {
                    region_codes: vec![],
                    areas: vec![ServiceArea::Circle {
                        center: base,
                        radius_km: 30.0,
                    }],
                },
                vec![Installation],
                3.9,
                4,
                DealerStatus::Suspended,
            )
        }
    }
}

/// Loads the dealer-network demo data (run by `demo::seed` once, after the organisation tree
/// and the demo users exist).
pub async fn seed_dealers(db: &DatabaseConnection, ctx: Ctx<'_>) -> Result<()> {
    let dealers = org_node::Entity::find()
        .filter(org_node::Column::Kind.eq(OrgKind::Dealer.as_str()))
        .order_by_asc(org_node::Column::Id)
        .all(db)
        .await?;
    let mut per_city: std::collections::HashMap<&str, usize> = Default::default();
    let mut second_moscow = None;
    for (i, node) in dealers.iter().enumerate() {
        let Some(&(city, region, lat, lon)) = CITIES.iter().find(|(c, ..)| node.name.ends_with(c))
        else {
            continue;
        };
        let n = {
            let c = per_city.entry(city).or_default();
            *c += 1;
            *c - 1
        };
        let centre = GeoPoint::new(lat, lon);
        let (base, territory, services, rating, capacity, status) = if city == "Moscow" {
            moscow_profile(n, centre)
        } else {
            let base = GeoPoint::new(lat + 0.01 * n as f64, lon - 0.015 * n as f64);
            (
                base,
                Territory {
                    region_codes: vec![region.to_string()],
                    areas: vec![],
                },
                if n % 3 == 2 {
                    vec![ServiceType::Repair]
                } else {
                    vec![ServiceType::Installation, ServiceType::Repair]
                },
                3.0 + ((i * 7) % 20) as f64 / 10.0,
                2 + (i % 4) as i32,
                DealerStatus::Active,
            )
        };
        let dealer = profiles::create(
            db,
            ctx,
            CreateDealer {
                org_id: node.id,
                legal_name: format!("{} LLC", node.name),
                tax_id: format!("77{:08}", 10_000 + node.id),
                legal_address: format!("{city}, Lenina st. {}", 10 + i),
                contacts: vec![Contact {
                    name: format!("Manager of {}", node.name),
                    position: "Service manager".into(),
                    phone: Some(format!("+7 900 {:03}-{:02}-{:02}", 100 + i, i % 100, n)),
                    email: Some(format!("service{}@dealers.demo.example", node.id)),
                }],
                services,
                territory,
                base: Some(base),
                rating,
                capacity,
                working_hours: weekdays(),
                status,
            },
        )
        .await?;
        if city == "Moscow" && n == 1 {
            second_moscow = Some(node.id);
        }
        let shops = org_node::Entity::find()
            .filter(org_node::Column::ParentId.eq(node.id))
            .filter(org_node::Column::Kind.eq(OrgKind::PointOfSale.as_str()))
            .order_by_asc(org_node::Column::Id)
            .all(db)
            .await?;
        for (k, shop) in shops.iter().enumerate() {
            let dlat = 0.01 * (k as f64 + 1.0);
            points_of_sale::create(
                db,
                ctx,
                CreatePointOfSale {
                    dealer_id: dealer.id,
                    name: shop.name.clone(),
                    address: format!("{city}, Mira ave. {}", 5 + k * 12 + i),
                    region_code: Some(region.to_string()),
                    location: Some(GeoPoint::new(base.lat + dlat, base.lon - dlat)),
                    opening_hours: weekdays(),
                    attachments: vec![],
                },
                None,
            )
            .await?;
        }
    }
    if let (Some(org_id), Some(role)) = (second_moscow, roles::by_code(db, "dealer_admin").await?) {
        users::create(
            db,
            ctx,
            CreateUser {
                email: SECOND_DEALER_EMAIL.into(),
                name: "Tatiana Televizorova".into(),
                password: crate::demo::DEMO_PASSWORD.into(),
                phone: Some("+7 495 000-00-02".into()),
                org_id,
                access_level: 3,
                role_ids: vec![role.id],
                seller_code: None,
            },
        )
        .await?;
    }
    Ok(())
}
