//! The API client: JSON over `fetch`, the bearer token, one transparent refresh on 401, and
//! problem+json errors decoded into the shared [`Problem`] type.
//!
//! The access token lives only in memory. The refresh token is kept in `localStorage` so that a
//! reload or a second tab keeps the session; the server rotates it on every use.

use std::cell::RefCell;

use dealernet_domain::auth::{RefreshRequest, TokenResponse};
use dealernet_domain::{ErrorCode, FieldError, Problem};
use gloo_net::http::{Method, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

const REFRESH_KEY: &str = "dealernet.refresh";

/// Why a session ended, shown on the login page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Expired,
    Blocked,
    SignedOut,
}

type EndHook = Box<dyn Fn(EndReason)>;
type TokenHook = Box<dyn Fn(i64)>;

thread_local! {
    static ACCESS: RefCell<Option<String>> = const { RefCell::new(None) };
    static ON_END: RefCell<Option<EndHook>> = const { RefCell::new(None) };
    static ON_TOKEN: RefCell<Option<TokenHook>> = const { RefCell::new(None) };
}

/// Registers what happens when the server ends the session (refresh failed, account blocked).
pub fn on_session_end(f: impl Fn(EndReason) + 'static) {
    ON_END.with(|h| *h.borrow_mut() = Some(Box::new(f)));
}

/// Registers what happens when a new access token arrives (the caller schedules the next refresh).
pub fn on_new_token(f: impl Fn(i64) + 'static) {
    ON_TOKEN.with(|h| *h.borrow_mut() = Some(Box::new(f)));
}

fn end_session(reason: EndReason) {
    clear_tokens();
    ON_END.with(|h| {
        if let Some(f) = h.borrow().as_ref() {
            f(reason)
        }
    });
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

pub fn stored_refresh_token() -> Option<String> {
    storage().and_then(|s| s.get_item(REFRESH_KEY).ok().flatten())
}

/// Keeps a freshly issued token pair.
pub fn set_tokens(tokens: &TokenResponse) {
    ACCESS.with(|a| *a.borrow_mut() = Some(tokens.access_token.clone()));
    if let Some(s) = storage() {
        let _ = s.set_item(REFRESH_KEY, &tokens.refresh_token);
    }
    ON_TOKEN.with(|h| {
        if let Some(f) = h.borrow().as_ref() {
            f(tokens.expires_in)
        }
    });
}

pub fn clear_tokens() {
    ACCESS.with(|a| *a.borrow_mut() = None);
    if let Some(s) = storage() {
        let _ = s.remove_item(REFRESH_KEY);
    }
}

pub fn has_access_token() -> bool {
    ACCESS.with(|a| a.borrow().is_some())
}

/// A failed call: the server's problem, or no answer at all.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// Boxed: a problem carries field errors and would make every `Result` large.
    Problem(Box<Problem>),
    Network(String),
}

impl ApiError {
    pub fn message(&self) -> String {
        match self {
            ApiError::Problem(p) => match &p.detail {
                Some(d) if !d.is_empty() => format!("{}: {d}", p.title),
                _ => p.title.clone(),
            },
            ApiError::Network(m) => m.clone(),
        }
    }

    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            ApiError::Problem(p) => &p.errors,
            ApiError::Network(_) => &[],
        }
    }

    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Problem(p) => Some(p.code),
            ApiError::Network(_) => None,
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Problem(p) => p.status,
            ApiError::Network(_) => 0,
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A successful answer with the record's version tag, for a later `If-Match`.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    pub etag: Option<String>,
}

fn network(e: impl std::fmt::Display) -> ApiError {
    ApiError::Network(format!("The server could not be reached ({e})"))
}

async fn problem_of(res: Response) -> ApiError {
    let status = res.status();
    match res.json::<Problem>().await {
        Ok(p) => ApiError::Problem(Box::new(p)),
        Err(_) => ApiError::Problem(Box::new(Problem::new(
            if status >= 500 {
                ErrorCode::Internal
            } else {
                ErrorCode::MalformedBody
            },
            status,
            format!("Unexpected answer from the server (HTTP {status})"),
        ))),
    }
}

