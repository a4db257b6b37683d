//! Demo data for the warehouse: a catalogue with a kit, a central warehouse and one per dealer,
//! stock received from the manufacturer, and the first dealer's history (an order shipped and
//! received, a unit installed, a rented unit with rent overdue, and an order waiting for
//! approval). Called once from [`crate::demo::seed`].

use chrono::{Duration, Utc};
use dealernet_domain::org::OrgKind;
use dealernet_domain::warehouse::{
    ConfirmReceipt, CreateEquipmentModel, CreateOrder, CreateWarehouse, KitComponent,
    OrderLineInput, Receive, ReceiveLine, ShipOrder, ShipUnit, TransferKind, TransferTerms,
    WarehouseKind,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::context::Ctx;
use crate::entities::org_node;
use crate::error::Result;

fn model(
    kind: &str,
    manufacturer: &str,
    name: &str,
    serialised: bool,
    warranty_months: i32,
    price_roubles: i64,
    components: Vec<KitComponent>,
) -> CreateEquipmentModel {
    CreateEquipmentModel {
        kind: kind.into(),
        manufacturer: manufacturer.into(),
        model: name.into(),
        serialised,
        warranty_months,
        list_price_cents: price_roubles * 100,
        components,
    }
}

fn serials(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i:05}")).collect()
}

