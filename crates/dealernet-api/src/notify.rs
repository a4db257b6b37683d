//! The background side of notifications, run by every instance:
//!
//! - the **push poller** reads the notifications any instance wrote (rows marked `push`) every
//!   `push_poll_ms` and hands them to this instance's open streams through [`PushHub`], so a
//!   tab connected to instance A sees what instance B wrote;
//! - the **scheduler** claims due reminders every `scheduler_tick_ms` and delivers each once
//!   (the claim is in `dealernet_data::notifications::reminders::deliver_due`); it runs at once
//!   on start, so reminders that fell due while the server was down are delivered then;
//! - the **mailer** sends the e-mail outbox through SMTP (`lettre`), when `smtp_host` is set.
//!
//! [`Workers::stop`] ends the tasks; `Application::run_until_stopped` calls it on shutdown.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use dealernet_data::DatabaseConnection;
use dealernet_data::notifications::{self, Pushed, outbox, reminders};
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::settings::Settings;

/// How far back each poll looks: a notification committed later than this after it was
/// written (a very slow transaction) would not be pushed, but stays in the list.
const PUSH_WINDOW_SECS: i64 = 10;

/// Fans the notifications found by the poller out to this instance's open streams.
pub struct PushHub {
    tx: broadcast::Sender<Arc<Pushed>>,
}

impl Default for PushHub {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(1024);
        PushHub { tx }
    }
}

impl PushHub {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Pushed>> {
        self.tx.subscribe()
    }

    fn send(&self, p: Pushed) {
        // No open stream is not an error.
        let _ = self.tx.send(Arc::new(p));
    }
}

/// The running background tasks of one instance.
pub struct Workers {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Asks every task to stop and waits for them (a delivery in progress finishes first).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for h in self.handles {
            let _ = h.await;
        }
    }
}

/// Starts the push poller and, when `scheduler_enabled`, the scheduler and the mailer.
pub fn start(db: DatabaseConnection, settings: &Settings, hub: Arc<PushHub>) -> Workers {
    let (stop, stop_rx) = watch::channel(false);
    let mut handles = vec![tokio::spawn(push_poller(
        db.clone(),
        hub,
        Duration::from_millis(settings.push_poll_ms.max(50)),
        stop_rx.clone(),
    ))];
    if settings.scheduler_enabled {
        let tick = Duration::from_millis(settings.scheduler_tick_ms.max(50));
        handles.push(tokio::spawn(scheduler(db.clone(), tick, stop_rx.clone())));
        handles.push(tokio::spawn(crate::dealers::offer_timer(
            db.clone(),
            Arc::new(crate::dealers::assignment_config(settings)),
            Duration::from_millis(settings.assignment_tick_ms.max(50)),
            stop_rx.clone(),
        )));
        handles.push(tokio::spawn(mailer(
            db,
            Mailer::from_settings(settings),
            tick,
            stop_rx,
        )));
    }
    Workers { stop, handles }
}

/// Waits for the next tick; `false` when asked to stop.
async fn next_tick(tick: &mut tokio::time::Interval, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return false;
    }
    tokio::select! {
        _ = tick.tick() => true,
        _ = stop.changed() => false,
    }
}

async fn push_poller(
    db: DatabaseConnection,
    hub: Arc<PushHub>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let window = chrono::Duration::seconds(PUSH_WINDOW_SECS);
    // What was written before this instance started is not pushed again.
    let mut seen: HashMap<i64, DateTime<Utc>> = HashMap::new();
    match notifications::pushed_since(&db, Utc::now() - window).await {
        Ok(rows) => seen.extend(
            rows.iter()
                .map(|p| (p.notification.id, p.notification.created_at)),
        ),
        Err(e) => tracing::warn!(error = %e, "push poller: initial read failed"),
    }
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while next_tick(&mut tick, &mut stop).await {
        let since = Utc::now() - window;
        match notifications::pushed_since(&db, since).await {
            Ok(rows) => {
                for p in rows {
                    if seen
                        .insert(p.notification.id, p.notification.created_at)
                        .is_none()
                    {
                        hub.send(p);
                    }
                }
                seen.retain(|_, at| *at >= since);
            }
            Err(e) => tracing::warn!(error = %e, "push poller: read failed"),
        }
    }
}

async fn scheduler(db: DatabaseConnection, every: Duration, mut stop: watch::Receiver<bool>) {
    const BATCH: u64 = 100;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while next_tick(&mut tick, &mut stop).await {
        // Drain everything due now, a batch per transaction.
        loop {
            match reminders::deliver_due(&db, Utc::now(), BATCH).await {
                Ok(ids) => {
                    if !ids.is_empty() {
                        tracing::info!(count = ids.len(), "reminders delivered");
                    }
                    if (ids.len() as u64) < BATCH || *stop.borrow() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reminder delivery failed; retrying next tick");
                    break;
                }
            }
        }
    }
}

/// Sends e-mails through an SMTP server, or nowhere when none is configured.
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: String,
    public_url: String,
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> Self {
        let host = settings.smtp_host.trim();
        let transport = (!host.is_empty()).then(|| {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                .port(settings.smtp_port)
                .timeout(Some(Duration::from_secs(10)))
                .build()
        });
        Mailer {
            transport,
            from: settings.smtp_from.clone(),
            public_url: settings.public_url.trim_end_matches('/').to_string(),
        }
    }

    /// Links in the body are app paths (`/reminders`); give them the public address.
    fn body(&self, body: &str) -> String {
        if self.public_url.is_empty() {
            return body.to_string();
        }
        body.lines()
            .map(|l| {
                if l.starts_with('/') && !l.contains(' ') {
                    format!("{}{l}", self.public_url)
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn send(&self, mail: &outbox::Mail) -> Result<(), String> {
        let Some(transport) = &self.transport else {
            return Err("no SMTP server configured".into());
        };
        let message = Message::builder()
            .from(self.from.parse().map_err(|e| format!("smtp_from: {e}"))?)
            .to(mail.to.parse().map_err(|e| format!("recipient: {e}"))?)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(self.body(&mail.body))
            .map_err(|e| e.to_string())?;
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

async fn mailer(
    db: DatabaseConnection,
    mailer: Mailer,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while next_tick(&mut tick, &mut stop).await {
        let batch = match outbox::claim(&db, Utc::now(), 20).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "mail outbox: claim failed");
                continue;
            }
        };
        for mail in batch {
            let outcome = mailer.send(&mail).await;
            let res = match &outcome {
                Ok(()) => outbox::mark_sent(&db, mail.id).await,
                Err(e) => {
                    let skipped = mailer.transport.is_none();
                    if !skipped {
                        tracing::warn!(mail = mail.id, error = %e, "e-mail not sent");
                    }
                    outbox::mark_failed(&db, &mail, e, skipped).await
                }
            };
            if let Err(e) = res {
                tracing::warn!(mail = mail.id, error = %e, "mail outbox: recording the outcome failed");
            }
        }
    }
}
