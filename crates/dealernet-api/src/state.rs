//! What every handler shares.

use std::sync::Arc;

use dealernet_data::DatabaseConnection;
use dealernet_data::identity::actor_cache::ActorCache;
use dealernet_data::identity::roles::RoleCache;

use crate::auth::{JwtKeys, LoginThrottle};
use crate::metrics::Metrics;
use crate::settings::Settings;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub jwt: Arc<JwtKeys>,
    pub throttle: Arc<LoginThrottle>,
    pub metrics: Arc<Metrics>,
    pub roles: Arc<RoleCache>,
    /// Actors of signed-in sessions, while the database's change feed is connected.
    pub actors: Arc<ActorCache>,
    pub push: Arc<crate::notify::PushHub>,
    pub geocoder: Arc<crate::dealers::Geocoder>,
}
