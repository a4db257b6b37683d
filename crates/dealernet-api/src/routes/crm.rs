//! CRM: clients and contacts, requests (deals) with their timeline, comments, documents,
//! exports and imports.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDate;
use dealernet_data::crm::clients::{self, ClientFilter};
use dealernet_data::crm::deals::{self, DealFilter};
use dealernet_data::crm::documents::{self, DocumentStore, Upload};
use dealernet_data::crm::{comments, export, import};
use dealernet_domain::ErrorCode;
use dealernet_domain::access::Resource;
use dealernet_domain::crm::{
    ChangeDelivery, ChangeStatus, Client, Comment, Contact, ContactInput, CreateClient, CreateDeal,
    Deal, DealEvent, DealStatus, DeliveryStage, Document, DocumentCategory, ImportReport,
    ItemLevel, NewComment, UpdateClient, UpdateDeal,
};
use dealernet_domain::list::{Page, Paging};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{created, paging_and_sort, with_etag};
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IfMatch, ValidJson, ValidQuery};
use crate::state::AppState;

/// Most rows one export answers.
const EXPORT_MAX_ROWS: u64 = 50_000;

fn paging(limit: Option<u64>, offset: Option<u64>) -> Result<Paging, ApiError> {
    Paging::parse(limit, offset).map_err(|e| ApiError::BadRequest {
        code: ErrorCode::InvalidQuery,
        detail: "invalid query parameters".into(),
        errors: vec![e],
    })
}

fn store(state: &AppState) -> Result<DocumentStore, ApiError> {
    Ok(DocumentStore::local(
        &state.settings.effective_documents_dir(),
        state.settings.document_max_bytes,
    )?)
}

/// Reads a raw request body up to `max` bytes (413 beyond).
async fn read_body(mut payload: web::Payload, max: usize) -> Result<web::Bytes, ApiError> {
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::BadRequest {
            code: ErrorCode::MalformedBody,
            detail: "the body could not be read".into(),
            errors: vec![],
        })?;
        if buf.len() + chunk.len() > max {
            return Err(ApiError::PayloadTooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

fn content_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

fn export_response(
    table: &export::Table,
    format: ExportFormat,
    name: &str,
) -> ApiResult<HttpResponse> {
    let (bytes, ct, ext) = match format {
        ExportFormat::Csv => (export::to_csv(table)?, "text/csv; charset=utf-8", "csv"),
        ExportFormat::Xlsx => (
            export::to_xlsx(table, name)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    Ok(HttpResponse::Ok()
        .content_type(ct)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{ext}\""),
        ))
        .body(bytes))
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientQuery {
    /// 1–100, default 20.
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// `name`, `legal_id`, `created_at`, `updated_at`; `-` for descending.
    pub sort: Option<String>,
    /// Searches every field of the client and its contacts.
    pub q: Option<String>,
    /// Per-column "contains" filters.
    pub name: Option<String>,
    pub legal_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub manager_id: Option<i64>,
    /// Clients of this node and every node below it.
    pub org_id: Option<i64>,
    /// For exports: `csv` (default) or `xlsx`.
    pub format: Option<ExportFormat>,
}

impl ClientQuery {
    fn filter(&self) -> ClientFilter {
        ClientFilter {
            q: self.q.clone(),
            name: self.name.clone(),
            legal_id: self.legal_id.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            manager_id: self.manager_id,
            org_id: self.org_id,
        }
    }
}

/// List the clients the caller may see: one search box over every field, per-column filters.
#[utoipa::path(tag = "crm", params(ClientQuery), responses((status = 200, body = Page<Client>)))]
#[get("/clients")]
pub async fn list_clients(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<ClientQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let (paging, sort) =
        paging_and_sort(q.limit, q.offset, q.sort.as_deref(), clients::SORT_FIELDS)?;
    Ok(HttpResponse::Ok()
        .json(clients::list(&state.db, &auth.actor, &q.filter(), &sort, paging).await?))
}

/// Export the clients the caller may export (same filters as the list) as CSV or XLSX.
/// Fields hidden from the caller are not in the file.
#[utoipa::path(tag = "crm", params(ClientQuery), responses(
    (status = 200, description = "The file", content_type = "text/csv"),
))]
#[get("/clients/export")]
pub async fn export_clients(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<ClientQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let (_, sort) = paging_and_sort(None, None, q.sort.as_deref(), clients::SORT_FIELDS)?;
    let items =
        clients::export(&state.db, &auth.actor, &q.filter(), &sort, EXPORT_MAX_ROWS).await?;
    let table = export::clients(&auth.actor, &items);
    export_response(&table, q.format.unwrap_or(ExportFormat::Csv), "clients")
}

