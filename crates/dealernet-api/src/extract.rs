//! Extractors that turn requests into checked input, with problem+json errors naming the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use dealernet_data::RequestMeta;
use dealernet_domain::{ErrorCode, FieldError};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body, deserialised strictly (unknown fields refused) and validated with the same
/// `validator` rules the SPA runs.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.inner();
    let message = inner.to_string();
    // Strip serde's " at line L column C" suffix: the field path says where.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_string();
    match inner.classify() {
        serde_json::error::Category::Data => {
            let (field, code) = if message.starts_with("unknown field") {
                // serde_path_to_error's path already ends with the unknown field's name.
                (path, "unknown_field")
            } else if message.starts_with("missing field") {
                let name = message.split('`').nth(1).unwrap_or("");
                let field = if path == "." {
                    name.to_string()
                } else {
                    format!("{path}.{name}")
                };
                (field, "required")
            } else {
                (if path == "." { String::new() } else { path }, "type")
            };
            ApiError::Validation(vec![FieldError {
                field,
                code: code.into(),
                message,
            }])
        }
        _ => ApiError::BadRequest {
            code: ErrorCode::MalformedBody,
            detail: format!("the body is not valid JSON: {message}"),
            errors: vec![],
        },
    }
}

/// Parses and validates a JSON document.
pub fn parse_json<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::BadRequest {
            code: ErrorCode::MalformedBody,
            detail: "the body is empty; send a JSON object".into(),
            errors: vec![],
        });
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(de).map_err(json_error)?;
    value
        .validate()
        .map_err(|e| ApiError::Validation(dealernet_domain::validation::field_errors(&e)))?;
    Ok(value)
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType(
                    "send the body as application/json".into(),
                ));
            }
            let bytes = bytes.await.map_err(|e| {
                if e.as_response_error().status_code()
                    == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE
                {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::BadRequest {
                        code: ErrorCode::MalformedBody,
                        detail: "the body could not be read".into(),
                        errors: vec![],
                    }
                }
            })?;
            parse_json(&bytes).map(ValidJson)
        })
    }
}

/// Query parameters, deserialised strictly with the failing parameter named.
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(
            req.query_string().as_bytes(),
        ));
        let res = serde_path_to_error::deserialize(de)
            .map(ValidQuery)
            .map_err(|e| {
                let field = e.path().to_string();
                let message = e.inner().to_string();
                let field = if field == "." {
                    message.split('`').nth(1).unwrap_or("").to_string()
                } else {
                    field
                };
                ApiError::BadRequest {
                    code: ErrorCode::InvalidQuery,
                    detail: format!("invalid query parameter: {message}"),
                    errors: vec![FieldError {
                        field,
                        code: "type".into(),
                        message,
                    }],
                }
            });
        std::future::ready(res)
    }
}

/// `If-Match`: the version the client last saw. `None` when absent or `*`.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i32>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let res = match req.headers().get(header::IF_MATCH).map(|v| v.to_str()) {
            None => Ok(IfMatch(None)),
            Some(Ok(v)) if v.trim() == "*" => Ok(IfMatch(None)),
            Some(Ok(v)) => {
                let tag = v.trim().trim_start_matches("W/").trim_matches('"');
                // An ETag we never issued cannot match the current version.
                Ok(IfMatch(Some(tag.parse::<i32>().unwrap_or(-1))))
            }
            Some(Err(_)) => Ok(IfMatch(Some(-1))),
        };
        std::future::ready(res)
    }
}

/// The ETag of a record version.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// Where the request came from, for the audit trail.
pub struct Meta(pub RequestMeta);

pub fn request_meta(req: &HttpRequest) -> RequestMeta {
    let trust = req
        .app_data::<actix_web::web::Data<AppState>>()
        .is_some_and(|s| s.settings.trust_forwarded_for);
    let conn = req.connection_info();
    let ip = if trust {
        conn.realip_remote_addr()
    } else {
        conn.peer_addr()
    }
    .map(|s| {
        // Drop the port of a peer address.
        match s.rsplit_once(':') {
            Some((host, port))
                if port.chars().all(|c| c.is_ascii_digit()) && !host.ends_with(':') =>
            {
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string()
            }
            _ => s.to_string(),
        }
    });
    RequestMeta {
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        client_ip: ip,
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect()),
    }
}

impl FromRequest for Meta {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Meta(request_meta(req))))
    }
}

/// The request id, set by the request-id middleware.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

use actix_web::HttpMessage as _;
