//! The organisation tree: operator → regions → distributors → dealers → sub-dealers → points of
//! sale, any depth. Every business record belongs to a node.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::Id;
use crate::validation::{no_control_chars, not_blank};

/// What a node of the organisation tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Operator,
    Region,
    Distributor,
    Dealer,
    SubDealer,
    PointOfSale,
}

impl OrgKind {
    pub const ALL: [OrgKind; 6] = [
        OrgKind::Operator,
        OrgKind::Region,
        OrgKind::Distributor,
        OrgKind::Dealer,
        OrgKind::SubDealer,
        OrgKind::PointOfSale,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Operator => "operator",
            OrgKind::Region => "region",
            OrgKind::Distributor => "distributor",
            OrgKind::Dealer => "dealer",
            OrgKind::SubDealer => "sub_dealer",
            OrgKind::PointOfSale => "point_of_sale",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        OrgKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether a node of this kind may hang below a node of kind `parent`.
    ///
    /// The tree has any depth, but it keeps its shape: an operator is only ever a root, a point of
    /// sale is always a leaf, and nothing hangs below a node of a "smaller" kind (a dealer cannot
    /// have a region below it). Sub-dealers nest under dealers and under each other.
    pub fn may_be_child_of(self, parent: OrgKind) -> bool {
        use OrgKind::*;
        match self {
            Operator => false,
            Region => matches!(parent, Operator | Region),
            Distributor => matches!(parent, Operator | Region | Distributor),
            Dealer => matches!(parent, Operator | Region | Distributor | Dealer),
            SubDealer => matches!(parent, Dealer | SubDealer),
            PointOfSale => matches!(parent, Operator | Region | Distributor | Dealer | SubDealer),
        }
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A node's materialised path: the ids from the root down to the node itself, as `/1/5/23/`.
///
/// "Everything in my subtree" is then a prefix match, which both databases answer from an index
/// as the range `[path, path_upper_bound)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrgPath(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an organisation path like /1/5/23/")]
pub struct BadOrgPath(String);

impl OrgPath {
    pub fn root(id: Id) -> Self {
        OrgPath(format!("/{id}/"))
    }

    pub fn parse(s: &str) -> Result<Self, BadOrgPath> {
        let inner = s
            .strip_prefix('/')
            .and_then(|r| r.strip_suffix('/'))
            .ok_or_else(|| BadOrgPath(s.to_string()))?;
        if inner.is_empty()
            || !inner
                .split('/')
                .all(|seg| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(BadOrgPath(s.to_string()));
        }
        Ok(OrgPath(s.to_string()))
    }

    /// The path of a child with id `id` below this node.
    pub fn child(&self, id: Id) -> Self {
        OrgPath(format!("{}{id}/", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this node is `ancestor` itself or lies below it.
    pub fn is_within(&self, ancestor: &OrgPath) -> bool {
        self.0.starts_with(&ancestor.0)
    }

    /// The exclusive upper bound of this subtree in byte order: every descendant's path `p`
    /// satisfies `self <= p < upper_bound` (paths end with `/`, and `0` follows `/`).
    pub fn upper_bound(&self) -> String {
        let mut s = self.0.clone();
        s.pop();
        s.push('0');
        s
    }

    /// Ids from the root down to this node.
    pub fn ids(&self) -> Vec<Id> {
        self.0
            .split('/')
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    pub fn depth(&self) -> usize {
        self.ids().len().saturating_sub(1)
    }

    /// Rewrites a descendant's path after its ancestor moved from `old` to `new`.
    pub fn rebase(&self, old: &OrgPath, new: &OrgPath) -> Option<OrgPath> {
        self.0
            .strip_prefix(&old.0)
            .map(|rest| OrgPath(format!("{}{rest}", new.0)))
    }
}

impl fmt::Display for OrgPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A node of the organisation tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgNode {
    pub id: Id,
    pub kind: OrgKind,
    pub name: String,
    /// A short external code (e.g. the dealer's contract code), unique when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<Id>,
    /// Materialised path of ids from the root, e.g. `/1/5/23/`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub path: OrgPath,
    pub depth: i32,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many direct children the node has.
    pub children: i64,
}

/// Create a node below `parent_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateOrgNode {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub name: String,
    pub kind: OrgKind,
    /// Required for every kind except the operator root.
    pub parent_id: Option<Id>,
    #[validate(length(min = 1, max = 50), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub code: Option<String>,
}

/// Rename, re-code, move (a new `parent_id`) or (de)activate a node. Absent fields are unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgNode {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    #[serde(default)]
    pub name: Option<String>,
    #[validate(length(min = 1, max = 50), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub parent_id: Option<Id>,
    #[serde(default)]
    pub active: Option<bool>,
}

impl UpdateOrgNode {
    /// The JSON names of the fields this update writes (for field policies).
    pub fn written_fields(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        if self.name.is_some() {
            f.push("name");
        }
        if self.code.is_some() {
            f.push("code");
        }
        if self.parent_id.is_some() {
            f.push("parent_id");
        }
        if self.active.is_some() {
            f.push("active");
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_reject_garbage() {
        assert!(OrgPath::parse("/1/5/23/").is_ok());
        for bad in ["", "/", "1/2/", "/1/2", "/1//2/", "/a/", "/1/-2/"] {
            assert!(OrgPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_subtree_is_a_prefix_and_its_bound_excludes_siblings_with_longer_ids() {
        let p = OrgPath::parse("/1/5/").unwrap_or_else(|_| OrgPath::root(0));
        let child = p.child(23);
        assert_eq!(child.as_str(), "/1/5/23/");
        assert!(child.is_within(&p));
        assert!(p.is_within(&p));
        let sibling = OrgPath::parse("/1/50/").unwrap_or_else(|_| OrgPath::root(0));
        assert!(!sibling.is_within(&p));
        let ub = p.upper_bound();
        assert!(child.as_str() >= p.as_str() && child.as_str() < ub.as_str());
        assert!(sibling.as_str() >= ub.as_str());
        assert_eq!(child.ids(), vec![1, 5, 23]);
        assert_eq!(child.depth(), 2);
    }

    #[test]
    fn rebasing_moves_a_descendant_with_its_ancestor() {
        let old = OrgPath::parse("/1/5/").unwrap_or_else(|_| OrgPath::root(0));
        let new = OrgPath::parse("/1/7/5/").unwrap_or_else(|_| OrgPath::root(0));
        let d = OrgPath::parse("/1/5/23/").unwrap_or_else(|_| OrgPath::root(0));
        assert_eq!(
            d.rebase(&old, &new).map(|p| p.0),
            Some("/1/7/5/23/".to_string())
        );
        assert_eq!(new.rebase(&old, &new), None);
    }

    #[test]
    fn the_tree_keeps_its_shape() {
        assert!(OrgKind::Dealer.may_be_child_of(OrgKind::Distributor));
        assert!(OrgKind::SubDealer.may_be_child_of(OrgKind::SubDealer));
        assert!(!OrgKind::Region.may_be_child_of(OrgKind::Dealer));
        assert!(!OrgKind::Operator.may_be_child_of(OrgKind::Operator));
        assert!(!OrgKind::Dealer.may_be_child_of(OrgKind::PointOfSale));
    }
}
