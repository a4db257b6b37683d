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

/// The grid the assignment's candidate look-up goes through: one-degree cells, numbered
/// `(floor(lat) + 90) * 360 + (floor(lon) + 180)`. A service area is filed under every cell its
/// bounding box touches, so "which areas might cover this point" is one indexed equality on the
/// point's cell instead of a range scan over all the boxes. Areas wider than [`MAX_AREA_CELLS`]
/// cells are filed once under [`WIDE_CELL`], which every look-up also reads.
///
/// Stored format: changing the numbering needs a migration that refiles every dealer.
pub const WIDE_CELL: i32 = -1;

/// The most cells one area is filed under before it counts as wide.
pub const MAX_AREA_CELLS: usize = 64;

fn lat_index(lat: f64) -> i32 {
    // `as` saturates; NaN becomes 0 and is clamped like anything else.
    (lat.floor() as i32).clamp(-90, 89) + 90
}

fn lon_index(lon: f64) -> i32 {
    (lon.floor() as i32).clamp(-180, 179) + 180
}

/// The grid cell a point lies in.
pub fn cell_of(p: GeoPoint) -> i32 {
    lat_index(p.lat) * 360 + lon_index(p.lon)
}

impl BoundingBox {
    /// The cells this box touches, or `[WIDE_CELL]` when they are more than [`MAX_AREA_CELLS`].
    pub fn cells(&self) -> Vec<i32> {
        let (la0, la1) = (lat_index(self.min_lat), lat_index(self.max_lat));
        let (lo0, lo1) = (lon_index(self.min_lon), lon_index(self.max_lon));
        if la1 < la0 || lo1 < lo0 {
            return vec![WIDE_CELL];
        }
        let n = (la1 - la0 + 1) as usize * (lo1 - lo0 + 1) as usize;
        if n > MAX_AREA_CELLS {
            return vec![WIDE_CELL];
        }
        let mut out = Vec::with_capacity(n);
        for la in la0..=la1 {
            for lo in lo0..=lo1 {
                out.push(la * 360 + lo);
            }
        }
        out
    }
}

impl Territory {
    /// Every (cell, area bounding box) this territory's areas are filed under, without repeats.
    pub fn grid_entries(&self) -> Vec<(i32, BoundingBox)> {
        let mut out: Vec<(i32, BoundingBox)> = Vec::new();
        for bb in self.areas.iter().filter_map(ServiceArea::bounding_box) {
            for c in bb.cells() {
                if !out.iter().any(|(oc, ob)| *oc == c && *ob == bb) {
                    out.push((c, bb));
                }
            }
        }
        out
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

    #[test]
    fn a_point_lies_in_a_cell_its_area_is_filed_under() {
        let centre = GeoPoint::new(55.75, 37.62);
        let t = Territory {
            region_codes: vec![],
            areas: vec![ServiceArea::Circle {
                center: centre,
                radius_km: 80.0,
            }],
        };
        let entries = t.grid_entries();
        assert!(entries.len() > 1 && entries.len() <= MAX_AREA_CELLS);
        for p in [
            centre,
            GeoPoint::new(55.75 + 0.7, 37.62),
            GeoPoint::new(55.75, 37.62 - 1.2),
        ] {
            let c = cell_of(p);
            assert!(
                entries.iter().any(|(ec, bb)| *ec == c && bb.contains(p)),
                "{p:?}"
            );
        }
        // A point far away is in none of them.
        let far = cell_of(GeoPoint::new(45.0, 80.0));
        assert!(entries.iter().all(|(c, _)| *c != far));
    }

    #[test]
    fn huge_areas_are_filed_as_wide_and_cells_stay_in_range() {
        let t = Territory {
            region_codes: vec![],
            areas: vec![ServiceArea::Circle {
                center: GeoPoint::new(0.0, 0.0),
                radius_km: 3000.0,
            }],
        };
        assert_eq!(
            t.grid_entries().iter().map(|(c, _)| *c).collect::<Vec<_>>(),
            vec![WIDE_CELL]
        );
        assert_eq!(cell_of(GeoPoint::new(-90.0, -180.0)), 0);
        assert_eq!(cell_of(GeoPoint::new(90.0, 180.0)), 180 * 360 - 1);
    }
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
