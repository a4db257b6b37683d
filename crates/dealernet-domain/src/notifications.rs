//! Notifications: what happened (an event kind), where a user wants to hear about it (channels,
//! per user and event kind), the in-app notifications themselves, watches on records and the
//! ticket that opens the live stream.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::Id;
use crate::access::Resource;

/// Everything a user can be notified about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A new request (deal) was registered.
    NewRequest,
    /// A request's status changed.
    StatusChanged,
    /// A request's delivery status changed.
    DeliveryChanged,
    /// Someone commented on a client or a request.
    CommentAdded,
    /// A reminder fell due.
    Reminder,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::NewRequest,
        EventKind::StatusChanged,
        EventKind::DeliveryChanged,
        EventKind::CommentAdded,
        EventKind::Reminder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::NewRequest => "new_request",
            EventKind::StatusChanged => "status_changed",
            EventKind::DeliveryChanged => "delivery_changed",
            EventKind::CommentAdded => "comment_added",
            EventKind::Reminder => "reminder",
        }
    }

    /// What a user gets when they never said otherwise: everything in the app and live; e-mail
    /// only for what usually needs action (reminders and new requests).
    pub fn default_preference(self) -> Preference {
        Preference {
            kind: self,
            in_app: true,
            email: matches!(self, EventKind::Reminder | EventKind::NewRequest),
            push: true,
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown event kind `{s}`"))
    }
}

/// Where a notification can reach a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The notifications panel in the app.
    InApp,
    /// An e-mail.
    Email,
    /// A live pop-up in every open tab.
    Push,
}

/// One user's choice for one event kind: each channel on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Preference {
    pub kind: EventKind,
    pub in_app: bool,
    pub email: bool,
    pub push: bool,
}

impl Preference {
    pub fn allows(&self, channel: Channel) -> bool {
        match channel {
            Channel::InApp => self.in_app,
            Channel::Email => self.email,
            Channel::Push => self.push,
        }
    }
}

/// A user's preferences for every event kind (defaults filled in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// One entry per event kind; kinds left out keep their current setting.
    #[validate(length(max = 5), custom(function = "distinct_kinds"))]
    pub items: Vec<Preference>,
}

fn distinct_kinds(items: &[Preference]) -> Result<(), validator::ValidationError> {
    let mut kinds: Vec<EventKind> = items.iter().map(|p| p.kind).collect();
    kinds.sort_unstable();
    let before = kinds.len();
    kinds.dedup();
    if kinds.len() == before {
        Ok(())
    } else {
        let mut e = validator::ValidationError::new("duplicate");
        e.message = Some("each event kind may appear only once".into());
        Err(e)
    }
}

impl Preferences {
    /// Every kind with its default, overridden by `stored`.
    pub fn merged(stored: &[Preference]) -> Self {
        let items = EventKind::ALL
            .iter()
            .map(|k| {
                stored
                    .iter()
                    .find(|p| p.kind == *k)
                    .copied()
                    .unwrap_or_else(|| k.default_preference())
            })
            .collect();
        Preferences { items }
    }
}

/// An in-app notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: Id,
    pub kind: EventKind,
    pub title: String,
    pub body: String,
    /// Where the SPA opens the record, e.g. `/reminders`.
    pub link: Option<String>,
    /// The resource and record the notification is about.
    pub resource: Option<Resource>,
    pub record_id: Option<Id>,
    pub created_at: DateTime<Utc>,
    /// When the user read it; absent while unread.
    pub read_at: Option<DateTime<Utc>>,
}

/// How many notifications the caller has not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreadCount {
    pub unread: u64,
}

/// How many notifications a bulk change touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Updated {
    pub updated: u64,
}

/// A single-use ticket that opens the live stream (`EventSource` cannot send headers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamTicket {
    /// Pass as `?ticket=` to `GET /api/v1/notifications/stream`; valid once, for a minute.
    pub ticket: String,
    pub expires_at: DateTime<Utc>,
}

/// A record the caller follows: its events reach the caller as they reach its responsible user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Watch {
    pub resource: Resource,
    pub record_id: Id,
    pub created_at: DateTime<Utc>,
}

/// Start watching a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWatch {
    pub resource: Resource,
    #[validate(range(min = 1))]
    pub record_id: Id,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_and_has_a_default() {
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>(), Ok(k));
            assert!(k.default_preference().in_app);
        }
        assert!(EventKind::Reminder.default_preference().email);
        assert!(!EventKind::CommentAdded.default_preference().email);
    }

    #[test]
    fn stored_preferences_override_defaults_kind_by_kind() {
        let stored = [Preference {
            kind: EventKind::Reminder,
            in_app: false,
            email: false,
            push: true,
        }];
        let merged = Preferences::merged(&stored);
        assert_eq!(merged.items.len(), EventKind::ALL.len());
        assert_eq!(merged.items[4], stored[0]);
        assert_eq!(merged.items[0], EventKind::NewRequest.default_preference());
    }

    #[test]
    fn a_kind_may_appear_only_once() {
        let p = EventKind::Reminder.default_preference();
        assert!(Preferences { items: vec![p, p] }.validate().is_err());
        assert!(Preferences { items: vec![p] }.validate().is_ok());
    }
}
