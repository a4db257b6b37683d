//! `dealernet seed-demo`.

use dealernet_data::DatabaseConnection;

pub async fn seed(db: &DatabaseConnection) -> anyhow::Result<()> {
    dealernet_data::demo::seed(db).await?;
    Ok(())
}
