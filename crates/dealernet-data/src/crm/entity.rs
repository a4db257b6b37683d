//! The sea-orm entities of the CRM module (private to the data crate).

pub mod client {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "clients")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub legal_id: Option<String>,
        pub registration_no: Option<String>,
        pub legal_address: Option<String>,
        pub postal_address: Option<String>,
        pub phone: Option<String>,
        pub email: Option<String>,
        pub website: Option<String>,
        pub notes: String,
        pub org_id: i64,
        pub manager_id: Option<i64>,
        pub search_text: String,
        pub version: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod contact {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "client_contacts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub client_id: i64,
        pub name: String,
        pub position: Option<String>,
        pub phone: Option<String>,
        pub email: Option<String>,
        pub notes: String,
        pub version: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod deal {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deals")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub number: String,
        pub client_id: i64,
        pub client_name: String,
        pub deal_date: String,
        pub customer: String,
        pub status: String,
        pub delivery_stage: Option<String>,
        pub payment_terms: Option<String>,
        pub contract_no: Option<String>,
        pub invoice_no: Option<String>,
        pub contract_price_minor: Option<i64>,
        pub currency: Option<String>,
        pub finance_comment: Option<String>,
        pub org_id: i64,
        pub manager_id: Option<i64>,
        pub search_text: String,
        pub version: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod deal_item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deal_items")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub deal_id: i64,
        pub position: i32,
        pub equipment_type: String,
        pub name: String,
        pub sub_name: String,
        pub capacity: String,
        pub quantity: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod deal_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deal_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub deal_id: i64,
        pub kind: String,
        pub from_value: Option<String>,
        pub to_value: String,
        pub comment: String,
        pub actor_id: Option<i64>,
        pub actor_name: Option<String>,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod comment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "crm_comments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub resource: String,
        pub record_id: i64,
        pub author_id: Option<i64>,
        pub author_name: String,
        pub body: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod document {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "crm_documents")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub resource: String,
        pub record_id: i64,
        pub category: String,
        pub file_name: String,
        pub content_type: String,
        pub size_bytes: i64,
        pub storage_key: String,
        pub sha256: String,
        pub uploaded_by: Option<i64>,
        pub uploaded_by_name: String,
        pub uploaded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