/// Create a client. The same legal id or e-mail as an existing client is a 409 naming it.
#[utoipa::path(tag = "crm", request_body = CreateClient, responses(
    (status = 201, body = Client),
    (status = 409, description = "Duplicate legal id or e-mail; `existing_id` names the client", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[post("/clients")]
pub async fn create_client(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreateClient>,
) -> ApiResult<HttpResponse> {
    let c = clients::create(&state.db, auth.ctx(), body.0).await?;
    Ok(created(
        format!("/api/v1/clients/{}", c.id),
        Some(c.version),
        &c,
    ))
}

/// One client. The ETag is its version, for `If-Match` on update.
#[utoipa::path(tag = "crm", responses((status = 200, body = Client)))]
#[get("/clients/{id}")]
pub async fn get_client(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let c = clients::get(&state.db, &auth.actor, id.into_inner()).await?;
    Ok(with_etag(c.version, &c))
}

/// Change a client.
#[utoipa::path(tag = "crm", request_body = UpdateClient, params(("If-Match" = Option<String>, Header, description = "ETag of the version being changed")), responses(
    (status = 200, body = Client),
    (status = 409, description = "Duplicate legal id or e-mail", body = dealernet_domain::Problem, content_type = "application/problem+json"),
    (status = 412, description = "Changed since read", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[patch("/clients/{id}")]
pub async fn update_client(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ValidJson<UpdateClient>,
) -> ApiResult<HttpResponse> {
    let c = clients::update(&state.db, auth.ctx(), id.into_inner(), body.0, if_match.0).await?;
    Ok(with_etag(c.version, &c))
}

/// A client's contact people.
#[utoipa::path(tag = "crm", responses((status = 200, body = Vec<Contact>)))]
#[get("/clients/{id}/contacts")]
pub async fn list_contacts(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(clients::contacts(&state.db, &auth.actor, id.into_inner()).await?))
}

/// Add a contact person to a client.
#[utoipa::path(tag = "crm", request_body = ContactInput, responses((status = 201, body = Contact)))]
#[post("/clients/{id}/contacts")]
pub async fn add_contact(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ValidJson<ContactInput>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let c = clients::add_contact(&state.db, auth.ctx(), id, body.0).await?;
    Ok(created(
        format!("/api/v1/clients/{id}/contacts/{}", c.id),
        Some(c.version),
        &c,
    ))
}

/// Replace a contact's details.
#[utoipa::path(tag = "crm", request_body = ContactInput, responses((status = 200, body = Contact)))]
#[patch("/clients/{id}/contacts/{contact_id}")]
pub async fn update_contact(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(i64, i64)>,
    body: ValidJson<ContactInput>,
) -> ApiResult<HttpResponse> {
    let (id, contact_id) = path.into_inner();
    let c = clients::update_contact(&state.db, auth.ctx(), id, contact_id, body.0).await?;
    Ok(with_etag(c.version, &c))
}

/// Remove a contact.
#[utoipa::path(tag = "crm", responses((status = 204, description = "Deleted")))]
#[delete("/clients/{id}/contacts/{contact_id}")]
pub async fn delete_contact(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, contact_id) = path.into_inner();
    clients::delete_contact(&state.db, auth.ctx(), id, contact_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check only: report every row's error and write nothing. Default: true.
    pub dry_run: Option<bool>,
}

/// Import clients and contacts from CSV (`text/csv`) or XLSX: the raw file is the body. The first
/// row names the columns (`name` required; `legal_id`, `registration_no`, `legal_address`,
/// `postal_address`, `phone`, `email`, `website`, `notes`, `contact_name`, `contact_position`,
/// `contact_phone`, `contact_email`). Rows are matched by legal id, else e-mail, and upserted;
/// with any error (or `dry_run`) nothing is written.
#[utoipa::path(tag = "crm", params(ImportQuery), request_body(content = Vec<u8>, content_type = "text/csv"), responses(
    (status = 200, body = ImportReport),
    (status = 413, description = "File too large", body = dealernet_domain::Problem, content_type = "application/problem+json"),
    (status = 415, description = "Neither CSV nor XLSX", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[post("/clients/import")]
pub async fn import_clients(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    q: ValidQuery<ImportQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let format = match content_type(&req).as_str() {
        "text/csv" | "text/plain" | "application/csv" => import::Format::Csv,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => import::Format::Xlsx,
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send the file as text/csv or as an XLSX workbook, not `{other}`"
            )));
        }
    };
    let bytes = read_body(payload, state.settings.import_max_bytes).await?;
    let report = import::run(
        &state.db,
        auth.ctx(),
        format,
        &bytes,
        q.0.dry_run.unwrap_or(true),
    )
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

