//! The conventions every list endpoint follows: `limit` (1–100, default 20), `offset`, `sort`
//! (`field` ascending or `-field` descending, comma-separated), `q` (free-text search) and the
//! resource's own filters; the answer is `{"items": [...], "total": N, "total_capped": false}`.
//! A free-text search counts its matches only so far (1,000 past the offset); when it stopped
//! there, `total_capped` is true and `total` means "at least".

use serde::{Deserialize, Serialize};

use crate::problem::FieldError;

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

/// One page of a list, with the total number of matching records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many records match (at least this many when `total_capped`).
    pub total: u64,
    /// The count of a free-text search stopped at its cap: more than `total` may match.
    #[serde(default)]
    pub total_capped: bool,
}

impl<T> Page<T> {
    /// A page whose total is exact.
    pub fn new(items: Vec<T>, total: u64) -> Self {
        Page {
            items,
            total,
            total_capped: false,
        }
    }

    /// A list with nothing in it.
    pub fn empty() -> Self {
        Page::new(Vec::new(), 0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// A parsed `sort` parameter: the fields, in order, each with its direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort<F> {
    pub keys: Vec<(F, Direction)>,
}

/// Paging as requested, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub limit: u64,
    pub offset: u64,
}

impl Paging {
    pub fn parse(limit: Option<u64>, offset: Option<u64>) -> Result<Self, FieldError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(FieldError {
                field: "limit".into(),
                code: "range".into(),
                message: format!("must be between 1 and {MAX_LIMIT}"),
            });
        }
        let offset = offset.unwrap_or(0);
        if offset > i64::MAX as u64 {
            return Err(FieldError {
                field: "offset".into(),
                code: "range".into(),
                message: "is too large".into(),
            });
        }
        Ok(Paging { limit, offset })
    }
}

/// Parses `sort` against the fields a resource allows, e.g. `-created_at,name`.
pub fn parse_sort<F: Copy>(
    sort: Option<&str>,
    allowed: &[(&str, F)],
) -> Result<Sort<F>, FieldError> {
    let mut keys = Vec::new();
    let Some(sort) = sort.filter(|s| !s.trim().is_empty()) else {
        return Ok(Sort { keys });
    };
    for part in sort.split(',') {
        let part = part.trim();
        let (name, dir) = match part.strip_prefix('-') {
            Some(rest) => (rest, Direction::Desc),
            None => (part.strip_prefix('+').unwrap_or(part), Direction::Asc),
        };
        let Some((_, field)) = allowed.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
            return Err(FieldError {
                field: "sort".into(),
                code: "unknown_field".into(),
                message: format!("cannot sort by `{name}`; use one of {}", names.join(", ")),
            });
        };
        keys.push((*field, dir));
    }
    if keys.len() > 4 {
        return Err(FieldError {
            field: "sort".into(),
            code: "too_many".into(),
            message: "sort by at most 4 fields".into(),
        });
    }
    Ok(Sort { keys })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_bounded_and_defaults_to_twenty() {
        assert_eq!(
            Paging::parse(None, None),
            Ok(Paging {
                limit: 20,
                offset: 0
            })
        );
        assert!(Paging::parse(Some(0), None).is_err());
        assert!(Paging::parse(Some(101), None).is_err());
        assert_eq!(Paging::parse(Some(100), Some(5)).map(|p| p.offset), Ok(5));
    }

    #[test]
    fn sort_accepts_known_fields_with_directions() {
        let allowed = [("name", 1), ("created_at", 2)];
        let s = parse_sort(Some("-created_at,name"), &allowed);
        assert_eq!(
            s.map(|s| s.keys),
            Ok(vec![(2, Direction::Desc), (1, Direction::Asc)])
        );
        assert!(parse_sort(Some("password_hash"), &allowed).is_err());
        assert_eq!(parse_sort(None, &allowed).map(|s| s.keys.len()), Ok(0));
    }
}
