//! Test support for notifications: a real SMTP sink on 127.0.0.1, a server-sent-events reader,
//! more application instances on one database, and waiting for conditions.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dealernet_api::{Application, Settings};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::helpers::{JWT_SECRET, Options, TestApp, spawn_app_tweaked};

/// Settings for notification tests: a fast scheduler and push poller, short heartbeats.
pub fn fast(s: &mut Settings) {
    s.scheduler_tick_ms = 100;
    s.push_poll_ms = 100;
    s.stream_heartbeat_secs = 1;
}

pub async fn spawn_fast_app() -> TestApp {
    spawn_app_tweaked(Options::default(), fast).await
}

/// One message the sink received.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

/// A minimal SMTP server that accepts every message and keeps it.
pub struct SmtpSink {
    pub port: u16,
    pub messages: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    #[allow(clippy::expect_used)]
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind smtp sink");
        let port = listener.local_addr().expect("sink address").port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let store = messages.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, store).await;
                });
            }
        });
        SmtpSink { port, messages }
    }

    pub fn received(&self) -> Vec<Received> {
        self.messages.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

async fn serve(
    socket: tokio::net::TcpStream,
    store: Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    let mut current = Received {
        from: String::new(),
        to: vec![],
        data: String::new(),
    };
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink greets you\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO") {
            b"250 sink\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            current.from = line[10..].trim().to_string();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            current.to.push(line[8..].trim().to_string());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            while let Some(l) = lines.next_line().await? {
                if l == "." {
                    break;
                }
                data.push_str(&l);
                data.push('\n');
            }
            current.data = data;
            if let Ok(mut m) = store.lock() {
                m.push(current.clone());
            }
            current = Received {
                from: String::new(),
                to: vec![],
                data: String::new(),
            };
            b"250 OK queued\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"250 OK\r\n"
        };
        write.write_all(reply).await?;
    }
    Ok(())
}

/// Starts another instance of the application on `app`'s database; answers its address.
#[allow(clippy::expect_used)]
pub async fn spawn_instance(app: &TestApp, tweak: impl Fn(&mut Settings)) -> String {
    let mut settings = Settings {
        database_url: app.database_url.clone(),
        bind: "127.0.0.1:0".into(),
        jwt_secret: Some(SecretString::from(JWT_SECRET)),
        web_dir: PathBuf::from("/nonexistent-web-dir"),
        db_max_connections: 8,
        workers: 2,
        ..Settings::default()
    };
    tweak(&mut settings);
    let instance = Application::build(settings)
        .await
        .expect("build another instance");
    let address = format!("http://127.0.0.1:{}", instance.port());
    tokio::spawn(instance.run_until_stopped());
    address
}

/// Polls `check` every 50 ms until it answers `Some`, for at most `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A reminder due `in_ms` milliseconds from now (negative: in the past).
pub fn due_in(in_ms: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::milliseconds(in_ms)).to_rfc3339()
}

/// Creates a personal reminder as `token`; answers its id.
#[allow(clippy::panic)]
pub async fn create_reminder(app: &TestApp, token: &str, title: &str, body: Value) -> i64 {
    let mut body = body;
    body["title"] = json!(title);
    let res = app.post("/reminders").token(token).json(&body).send().await;
    if res.status != StatusCode::CREATED {
        panic!("create reminder failed: {} {}", res.status, res.text);
    }
    res.id()
}

/// An open event stream.
pub struct EventStream {
    res: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// Opens the stream for `token` on `address` through a fresh ticket.
    #[allow(clippy::panic)]
    pub async fn open(app: &TestApp, address: &str, token: &str) -> EventStream {
        let ticket = app
            .post("/notifications/stream-ticket")
            .token(token)
            .send()
            .await;
        if ticket.status != StatusCode::CREATED {
            panic!("stream ticket: {} {}", ticket.status, ticket.text);
        }
        let t = ticket.body["ticket"].as_str().unwrap_or_default();
        let res = app
            .http
            .get(format!("{address}/api/v1/notifications/stream?ticket={t}"))
            .send()
            .await;
        let Ok(res) = res else {
            panic!("stream request failed");
        };
        if res.status() != StatusCode::OK {
            panic!("stream: {}", res.status());
        }
        let mut s = EventStream {
            res,
            buffer: String::new(),
        };
        if s.next_event(5).await.map(|(e, _)| e) != Some("ready".into()) {
            panic!("the stream did not say ready");
        }
        s
    }

    pub fn content_type(&self) -> String {
        self.res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    /// The next named event (comments and retry lines skipped) within `secs` seconds.
    pub async fn next_event(&mut self, secs: u64) -> Option<(String, String)> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(e) = line.strip_prefix("event: ") {
                        event = Some(e.to_string());
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data.push_str(d);
                    }
                }
                if let Some(e) = event {
                    return Some((e, data));
                }
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            match tokio::time::timeout(left, self.res.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }
}
