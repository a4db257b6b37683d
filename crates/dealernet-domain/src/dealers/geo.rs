//! Geography for the dealer network: points, service areas (circles and polygons), territories
//! and the distances between them. Pure arithmetic on WGS-84 degrees.

use serde::{Deserialize, Serialize};
use validator::{Validate, ValidationError};

/// Mean Earth radius used by the haversine formula, in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;
/// Kilometres per degree of latitude (and of longitude at the equator).
const KM_PER_DEGREE: f64 = 111.32;

/// A point on the map.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    #[validate(range(min = -90.0, max = 90.0))]
    pub lat: f64,
    #[validate(range(min = -180.0, max = 180.0))]
    pub lon: f64,
}

impl GeoPoint {
    pub const fn new(lat: f64, lon: f64) -> Self {
        GeoPoint { lat, lon }
    }

    /// Great-circle distance in kilometres (haversine).
    pub fn distance_km(self, other: GeoPoint) -> f64 {
        let (la1, la2) = (self.lat.to_radians(), other.lat.to_radians());
        let dla = la2 - la1;
        let dlo = (other.lon - self.lon).to_radians();
        let a = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }

    fn is_finite(self) -> bool {
        self.lat.is_finite() && self.lon.is_finite()
    }
}

/// A rectangle in degrees, used to find the dealers whose areas might cover a point quickly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lon: f64,
    pub max_lon: f64,
}

impl BoundingBox {
    fn of_point(p: GeoPoint) -> Self {
        BoundingBox {
            min_lat: p.lat,
            max_lat: p.lat,
            min_lon: p.lon,
            max_lon: p.lon,
        }
    }

    fn union(self, o: BoundingBox) -> Self {
        BoundingBox {
            min_lat: self.min_lat.min(o.min_lat),
            max_lat: self.max_lat.max(o.max_lat),
            min_lon: self.min_lon.min(o.min_lon),
            max_lon: self.max_lon.max(o.max_lon),
        }
    }

    pub fn contains(&self, p: GeoPoint) -> bool {
        (self.min_lat..=self.max_lat).contains(&p.lat)
            && (self.min_lon..=self.max_lon).contains(&p.lon)
    }
}

/// A service area: a centre with a radius, or a polygon (at least three corners, not closed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServiceArea {
    Circle { center: GeoPoint, radius_km: f64 },
    Polygon { points: Vec<GeoPoint> },
}

impl ServiceArea {
    /// Whether the area covers `p` (a polygon by the even-odd rule, longitude as x).
    pub fn contains(&self, p: GeoPoint) -> bool {
        match self {
            ServiceArea::Circle { center, radius_km } => center.distance_km(p) <= *radius_km,
            ServiceArea::Polygon { points } => {
                let mut inside = false;
                let n = points.len();
                if n < 3 {
                    return false;
                }
                let mut j = n - 1;
                for i in 0..n {
                    let (a, b) = (points[i], points[j]);
                    if (a.lat > p.lat) != (b.lat > p.lat)
                        && p.lon < (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon
                    {
                        inside = !inside;
                    }
                    j = i;
                }
                inside
            }
        }
    }

    /// A rectangle that contains the whole area.
    pub fn bounding_box(&self) -> Option<BoundingBox> {
        match self {
            ServiceArea::Circle { center, radius_km } => {
                let dlat = radius_km / KM_PER_DEGREE;
                let cos = center.lat.to_radians().cos().abs().max(0.01);
                let dlon = (radius_km / (KM_PER_DEGREE * cos)).min(180.0);
                Some(BoundingBox {
                    min_lat: (center.lat - dlat).max(-90.0),
                    max_lat: (center.lat + dlat).min(90.0),
                    min_lon: (center.lon - dlon).max(-180.0),
                    max_lon: (center.lon + dlon).min(180.0),
                })
            }
            ServiceArea::Polygon { points } => points
                .iter()
                .map(|p| BoundingBox::of_point(*p))
                .reduce(BoundingBox::union),
        }
    }

    /// A point inside or at the middle of the area (a circle's centre, a polygon's mean corner).
    pub fn centre(&self) -> Option<GeoPoint> {
        match self {
            ServiceArea::Circle { center, .. } => Some(*center),
            ServiceArea::Polygon { points } if !points.is_empty() => {
                let n = points.len() as f64;
                Some(GeoPoint::new(
                    points.iter().map(|p| p.lat).sum::<f64>() / n,
                    points.iter().map(|p| p.lon).sum::<f64>() / n,
                ))
            }
            ServiceArea::Polygon { .. } => None,
        }
    }
}

fn validate_area(area: &ServiceArea) -> Result<(), ValidationError> {
    let bad_point = |p: &GeoPoint| !p.is_finite() || p.validate().is_err();
    match area {
        ServiceArea::Circle { center, radius_km } => {
            if bad_point(center) {
                return Err(super::error(
                    "coordinates",
                    "latitude must be within ±90 and longitude within ±180",
                ));
            }
            if !radius_km.is_finite() || *radius_km <= 0.0 || *radius_km > 1000.0 {
                return Err(super::error(
                    "radius",
                    "the radius must be above 0 and at most 1000 km",
                ));
            }
        }
        ServiceArea::Polygon { points } => {
            if points.len() < 3 || points.len() > 500 {
                return Err(super::error("polygon", "a polygon needs 3 to 500 corners"));
            }
            if points.iter().any(bad_point) {
                return Err(super::error(
                    "coordinates",
                    "latitude must be within ±90 and longitude within ±180",
                ));
            }
        }
    }
    Ok(())
}

fn validate_areas(areas: &[ServiceArea]) -> Result<(), ValidationError> {
    areas.iter().try_for_each(validate_area)
}

fn validate_region_codes(codes: &[String]) -> Result<(), ValidationError> {
    codes.iter().try_for_each(|c| region_code(c))
}

/// A region code such as `RU-MOW`: 2–12 upper-case letters, digits or dashes.
pub fn region_code(value: &str) -> Result<(), ValidationError> {
    let ok = (2..=12).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(super::error(
            "region_code",
            "must be a region code such as RU-MOW (2 to 12 upper-case letters, digits or dashes)",
        ))
    }
}

