//! Automatic assignment of an installation or repair job to a dealer: a pure function from the
//! job site, the dealers near it and the weights in configuration to a decision that explains
//! itself (every candidate with its factors and score, every excluded dealer with the reason).

use serde::{Deserialize, Serialize};

use super::geo::{GeoPoint, Territory};
use super::{DealerStatus, ServiceType};
use crate::Id;

/// How much each factor counts, from configuration. Only the ratios matter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Weights {
    pub distance: f64,
    pub rating: f64,
    pub load: f64,
    /// Distance at which the distance factor reaches 0 (km).
    pub max_distance_km: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            distance: 0.4,
            rating: 0.3,
            load: 0.3,
            max_distance_km: 100.0,
        }
    }
}

impl Weights {
    /// Negative, non-finite or all-zero weights fall back to the defaults' shape.
    pub fn sanitised(self) -> Weights {
        let ok = |w: f64| if w.is_finite() && w > 0.0 { w } else { 0.0 };
        let w = Weights {
            distance: ok(self.distance),
            rating: ok(self.rating),
            load: ok(self.load),
            max_distance_km: if self.max_distance_km.is_finite() && self.max_distance_km > 0.0 {
                self.max_distance_km
            } else {
                Weights::default().max_distance_km
            },
        };
        if w.distance + w.rating + w.load <= 0.0 {
            Weights {
                max_distance_km: w.max_distance_km,
                ..Weights::default()
            }
        } else {
            w
        }
    }
}

/// Where and what the job is.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSite {
    pub location: GeoPoint,
    pub region_code: Option<String>,
    pub service: ServiceType,
}

/// A dealer as the assignment sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct DealerCandidate {
    pub dealer_id: Id,
    pub name: String,
    pub status: DealerStatus,
    pub services: Vec<ServiceType>,
    pub territory: Territory,
    /// Where the dealer's crews start from; without it the territory's first area centre.
    pub base: Option<GeoPoint>,
    pub rating: f64,
    pub capacity: i32,
    pub open_jobs: i32,
}

impl DealerCandidate {
    fn origin(&self) -> Option<GeoPoint> {
        self.base
            .or_else(|| self.territory.areas.iter().find_map(|a| a.centre()))
    }
}

/// Why a dealer was not considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExclusionReason {
    NoSuchService,
    Suspended,
    OutsideTerritory,
    AlreadyRejected,
    AtCapacity,
}

impl ExclusionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ExclusionReason::NoSuchService => "no_such_service",
            ExclusionReason::Suspended => "suspended",
            ExclusionReason::OutsideTerritory => "outside_territory",
            ExclusionReason::AlreadyRejected => "already_rejected",
            ExclusionReason::AtCapacity => "at_capacity",
        }
    }
}

/// The factors of one candidate, each from 0 (worst) to 1 (best).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Factors {
    /// Kilometres from the dealer's base to the site, when the dealer has a base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    pub distance: f64,
    pub rating: f64,
    /// Share of capacity still free.
    pub load: f64,
    pub open_jobs: i32,
    pub capacity: i32,
}

/// A dealer that could take the job, with its score (0–100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoredCandidate {
    pub dealer_id: Id,
    pub dealer_name: String,
    pub factors: Factors,
    pub score: f64,
}

/// A dealer that was not considered, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExcludedDealer {
    pub dealer_id: Id,
    pub dealer_name: String,
    pub reason: ExclusionReason,
}

/// The outcome of one assignment round: candidates best first, then the exclusions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    /// The dealer offered the job, if any dealer could take it.
    pub chosen: Option<Id>,
    pub candidates: Vec<ScoredCandidate>,
    pub excluded: Vec<ExcludedDealer>,
    pub weights: Weights,
}

