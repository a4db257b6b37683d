//! Resolved actors, kept per instance while the database tells this instance about every change
//! that could alter one.
//!
//! Resolving the actor behind an access token is a database round trip on every request: the
//! user may have been blocked, its session revoked, its roles or its node changed since the
//! token was signed. On PostgreSQL, triggers on `users`, `user_roles`, `auth_sessions`, `roles`
//! and `org_nodes` send a notification on [`CHANNEL`] when the transaction that changes them
//! commits, and [`follow_changes`] forgets the actors concerned as the notifications arrive. The
//! instance that made a change also forgets at once, before it answers (the API does this after
//! every successful change to identity resources), so its own next request never sees the old
//! actor; other instances forget as soon as the notification reaches them.
//!
//! The cache is trusted only while the feed is connected. When the listening connection drops,
//! everything cached is forgotten and nothing is served from the cache until it listens again.
//! An actor is also never served past [`TTL`] nor past its session's expiry, which bounds the
//! damage of a notification lost in a way the connection could not notice. On SQLite there is
//! no feed, so the cache stays empty and every request resolves its actor (a local read).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use dealernet_domain::policy::Actor;

/// The notification channel the identity triggers send on.
pub const CHANNEL: &str = "dealernet_actors";

/// The longest an actor is served from the cache without reading it again.
pub const TTL: Duration = Duration::from_secs(10);

/// More users than this and the cache starts over.
const MAX_ENTRIES: usize = 100_000;

struct Entry {
    actor: Arc<Actor>,
    session_expires: DateTime<Utc>,
    cached_at: Instant,
}

/// Per-instance cache of actors by (user, session). See the module documentation.
#[derive(Default)]
pub struct ActorCache {
    /// By user, then by session: a look-up borrows the session id, and forgetting a user is
    /// one removal.
    entries: RwLock<HashMap<i64, HashMap<Box<str>, Entry>>>,
    /// Bumped by every invalidation, so that an actor read before one is not stored after it.
    epoch: AtomicU64,
    /// Whether the change feed is connected; nothing is served or stored otherwise.
    live: AtomicBool,
}

impl ActorCache {
    /// The cached actor of this user and session, if it may still be trusted.
    pub fn get(&self, user_id: i64, session_id: &str) -> Option<Arc<Actor>> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.read().ok()?;
        let e = entries.get(&user_id)?.get(session_id)?;
        (e.cached_at.elapsed() < TTL && e.session_expires > Utc::now()).then(|| e.actor.clone())
    }

    /// The invalidation count; read it before resolving an actor and pass it to [`Self::put`].
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Keeps an actor resolved when the epoch was `epoch`, unless something was invalidated
    /// since (the actor may then be stale) or the feed is not connected.
    pub fn put(
        &self,
        epoch: u64,
        user_id: i64,
        session_id: &str,
        actor: Arc<Actor>,
        session_expires: DateTime<Utc>,
    ) {
        if !self.live.load(Ordering::Acquire) {
            return;
        }
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        // Checked under the write lock: invalidations bump the epoch while holding it.
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.entry(user_id).or_default().insert(
            Box::from(session_id),
            Entry {
                actor,
                session_expires,
                cached_at: Instant::now(),
            },
        );
    }

    /// Forgets every cached actor of one user.
    pub fn forget_user(&self, user_id: i64) {
        self.invalidate(|entries| {
            entries.remove(&user_id);
        });
    }

    /// Forgets every cached actor (roles or the tree changed).
    pub fn forget_all(&self) {
        self.invalidate(HashMap::clear);
    }

    fn invalidate(&self, f: impl FnOnce(&mut HashMap<i64, HashMap<Box<str>, Entry>>)) {
        match self.entries.write() {
            Ok(mut entries) => {
                self.epoch.fetch_add(1, Ordering::AcqRel);
                f(&mut entries);
            }
            Err(poisoned) => {
                // A panic while holding the lock: drop everything and stop trusting the cache.
                self.live.store(false, Ordering::Release);
                self.epoch.fetch_add(1, Ordering::AcqRel);
                poisoned.into_inner().clear();
            }
        }
    }

    /// Applies one notification payload: `u:<id>` for one user, anything else for everyone.
    pub fn apply(&self, payload: &str) {
        match payload
            .strip_prefix("u:")
            .and_then(|id| id.parse::<i64>().ok())
        {
            Some(id) => self.forget_user(id),
            None => self.forget_all(),
        }
    }

    /// The feed is connected: start from nothing and trust what is read from now on.
    fn go_live(&self) {
        self.forget_all();
        self.live.store(true, Ordering::Release);
    }

    /// The feed is gone: stop serving and storing, and forget what is held.
    fn go_dark(&self) {
        self.live.store(false, Ordering::Release);
        self.forget_all();
    }

    /// Whether actors are currently served from the cache.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }
}