// ---------------------------------------------------------------------------------------------
// Requests (deals)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DealQuery {
    /// 1–100, default 20.
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// `date`, `number`, `status`, `client_name`, `contract_price`, `created_at`, `updated_at`;
    /// `-` for descending. Default: newest date first.
    pub sort: Option<String>,
    /// Searches number, client, customer, contract and invoice numbers and line items.
    pub q: Option<String>,
    pub client_id: Option<i64>,
    /// One status, or several separated by commas.
    pub status: Option<String>,
    pub delivery_stage: Option<DeliveryStage>,
    pub manager_id: Option<i64>,
    /// Requests of this node and every node below it (e.g. a region).
    pub org_id: Option<i64>,
    pub number: Option<String>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
    pub equipment_type: Option<String>,
    /// For exports: `csv` (default) or `xlsx`.
    pub format: Option<ExportFormat>,
}

impl DealQuery {
    fn filter(&self) -> Result<DealFilter, ApiError> {
        let mut status = Vec::new();
        for s in self
            .status
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            status.push(s.parse::<DealStatus>().map_err(|e| ApiError::BadRequest {
                code: ErrorCode::InvalidQuery,
                detail: "invalid query parameters".into(),
                errors: vec![dealernet_domain::FieldError {
                    field: "status".into(),
                    code: "type".into(),
                    message: e,
                }],
            })?);
        }
        Ok(DealFilter {
            q: self.q.clone(),
            client_id: self.client_id,
            status,
            delivery_stage: self.delivery_stage,
            manager_id: self.manager_id,
            org_id: self.org_id,
            number: self.number.clone(),
            date_from: self.date_from,
            date_to: self.date_to,
            equipment_type: self.equipment_type.clone(),
        })
    }
}

/// List requests across all clients (or one, with `client_id`) that the caller may see.
#[utoipa::path(tag = "crm", params(DealQuery), responses((status = 200, body = Page<Deal>)))]
#[get("/deals")]
pub async fn list_deals(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<DealQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let (paging, sort) = paging_and_sort(q.limit, q.offset, q.sort.as_deref(), deals::SORT_FIELDS)?;
    let filter = q.filter()?;
    Ok(HttpResponse::Ok().json(deals::list(&state.db, &auth.actor, &filter, &sort, paging).await?))
}

/// Export requests (same filters as the list) as CSV or XLSX; hidden fields are left out.
#[utoipa::path(tag = "crm", params(DealQuery), responses(
    (status = 200, description = "The file", content_type = "text/csv"),
))]
#[get("/deals/export")]
pub async fn export_deals(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<DealQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let (_, sort) = paging_and_sort(None, None, q.sort.as_deref(), deals::SORT_FIELDS)?;
    let filter = q.filter()?;
    let items = deals::export(&state.db, &auth.actor, &filter, &sort, EXPORT_MAX_ROWS).await?;
    let table = export::deals(&auth.actor, &items);
    export_response(&table, q.format.unwrap_or(ExportFormat::Csv), "requests")
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    /// The level to suggest: `type`, `name`, `sub_name` or `capacity`.
    pub level: ItemLevel,
    /// The levels above, to narrow the suggestions.
    pub equipment_type: Option<String>,
    pub name: Option<String>,
    pub sub_name: Option<String>,
    /// What has been typed so far.
    pub q: Option<String>,
    /// 1–50, default 20.
    pub limit: Option<u64>,
}

