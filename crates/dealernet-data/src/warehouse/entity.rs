//! The sea-orm entities of the warehouse module (private to the data crate).

pub mod equipment_model {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "equipment_models")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub kind: String,
        pub manufacturer: String,
        pub model: String,
        pub serialised: bool,
        pub is_kit: bool,
        pub warranty_months: i32,
        pub list_price_cents: i64,
        pub active: bool,
        pub version: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    impl Model {
        pub fn label(&self) -> String {
            format!("{} {}", self.manufacturer, self.model)
        }
    }
}

pub mod kit_component {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "kit_components")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub kit_model_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub component_model_id: i64,
        pub quantity: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod warehouse {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "warehouses")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub kind: String,
        pub name: String,
        pub code: Option<String>,
        pub is_virtual: bool,
        pub active: bool,
        pub version: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "crate::entities::org_node::Entity",
            from = "Column::OrgId",
            to = "crate::entities::org_node::Column::Id"
        )]
        Org,
    }

    impl Related<crate::entities::org_node::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Org.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod unit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stock_units")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub serial: String,
        pub model_id: i64,
        pub warehouse_id: i64,
        pub owner_org_id: Option<i64>,
        pub condition: String,
        pub grade: Option<String>,
        pub discount_price_cents: Option<i64>,
        pub kit_unit_id: Option<i64>,
        pub installed_at: Option<DateTimeUtc>,
        pub warranty_until: Option<DateTimeUtc>,
        pub customer: Option<String>,
        pub version: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod balance {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stock_balances")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub warehouse_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub model_id: i64,
        pub quantity: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ledger {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stock_ledger")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub at: DateTimeUtc,
        pub model_id: i64,
        pub unit_id: Option<i64>,
        pub serial: Option<String>,
        pub quantity: i64,
        pub from_warehouse_id: Option<i64>,
        pub to_warehouse_id: Option<i64>,
        pub reason: String,
        pub document_kind: Option<String>,
        pub document_id: Option<i64>,
        pub reverses_id: Option<i64>,
        pub actor_user_id: Option<i64>,
        pub actor_name: Option<String>,
        pub note: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod receipt {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stock_receipts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub warehouse_id: i64,
        pub source: String,
        pub reference: String,
        pub units: i32,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod order {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "equipment_orders")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub dealer_org_id: i64,
        pub warehouse_id: i64,
        pub status: String,
        pub note: String,
        pub requested_by: Option<i64>,
        pub approved_by: Option<i64>,
        pub approved_at: Option<DateTimeUtc>,
        pub cancelled_reason: Option<String>,
        pub version: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod order_line {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "equipment_order_lines")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub order_id: i64,
        pub model_id: i64,
        pub quantity: i32,
        pub transfer_kind: String,
        pub shipped_quantity: i32,
        pub received_quantity: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod shipment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "shipments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub order_id: i64,
        pub from_warehouse_id: i64,
        pub transit_warehouse_id: i64,
        pub to_warehouse_id: i64,
        pub status: String,
        pub shipped_by: Option<i64>,
        pub shipped_at: DateTimeUtc,
        pub received_by: Option<i64>,
        pub received_at: Option<DateTimeUtc>,
        pub discrepancy_note: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod shipment_line {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "shipment_lines")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub shipment_id: i64,
        pub order_line_id: i64,
        pub unit_id: i64,
        pub model_id: i64,
        pub serial: String,
        pub transfer_kind: String,
        pub price_cents: i64,
        pub terms: String,
        pub receipt_status: Option<String>,
        pub receipt_note: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod obligation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dealer_obligations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub shipment_line_id: i64,
        pub unit_id: i64,
        pub serial: String,
        pub dealer_org_id: i64,
        pub transfer_kind: String,
        pub what: String,
        pub seq: i32,
        pub amount_cents: i64,
        pub due_at: DateTimeUtc,
        pub status: String,
        pub settled_at: Option<DateTimeUtc>,
        pub settled_by: Option<i64>,
        pub version: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod installation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "installations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub unit_id: i64,
        pub serial: String,
        pub org_id: i64,
        pub customer: String,
        pub address: String,
        pub installed_at: DateTimeUtc,
        pub warranty_until: DateTimeUtc,
        pub installed_by: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod repair {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "repairs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub unit_id: i64,
        pub serial: String,
        pub service_org_id: i64,
        pub came_from_warehouse_id: i64,
        pub complaint: String,
        pub warranty: bool,
        pub warranty_reason: String,
        pub installed_at: Option<DateTimeUtc>,
        pub warranty_until: Option<DateTimeUtc>,
        pub status: String,
        pub outcome: Option<String>,
        pub replacement_unit_id: Option<i64>,
        pub replacement_serial: Option<String>,
        pub outcome_note: Option<String>,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
        pub closed_at: Option<DateTimeUtc>,
        pub version: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod rtm_batch {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "rtm_batches")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub manufacturer: String,
        pub note: String,
        pub units: i32,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod rtm_batch_unit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "rtm_batch_units")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub batch_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: i64,
        pub serial: String,
        pub from_warehouse_id: i64,
        pub reason: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