/// Where a dealer works: whole regions by code, and/or service areas on the map.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Territory {
    #[serde(default)]
    #[validate(length(max = 50), custom(function = "validate_region_codes"))]
    pub region_codes: Vec<String>,
    #[serde(default)]
    #[validate(length(max = 20), custom(function = "validate_areas"))]
    pub areas: Vec<ServiceArea>,
}

impl Territory {
    /// Whether the territory covers a job at `p` in region `region` (either is enough).
    pub fn covers(&self, p: GeoPoint, region: Option<&str>) -> bool {
        let in_region = region.is_some_and(|r| self.region_codes.iter().any(|c| c == r));
        in_region || self.areas.iter().any(|a| a.contains(p))
    }

    /// A rectangle around every service area (region codes are matched separately).
    pub fn bounding_box(&self) -> Option<BoundingBox> {
        self.areas
            .iter()
            .filter_map(ServiceArea::bounding_box)
            .reduce(BoundingBox::union)
    }

    pub fn is_empty(&self) -> bool {
        self.region_codes.is_empty() && self.areas.is_empty()
    }
}

/// An address found by the geocoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GeocodeHit {
    /// The address as the geocoder writes it.
    pub label: String,
    pub location: GeoPoint,
    /// The region code (ISO 3166-2) when the geocoder knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOSCOW: GeoPoint = GeoPoint::new(55.7558, 37.6173);
    const TULA: GeoPoint = GeoPoint::new(54.1931, 37.6177);

    #[test]
    fn distances_follow_the_great_circle() {
        let d = MOSCOW.distance_km(TULA);
        assert!((170.0..180.0).contains(&d), "{d}");
        assert!(MOSCOW.distance_km(MOSCOW) < 1e-9);
    }

    #[test]
    fn circles_and_polygons_contain_what_they_should() {
        let circle = ServiceArea::Circle {
            center: MOSCOW,
            radius_km: 30.0,
        };
        assert!(circle.contains(GeoPoint::new(55.8, 37.7)));
        assert!(!circle.contains(TULA));
        let square = ServiceArea::Polygon {
            points: vec![
                GeoPoint::new(55.0, 37.0),
                GeoPoint::new(55.0, 38.0),
                GeoPoint::new(56.0, 38.0),
                GeoPoint::new(56.0, 37.0),
            ],
        };
        assert!(square.contains(MOSCOW));
        assert!(!square.contains(TULA));
        let bb = circle.bounding_box();
        assert!(bb.is_some_and(|b| b.contains(GeoPoint::new(55.9, 37.9))));
    }

    #[test]
    fn a_territory_covers_by_region_code_or_by_area() {
        let t = Territory {
            region_codes: vec!["RU-TUL".into()],
            areas: vec![ServiceArea::Circle {
                center: MOSCOW,
                radius_km: 10.0,
            }],
        };
        assert!(t.covers(TULA, Some("RU-TUL")));
        assert!(!t.covers(TULA, Some("RU-KLU")));
        assert!(!t.covers(TULA, None));
        assert!(t.covers(MOSCOW, None));
    }

    #[test]
    fn bad_areas_and_region_codes_are_refused() {
        let t = Territory {
            region_codes: vec!["moscow".into()],
            areas: vec![
                ServiceArea::Circle {
                    center: GeoPoint::new(95.0, 0.0),
                    radius_km: 5.0,
                },
                ServiceArea::Polygon {
                    points: vec![MOSCOW, TULA],
                },
            ],
        };
        let errs = t
            .validate()
            .map_err(|e| crate::validation::field_errors(&e))
            .err()
            .unwrap_or_default();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"region_codes"), "{fields:?}");
        assert!(fields.contains(&"areas"), "{fields:?}");
    }
}