struct Call<'a> {
    method: Method,
    path: &'a str,
    query: &'a [(String, String)],
    body: Option<String>,
    if_match: Option<&'a str>,
    idempotency_key: Option<String>,
}

async fn send_once(call: &Call<'_>) -> ApiResult<Response> {
    let mut req = RequestBuilder::new(call.path)
        .method(call.method.clone())
        .header("accept", "application/json");
    if !call.query.is_empty() {
        req = req.query(call.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    if let Some(token) = ACCESS.with(|a| a.borrow().clone()) {
        req = req.header("authorization", &format!("Bearer {token}"));
    }
    if let Some(tag) = call.if_match {
        req = req.header("if-match", tag);
    }
    if let Some(key) = &call.idempotency_key {
        req = req.header("idempotency-key", key);
    }
    let res = match &call.body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(b.clone())
            .map_err(network)?
            .send()
            .await
            .map_err(network)?,
        None => req.send().await.map_err(network)?,
    };
    Ok(res)
}

async fn execute(call: Call<'_>) -> ApiResult<Response> {
    let res = send_once(&call).await?;
    if res.status() == 401 && !call.path.contains("/auth/") && stored_refresh_token().is_some() {
        refresh().await?;
        let retry = send_once(&call).await?;
        return check(retry).await;
    }
    check(res).await
}

async fn check(res: Response) -> ApiResult<Response> {
    if res.ok() {
        return Ok(res);
    }
    let err = problem_of(res).await;
    match err.code() {
        Some(ErrorCode::AccountBlocked) => end_session(EndReason::Blocked),
        Some(ErrorCode::Unauthenticated) => end_session(EndReason::Expired),
        _ => {}
    }
    Err(err)
}

/// Trades the stored refresh token for a new pair. Ends the session when the server refuses.
pub async fn refresh() -> ApiResult<()> {
    let Some(token) = stored_refresh_token() else {
        return Err(ApiError::Problem(Box::new(Problem::new(
            ErrorCode::Unauthenticated,
            401,
            "Not signed in",
        ))));
    };
    let body = serde_json::to_string(&RefreshRequest {
        refresh_token: token.clone(),
    })
    .map_err(network)?;
    let res = RequestBuilder::new("/api/v1/auth/refresh")
        .method(Method::POST)
        .header("content-type", "application/json")
        .body(body)
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    if res.ok() {
        let tokens: TokenResponse = res.json().await.map_err(network)?;
        set_tokens(&tokens);
        return Ok(());
    }
    let err = problem_of(res).await;
    // Another tab may have rotated the token in the meantime: its successor is in storage.
    if stored_refresh_token().is_some_and(|now| now != token) && err.status() == 401 {
        return Box::pin(refresh()).await;
    }
    if err.status() == 401 || err.status() == 403 {
        end_session(if err.code() == Some(ErrorCode::AccountBlocked) {
            EndReason::Blocked
        } else {
            EndReason::Expired
        });
    }
    Err(err)
}

fn encode<B: Serialize + ?Sized>(body: &B) -> ApiResult<String> {
    serde_json::to_string(body).map_err(|e| ApiError::Network(e.to_string()))
}

async fn decode<T: DeserializeOwned>(res: Response) -> ApiResult<T> {
    res.json::<T>()
        .await
        .map_err(|e| ApiError::Network(format!("Unexpected answer from the server ({e})")))
}

fn call<'a>(method: Method, path: &'a str) -> Call<'a> {
    Call {
        method,
        path,
        query: &[],
        body: None,
        if_match: None,
        idempotency_key: None,
    }
}

pub async fn get<T: DeserializeOwned>(path: &str) -> ApiResult<T> {
    decode(execute(call(Method::GET, path)).await?).await
}

pub async fn get_query<T: DeserializeOwned>(
    path: &str,
    query: &[(String, String)],
) -> ApiResult<T> {
    let mut c = call(Method::GET, path);
    c.query = query;
    decode(execute(c).await?).await
}

