//! The catalogue: equipment models and kit recipes. The catalogue is global: whoever may view
//! equipment sees all of it; only holders of `equipment:create` add to it.

use std::collections::BTreeSet;

use chrono::Utc;
use dealernet_domain::access::{Action, Resource};
use dealernet_domain::list::{Page, Paging};
use dealernet_domain::policy::Actor;
use dealernet_domain::warehouse::{CreateEquipmentModel, EquipmentModel, KitComponent};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::entity::{equipment_model, kit_component};
use crate::audit::{self, Change};
use crate::context::Ctx;
use crate::error::{Result, ServiceError, on_unique};

pub(crate) async fn model<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<equipment_model::Model>> {
    Ok(equipment_model::Entity::find_by_id(id).one(conn).await?)
}

async fn components<C: ConnectionTrait>(conn: &C, kit: i64) -> Result<Vec<KitComponent>> {
    Ok(kit_component::Entity::find()
        .filter(kit_component::Column::KitModelId.eq(kit))
        .order_by_asc(kit_component::Column::ComponentModelId)
        .all(conn)
        .await?
        .into_iter()
        .map(|c| KitComponent {
            model_id: c.component_model_id,
            quantity: c.quantity,
        })
        .collect())
}

pub(crate) async fn wire<C: ConnectionTrait>(
    conn: &C,
    m: equipment_model::Model,
) -> Result<EquipmentModel> {
    let components = if m.is_kit {
        components(conn, m.id).await?
    } else {
        vec![]
    };
    Ok(EquipmentModel {
        id: m.id,
        kind: m.kind,
        manufacturer: m.manufacturer,
        model: m.model,
        serialised: m.serialised,
        is_kit: m.is_kit,
        warranty_months: m.warranty_months,
        list_price_cents: m.list_price_cents,
        components,
        active: m.active,
        version: m.version,
        created_at: m.created_at,
    })
}

pub async fn create(
    db: &DatabaseConnection,
    ctx: Ctx<'_>,
    input: CreateEquipmentModel,
) -> Result<EquipmentModel> {
    ctx.actor.require(Resource::Equipment, Action::Create)?;
    let is_kit = !input.components.is_empty();
    if is_kit && !input.serialised {
        return Err(ServiceError::field(
            "serialised",
            "kit_serialised",
            "a kit always has its own serial",
        ));
    }
    let txn = db.begin().await?;
    let mut seen = BTreeSet::new();
    for (i, c) in input.components.iter().enumerate() {
        let field = format!("components[{i}].model_id");
        let comp = model(&txn, c.model_id)
            .await?
            .ok_or_else(|| ServiceError::field(&field, "not_found", "no such model"))?;
        if !comp.serialised || comp.is_kit {
            return Err(ServiceError::field(
                &field,
                "component",
                "a kit is assembled from serialised units that are not kits",
            ));
        }
        if !seen.insert(c.model_id) {
            return Err(ServiceError::field(&field, "duplicate", "listed twice"));
        }
    }
    let now = Utc::now();
    let m = equipment_model::ActiveModel {
        kind: Set(input.kind.trim().to_string()),
        manufacturer: Set(input.manufacturer.trim().to_string()),
        model: Set(input.model.trim().to_string()),
        serialised: Set(input.serialised),
        is_kit: Set(is_kit),
        warranty_months: Set(input.warranty_months),
        list_price_cents: Set(input.list_price_cents),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(on_unique(
        "this manufacturer already has a model of that name",
    ))?;
    for c in &input.components {
        kit_component::ActiveModel {
            kit_model_id: Set(m.id),
            component_model_id: Set(c.model_id),
            quantity: Set(c.quantity),
        }
        .insert(&txn)
        .await?;
    }
    audit::record(
        &txn,
        ctx,
        Change {
            action: "create",
            entity: Resource::Equipment,
            entity_id: m.id,
            org_id: None,
            responsible_id: None,
            before: None,
            after: Some(serde_json::json!({
                "kind": m.kind, "manufacturer": m.manufacturer, "model": m.model,
                "serialised": m.serialised, "is_kit": m.is_kit,
                "warranty_months": m.warranty_months, "list_price_cents": m.list_price_cents,
                "components": input.components.iter().map(|c| (c.model_id, c.quantity)).collect::<Vec<_>>(),
            })),
        },
    )
    .await?;
    let out = wire(&txn, m).await?;
    txn.commit().await?;
    Ok(out)
}

pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<EquipmentModel> {
    actor.require(Resource::Equipment, Action::View)?;
    let m = model(db, id).await?.ok_or(ServiceError::NotFound)?;
    wire(db, m).await
}

#[derive(Debug, Clone, Default)]
pub struct ModelFilter {
    pub q: Option<String>,
    pub kind: Option<String>,
    pub is_kit: Option<bool>,
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &ModelFilter,
    paging: Paging,
) -> Result<Page<EquipmentModel>> {
    actor.require(Resource::Equipment, Action::View)?;
    let mut q = equipment_model::Entity::find();
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(
            sea_orm::Condition::any()
                .add(crate::text::contains_ci(
                    equipment_model::Column::Manufacturer,
                    text,
                ))
                .add(crate::text::contains_ci(
                    equipment_model::Column::Model,
                    text,
                ))
                .add(crate::text::contains_ci(
                    equipment_model::Column::Kind,
                    text,
                )),
        );
    }
    if let Some(k) = &filter.kind {
        q = q.filter(equipment_model::Column::Kind.eq(k.as_str()));
    }
    if let Some(k) = filter.is_kit {
        q = q.filter(equipment_model::Column::IsKit.eq(k));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_asc(equipment_model::Column::Manufacturer)
        .order_by_asc(equipment_model::Column::Model)
        .limit(paging.limit)
        .offset(paging.offset)
        .all(db)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for m in rows {
        items.push(wire(db, m).await?);
    }
    Ok(Page::new(items, total))
}
