//! The Discord adapter: a thin layer over [`Engine`] built on poise 0.7 and
//! serenity 0.12.
//!
//! It translates Discord events into core calls and core replies into
//! Discord messages: handlers gather the facts, the core's
//! [`crate::policy`] decides *whether* and *where* to speak, the core's
//! [`Engine`] *what* to say, and the handlers perform it.
//!
//! * [`build_client`] builds the client exactly as `boundary-bot run` does;
//!   the end-to-end tests use it against a fake Discord on 127.0.0.1.
//! * [`commands`]: `/ask`, `/topic`, `/topics`, `/resources`, `/help`, the
//!   "Get boundary guidance" message context menu, and the moderator
//!   commands `/pin`, `/unpin`, `/pins`, `/stats`, `/settings`, `/reload`,
//!   plus `/optout` and `/optin` for members.
//! * [`events`]: DMs, @mentions, auto-reply and pinned channels, button
//!   presses (did you mean, feedback), and pin/channel/guild lifecycle.
//! * [`permissions`]: who is a moderator (checked in the bot as well as by
//!   Discord's `default_member_permissions`).
//! * [`render`]: `Reply` → embeds, with `allowed_mentions` on every message.
//! * [`respond`]: interaction responses, with one bounded retry on 429/5xx.
//! * [`alert`], [`logging`]; cooldowns and rate limits are the core's
//!   [`crate::policy::limiter`].

pub mod alert;
pub mod commands;
pub mod events;
pub mod logging;
pub mod permissions;
pub mod render;
pub mod respond;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serenity::all::{
    Client, ClientBuilder, GatewayIntents, GuildId, HttpBuilder, ShardManager, UserId,
};
use tracing::{error, info, warn};

use crate::classify::{Classification, CrisisTier};
use crate::config::{Config, DiscordConfig};
use crate::live::LiveEngine;
use crate::policy::{limiter, CrisisFacts};
use crate::regions::RegionHints;
use crate::reply::{self, Reader, Reply, Surface};
use crate::store::{
    CachedStore, Count, GuildSettings, SqliteStore, Store, StoreError, StoreResult, WatchAction,
};
use crate::Engine;

pub type Error = anyhow::Error;
pub type Context<'a> = poise::Context<'a, Data, Error>;
pub type FrameworkContext<'a> = poise::FrameworkContext<'a, Data, Error>;

/// The environment variable holding the bot token.
pub const TOKEN_ENV: &str = "DISCORD_TOKEN";

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
    feedback_seen: Mutex<HashMap<(u64, u64, u8), Instant>>,
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
            feedback_seen: Mutex::new(HashMap::new()),
            db_slots: tokio::sync::Semaphore::new(DB_CALLS_IN_FLIGHT),
            model_slots: tokio::sync::Semaphore::new(MODEL_CALLS_IN_FLIGHT),
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
            |e: &dyn fmt::Display| StoreError::Failed(format!("the database call stopped: {e}"));
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
    pub fn forget_feedback(&self, message: u64, user: u64, kind: u8) {
        let mut seen = self.feedback_seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.remove(&(message, user, kind));
    }

    /// Records a feedback press; false if this member already pressed this
    /// kind of button on this message.
    pub fn first_feedback(&self, message: u64, user: u64, kind: u8) -> bool {
        let now = Instant::now();
        let mut seen = self.feedback_seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= limiter::MAX_ENTRIES {
            seen.retain(|_, t| now.saturating_duration_since(*t) < FEEDBACK_MEMORY);
            if seen.len() >= limiter::MAX_ENTRIES {
                seen.clear();
            }
        }
        match seen.get(&(message, user, kind)) {
            Some(t) if now.saturating_duration_since(*t) < FEEDBACK_MEMORY => false,
            _ => {
                seen.insert((message, user, kind), now);
                true
            }
        }
    }
}