/// Follows the identity change feed of a PostgreSQL database for as long as the task runs,
/// reconnecting after a lost connection. Returns `None` (and the cache stays unused) for any
/// other database.
pub fn follow_changes(url: &str, cache: Arc<ActorCache>) -> Option<tokio::task::JoinHandle<()>> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return None;
    }
    tokio::runtime::Handle::try_current().ok()?;
    let url = url.to_owned();
    Some(tokio::spawn(async move {
        use sea_orm::sqlx::postgres::PgListener;
        /// However the task ends (aborted with its server, say), the cache stops being trusted.
        struct DarkOnDrop(Arc<ActorCache>);
        impl Drop for DarkOnDrop {
            fn drop(&mut self) {
                self.0.go_dark();
            }
        }
        let cache = DarkOnDrop(cache);
        let cache = &cache.0;
        loop {
            let listener = async {
                let mut l = PgListener::connect(&url).await?;
                l.listen(CHANNEL).await?;
                Ok::<_, sea_orm::sqlx::Error>(l)
            }
            .await;
            let mut listener = match listener {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot follow identity changes; actors are read on every request");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            cache.go_live();
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => cache.apply(n.payload()),
                    // The connection was lost and has been re-established: whatever was sent in
                    // between is gone, so forget everything.
                    Ok(None) => cache.forget_all(),
                    Err(e) => {
                        tracing::warn!(error = %e, "identity change feed lost; reconnecting");
                        break;
                    }
                }
            }
            cache.go_dark();
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dealernet_domain::access::EffectiveAccess;
    use dealernet_domain::org::OrgPath;

    fn actor(user_id: i64) -> Arc<Actor> {
        Arc::new(Actor {
            user_id: Some(user_id),
            api_key_id: None,
            name: "A".into(),
            org_id: 1,
            org_path: OrgPath::root(1),
            access_level: 8,
            access: EffectiveAccess::from_roles(std::iter::empty()),
        })
    }

    fn later() -> DateTime<Utc> {
        Utc::now() + chrono::Duration::minutes(5)
    }

    #[test]
    fn nothing_is_served_or_kept_without_the_feed() {
        let c = ActorCache::default();
        c.put(c.epoch(), 1, "s", actor(1), later());
        assert!(c.get(1, "s").is_none());
        c.go_live();
        assert!(
            c.get(1, "s").is_none(),
            "what was offered while dark is not kept"
        );
        c.put(c.epoch(), 1, "s", actor(1), later());
        assert_eq!(c.get(1, "s").and_then(|a| a.user_id), Some(1));
        c.go_dark();
        assert!(c.get(1, "s").is_none());
    }

    #[test]
    fn an_actor_read_before_an_invalidation_is_not_stored_after_it() {
        let c = ActorCache::default();
        c.go_live();
        let epoch = c.epoch();
        c.apply("u:7");
        c.put(epoch, 1, "s", actor(1), later());
        assert!(c.get(1, "s").is_none());
    }

    #[test]
    fn notifications_forget_one_user_or_everyone() {
        let c = ActorCache::default();
        c.go_live();
        for u in [1, 2] {
            c.put(c.epoch(), u, "s", actor(u), later());
        }
        c.apply("u:1");
        assert!(c.get(1, "s").is_none());
        assert!(c.get(2, "s").is_some());
        c.apply("*");
        assert!(c.get(2, "s").is_none());
    }

    #[test]
    fn sessions_are_separate_and_expired_ones_are_not_served() {
        let c = ActorCache::default();
        c.go_live();
        c.put(c.epoch(), 1, "a", actor(1), later());
        c.put(
            c.epoch(),
            1,
            "b",
            actor(1),
            Utc::now() - chrono::Duration::seconds(1),
        );
        assert!(c.get(1, "a").is_some());
        assert!(c.get(1, "b").is_none());
        assert!(c.get(1, "c").is_none());
    }
}