/// The factors and score of one dealer for one site (whether or not it is eligible).
pub fn score(site: &JobSite, dealer: &DealerCandidate, weights: Weights) -> (Factors, f64) {
    let w = weights.sanitised();
    let distance_km = dealer.origin().map(|o| o.distance_km(site.location));
    let distance = distance_km.map_or(0.0, |d| (1.0 - d / w.max_distance_km).clamp(0.0, 1.0));
    let rating = if dealer.rating.is_finite() {
        (dealer.rating / 5.0).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let load = if dealer.capacity > 0 {
        let free = (dealer.capacity - dealer.open_jobs.max(0)).max(0);
        f64::from(free) / f64::from(dealer.capacity)
    } else {
        0.0
    };
    let total = w.distance + w.rating + w.load;
    let raw = (w.distance * distance + w.rating * rating + w.load * load) / total;
    let score = (raw * 10_000.0).round() / 100.0;
    (
        Factors {
            distance_km: distance_km.map(|d| (d * 100.0).round() / 100.0),
            distance,
            rating,
            load,
            open_jobs: dealer.open_jobs,
            capacity: dealer.capacity,
        },
        score,
    )
}

/// Why `dealer` may not take the job at `site`, if it may not.
pub fn exclusion(
    site: &JobSite,
    dealer: &DealerCandidate,
    rejected: &[Id],
) -> Option<ExclusionReason> {
    if !dealer.services.contains(&site.service) {
        Some(ExclusionReason::NoSuchService)
    } else if dealer.status != DealerStatus::Active {
        Some(ExclusionReason::Suspended)
    } else if !dealer
        .territory
        .covers(site.location, site.region_code.as_deref())
    {
        Some(ExclusionReason::OutsideTerritory)
    } else if rejected.contains(&dealer.dealer_id) {
        Some(ExclusionReason::AlreadyRejected)
    } else if dealer.open_jobs >= dealer.capacity {
        Some(ExclusionReason::AtCapacity)
    } else {
        None
    }
}

/// Ranks the dealers for a job: eligible ones by score (ties: lower id first), the others with
/// the reason they were left out. `rejected` are the dealers that already turned this job down.
pub fn decide(
    site: &JobSite,
    dealers: &[DealerCandidate],
    rejected: &[Id],
    weights: Weights,
) -> Decision {
    let mut candidates = Vec::new();
    let mut excluded = Vec::new();
    for d in dealers {
        match exclusion(site, d, rejected) {
            Some(reason) => excluded.push(ExcludedDealer {
                dealer_id: d.dealer_id,
                dealer_name: d.name.clone(),
                reason,
            }),
            None => {
                let (factors, score) = score(site, d, weights);
                candidates.push(ScoredCandidate {
                    dealer_id: d.dealer_id,
                    dealer_name: d.name.clone(),
                    factors,
                    score,
                });
            }
        }
    }
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.dealer_id.cmp(&b.dealer_id))
    });
    excluded.sort_by(|a, b| a.reason.cmp(&b.reason).then(a.dealer_id.cmp(&b.dealer_id)));
    Decision {
        chosen: candidates.first().map(|c| c.dealer_id),
        candidates,
        excluded,
        weights: weights.sanitised(),
    }
}