/// The bot token. Its `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token (surrounding whitespace and a `Bot ` prefix removed).
    pub fn new(token: &str) -> Self {
        let t = token.trim();
        Self(t.strip_prefix("Bot ").unwrap_or(t).trim().to_string())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `DISCORD_TOKEN`, else the config's `token_file`. Errors say how to
    /// get a token and never contain one.
    pub fn from_env_or_config(config: &DiscordConfig) -> anyhow::Result<Self> {
        if let Some(t) = std::env::var_os(TOKEN_ENV) {
            let t = t.to_string_lossy();
            if !t.trim().is_empty() {
                return Ok(Self::new(&t));
            }
        }
        if let Some(path) = &config.token_file {
            return Self::from_file(path);
        }
        anyhow::bail!("{}", NO_TOKEN_HELP)
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        if let Some(mode) = loose_permissions(path) {
            warn!(
                file = %path.display(),
                mode = format!("{mode:o}"),
                "the token file can be read by other users; restrict it with `chmod 600`"
            );
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the token file {} named by [discord] token_file ({})",
                path.display(),
                e.kind()
            )
        })?;
        if text.trim().is_empty() {
            anyhow::bail!(
                "the token file {} is empty; paste the bot token into it, or set {TOKEN_ENV}",
                path.display()
            );
        }
        Ok(Self::new(&text))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// For `boundary-bot check`: where `run` would take the token from, and
/// whether that works, in one line that never contains the token. A
/// `token_file` that cannot be read or is empty is an error (naming the
/// file); no token at all is fine for the console and said so.
pub fn token_status(config: &DiscordConfig) -> anyhow::Result<String> {
    let in_env =
        std::env::var_os(TOKEN_ENV).is_some_and(|t| !t.to_string_lossy().trim().is_empty());
    if in_env {
        return Ok(format!("token: set in {TOKEN_ENV} (not shown)"));
    }
    let Some(path) = &config.token_file else {
        return Ok(format!(
            "token: none; `run` needs {TOKEN_ENV} or [discord] token_file (the console needs none)"
        ));
    };
    Token::from_file(path)?;
    let mut line = format!("token: read from {} (not shown)", path.display());
    if let Some(mode) = loose_permissions(path) {
        line.push_str(&format!(
            "; warning: other users can read it (mode {mode:o}), restrict it with `chmod 600`"
        ));
    }
    Ok(line)
}

/// The permission bits of `path` if users other than its owner may read
/// or write it (Unix only), so `run` can warn about a token file.
pub fn loose_permissions(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// How to get a token, for the error when none is configured.
pub const NO_TOKEN_HELP: &str = "no Discord bot token. Set the DISCORD_TOKEN environment variable \
(DISCORD_TOKEN=... boundary-bot run) or name a file holding it with `token_file` under [discord] \
in the config. To get a token: https://discord.com/developers/applications > New Application > \
Bot > Reset Token. To try the bot without Discord, run `boundary-bot chat`.";

/// Gateway intents: non-privileged by default; MESSAGE_CONTENT only when
/// auto-replies in guild channels are configured (or `message_content`
/// asks for it, for pinned channels).
pub fn intents(config: &DiscordConfig) -> GatewayIntents {
    let mut intents =
        GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES;
    if !config.auto_reply_channels.is_empty() || config.message_content {
        intents |= GatewayIntents::MESSAGE_CONTENT;
    }
    intents
}

/// The poise framework options: commands, event handler, error handler,
/// and no pings by default.
fn framework_options() -> poise::FrameworkOptions<Data, Error> {
    poise::FrameworkOptions {
        commands: commands::all(),
        on_error: |e| Box::pin(on_error(e)),
        event_handler: |fw, event| Box::pin(events::handle(fw, event)),
        allowed_mentions: Some(render::no_mentions()),
        prefix_options: poise::PrefixFrameworkOptions {
            // No prefix commands: a mention is a question, not a command.
            mention_as_prefix: false,
            ..Default::default()
        },
        initialize_owners: false,
        ..Default::default()
    }
}

/// Builds the client the way `boundary-bot run` does.
///
/// With `[discord] api_base`, all REST traffic goes to that base URL (a
/// Discord HTTP proxy, or a test double) with serenity's own rate limiter
/// off: the proxy does the rate limiting, and serenity's limiter would
/// ignore the base URL. The gateway URL then comes from that base's
/// `GET /gateway`; if that fails this returns an error rather than let
/// serenity fall back to Discord's default gateway behind the proxy's back.
/// Commands are registered on READY: to `dev_guild` when set, else globally.
///
/// The database at `[storage] path` is opened (and migrated) first; an
/// unwritable or damaged file is an error here, before connecting.
pub async fn build_client(
    config: &Config,
    engine: Arc<Engine>,
    token: &Token,
) -> anyhow::Result<Client> {
    let store = open_store(config)?;
    let live = Arc::new(LiveEngine::new(engine, config));
    build_client_with(config, live, store, token).await
}

/// Opens the database named by `[storage] path`.
pub fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = SqliteStore::open(&config.storage.path)?;
    info!(path = %config.storage.path.display(), "database open");
    Ok(Arc::new(store))
}

