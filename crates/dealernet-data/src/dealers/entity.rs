//! The sea-orm entities of the dealer network (private to the data crate).

pub mod dealer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "dealers")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub legal_name: String,
        pub tax_id: String,
        pub legal_address: String,
        pub contacts: String,
        pub offers_installation: bool,
        pub offers_repair: bool,
        pub territory: String,
        pub area_min_lat: Option<f64>,
        pub area_max_lat: Option<f64>,
        pub area_min_lon: Option<f64>,
        pub area_max_lon: Option<f64>,
        pub base_lat: Option<f64>,
        pub base_lon: Option<f64>,
        pub rating: f64,
        pub capacity: i32,
        pub open_jobs: i32,
        pub working_hours: String,
        pub status: String,
        pub search_text: String,
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

/// A service area filed under a grid cell (see `dealernet_domain::dealers::geo::cell_of`).
pub mod dealer_cell {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "dealer_cells")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub cell: i32,
        pub dealer_id: i64,
        pub min_lat: f64,
        pub max_lat: f64,
        pub min_lon: f64,
        pub max_lon: f64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The number of dealers, kept by triggers.
pub mod dealer_count {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dealer_count")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub n: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod dealer_region {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dealer_regions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub region_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub dealer_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod rating_change {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "dealer_rating_changes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub dealer_id: i64,
        pub from_rating: Option<f64>,
        pub to_rating: f64,
        pub reason: String,
        pub changed_by: Option<String>,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod point_of_sale {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "points_of_sale")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub dealer_id: i64,
        pub org_id: i64,
        pub name: String,
        pub address: String,
        pub region_code: Option<String>,
        pub lat: Option<f64>,
        pub lon: Option<f64>,
        pub geocoded: bool,
        pub opening_hours: String,
        pub attachments: String,
        pub search_text: String,
        pub version: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod request {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "installation_requests")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub customer_kind: String,
        pub client_id: Option<i64>,
        pub customer_name: Option<String>,
        pub customer_phone: Option<String>,
        pub address: String,
        pub lat: f64,
        pub lon: f64,
        pub region_code: Option<String>,
        pub service: String,
        pub equipment: String,
        pub window_from: Option<DateTimeUtc>,
        pub window_to: Option<DateTimeUtc>,
        pub notes: String,
        pub status: String,
        pub dealer_id: Option<i64>,
        pub offered_at: Option<DateTimeUtc>,
        pub offer_expires_at: Option<DateTimeUtc>,
        pub first_offered_at: Option<DateTimeUtc>,
        pub accepted_at: Option<DateTimeUtc>,
        pub accepted_by: Option<i64>,
        pub completed_at: Option<DateTimeUtc>,
        pub completion: Option<String>,
        pub created_by: Option<i64>,
        pub version: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod decision {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "assignment_decisions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub request_id: i64,
        pub trigger_kind: String,
        pub dealer_id: Option<i64>,
        pub explanation: String,
        pub others_outside: i32,
        pub override_reason: Option<String>,
        pub decided_by: Option<String>,
        pub decided_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod rejection {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "job_rejections")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub request_id: i64,
        pub dealer_id: i64,
        pub reason: String,
        pub note: String,
        pub rejected_by: Option<i64>,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
