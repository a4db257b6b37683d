//! Credentials: JWT access tokens, API keys, the [`Authenticated`] extractor and login throttling.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::Utc;
use dealernet_data::identity::actor;
use dealernet_data::{Ctx, RequestMeta};
use dealernet_domain::policy::Actor;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::request_meta;
use crate::state::AppState;

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// The session (refresh-token family) the token was issued for.
    pub sid: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    pub ttl_secs: i64,
}

impl JwtKeys {
    /// HS256 only: the allow-list has one algorithm, so `alg: none` and algorithm-confusion
    /// tokens are refused. Issuer, audience, expiry and not-before are all checked.
    pub fn new(secret: &SecretString, issuer: &str, audience: &str, ttl_secs: i64) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        JwtKeys {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            ttl_secs: ttl_secs.clamp(30, 900),
        }
    }

    pub fn issue(&self, user_id: i64, session_id: &str) -> Result<String, ApiError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            nbf: now,
            exp: now + self.ttl_secs,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("token signing failed: {e}")))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                let why = match e.kind() {
                    ErrorKind::ExpiredSignature => "the access token has expired",
                    ErrorKind::ImmatureSignature => "the access token is not valid yet",
                    ErrorKind::InvalidAudience => "the access token is for another audience",
                    ErrorKind::InvalidIssuer => "the access token is from another issuer",
                    ErrorKind::InvalidAlgorithm => {
                        "the access token uses an algorithm that is not accepted"
                    }
                    _ => "the access token is invalid",
                };
                ApiError::Unauthenticated(why.into())
            })
    }
}

/// The credential a request carries.
pub enum Credential<'a> {
    Bearer(&'a str),
    ApiKey(&'a str),
}

pub fn credential(req: &HttpRequest) -> Option<Credential<'_>> {
    if let Some(key) = req.headers().get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(Credential::ApiKey(key.trim()));
    }
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    if token.starts_with(actor::API_KEY_PREFIX) {
        Some(Credential::ApiKey(token))
    } else {
        Some(Credential::Bearer(token))
    }
}

/// A signed-in caller: the actor, its session, and where the request came from.
pub struct Authenticated {
    pub actor: Arc<Actor>,
    pub session_id: Option<String>,
    pub meta: RequestMeta,
}

impl Authenticated {
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            actor: &self.actor,
            meta: &self.meta,
        }
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            let meta = request_meta(&req);
            match credential(&req) {
                None => Err(ApiError::Unauthenticated(
                    "sign in and send `Authorization: Bearer <access token>` (or an API key)"
                        .into(),
                )),
                Some(Credential::Bearer(token)) => {
                    let claims = state.jwt.verify(token)?;
                    let user_id: i64 = claims.sub.parse().map_err(|_| {
                        ApiError::Unauthenticated("the access token is invalid".into())
                    })?;
                    let actor = actor::for_session(
                        &state.db,
                        &state.roles,
                        &state.actors,
                        user_id,
                        &claims.sid,
                    )
                    .await?;
                    Ok(Authenticated {
                        actor,
                        session_id: Some(claims.sid),
                        meta,
                    })
                }
                Some(Credential::ApiKey(secret)) => {
                    let actor = Arc::new(actor::for_api_key(&state.db, secret).await?);
                    Ok(Authenticated {
                        actor,
                        session_id: None,
                        meta,
                    })
                }
            }
        })
    }
}

/// Counts failed logins per account and per client address in a sliding window.
///
/// Kept in memory: each instance throttles on its own, which bounds guessing to
/// `instances × limit` per window. Successful sign-in clears the account's failures.
pub struct LoginThrottle {
    window: Duration,
    per_account: u32,
    per_ip: u32,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    pub fn new(window_secs: u64, per_account: u32, per_ip: u32) -> Self {
        LoginThrottle {
            window: Duration::from_secs(window_secs.max(1)),
            per_account: per_account.max(1),
            per_ip: per_ip.max(1),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(email: &str, ip: Option<&str>) -> [(String, bool); 2] {
        [
            (format!("account:{}", email.trim().to_lowercase()), true),
            (format!("ip:{}", ip.unwrap_or("unknown")), false),
        ]
    }

    /// `Err(seconds)` to wait when either limit is reached.
    pub fn check(&self, email: &str, ip: Option<&str>) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut map) = self.failures.lock() else {
            return Ok(());
        };
        let mut wait = 0u64;
        for (key, is_account) in Self::keys(email, ip) {
            let limit = if is_account {
                self.per_account
            } else {
                self.per_ip
            } as usize;
            if let Some(q) = map.get_mut(&key) {
                while q
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    q.pop_front();
                }
                if q.len() >= limit
                    && let Some(oldest) = q.front()
                {
                    let left = self.window.saturating_sub(now.duration_since(*oldest));
                    wait = wait.max(left.as_secs().max(1));
                }
            }
        }
        if wait > 0 { Err(wait) } else { Ok(()) }
    }

    pub fn record_failure(&self, email: &str, ip: Option<&str>) {
        let now = Instant::now();
        if let Ok(mut map) = self.failures.lock() {
            if map.len() > 100_000 {
                // Bound memory under a spray of random e-mails: forget expired entries.
                map.retain(|_, q| {
                    q.back()
                        .is_some_and(|t| now.duration_since(*t) < self.window)
                });
            }
            for (key, _) in Self::keys(email, ip) {
                map.entry(key).or_default().push_back(now);
            }
        }
    }

    pub fn record_success(&self, email: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&format!("account:{}", email.trim().to_lowercase()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_blocks_after_the_limit_and_clears_on_success() {
        let t = LoginThrottle::new(60, 2, 10);
        assert!(t.check("a@b.c", Some("1.1.1.1")).is_ok());
        t.record_failure("a@b.c", Some("1.1.1.1"));
        t.record_failure("A@b.c ", Some("1.1.1.1"));
        assert!(t.check("a@b.c", Some("2.2.2.2")).is_err());
        assert!(t.check("other@b.c", Some("1.1.1.1")).is_ok());
        t.record_success("a@b.c");
        assert!(t.check("a@b.c", Some("1.1.1.1")).is_ok());
    }

    #[test]
    fn tokens_round_trip_and_tampering_is_refused() {
        let keys = JwtKeys::new(&SecretString::from("k".repeat(32)), "iss", "aud", 900);
        let t = keys.issue(42, "s1").unwrap_or_default();
        assert_eq!(keys.verify(&t).map(|c| c.sub).ok(), Some("42".to_string()));
        let mut tampered = t.clone();
        tampered.push('x');
        assert!(keys.verify(&tampered).is_err());
        let other = JwtKeys::new(&SecretString::from("k".repeat(32)), "iss", "other", 900);
        assert!(other.verify(&t).is_err());
    }
}
