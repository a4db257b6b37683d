use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub org_id: i64,
    pub access_level: i16,
    pub status: String,
    pub seller_code: Option<String>,
    pub password_hash: String,
    pub last_login_at: Option<DateTimeUtc>,
    pub created_by: Option<i64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::org_node::Entity",
        from = "Column::OrgId",
        to = "super::org_node::Column::Id"
    )]
    Org,
}

impl Related<super::org_node::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Org.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
