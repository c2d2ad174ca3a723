//! [`Data`]: what every handler shares (the live engine, the config, the
//! cooldowns, the store and its in-memory state), with the offloads that
//! keep the async workers free: classification and store calls.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serenity::all::{GatewayIntents, UserId};
use tracing::warn;

use super::intents;
use crate::classify::{Classification, CrisisTier};
use crate::config::DiscordConfig;
use crate::live::LiveEngine;
use crate::metrics::Metrics;
use crate::policy::expiring::Expiring;
use crate::policy::{limiter, CrisisFacts};
use crate::regions::RegionHints;
use crate::reply::{Reader, Reply, Surface};
use crate::store::{
    CachedStore, Count, GuildSettings, Store, StoreError, StoreResult, WatchAction,
};
use crate::Engine;

/// What every handler shares.
pub struct Data {
    /// The content, swappable by `/reload` and SIGHUP; take a snapshot
    /// with [`Data::engine`].
    pub live: Arc<LiveEngine>,
    pub config: DiscordConfig,
    pub cooldowns: limiter::Cooldowns,
    /// Pins, settings, opt-outs and feedback counts: `state` written
    /// through to the database (reads of pins, settings and opt-outs come
    /// from memory; see [`CachedStore`]).
    pub store: Arc<dyn Store>,
    /// The same store, for the reply policy's reads, which never wait.
    pub state: Arc<CachedStore>,
    /// Whether the MESSAGE_CONTENT intent is requested.
    pub message_content: bool,
    /// The application's owners (from Discord at start-up), for `/reload`.
    pub owners: Vec<UserId>,
    /// Feedback presses already counted, per (message, member, kind), so a
    /// member cannot inflate a count; in memory only, expiring.
    feedback_seen: Mutex<Expiring<FeedbackPress>>,
    /// Member messages being worked on now (see [`Data::enter_message`]).
    in_flight: std::sync::atomic::AtomicUsize,
    /// Replies shed so far (for the log line).
    shed: std::sync::atomic::AtomicU64,
    /// Counters for `[metrics] listen` (never content).
    pub metrics: Arc<Metrics>,
    /// Permits for store calls in flight (see [`Data::db`]).
    db_slots: tokio::sync::Semaphore,
    /// Permits for semantic-stage classifications in flight (see [`Data::answer`]).
    model_slots: tokio::sync::Semaphore,
}

/// Semantic-stage classifications running at once on the blocking pool:
/// one per core; the model's matrix products are CPU-bound.
const MODEL_CALLS_IN_FLIGHT: usize = 2;

/// Store calls running at once on the blocking pool. The SQLite store has
/// one connection, so more would only park threads on its mutex; the rest
/// wait here, asynchronously, without a thread each.
const DB_CALLS_IN_FLIGHT: usize = 2;

/// How long a feedback press is remembered for de-duplication.
const FEEDBACK_MEMORY: Duration = Duration::from_secs(24 * 60 * 60);

/// A member message in flight (see [`Data::enter_message`]).
pub struct InFlight<'a> {
    data: &'a Data,
    /// Whether more messages than `max_messages_in_flight` were in flight
    /// when this one arrived.
    pub crowded: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.data.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One member's press of one kind of feedback button on one reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FeedbackPress {
    pub message: u64,
    pub user: u64,
    pub kind: u8,
}

/// Who asked, for the order of crisis lines: the interaction's locale
/// (none for gateway messages) and the server, if any.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asker<'a> {
    pub locale: Option<&'a str>,
    pub guild: Option<u64>,
}

impl Data {
    pub fn new(live: Arc<LiveEngine>, state: Arc<CachedStore>, config: &DiscordConfig) -> Self {
        Self {
            live,
            cooldowns: limiter::Cooldowns::new(config),
            config: config.clone(),
            store: state.clone(),
            state,
            message_content: intents(config).contains(GatewayIntents::MESSAGE_CONTENT),
            owners: Vec::new(),
            feedback_seen: Mutex::new(Expiring::default()),
            db_slots: tokio::sync::Semaphore::new(DB_CALLS_IN_FLIGHT),
            model_slots: tokio::sync::Semaphore::new(MODEL_CALLS_IN_FLIGHT),
            metrics: Arc::new(Metrics::new()),
            in_flight: Default::default(),
            shed: Default::default(),
        }
    }

    /// Counts a member message as in flight until the guard drops; the
    /// guard says whether the bot is over `max_messages_in_flight`.
    pub fn enter_message(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        InFlight {
            data: self,
            crowded: now > self.config.max_messages_in_flight,
        }
    }

