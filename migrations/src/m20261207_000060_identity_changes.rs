//! PostgreSQL tells every server instance when a change commits that can alter a signed-in
//! actor, so that instances may keep resolved actors in memory (see
//! `dealernet_data::identity::actor_cache`). Each trigger sends on the `dealernet_actors`
//! channel: `u:<user id>` when one user's account, roles or sessions change, `*` when roles or
//! the tree change (every actor may be concerned). `NOTIFY` is delivered at commit and dropped
//! on rollback. SQLite has no such feed and needs nothing here.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES: &[&str] = &[
    "CREATE FUNCTION dealernet_actor_changed() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
        IF TG_LEVEL = 'STATEMENT' THEN
            PERFORM pg_notify('dealernet_actors', '*');
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM pg_notify('dealernet_actors', 'u:' || OLD.user_id);
        ELSE
            PERFORM pg_notify('dealernet_actors', 'u:' || NEW.user_id);
            IF TG_OP = 'UPDATE' AND OLD.user_id IS DISTINCT FROM NEW.user_id THEN
                PERFORM pg_notify('dealernet_actors', 'u:' || OLD.user_id);
            END IF;
        END IF;
        RETURN NULL;
     END $$",
    // `users` has no `user_id` column: its own function.
    "CREATE FUNCTION dealernet_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
        PERFORM pg_notify('dealernet_actors', 'u:' || OLD.id);
        RETURN NULL;
     END $$",
    "CREATE TRIGGER users_actor_changed AFTER UPDATE ON users FOR EACH ROW
     WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.name IS DISTINCT FROM NEW.name
        OR OLD.access_level IS DISTINCT FROM NEW.access_level OR OLD.org_id IS DISTINCT FROM NEW.org_id)
     EXECUTE FUNCTION dealernet_user_changed()",
    "CREATE TRIGGER users_actor_deleted AFTER DELETE ON users FOR EACH ROW
     EXECUTE FUNCTION dealernet_user_changed()",
    "CREATE TRIGGER user_roles_actor_changed AFTER INSERT OR UPDATE OR DELETE ON user_roles
     FOR EACH ROW EXECUTE FUNCTION dealernet_actor_changed()",
    "CREATE TRIGGER auth_sessions_actor_changed AFTER UPDATE ON auth_sessions FOR EACH ROW
     WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
        OR OLD.user_id IS DISTINCT FROM NEW.user_id)
     EXECUTE FUNCTION dealernet_actor_changed()",
    "CREATE TRIGGER auth_sessions_actor_deleted AFTER DELETE ON auth_sessions FOR EACH ROW
     EXECUTE FUNCTION dealernet_actor_changed()",
    "CREATE TRIGGER roles_actor_changed AFTER UPDATE OR DELETE ON roles
     FOR EACH STATEMENT EXECUTE FUNCTION dealernet_actor_changed()",
    "CREATE TRIGGER org_nodes_actor_changed AFTER UPDATE OF path, parent_id OR DELETE ON org_nodes
     FOR EACH STATEMENT EXECUTE FUNCTION dealernet_actor_changed()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let conn = manager.get_connection();
        for s in POSTGRES {
            conn.execute_unprepared(s).await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
