//! Reminders: personal, or on a record (a user, a client, a request), with a due time and an
//! optional repeat. At the due time the scheduler delivers a `reminder` notification to the owner.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, Months, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::Id;
use crate::validation::{no_control_chars, not_blank};

/// How a reminder repeats after it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Repeat {
    #[default]
    None,
    Daily,
    Weekly,
    Monthly,
}

impl Repeat {
    pub const ALL: [Repeat; 4] = [Repeat::None, Repeat::Daily, Repeat::Weekly, Repeat::Monthly];

    pub fn as_str(self) -> &'static str {
        match self {
            Repeat::None => "none",
            Repeat::Daily => "daily",
            Repeat::Weekly => "weekly",
            Repeat::Monthly => "monthly",
        }
    }

    fn step(self, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Repeat::None => None,
            Repeat::Daily => from.checked_add_days(Days::new(1)),
            Repeat::Weekly => from.checked_add_days(Days::new(7)),
            Repeat::Monthly => from.checked_add_months(Months::new(1)),
        }
    }

    /// The first occurrence after `now` of a series that was due at `due`, or `None` when the
    /// reminder does not repeat. Occurrences missed while the server was down are skipped: the
    /// owner is reminded once, then the series continues in the future.
    pub fn next_after(self, due: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut next = self.step(due)?;
        // Bounded: ten years of daily steps at most, then jump straight past `now`.
        for _ in 0..3660 {
            if next > now {
                return Some(next);
            }
            next = self.step(next)?;
        }
        self.step(now)
    }
}

impl fmt::Display for Repeat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Repeat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Repeat::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown repeat `{s}`"))
    }
}

/// What a reminder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// A free-standing personal reminder.
    #[default]
    Personal,
    /// A user record (e.g. "call this dealer's administrator").
    User,
    /// A client organisation.
    Client,
    /// A request (deal).
    Deal,
}

impl TargetKind {
    pub const ALL: [TargetKind; 4] = [
        TargetKind::Personal,
        TargetKind::User,
        TargetKind::Client,
        TargetKind::Deal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Personal => "personal",
            TargetKind::User => "user",
            TargetKind::Client => "client",
            TargetKind::Deal => "deal",
        }
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TargetKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TargetKind::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown target kind `{s}`"))
    }
}

/// Where a reminder is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReminderState {
    /// Waiting for its due time.
    Scheduled,
    /// Delivered (a one-off reminder after its due time).
    Fired,
    /// Marked done by its owner; never fires again.
    Done,
}

impl ReminderState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderState::Scheduled => "scheduled",
            ReminderState::Fired => "fired",
            ReminderState::Done => "done",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "scheduled" => Some(ReminderState::Scheduled),
            "fired" => Some(ReminderState::Fired),
            "done" => Some(ReminderState::Done),
            _ => None,
        }
    }
}

/// A reminder as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reminder {
    pub id: Id,
    pub owner_id: Id,
    pub title: String,
    pub note: String,
    /// The next (or last, once fired) due time.
    pub due_at: DateTime<Utc>,
    pub repeat: Repeat,
    pub target_kind: TargetKind,
    pub target_id: Option<Id>,
    /// What the target is called, e.g. the user's or client's name.
    pub target_label: Option<String>,
    /// Where the SPA opens the target.
    pub link: Option<String>,
    pub state: ReminderState,
    /// When it was last delivered.
    pub fired_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Create a reminder for yourself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateReminder {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    pub title: String,
    #[validate(length(max = 2000), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub note: String,
    /// When to remind (UTC, RFC 3339). A time in the past fires at once.
    pub due_at: DateTime<Utc>,
    #[serde(default)]
    pub repeat: Repeat,
    #[serde(default)]
    pub target_kind: TargetKind,
    /// The record the reminder is about; required unless `target_kind` is `personal`.
    #[serde(default)]
    pub target_id: Option<Id>,
}

/// Change a reminder. Absent fields are unchanged. A new due time or repeat schedules it again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateReminder {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "not_blank"),
        custom(function = "no_control_chars")
    )]
    #[serde(default)]
    pub title: Option<String>,
    #[validate(length(max = 2000), custom(function = "no_control_chars"))]
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub repeat: Option<Repeat>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn a_one_off_reminder_has_no_next_occurrence() {
        assert_eq!(
            Repeat::None.next_after(at(2026, 1, 1, 9), at(2026, 1, 1, 9)),
            None
        );
    }

    #[test]
    fn repeats_step_by_day_week_and_calendar_month() {
        let due = at(2026, 1, 31, 9);
        assert_eq!(Repeat::Daily.next_after(due, due), Some(at(2026, 2, 1, 9)));
        assert_eq!(Repeat::Weekly.next_after(due, due), Some(at(2026, 2, 7, 9)));
        // 31 January + one month is the last day of February.
        assert_eq!(
            Repeat::Monthly.next_after(due, due),
            Some(at(2026, 2, 28, 9))
        );
    }

    #[test]
    fn occurrences_missed_while_down_are_skipped() {
        let due = at(2026, 1, 1, 9);
        let now = at(2026, 1, 5, 12);
        assert_eq!(Repeat::Daily.next_after(due, now), Some(at(2026, 1, 6, 9)));
    }

    #[test]
    fn kinds_round_trip() {
        for r in Repeat::ALL {
            assert_eq!(r.as_str().parse::<Repeat>(), Ok(r));
        }
        for t in TargetKind::ALL {
            assert_eq!(t.as_str().parse::<TargetKind>(), Ok(t));
        }
    }
}