    /// Counts a shed reply (and logs the running total now and then; never
    /// anything about the message).
    pub fn note_shed(&self) {
        self.metrics.shed.inc();
        let n = self.shed.fetch_add(1, Ordering::SeqCst) + 1;
        if n == 1 || n.is_multiple_of(100) {
            warn!(
                shed_so_far = n,
                "over max_messages_in_flight: shedding unprompted topic replies"
            );
        }
    }

    /// Classifies `text` and composes the reply. The first stage runs here
    /// (microseconds); with a semantic stage loaded, classification moves
    /// to tokio's blocking pool, so the embedding model never holds up the
    /// async workers. A reply with crisis lines reads the server's region
    /// (`/settings region`) to order them; `locale` comes first.
    pub async fn answer(&self, text: &str, asker: Asker<'_>) -> (Classification, Reply) {
        let engine = self.engine();
        let classification = self.classify(&engine, text).await;
        let lines = CrisisFacts::tier_of(&classification) != CrisisTier::Calm;
        let server = match asker.guild {
            Some(g) if lines => self.settings(g).region,
            _ => None,
        };
        let reader = Reader {
            surface: Surface::Discord,
            regions: RegionHints {
                locale: asker.locale,
                server: server.as_deref(),
                default: None,
            },
        };
        let reply = engine.compose(&classification, reader);
        (classification, reply)
    }

    /// The first stage runs here (microseconds); the semantic stage, when
    /// the first cannot decide, on tokio's blocking pool, at most
    /// `model_slots` at once. If that task fails, the first stage's verdict
    /// stands.
    async fn classify(&self, engine: &Arc<Engine>, text: &str) -> Classification {
        let first = engine.classifier().first_pass(text);
        if !first.needs_semantic {
            return first.run.classification;
        }
        let fallback = first.run.classification.clone();
        let _slot = self.model_slots.acquire().await;
        let (engine, text) = (engine.clone(), text.to_string());
        tokio::task::spawn_blocking(move || engine.classifier().finish(first, &text).classification)
            .await
            .unwrap_or(fallback)
    }

    /// What a watch-tier message does in `guild` (`/settings watch`).
    pub fn watch_action(&self, guild: Option<u64>) -> WatchAction {
        guild
            .and_then(|g| self.settings(g).watch)
            .unwrap_or_default()
    }

    /// The server's settings (the config's defaults where unset), from
    /// memory.
    pub fn settings(&self, guild: u64) -> GuildSettings {
        self.state.settings_of(guild)
    }

    /// The content now live.
    pub fn engine(&self) -> Arc<Engine> {
        self.live.get()
    }

    /// Runs a [`Store`] call on tokio's blocking pool. A call may wait for a
    /// locked database (up to the store's busy timeout), and that wait must
    /// never hold up other events on the async workers. At most
    /// [`DB_CALLS_IN_FLIGHT`] run at once, so a burst of events cannot grow
    /// the blocking pool to hundreds of threads.
    pub async fn db<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dyn Store) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let stopped =
            |e: &dyn fmt::Display| StoreError::failed(format!("the database call stopped: {e}"));
        let _slot = self.db_slots.acquire().await.map_err(|e| stopped(&e))?;
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || call(store.as_ref()))
            .await
            .unwrap_or_else(|e| Err(stopped(&e)))
    }

    /// Adds one to each of `what` for `topic` in `guild` (0 for DMs) today.
    pub async fn count(&self, guild: u64, topic: &str, what: &'static [Count]) -> StoreResult<()> {
        let (topic, now) = (topic.to_string(), crate::store::now());
        self.db(move |s| {
            what.iter()
                .try_for_each(|w| s.count(guild, &topic, *w, now))
        })
        .await
    }

    /// Counts a topic reply sent (guild, topic and day only; nothing about
    /// the member); a failure is logged, never shown.
    pub async fn count_reply(&self, guild: u64, topic: &str, what: &'static [Count]) {
        if let Err(e) = self.count(guild, topic, what).await {
            warn!(error = %e, "could not count a reply");
        }
    }

    /// Forgets a feedback press whose count could not be saved, so the
    /// member may press again.
    pub fn forget_feedback(&self, press: FeedbackPress) {
        self.feedback_seen().remove(&press);
    }

    /// Records a feedback press; false if this member already pressed this
    /// kind of button on this message within a day.
    pub fn first_feedback(&self, press: FeedbackPress) -> bool {
        self.feedback_seen()
            .first(press, Instant::now(), FEEDBACK_MEMORY)
    }

    fn feedback_seen(&self) -> std::sync::MutexGuard<'_, Expiring<FeedbackPress>> {
        self.feedback_seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}