/// Values entered before for one level of the equipment line items, filtered by the levels above.
#[utoipa::path(tag = "crm", params(SuggestionQuery), responses((status = 200, body = Vec<String>)))]
#[get("/deals/suggestions")]
pub async fn suggestions(
    state: web::Data<AppState>,
    auth: Authenticated,
    q: ValidQuery<SuggestionQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.0;
    let limit = q.limit.unwrap_or(20).clamp(1, 50);
    let values = deals::suggestions(
        &state.db,
        &auth.actor,
        q.level,
        [
            q.equipment_type.as_deref(),
            q.name.as_deref(),
            q.sub_name.as_deref(),
        ],
        q.q.as_deref(),
        limit,
    )
    .await?;
    Ok(HttpResponse::Ok().json(values))
}

/// Register a request for a client; it gets a unique number such as `R-2026-000042`.
#[utoipa::path(tag = "crm", request_body = CreateDeal, responses((status = 201, body = Deal)))]
#[post("/deals")]
pub async fn create_deal(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ValidJson<CreateDeal>,
) -> ApiResult<HttpResponse> {
    let d = deals::create(&state.db, auth.ctx(), body.0).await?;
    Ok(created(
        format!("/api/v1/deals/{}", d.id),
        Some(d.version),
        &d,
    ))
}

/// One request. The ETag is its version.
#[utoipa::path(tag = "crm", responses((status = 200, body = Deal)))]
#[get("/deals/{id}")]
pub async fn get_deal(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let d = deals::get(&state.db, &auth.actor, id.into_inner()).await?;
    Ok(with_etag(d.version, &d))
}

/// Change a request's details, finance fields, responsible manager or line items (`items`
/// replaces them all).
#[utoipa::path(tag = "crm", request_body = UpdateDeal, params(("If-Match" = Option<String>, Header, description = "ETag of the version being changed")), responses(
    (status = 200, body = Deal),
    (status = 412, description = "Changed since read", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[patch("/deals/{id}")]
pub async fn update_deal(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ValidJson<UpdateDeal>,
) -> ApiResult<HttpResponse> {
    let d = deals::update(&state.db, auth.ctx(), id.into_inner(), body.0, if_match.0).await?;
    Ok(with_etag(d.version, &d))
}

/// Move a request to another status, with the comment the timeline keeps.
#[utoipa::path(tag = "crm", request_body = ChangeStatus, params(("If-Match" = Option<String>, Header, description = "ETag of the version being changed")), responses((status = 200, body = Deal)))]
#[post("/deals/{id}/status")]
pub async fn change_status(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ValidJson<ChangeStatus>,
) -> ApiResult<HttpResponse> {
    let d =
        deals::change_status(&state.db, auth.ctx(), id.into_inner(), body.0, if_match.0).await?;
    Ok(with_etag(d.version, &d))
}

/// Record the delivery stage a request has reached (timestamped on the timeline).
#[utoipa::path(tag = "crm", request_body = ChangeDelivery, params(("If-Match" = Option<String>, Header, description = "ETag of the version being changed")), responses((status = 200, body = Deal)))]
#[post("/deals/{id}/delivery")]
pub async fn change_delivery(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    if_match: IfMatch,
    body: ValidJson<ChangeDelivery>,
) -> ApiResult<HttpResponse> {
    let d =
        deals::change_delivery(&state.db, auth.ctx(), id.into_inner(), body.0, if_match.0).await?;
    Ok(with_etag(d.version, &d))
}

/// A request's status and delivery timeline, oldest first.
#[utoipa::path(tag = "crm", responses((status = 200, body = Vec<DealEvent>)))]
#[get("/deals/{id}/timeline")]
pub async fn timeline(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(deals::timeline(&state.db, &auth.actor, id.into_inner()).await?))
}

// ---------------------------------------------------------------------------------------------
// Comments and documents (on clients and requests)
// ---------------------------------------------------------------------------------------------