pub async fn seed_warehouse(db: &DatabaseConnection, ctx: Ctx<'_>) -> Result<()> {
    let receiver = super::catalogue::create(
        db,
        ctx,
        model(
            "receiver",
            "General Satellite",
            "GS B532M",
            true,
            12,
            6_990,
            vec![],
        ),
    )
    .await?;
    let dish = super::catalogue::create(
        db,
        ctx,
        model("dish", "Supral", "Dish 0.6 m", true, 24, 1_490, vec![]),
    )
    .await?;
    let cam = super::catalogue::create(
        db,
        ctx,
        model("cam_module", "SMiT", "CI+ CAM 1.3", true, 12, 2_490, vec![]),
    )
    .await?;
    let cable = super::catalogue::create(
        db,
        ctx,
        model("cable", "Cavel", "RG-6 coaxial, 1 m", false, 0, 35, vec![]),
    )
    .await?;
    let kit = super::catalogue::create(
        db,
        ctx,
        model(
            "kit",
            "Operator",
            "Home satellite kit",
            true,
            12,
            8_490,
            vec![
                KitComponent {
                    model_id: receiver.id,
                    quantity: 1,
                },
                KitComponent {
                    model_id: dish.id,
                    quantity: 1,
                },
            ],
        ),
    )
    .await?;

    let central = super::locations::create(
        db,
        ctx,
        CreateWarehouse {
            org_id: ctx.actor.org_id,
            kind: WarehouseKind::Central,
            name: "Central warehouse".into(),
            code: Some("WH-CENTRAL".into()),
        },
    )
    .await?;
    let regions = org_node::Entity::find()
        .filter(org_node::Column::Kind.eq(OrgKind::Region.as_str()))
        .order_by_asc(org_node::Column::Id)
        .all(db)
        .await?;
    for r in &regions {
        super::locations::create(
            db,
            ctx,
            CreateWarehouse {
                org_id: r.id,
                kind: WarehouseKind::Regional,
                name: format!("{} warehouse", r.name),
                code: r.code.as_ref().map(|c| format!("WH-{c}")),
            },
        )
        .await?;
    }
    let dealers = org_node::Entity::find()
        .filter(org_node::Column::Kind.eq(OrgKind::Dealer.as_str()))
        .order_by_asc(org_node::Column::Id)
        .all(db)
        .await?;
    let mut dealer_whs = Vec::new();
    for d in &dealers {
        let w = super::locations::create(
            db,
            ctx,
            CreateWarehouse {
                org_id: d.id,
                kind: WarehouseKind::Dealer,
                name: format!("{} stock", d.name),
                code: d.code.as_ref().map(|c| format!("WH-{c}")),
            },
        )
        .await?;
        dealer_whs.push((d.id, w.id));
    }

    super::receiving::receive(
        db,
        ctx,
        Receive {
            warehouse_id: central.id,
            reference: "GS delivery note 2026/118".into(),
            lines: vec![
                ReceiveLine {
                    model_id: receiver.id,
                    serials: serials("GS532-", 60),
                    quantity: None,
                },
                ReceiveLine {
                    model_id: dish.id,
                    serials: serials("SUP06-", 40),
                    quantity: None,
                },
                ReceiveLine {
                    model_id: cam.id,
                    serials: serials("CAM13-", 20),
                    quantity: None,
                },
                ReceiveLine {
                    model_id: cable.id,
                    serials: vec![],
                    quantity: Some(500),
                },
            ],
        },
    )
    .await?;
    super::service::assemble_kit(
        db,
        ctx,
        dealernet_domain::warehouse::AssembleKit {
            kit_model_id: kit.id,
            warehouse_id: central.id,
            serial: "KIT-00001".into(),
            component_serials: vec!["GS532-00060".into(), "SUP06-00040".into()],
        },
    )
    .await?;

    let Some((_, dealer_wh)) = dealer_whs.first().copied() else {
        return Ok(());
    };
    // The first dealer's history: an order shipped (sale and rent), received and one unit
    // installed two months ago.
    let order = super::orders::create(
        db,
        ctx,
        CreateOrder {
            warehouse_id: dealer_wh,
            note: "Opening stock for the new shop".into(),
            lines: vec![
                OrderLineInput {
                    model_id: receiver.id,
                    quantity: 4,
                    transfer_kind: TransferKind::Sale,
                },
                OrderLineInput {
                    model_id: dish.id,
                    quantity: 2,
                    transfer_kind: TransferKind::Rent,
                },
            ],
        },
    )
    .await?;
    super::orders::approve(db, ctx, order.id).await?;
    let unit = |serial: &str, kind: Option<TransferKind>, terms: TransferTerms| ShipUnit {
        serial: serial.into(),
        transfer_kind: kind,
        price_cents: None,
        terms,
    };
    let shipped = super::orders::ship(
        db,
        ctx,
        order.id,
        ShipOrder {
            from_warehouse_id: central.id,
            units: vec![
                unit("GS532-00001", None, TransferTerms::default()),
                unit("GS532-00002", None, TransferTerms::default()),
                unit(
                    "GS532-00003",
                    Some(TransferKind::Instalments),
                    TransferTerms {
                        instalments: Some(4),
                        ..Default::default()
                    },
                ),
                unit(
                    "GS532-00004",
                    Some(TransferKind::Consignment),
                    TransferTerms::default(),
                ),
                unit(
                    "SUP06-00001",
                    None,
                    TransferTerms {
                        rent_months: Some(6),
                        ..Default::default()
                    },
                ),
            ],
        },
    )
    .await?;
    if let Some(s) = shipped.shipments.first() {
        super::orders::confirm_receipt(
            db,
            ctx,
            s.id,
            ConfirmReceipt {
                discrepancies: vec![],
                note: String::new(),
            },
        )
        .await?;
    }
    let installed = Utc::now() - Duration::days(60);
    super::service::install(
        db,
        ctx,
        dealernet_domain::warehouse::Install {
            serial: "GS532-00001".into(),
            customer: "Ivan Petrov".into(),
            address: "Moscow, Tverskaya 1, flat 5".into(),
            installed_at: Some(installed),
        },
    )
    .await?;
    // A second order waiting for the back office.
    super::orders::create(
        db,
        ctx,
        CreateOrder {
            warehouse_id: dealer_wh,
            note: "Weekend promotion".into(),
            lines: vec![
                OrderLineInput {
                    model_id: receiver.id,
                    quantity: 3,
                    transfer_kind: TransferKind::Sale,
                },
                OrderLineInput {
                    model_id: cam.id,
                    quantity: 2,
                    transfer_kind: TransferKind::Consignment,
                },
            ],
        },
    )
    .await?;
    Ok(())
}
