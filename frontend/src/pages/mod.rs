//! The pages, one module per area.

pub mod api_keys;
pub mod audit;
pub mod cabinet;
pub mod crm;
pub mod dealer_requests;
pub mod dealers;
pub mod errors;
pub mod home;
pub mod login;
pub mod notifications;
pub mod orgs;
pub mod profile;
pub mod reminders;
pub mod roles;
pub mod shell;
pub mod users;
pub mod warehouse;

/// Formats a timestamp for people (local time, minutes).
pub fn when(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}
