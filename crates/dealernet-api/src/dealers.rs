//! The HTTP side of the dealer network that is not a handler: the assignment settings, the
//! geocoder (a Nominatim-compatible HTTP service called with reqwest, or none), and the offer
//! timer that hands unanswered offers to the next best dealer.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use dealernet_data::DatabaseConnection;
use dealernet_data::dealers::{AssignmentConfig, requests};
use dealernet_domain::dealers::assignment::Weights;
use dealernet_domain::dealers::geo::{GeoPoint, GeocodeHit};
use serde::Deserialize;
use tokio::sync::watch;

use crate::settings::Settings;

/// The assignment's weights and offer timeout from the settings.
pub fn assignment_config(s: &Settings) -> AssignmentConfig {
    AssignmentConfig {
        weights: Weights {
            distance: s.assignment_weight_distance,
            rating: s.assignment_weight_rating,
            load: s.assignment_weight_load,
            max_distance_km: s.assignment_max_distance_km,
        }
        .sanitised(),
        offer_timeout: Duration::from_secs(s.assignment_offer_timeout_secs.max(1)),
    }
}

/// Why the geocoder gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum GeocodeError {
    #[error("no geocoder is configured")]
    NotConfigured,
    #[error("the geocoder did not answer: {0}")]
    Upstream(String),
}

/// Where addresses are turned into coordinates. New providers are new variants.
pub enum Geocoder {
    /// No geocoding: coordinates are set by hand on the map.
    None,
    /// A Nominatim-compatible service (`GET {base}/search?q=…&format=jsonv2&addressdetails=1`).
    Nominatim {
        base_url: String,
        client: reqwest::Client,
    },
}

#[derive(Deserialize)]
struct NominatimPlace {
    lat: String,
    lon: String,
    display_name: String,
    #[serde(default)]
    address: Option<NominatimAddress>,
}

#[derive(Deserialize)]
struct NominatimAddress {
    #[serde(rename = "ISO3166-2-lvl4", default)]
    iso_lvl4: Option<String>,
}

impl Geocoder {
    pub fn from_settings(s: &Settings) -> Geocoder {
        let base = s.geocoder_url.trim().trim_end_matches('/');
        if base.is_empty() {
            return Geocoder::None;
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .user_agent(concat!("DealerNet/", env!("CARGO_PKG_VERSION")))
            .build();
        match client {
            Ok(client) => Geocoder::Nominatim {
                base_url: base.to_string(),
                client,
            },
            Err(e) => {
                tracing::warn!(error = %e, "geocoder client could not be built; geocoding is off");
                Geocoder::None
            }
        }
    }

    pub fn is_configured(&self) -> bool {
        !matches!(self, Geocoder::None)
    }

    /// Up to `limit` places for an address, best first.
    pub async fn search(&self, query: &str, limit: u8) -> Result<Vec<GeocodeHit>, GeocodeError> {
        let Geocoder::Nominatim { base_url, client } = self else {
            return Err(GeocodeError::NotConfigured);
        };
        let limit = limit.clamp(1, 10).to_string();
        let res = client
            .get(format!("{base_url}/search"))
            .query(&[
                ("q", query),
                ("format", "jsonv2"),
                ("addressdetails", "1"),
                ("limit", limit.as_str()),
            ])
            .send()
            .await
            .map_err(|e| GeocodeError::Upstream(e.to_string()))?;
        if !res.status().is_success() {
            return Err(GeocodeError::Upstream(format!("status {}", res.status())));
        }
        let places: Vec<NominatimPlace> = res
            .json()
            .await
            .map_err(|e| GeocodeError::Upstream(e.to_string()))?;
        Ok(places
            .into_iter()
            .filter_map(|p| {
                let lat: f64 = p.lat.parse().ok()?;
                let lon: f64 = p.lon.parse().ok()?;
                let ok = lat.is_finite()
                    && lon.is_finite()
                    && (-90.0..=90.0).contains(&lat)
                    && (-180.0..=180.0).contains(&lon);
                ok.then(|| GeocodeHit {
                    label: p.display_name,
                    location: GeoPoint::new(lat, lon),
                    region_code: p
                        .address
                        .and_then(|a| a.iso_lvl4)
                        .filter(|c| dealernet_domain::dealers::geo::region_code(c).is_ok()),
                })
            })
            .collect())
    }

    /// The best place for an address, or `None` (not configured, not found, or the service
    /// failed: the record is then saved without coordinates, which can be set by hand).
    pub async fn best(&self, query: &str) -> Option<GeocodeHit> {
        match self.search(query, 1).await {
            Ok(mut hits) if !hits.is_empty() => Some(hits.remove(0)),
            Ok(_) | Err(GeocodeError::NotConfigured) => None,
            Err(e) => {
                tracing::warn!(error = %e, "geocoding failed");
                None
            }
        }
    }
}

/// Every `assignment_tick_ms`, hands expired offers to the next best dealer (the claim is in
/// `dealernet_data::dealers::requests::expire_offers`: exactly once across instances).
pub async fn offer_timer(
    db: DatabaseConnection,
    cfg: Arc<AssignmentConfig>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    const BATCH: u64 = 50;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        loop {
            match requests::expire_offers(&db, Utc::now(), BATCH, &cfg).await {
                Ok(ids) => {
                    if !ids.is_empty() {
                        tracing::info!(count = ids.len(), "expired offers reassigned");
                    }
                    if (ids.len() as u64) < BATCH || *stop.borrow() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "offer expiry failed; retrying next tick");
                    break;
                }
            }
        }
    }
}
