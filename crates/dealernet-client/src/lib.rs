//! A typed client for the DealerNet API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), dealernet_client::Error> {
//! let mut api = dealernet_client::Client::new("http://127.0.0.1:8080")?;
//! api.login("admin@example.com", "a long password 1").await?;
//! let me = api.me().await?;
//! println!("signed in as {}", me.name);
//! # Ok(()) }
//! ```

use dealernet_domain::Problem;
use dealernet_domain::api_key::{ApiKey, CreateApiKey, CreatedApiKey};
use dealernet_domain::audit::AuditEntry;
use dealernet_domain::auth::{LoginRequest, Me, RefreshRequest, TokenResponse};
use dealernet_domain::list::Page;
use dealernet_domain::org::{CreateOrgNode, OrgNode, UpdateOrgNode};
use dealernet_domain::role::Role;
use dealernet_domain::user::{CreateUser, UpdateUser, User};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API answered with a problem.
    #[error("{} {}: {}", .0.status, .0.title, .0.detail.clone().unwrap_or_default())]
    Api(Box<Problem>),
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("unexpected answer {status}: {body}")]
    Unexpected { status: StatusCode, body: String },
}

impl Error {
    /// The problem, when the API gave one.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Api(p) => Some(p.as_ref()),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// A client. After [`Client::login`] it sends the access token with every request.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    tokens: Option<TokenResponse>,
    api_key: Option<String>,
}

impl Client {
    pub fn new(base_url: &str) -> Result<Self> {
        Ok(Client {
            http: reqwest::Client::builder().build()?,
            base: base_url.trim_end_matches('/').to_string(),
            tokens: None,
            api_key: None,
        })
    }

    /// A client that authenticates with an API key.
    pub fn with_api_key(base_url: &str, key: &str) -> Result<Self> {
        let mut c = Client::new(base_url)?;
        c.api_key = Some(key.to_string());
        Ok(c)
    }

    pub fn tokens(&self) -> Option<&TokenResponse> {
        self.tokens.as_ref()
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut rb = self
            .http
            .request(method, format!("{}/api/v1{}", self.base, path));
        if let Some(t) = &self.tokens {
            rb = rb.bearer_auth(&t.access_token);
        } else if let Some(k) = &self.api_key {
            rb = rb.header("x-api-key", k);
        }
        rb
    }

    async fn send<T: DeserializeOwned>(rb: RequestBuilder) -> Result<T> {
        let res = rb.send().await?;
        let status = res.status();
        let body = res.text().await?;
        if status.is_success() {
            let text = if body.is_empty() { "null" } else { &body };
            return serde_json::from_str(text).map_err(|_| Error::Unexpected { status, body });
        }
        match serde_json::from_str::<Problem>(&body) {
            Ok(p) => Err(Error::Api(Box::new(p))),
            Err(_) => Err(Error::Unexpected { status, body }),
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T> {
        Self::send(self.request(Method::GET, path).query(query)).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        Self::send(self.request(Method::POST, path).json(body)).await
    }

    async fn patch<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        version: Option<i32>,
    ) -> Result<T> {
        let mut rb = self.request(Method::PATCH, path).json(body);
        if let Some(v) = version {
            rb = rb.header("if-match", format!("\"{v}\""));
        }
        Self::send(rb).await
    }

    pub async fn login(&mut self, email: &str, password: &str) -> Result<()> {
        let tokens: TokenResponse = self
            .post(
                "/auth/login",
                &LoginRequest {
                    email: email.into(),
                    password: password.into(),
                },
            )
            .await?;
        self.tokens = Some(tokens);
        Ok(())
    }

    pub async fn refresh(&mut self) -> Result<()> {
        let Some(current) = &self.tokens else {
            return Err(Error::Unexpected {
                status: StatusCode::UNAUTHORIZED,
                body: "not signed in".into(),
            });
        };
        let tokens: TokenResponse = self
            .post(
                "/auth/refresh",
                &RefreshRequest {
                    refresh_token: current.refresh_token.clone(),
                },
            )
            .await?;
        self.tokens = Some(tokens);
        Ok(())
    }

    pub async fn logout(&mut self) -> Result<()> {
        let body = serde_json::json!({ "refresh_token": self.tokens.as_ref().map(|t| t.refresh_token.clone()) });
        let _: serde_json::Value = self.post("/auth/logout", &body).await?;
        self.tokens = None;
        Ok(())
    }

    pub async fn me(&self) -> Result<Me> {
        self.get("/me", &[]).await
    }

    pub async fn users(&self, query: &[(&str, String)]) -> Result<Page<User>> {
        self.get("/users", query).await
    }

    pub async fn user(&self, id: i64) -> Result<User> {
        self.get(&format!("/users/{id}"), &[]).await
    }

    pub async fn create_user(&self, input: &CreateUser) -> Result<User> {
        self.post("/users", input).await
    }

    pub async fn update_user(
        &self,
        id: i64,
        input: &UpdateUser,
        version: Option<i32>,
    ) -> Result<User> {
        self.patch(&format!("/users/{id}"), input, version).await
    }

    pub async fn roles(&self, grantable: bool) -> Result<Page<Role>> {
        self.get(
            "/roles",
            &[
                ("grantable", grantable.to_string()),
                ("limit", "100".into()),
            ],
        )
        .await
    }

    pub async fn orgs(&self, query: &[(&str, String)]) -> Result<Page<OrgNode>> {
        self.get("/orgs", query).await
    }

    pub async fn org(&self, id: i64) -> Result<OrgNode> {
        self.get(&format!("/orgs/{id}"), &[]).await
    }

    pub async fn create_org(&self, input: &CreateOrgNode) -> Result<OrgNode> {
        self.post("/orgs", input).await
    }

    pub async fn update_org(
        &self,
        id: i64,
        input: &UpdateOrgNode,
        version: Option<i32>,
    ) -> Result<OrgNode> {
        self.patch(&format!("/orgs/{id}"), input, version).await
    }

    pub async fn api_keys(&self) -> Result<Page<ApiKey>> {
        self.get("/api-keys", &[]).await
    }

    pub async fn create_api_key(&self, input: &CreateApiKey) -> Result<CreatedApiKey> {
        self.post("/api-keys", input).await
    }

    pub async fn audit(&self, entity: &str, id: i64) -> Result<Page<AuditEntry>> {
        self.get(
            "/audit",
            &[("entity", entity.to_string()), ("id", id.to_string())],
        )
        .await
    }
}