impl Decision {
    /// The decision after the chosen dealer turned out to be full (another request took its
    /// last slot first): it moves to the exclusions and the next best is chosen.
    pub fn without_full(mut self, dealer_id: Id) -> Decision {
        if let Some(pos) = self
            .candidates
            .iter()
            .position(|c| c.dealer_id == dealer_id)
        {
            let c = self.candidates.remove(pos);
            self.excluded.push(ExcludedDealer {
                dealer_id: c.dealer_id,
                dealer_name: c.dealer_name,
                reason: ExclusionReason::AtCapacity,
            });
        }
        self.chosen = self.candidates.first().map(|c| c.dealer_id);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::geo::ServiceArea;
    use super::*;
    use proptest::prelude::*;

    const SITE: GeoPoint = GeoPoint::new(55.75, 37.62);

    fn site() -> JobSite {
        JobSite {
            location: SITE,
            region_code: Some("RU-MOW".into()),
            service: ServiceType::Installation,
        }
    }

    fn dealer(id: Id, km_north: f64, rating: f64, capacity: i32, open: i32) -> DealerCandidate {
        let base = GeoPoint::new(SITE.lat + km_north / 111.2, SITE.lon);
        DealerCandidate {
            dealer_id: id,
            name: format!("Dealer {id}"),
            status: DealerStatus::Active,
            services: vec![ServiceType::Installation, ServiceType::Repair],
            territory: Territory {
                region_codes: vec![],
                areas: vec![ServiceArea::Circle {
                    center: base,
                    radius_km: 50.0,
                }],
            },
            base: Some(base),
            rating,
            capacity,
            open_jobs: open,
        }
    }

    #[test]
    fn the_nearest_best_rated_least_loaded_dealer_wins() {
        let dealers = [
            dealer(1, 30.0, 3.0, 5, 4),
            dealer(2, 2.0, 4.5, 5, 1),
            dealer(3, 10.0, 4.0, 5, 2),
        ];
        let d = decide(&site(), &dealers, &[], Weights::default());
        assert_eq!(d.chosen, Some(2));
        let order: Vec<Id> = d.candidates.iter().map(|c| c.dealer_id).collect();
        assert_eq!(order, vec![2, 3, 1]);
        let best = &d.candidates[0];
        assert!(
            best.factors
                .distance_km
                .is_some_and(|k| (1.5..2.5).contains(&k))
        );
        assert!((best.factors.rating - 0.9).abs() < 1e-9);
        assert!((best.factors.load - 0.8).abs() < 1e-9);
        assert!(best.score > 0.0 && best.score <= 100.0);
    }

    #[test]
    fn every_exclusion_is_explained() {
        let mut no_service = dealer(1, 1.0, 5.0, 5, 0);
        no_service.services = vec![ServiceType::Repair];
        let mut suspended = dealer(2, 1.0, 5.0, 5, 0);
        suspended.status = DealerStatus::Suspended;
        let far = dealer(3, 300.0, 5.0, 5, 0);
        let rejected = dealer(4, 1.0, 5.0, 5, 0);
        let full = dealer(5, 1.0, 5.0, 2, 2);
        let ok = dealer(6, 20.0, 1.0, 1, 0);
        let d = decide(
            &site(),
            &[no_service, suspended, far, rejected, full, ok],
            &[4],
            Weights::default(),
        );
        assert_eq!(d.chosen, Some(6));
        let reasons: Vec<(Id, ExclusionReason)> =
            d.excluded.iter().map(|e| (e.dealer_id, e.reason)).collect();
        assert_eq!(
            reasons,
            vec![
                (1, ExclusionReason::NoSuchService),
                (2, ExclusionReason::Suspended),
                (3, ExclusionReason::OutsideTerritory),
                (4, ExclusionReason::AlreadyRejected),
                (5, ExclusionReason::AtCapacity),
            ]
        );
    }

    #[test]
    fn a_region_code_alone_is_enough_territory() {
        let mut d = dealer(1, 500.0, 4.0, 3, 0);
        d.territory.region_codes = vec!["RU-MOW".into()];
        let decision = decide(&site(), &[d], &[], Weights::default());
        assert_eq!(decision.chosen, Some(1));
        // Far from its base: the distance factor is 0, the others still count.
        assert_eq!(decision.candidates[0].factors.distance, 0.0);
    }

    #[test]
    fn nobody_eligible_means_no_choice() {
        let d = decide(
            &site(),
            &[dealer(1, 400.0, 5.0, 5, 0)],
            &[],
            Weights::default(),
        );
        assert_eq!(d.chosen, None);
        assert!(d.candidates.is_empty());
        assert_eq!(d.excluded.len(), 1);
    }

    #[test]
    fn a_full_dealer_steps_aside_for_the_next_best() {
        let d = decide(
            &site(),
            &[dealer(1, 1.0, 5.0, 1, 0), dealer(2, 5.0, 4.0, 1, 0)],
            &[],
            Weights::default(),
        );
        assert_eq!(d.chosen, Some(1));
        let d = d.without_full(1);
        assert_eq!(d.chosen, Some(2));
        assert_eq!(d.excluded[0].reason, ExclusionReason::AtCapacity);
    }

    #[test]
    fn weights_decide_what_counts() {
        let near_low = dealer(1, 1.0, 1.0, 5, 0);
        let far_high = dealer(2, 40.0, 5.0, 5, 0);
        let by_distance = Weights {
            distance: 1.0,
            rating: 0.0,
            load: 0.0,
            max_distance_km: 100.0,
        };
        let by_rating = Weights {
            distance: 0.0,
            rating: 1.0,
            load: 0.0,
            max_distance_km: 100.0,
        };
        let both = [near_low, far_high];
        assert_eq!(decide(&site(), &both, &[], by_distance).chosen, Some(1));
        assert_eq!(decide(&site(), &both, &[], by_rating).chosen, Some(2));
        let zero = Weights {
            distance: 0.0,
            rating: -1.0,
            load: f64::NAN,
            max_distance_km: 0.0,
        };
        assert_eq!(zero.sanitised(), Weights::default());
    }

    fn arb_dealer() -> impl Strategy<Value = DealerCandidate> {
        (
            1i64..1000,
            -200.0f64..200.0,
            0.0f64..=5.0,
            1i32..20,
            0i32..25,
            1.0f64..150.0,
            any::<bool>(),
        )
            .prop_map(|(id, km, rating, cap, open, radius, suspended)| {
                let mut d = dealer(id, km, rating, cap, open.min(cap + 2));
                d.territory.areas = vec![ServiceArea::Circle {
                    center: d.base.unwrap_or(SITE),
                    radius_km: radius,
                }];
                if suspended {
                    d.status = DealerStatus::Suspended;
                }
                d
            })
    }

    fn arb_weights() -> impl Strategy<Value = Weights> {
        (0.0f64..5.0, 0.0f64..5.0, 0.0f64..5.0, 1.0f64..500.0).prop_map(|(d, r, l, m)| Weights {
            distance: d,
            rating: r,
            load: l,
            max_distance_km: m,
        })
    }

    proptest! {
        #[test]
        fn more_capacity_left_never_lowers_a_score(
            d in arb_dealer(), w in arb_weights(), extra in 1i32..10, fewer in 0i32..10,
        ) {
            let (_, before) = score(&site(), &d, w);
            let mut roomier = d.clone();
            roomier.capacity += extra;
            let (_, after) = score(&site(), &roomier, w);
            prop_assert!(after >= before, "capacity +{extra}: {before} -> {after}");
            let mut lighter = d.clone();
            lighter.open_jobs = (d.open_jobs - fewer).max(0);
            let (_, lighter_score) = score(&site(), &lighter, w);
            prop_assert!(lighter_score >= before);
        }

        #[test]
        fn outside_the_territory_never_wins(
            dealers in prop::collection::vec(arb_dealer(), 1..12), w in arb_weights(),
        ) {
            let mut dealers = dealers;
            for (i, d) in dealers.iter_mut().enumerate() {
                d.dealer_id = i as Id + 1;
            }
            let decision = decide(&site(), &dealers, &[], w);
            if let Some(chosen) = decision.chosen {
                let d = dealers.iter().find(|d| d.dealer_id == chosen);
                prop_assert!(d.is_some_and(|d| d.territory.covers(SITE, Some("RU-MOW"))));
                prop_assert!(d.is_some_and(|d| d.open_jobs < d.capacity && d.status == DealerStatus::Active));
            }
            // Everybody is accounted for exactly once.
            prop_assert_eq!(decision.candidates.len() + decision.excluded.len(), dealers.len());
            for c in &decision.candidates {
                prop_assert!((0.0..=100.0).contains(&c.score));
            }
        }
    }
}
