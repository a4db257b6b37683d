//! CRM pages: clients and their card, requests and their card, the import wizard.

pub mod clients;
pub mod import;
pub mod requests;
pub mod shared;
