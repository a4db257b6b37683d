//! HTTP routes, one module per area. Handlers extract, authorize through the policy (inside the
//! services), call the data layer and map the result; nothing else.

use actix_web::HttpResponse;
use actix_web::http::header;
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::extract::etag;

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod crm;
pub mod dealers;
pub mod health;
pub mod me;
pub mod notifications;
pub mod orgs;
pub mod reminders;
pub mod roles;
pub mod users;
pub mod warehouse;

/// Every `/api/v1` route.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::health)
        .service(health::ready)
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(me::get_me)
        .service(me::update_me)
        .service(me::change_password)
        .service(me::list_sessions)
        .service(me::revoke_all_sessions)
        .service(me::revoke_session)
        .service(users::list)
        .service(users::create)
        .service(users::get)
        .service(users::update)
        .service(users::reset_password)
        .service(roles::list)
        .service(roles::create)
        .service(roles::get)
        .service(roles::update)
        .service(orgs::list)
        .service(orgs::create)
        .service(orgs::get)
        .service(orgs::update)
        .service(api_keys::list)
        .service(api_keys::create)
        .service(api_keys::revoke)
        .service(audit::list)
        .service(reminders::list)
        .service(reminders::today)
        .service(reminders::create)
        .service(reminders::get)
        .service(reminders::update)
        .service(reminders::done)
        .service(reminders::remove)
        .service(notifications::list)
        .service(notifications::unread_count)
        .service(notifications::mark_all_read)
        .service(notifications::mark_read)
        .service(notifications::get_preferences)
        .service(notifications::put_preferences)
        .service(notifications::stream_ticket)
        .service(notifications::stream)
        .service(notifications::list_watches)
        .service(notifications::watch)
        .service(notifications::unwatch)
        .configure(warehouse_routes)
        .configure(dealers_routes)
        .configure(crm_routes);
}

/// The equipment warehouse's routes.
fn warehouse_routes(cfg: &mut ServiceConfig) {
    cfg.service(warehouse::list_models)
        .service(warehouse::create_model)
        .service(warehouse::get_model)
        .service(warehouse::list_warehouses)
        .service(warehouse::create_warehouse)
        .service(warehouse::get_warehouse)
        .service(warehouse::stock)
        .service(warehouse::units)
        .service(warehouse::timeline)
        .service(warehouse::list_ledger)
        .service(warehouse::reverse)
        .service(warehouse::check)
        .service(warehouse::receive)
        .service(warehouse::import)
        .service(warehouse::transfer)
        .service(warehouse::install)
        .service(warehouse::write_off)
        .service(warehouse::refurbish)
        .service(warehouse::assemble_kit)
        .service(warehouse::repair_preview)
        .service(warehouse::repair_intake)
        .service(warehouse::get_repair)
        .service(warehouse::close_repair)
        .service(warehouse::create_rtm_batch)
        .service(warehouse::get_rtm_batch)
        .service(warehouse::list_orders)
        .service(warehouse::create_order)
        .service(warehouse::get_order)
        .service(warehouse::approve_order)
        .service(warehouse::cancel_order)
        .service(warehouse::ship_order)
        .service(warehouse::receive_shipment)
        .service(warehouse::list_obligations)
        .service(warehouse::settle_obligation);
}

/// The dealer network's routes (`routes::dealers`).
fn dealers_routes(cfg: &mut ServiceConfig) {
    cfg.service(dealers::list_dealers)
        .service(dealers::create_dealer)
        .service(dealers::get_dealer)
        .service(dealers::update_dealer)
        .service(dealers::change_rating)
        .service(dealers::rating_history)
        .service(dealers::list_points)
        .service(dealers::create_point)
        .service(dealers::get_point)
        .service(dealers::update_point)
        .service(dealers::geocode)
        .service(dealers::map_config)
        .service(dealers::list_requests)
        .service(dealers::create_request)
        .service(dealers::request_metrics)
        .service(dealers::get_request)
        .service(dealers::request_assignments)
        .service(dealers::accept)
        .service(dealers::reject)
        .service(dealers::complete)
        .service(dealers::override_assignment);
}

/// The CRM's routes (fixed paths before `{id}` ones).
fn crm_routes(cfg: &mut ServiceConfig) {
    cfg.service(crm::list_clients)
        .service(crm::export_clients)
        .service(crm::import_clients)
        .service(crm::create_client)
        .service(crm::get_client)
        .service(crm::update_client)
        .service(crm::list_contacts)
        .service(crm::add_contact)
        .service(crm::update_contact)
        .service(crm::delete_contact)
        .service(crm::list_deals)
        .service(crm::export_deals)
        .service(crm::suggestions)
        .service(crm::create_deal)
        .service(crm::get_deal)
        .service(crm::update_deal)
        .service(crm::change_status)
        .service(crm::change_delivery)
        .service(crm::timeline)
        .service(crm::list_comments)
        .service(crm::add_comment)
        .service(crm::list_documents)
        .service(crm::upload_document)
        .service(crm::download_document)
        .service(crm::delete_document);
}

/// 200 with the record and its ETag.
pub fn with_etag<T: Serialize>(version: i32, body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// 201 with the record, its location and its ETag.
pub fn created<T: Serialize>(location: String, version: Option<i32>, body: &T) -> HttpResponse {
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, location));
    if let Some(v) = version {
        res.insert_header((header::ETAG, etag(v)));
    }
    res.json(body)
}

/// Parses paging and sort the same way on every list.
pub fn paging_and_sort<F: Copy>(
    limit: Option<u64>,
    offset: Option<u64>,
    sort: Option<&str>,
    allowed: &[(&str, F)],
) -> Result<
    (
        dealernet_domain::list::Paging,
        dealernet_domain::list::Sort<F>,
    ),
    crate::error::ApiError,
> {
    let mut errors = Vec::new();
    let paging = dealernet_domain::list::Paging::parse(limit, offset)
        .map_err(|e| errors.push(e))
        .ok();
    let sort = dealernet_domain::list::parse_sort(sort, allowed)
        .map_err(|e| errors.push(e))
        .ok();
    match (paging, sort) {
        (Some(p), Some(s)) => Ok((p, s)),
        _ => Err(crate::error::ApiError::BadRequest {
            code: dealernet_domain::ErrorCode::InvalidQuery,
            detail: "invalid query parameters".into(),
            errors,
        }),
    }
}