/// [`build_client`] with the content and the store given.
pub async fn build_client_with(
    config: &Config,
    live: Arc<LiveEngine>,
    store: Arc<dyn Store>,
    token: &Token,
) -> anyhow::Result<Client> {
    let discord = &config.discord;
    // serenity's default client has no timeout: a hung request would hold
    // its handler (and leak the task) forever.
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(Duration::from_secs(discord.request_timeout_seconds))
        .build()
        .context("cannot build the HTTP client")?;
    let mut http = HttpBuilder::new(token.expose())
        .client(client)
        .default_allowed_mentions(render::no_mentions());
    if let Some(base) = &discord.api_base {
        http = http
            .proxy(base.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    let state = CachedStore::load(store)
        .context("cannot read the pins, settings and opt-outs from the database")?;
    let data = Data::new(live, Arc::new(state), discord);
    let framework = poise::Framework::builder()
        .options(framework_options())
        .setup(move |ctx, ready, framework| Box::pin(setup(ctx, ready, framework, data)))
        .build();
    // `ClientBuilder::token` would replace the Http (and drop the proxy).
    let client = ClientBuilder::new_with_http(http.build(), intents(discord))
        .framework(framework)
        .await
        .context("cannot build the Discord client")?;
    if let Some(base) = &discord.api_base {
        if *client.ws_url.lock().await == SERENITY_FALLBACK_GATEWAY {
            anyhow::bail!(
                "GET {}/api/v10/gateway failed (see the warning above); check [discord] api_base \
                 or remove it to talk to Discord directly",
                base.trim_end_matches('/')
            );
        }
    }
    Ok(client)
}

/// Where serenity connects when `GET /gateway` fails.
const SERENITY_FALLBACK_GATEWAY: &str = "wss://gateway.discord.gg";

/// Runs on the first READY: registers the commands, then hands poise the
/// shared data. A registration failure is logged, not fatal.
async fn setup(
    ctx: &serenity::all::Context,
    ready: &serenity::all::Ready,
    framework: &poise::Framework<Data, Error>,
    mut data: Data,
) -> Result<Data, Error> {
    info!(
        bot = %ready.user.id,
        application = %ready.application.id,
        guilds = ready.guilds.len(),
        "connected to Discord"
    );
    let commands = &framework.options().commands;
    let result = match data.config.dev_guild {
        Some(guild) => poise::builtins::register_in_guild(ctx, commands, GuildId::new(guild))
            .await
            .map(|()| format!("guild {guild}")),
        None => poise::builtins::register_globally(ctx, commands)
            .await
            .map(|()| "global".to_string()),
    };
    match result {
        Ok(scope) => info!(count = commands.len(), scope, "slash commands registered"),
        Err(e) => warn!(error = %e, "could not register slash commands"),
    }
    match ctx.http.get_current_application_info().await {
        Ok(app) => {
            if let Some(owner) = app.owner {
                data.owners.push(owner.id);
            }
            if let Some(team) = app.team {
                data.owners.extend(team.members.iter().map(|m| m.user.id));
            }
        }
        Err(e) => warn!(error = %e, "could not look up the application's owners (for /reload)"),
    }
    Ok(data)
}

/// Logs errors by kind and ids only, never arguments or events (they may
/// hold message text), and tells the member politely when a command failed.
async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    use poise::FrameworkError as E;
    match error {
        E::Setup { error, .. } => error!(error = %error, "setup failed"),
        E::EventHandler { error, event, .. } => {
            error!(event = event.snake_case_name(), error = %error, "event handler failed")
        }
        E::Command { error, ctx, .. } => {
            error!(
                command = %ctx.command().name,
                user = %ctx.author().id,
                error = %error,
                "command failed"
            );
            // When Discord itself refused the answer (after one retry), an
            // apology through the same interaction would fail the same way.
            if !respond::is_discord_trouble(&error) {
                apologise(ctx).await;
            }
        }
        E::ArgumentParse { ctx, .. } => {
            warn!(command = %ctx.command().name, user = %ctx.author().id, "bad command arguments");
            apologise(ctx).await;
        }
        E::UnknownInteraction { interaction, .. } => {
            warn!(interaction = %interaction.id, "unknown command (stale registration?)")
        }
        other => match other.ctx() {
            Some(ctx) => {
                warn!(command = %ctx.command().name, user = %ctx.author().id, "command not run")
            }
            None => warn!("framework error"),
        },
    }
}

async fn apologise(ctx: Context<'_>) {
    let engine = ctx.data().engine();
    let reply = reply::help(engine.library(), Surface::Discord);
    let note = "Sorry, something went wrong on my side. Here is how I can help:";
    for r in render::command_replies_with_note(&reply, note, true) {
        if respond::send(ctx, r).await.is_err() {
            break;
        }
    }
}

/// Stops every shard on SIGINT or SIGTERM, so `Client::start` returns.
pub async fn shutdown_on_signal(shard_manager: Arc<ShardManager>) {
    let signal = wait_for_signal().await;
    info!(signal, "shutting down");
    shard_manager.shutdown_all().await;
}

async fn wait_for_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

/// Reloads the content on every SIGHUP; on error the old content stays.
pub async fn reload_on_hangup(live: Arc<LiveEngine>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hangup) = signal(SignalKind::hangup()) else {
            warn!("cannot listen for SIGHUP; use /reload");
            return;
        };
        while hangup.recv().await.is_some() {
            match live.reload() {
                Ok(done) => info!(
                    signal = "SIGHUP",
                    topics = done.topics,
                    responses_dir = %done.responses_dir.display(),
                    "content reloaded"
                ),
                Err(e) => error!(
                    signal = "SIGHUP",
                    error = %e,
                    "reload failed; the old content stays live"
                ),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = live;
}

/// Connects and serves until SIGINT/SIGTERM or a fatal gateway error.
pub async fn run(config: &Config, engine: Arc<Engine>, token: &Token) -> anyhow::Result<()> {
    let discord = &config.discord;
    info!(
        intents = ?intents(discord),
        api_base = discord.api_base.as_deref().unwrap_or("https://discord.com"),
        dev_guild = ?discord.dev_guild,
        auto_reply_channels = discord.auto_reply_channels.len(),
        crisis_alerts = discord.crisis_alert_channel.is_some(),
        "starting"
    );
    let store = open_store(config)?;
    let live = Arc::new(LiveEngine::new(engine, config));
    let mut client = build_client_with(config, live.clone(), store, token).await?;
    let signals = tokio::spawn(shutdown_on_signal(client.shard_manager.clone()));
    let hangups = tokio::spawn(reload_on_hangup(live));
    let result = client.start().await;
    signals.abort();
    hangups.abort();
    match result {
        Ok(()) => {
            info!("stopped");
            Ok(())
        }
        Err(e) => {
            let err = gateway_end_error(&e, discord);
            error!(error = %err, "Discord connection ended");
            Err(err)
        }
    }
}

/// What to tell the operator when the gateway connection ends with an
/// error: for refused intents (close 4014/4013) and a rejected token
/// (4004), what to change, since retrying cannot help.
pub fn gateway_end_error(e: &serenity::Error, config: &DiscordConfig) -> anyhow::Error {
    use serenity::all::GatewayError as G;
    match e {
        serenity::Error::Gateway(G::DisallowedGatewayIntents) => {
            let why = if config.auto_reply_channels.is_empty() {
                "`message_content = true` under [discord]"
            } else {
                "`auto_reply_channels` under [discord]"
            };
            anyhow::anyhow!(
                "Discord refused the MESSAGE_CONTENT intent (gateway close 4014, disallowed \
                 intents); the bot asks for it because of {why}. Either enable it: \
                 https://discord.com/developers/applications > your application > Bot > \
                 Privileged Gateway Intents > Message Content Intent; or disable auto-replies: \
                 remove `auto_reply_channels` and set `message_content = false` under [discord] \
                 (slash commands, DMs and @mentions work without it). Not retrying."
            )
        }
        serenity::Error::Gateway(G::InvalidGatewayIntents) => anyhow::anyhow!(
            "Discord rejected the gateway intents as invalid (gateway close 4013); this is a bug \
             in boundary-bot, please report it. Not retrying."
        ),
        serenity::Error::Gateway(G::InvalidAuthentication) => anyhow::anyhow!(
            "Discord rejected the bot token (gateway close 4004). Reset the token at \
             https://discord.com/developers/applications > your application > Bot and update \
             {TOKEN_ENV} or the token file. Not retrying."
        ),
        other => anyhow::anyhow!("Discord connection ended: {other}"),
    }
}

/// `boundary-bot run`: logging, token, a runtime, and [`run`].
pub fn run_blocking(config: Config, engine: Engine) -> anyhow::Result<()> {
    // Logging first, so a warning about the token file is seen.
    logging::init()?;
    let token = Token::from_env_or_config(&config.discord)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run(&config, Arc::new(engine), &token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn token_files_readable_by_others_are_flagged() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "secret").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(loose_permissions(&file), Some(0o644));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(loose_permissions(&file), None);
        // The token still loads either way; the warning is advice.
        assert_eq!(Token::from_file(&file).unwrap().expose(), "secret");
    }

    #[test]
    fn disallowed_intents_say_what_to_do() {
        use serenity::all::GatewayError as G;
        let mut c = DiscordConfig {
            auto_reply_channels: vec![5],
            ..DiscordConfig::default()
        };
        let e = serenity::Error::Gateway(G::DisallowedGatewayIntents);
        let msg = gateway_end_error(&e, &c).to_string();
        for needle in [
            "4014",
            "MESSAGE_CONTENT",
            "auto_reply_channels",
            "Not retrying",
        ] {
            assert!(msg.contains(needle), "{needle}: {msg}");
        }
        c.auto_reply_channels.clear();
        c.message_content = true;
        let msg = gateway_end_error(&e, &c).to_string();
        assert!(msg.contains("`message_content = true`"), "{msg}");
        let e = serenity::Error::Gateway(G::InvalidAuthentication);
        assert!(gateway_end_error(&e, &c).to_string().contains("token"));
    }

    #[test]
    fn token_is_never_shown() {
        let t = Token::new("  Bot abc.def.ghi\n");
        assert_eq!(t.expose(), "abc.def.ghi");
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
    }

    #[test]
    fn message_content_intent_only_with_auto_replies() {
        let mut c = DiscordConfig::default();
        assert!(!intents(&c).contains(GatewayIntents::MESSAGE_CONTENT));
        assert!(!intents(&c).intersects(GatewayIntents::privileged()));
        c.auto_reply_channels = vec![5];
        assert!(intents(&c).contains(GatewayIntents::MESSAGE_CONTENT));
    }

    #[test]
    fn token_file_errors_do_not_leak() {
        let dir = std::env::temp_dir().join(format!("bb-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "  \n").unwrap();
        let err = Token::from_file(&file).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
        let err = Token::from_file(&dir.join("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read"), "{err}");
        std::fs::write(&file, "secret.token.x\n").unwrap();
        assert_eq!(Token::from_file(&file).unwrap().expose(), "secret.token.x");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
