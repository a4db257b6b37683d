//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDoc, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{AppExt, scope};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "DealerNet API",
        description = "The API of DealerNet, the system that runs an operator's dealer network.\n\n\
            Authenticate with `POST /api/v1/auth/login` and send `Authorization: Bearer <access_token>`, \
            or use an API key (`X-Api-Key: dnk_…`). Lists take `limit` (1–100), `offset` and `sort` \
            (`field` or `-field`) and answer `{\"items\": […], \"total\": N}`. Updates take `If-Match` \
            with the ETag of the version read. POSTs take an `Idempotency-Key`. Every error is \
            `application/problem+json` with a stable `code`.",
        license(name = "Apache-2.0")
    ),
    components(schemas(dealernet_domain::Problem, dealernet_domain::FieldError, dealernet_domain::ErrorCode)),
    modifiers(&Security, &StandardErrors),
    tags(
        (name = "auth", description = "Signing in and out"),
        (name = "me", description = "The caller's own profile and sessions"),
        (name = "users", description = "Users and their roles"),
        (name = "roles", description = "Roles: permissions, record scope and field policies"),
        (name = "orgs", description = "The organisation tree"),
        (name = "api_keys", description = "API keys for integrations"),
        (name = "audit", description = "Change history"),
        (name = "reminders", description = "Reminders: personal or on a record, with repeat"),
        (name = "notifications", description = "Notifications, preferences, watches and the live stream"),
        (name = "dealers", description = "Dealer profiles, points of sale, geocoding and maps"),
        (name = "installation_requests", description = "Installation and repair requests, automatic dealer assignment, the dealers' answers and metrics"),
        (name = "crm", description = "Clients, contacts, requests (deals), comments, documents, exports and imports"),
        (name = "health", description = "Liveness and readiness"),
        (name = "warehouse", description = "Equipment warehouse: catalogue, stock ledger, dealer orders, warranty and repairs"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from /api/v1/auth/login"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "An integration's API key",
            ))),
        );
        openapi.security = Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("api_key", Vec::<String>::new()),
        ]);
    }
}

/// Documents the error answers every operation can give, so no operation lists them by hand.
struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let problem = || {
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "Problem",
                ))))
                .build()
        };
        let errors: [(&str, &str); 7] = [
            (
                "400",
                "Malformed body or query (`malformed_body`, `invalid_query`)",
            ),
            ("401", "Missing, invalid, expired or revoked credential"),
            (
                "403",
                "Not allowed (`forbidden`, `read_only_field`, `account_blocked`)",
            ),
            ("404", "Not found, or not visible to the caller"),
            ("422", "Validation failed; `errors` names each field"),
            ("429", "Too many attempts; see `Retry-After`"),
            ("500", "Internal error; quote `request_id`"),
        ];
        for item in openapi.paths.paths.values_mut() {
            let ops: [&mut Option<Operation>; 5] = [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                for (status, desc) in errors {
                    if !op.responses.responses.contains_key(status) {
                        op.responses.responses.insert(
                            status.to_string(),
                            RefOr::T(
                                ResponseBuilder::new()
                                    .description(desc)
                                    .content("application/problem+json", problem())
                                    .build(),
                            ),
                        );
                    }
                }
            }
        }
    }
}

impl ApiDoc {
    /// The base document (info, components, security) before the paths are collected.
    pub fn openapi_with_errors() -> OpenApiDoc {
        <ApiDoc as OpenApi>::openapi()
    }
}

/// Completes a document after the paths were collected from the routes: the derive's modifiers
/// ran before that, so the per-operation error answers are added here.
pub fn finish(api: &mut OpenApiDoc) {
    StandardErrors.modify(api);
}

/// The full document, built from the same route table the server uses.
pub fn document() -> OpenApiDoc {
    let (_, mut api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi_with_errors())
        .service(scope::scope("/api/v1").configure(crate::routes::configure))
        .split_for_parts();
    finish(&mut api);
    api
}

/// The document as pretty JSON with a trailing new line (the checked-in form).
pub fn document_json() -> String {
    let mut s = document().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