/// Which kind of record a comment or document path is about.
fn resource_of(kind: &str) -> Result<Resource, ApiError> {
    match kind {
        "clients" => Ok(Resource::Clients),
        "deals" => Ok(Resource::Deals),
        _ => Err(ApiError::NotFound),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1–100, default 20.
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// Comments on a client (`clients`) or a request (`deals`), newest first.
#[utoipa::path(tag = "crm", params(("kind" = String, Path, description = "`clients` or `deals`"), PageQuery), responses((status = 200, body = Page<Comment>)))]
#[get("/{kind}/{id}/comments")]
pub async fn list_comments(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, i64)>,
    q: ValidQuery<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (kind, id) = path.into_inner();
    let paging = paging(q.0.limit, q.0.offset)?;
    Ok(HttpResponse::Ok()
        .json(comments::list(&state.db, &auth.actor, resource_of(&kind)?, id, paging).await?))
}

/// Comment on a client or a request; the responsible manager and watchers are told.
#[utoipa::path(tag = "crm", params(("kind" = String, Path, description = "`clients` or `deals`")), request_body = NewComment, responses((status = 201, body = Comment)))]
#[post("/{kind}/{id}/comments")]
pub async fn add_comment(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, i64)>,
    body: ValidJson<NewComment>,
) -> ApiResult<HttpResponse> {
    let (kind, id) = path.into_inner();
    let c = comments::add(&state.db, auth.ctx(), resource_of(&kind)?, id, body.0).await?;
    Ok(created(format!("/api/v1/{kind}/{id}/comments"), None, &c))
}

/// Documents of a client or a request, newest first.
#[utoipa::path(tag = "crm", params(("kind" = String, Path, description = "`clients` or `deals`")), responses((status = 200, body = Vec<Document>)))]
#[get("/{kind}/{id}/documents")]
pub async fn list_documents(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, i64)>,
) -> ApiResult<HttpResponse> {
    let (kind, id) = path.into_inner();
    Ok(HttpResponse::Ok()
        .json(documents::list(&state.db, &auth.actor, resource_of(&kind)?, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    pub category: DocumentCategory,
    /// The file's name, without a path.
    pub file_name: String,
}

/// Upload a document: the raw file is the body, its type the `Content-Type` (PDF, images,
/// office files, CSV, text, ZIP). Empty, oversized or mislabelled files are refused and leave
/// nothing behind.
#[utoipa::path(tag = "crm", params(("kind" = String, Path, description = "`clients` or `deals`"), UploadQuery), request_body(content = Vec<u8>, content_type = "application/pdf"), responses(
    (status = 201, body = Document),
    (status = 413, description = "File too large", body = dealernet_domain::Problem, content_type = "application/problem+json"),
))]
#[post("/{kind}/{id}/documents")]
pub async fn upload_document(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    q: ValidQuery<UploadQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (kind, id) = path.into_inner();
    let resource = resource_of(&kind)?;
    let store = store(&state)?;
    let bytes = read_body(payload, store.max_bytes).await?;
    let q = q.0;
    let doc = documents::upload(
        &state.db,
        &store,
        auth.ctx(),
        resource,
        id,
        Upload {
            category: q.category,
            file_name: q.file_name,
            content_type: content_type(&req),
            bytes,
        },
    )
    .await?;
    Ok(created(
        format!("/api/v1/documents/{}/content", doc.id),
        None,
        &doc,
    ))
}

/// Download a document.
#[utoipa::path(tag = "crm", responses((status = 200, description = "The file", content_type = "application/octet-stream")))]
#[get("/documents/{id}/content")]
pub async fn download_document(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let store = store(&state)?;
    let (doc, bytes) = documents::download(&state.db, &store, &auth.actor, id.into_inner()).await?;
    let ascii: String = doc
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(HttpResponse::Ok()
        .content_type(doc.content_type.clone())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{ascii}\""),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}

/// Delete a document (audited).
#[utoipa::path(tag = "crm", responses((status = 204, description = "Deleted")))]
#[delete("/documents/{id}")]
pub async fn delete_document(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let store = store(&state)?;
    documents::delete(&state.db, &store, auth.ctx(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