pub async fn get_versioned<T: DeserializeOwned>(path: &str) -> ApiResult<Versioned<T>> {
    let res = execute(call(Method::GET, path)).await?;
    let etag = res.headers().get("etag");
    Ok(Versioned {
        value: decode(res).await?,
        etag,
    })
}

/// POST with a fresh `Idempotency-Key`, so a retried click never creates twice.
pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> ApiResult<T> {
    let mut c = call(Method::POST, path);
    c.body = Some(encode(body)?);
    c.idempotency_key = Some(idempotency_key());
    decode(execute(c).await?).await
}

/// POST that answers no content.
pub async fn post_empty<B: Serialize + ?Sized>(path: &str, body: &B) -> ApiResult<()> {
    let mut c = call(Method::POST, path);
    c.body = Some(encode(body)?);
    execute(c).await.map(|_| ())
}

pub async fn patch<B: Serialize + ?Sized, T: DeserializeOwned>(
    path: &str,
    body: &B,
    if_match: Option<&str>,
) -> ApiResult<Versioned<T>> {
    let mut c = call(Method::PATCH, path);
    c.body = Some(encode(body)?);
    c.if_match = if_match;
    let res = execute(c).await?;
    let etag = res.headers().get("etag");
    Ok(Versioned {
        value: decode(res).await?,
        etag,
    })
}

pub async fn put_empty<B: Serialize + ?Sized>(path: &str, body: &B) -> ApiResult<()> {
    let mut c = call(Method::PUT, path);
    c.body = Some(encode(body)?);
    execute(c).await.map(|_| ())
}

pub async fn delete(path: &str) -> ApiResult<()> {
    execute(call(Method::DELETE, path)).await.map(|_| ())
}

/// Login and logout go around the refresh logic.
pub async fn post_public<B: Serialize + ?Sized, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> ApiResult<T> {
    let res = RequestBuilder::new(path)
        .method(Method::POST)
        .header("content-type", "application/json")
        .body(encode(body)?)
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    if !res.ok() {
        return Err(problem_of(res).await);
    }
    decode(res).await
}

fn idempotency_key() -> String {
    let a = (js_sys::Math::random() * 1e15) as u64;
    let b = js_sys::Date::now() as u64;
    format!("web-{b:x}-{a:x}")
}

/// POST a file's bytes as `content_type` (warehouse receiving imports) with query parameters.
pub async fn post_file<T: DeserializeOwned>(
    path: &str,
    query: &[(String, String)],
    content_type: &str,
    bytes: Vec<u8>,
) -> ApiResult<T> {
    let send = || async {
        let mut req = RequestBuilder::new(path)
            .method(Method::POST)
            .header("accept", "application/json")
            .header("content-type", content_type)
            .header("idempotency-key", &idempotency_key());
        if !query.is_empty() {
            req = req.query(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        if let Some(token) = ACCESS.with(|a| a.borrow().clone()) {
            req = req.header("authorization", &format!("Bearer {token}"));
        }
        req.body(js_sys::Uint8Array::from(bytes.as_slice()))
            .map_err(network)?
            .send()
            .await
            .map_err(network)
    };
    let mut res = send().await?;
    if res.status() == 401 && stored_refresh_token().is_some() {
        refresh().await?;
        res = send().await?;
    }
    decode(check(res).await?).await
}

/// The current access token, for the few calls that cannot go through `fetch` (uploads with
/// progress use `XMLHttpRequest`).
pub fn access_token() -> Option<String> {
    ACCESS.with(|a| a.borrow().clone())
}

/// GET a file (an export): its bytes and content type.
pub async fn get_bytes(path: &str, query: &[(String, String)]) -> ApiResult<(Vec<u8>, String)> {
    let mut c = call(Method::GET, path);
    c.query = query;
    let res = execute(c).await?;
    let ct = res.headers().get("content-type").unwrap_or_default();
    let bytes = res.binary().await.map_err(network)?;
    Ok((bytes, ct))
}
