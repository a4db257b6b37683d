//! Demo data for the CRM: a few clients with contacts and requests in several states.

use dealernet_domain::crm::{
    ChangeDelivery, ChangeStatus, ContactInput, CreateClient, CreateDeal, DealStatus,
    DeliveryStage, LineItem,
};
use sea_orm::DatabaseConnection;

use super::{clients, deals};
use crate::context::Ctx;
use crate::error::Result;

fn item(t: &str, n: &str, s: &str, c: &str, q: i32) -> LineItem {
    LineItem {
        equipment_type: t.into(),
        name: n.into(),
        sub_name: s.into(),
        capacity: c.into(),
        quantity: q,
    }
}

/// A demo request: client index, items, statuses to move through, delivery stage reached, price.
type Plan = (
    usize,
    Vec<LineItem>,
    &'static [DealStatus],
    Option<DeliveryStage>,
    Option<&'static str>,
);

/// Seeds the demo clients and requests as `ctx`'s actor (the demo administrator).
pub async fn seed_crm(db: &DatabaseConnection, ctx: Ctx<'_>) -> Result<()> {
    let data: [(&str, &str, &str, &str, &str); 4] = [
        (
            "Nord Stroy LLC",
            "7701234567",
            "info@nordstroy.example",
            "+7 495 111-22-33",
            "Moscow, Tverskaya 1",
        ),
        (
            "Volga Cold Chain",
            "6312345678",
            "office@volgacold.example",
            "+7 846 222-33-44",
            "Samara, Lenina 10",
        ),
        (
            "Ural Thermo JSC",
            "6612345679",
            "sales@uralthermo.example",
            "+7 343 333-44-55",
            "Yekaterinburg, Mira 5",
        ),
        (
            "Baltic Foods",
            "7812345670",
            "hello@balticfoods.example",
            "+7 812 444-55-66",
            "St Petersburg, Nevsky 20",
        ),
    ];
    let mut ids = Vec::new();
    for (name, legal, email, phone, address) in data {
        let c = clients::create(
            db,
            ctx,
            CreateClient {
                name: name.into(),
                legal_id: Some(legal.into()),
                email: Some(email.into()),
                phone: Some(phone.into()),
                legal_address: Some(address.into()),
                website: Some(format!(
                    "https://{}",
                    email.split('@').nth(1).unwrap_or("example.com")
                )),
                notes: "Demo client".into(),
                ..Default::default()
            },
        )
        .await?;
        clients::add_contact(
            db,
            ctx,
            c.id,
            ContactInput {
                name: format!("Chief engineer of {name}"),
                position: Some("Chief engineer".into()),
                phone: Some(phone.into()),
                email: Some(format!("engineer.{email}")),
                notes: String::new(),
            },
        )
        .await?;
        ids.push(c.id);
    }
    let plans: [Plan; 4] = [
        (
            0,
            vec![
                item("Chiller", "AquaForce", "30XA", "500 kW", 2),
                item("Dry cooler", "Guentner", "GFD", "120 kW", 1),
            ],
            &[DealStatus::InProgress],
            None,
            None,
        ),
        (
            1,
            vec![item("Chiller", "AquaSnap", "30RB", "160 kW", 1)],
            &[DealStatus::InProgress, DealStatus::Won],
            Some(DeliveryStage::Shipped),
            Some("2450000.00"),
        ),
        (
            2,
            vec![item(
                "Air handling unit",
                "Climaciaat",
                "AQUA",
                "12000 m3/h",
                3,
            )],
            &[DealStatus::Stalled],
            None,
            None,
        ),
        (
            3,
            vec![item("Chiller", "AquaForce", "30XW", "800 kW", 1)],
            &[],
            None,
            None,
        ),
    ];
    for (client, items, statuses, delivery, price) in plans {
        let Some(client_id) = ids.get(client).copied() else {
            continue;
        };
        let d = deals::create(
            db,
            ctx,
            CreateDeal {
                client_id,
                date: None,
                customer: String::new(),
                items,
                status: None,
                payment_terms: Some("30% advance, 70% on delivery".into()),
                contract_no: None,
                invoice_no: None,
                contract_price: price.map(str::to_string),
                currency: price.map(|_| "RUB".to_string()),
                finance_comment: None,
                manager_id: None,
            },
        )
        .await?;
        for s in statuses {
            deals::change_status(
                db,
                ctx,
                d.id,
                ChangeStatus {
                    status: *s,
                    comment: format!("Demo: moved to {}", s.as_str().replace('_', " ")),
                },
                None,
            )
            .await?;
        }
        if let Some(stage) = delivery {
            for s in dealernet_domain::crm::DeliveryStage::ALL {
                deals::change_delivery(
                    db,
                    ctx,
                    d.id,
                    ChangeDelivery {
                        stage: *s,
                        comment: String::new(),
                    },
                    None,
                )
                .await?;
                if *s == stage {
                    break;
                }
            }
        }
    }
    Ok(())
}
