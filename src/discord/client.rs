//! Building the poise/serenity client exactly as `boundary-bot run` does
//! (the end-to-end tests use it against a fake Discord): intents, framework
//! options, the store, and the start-up setup.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serenity::all::{Client, ClientBuilder, GatewayIntents, GuildId, HttpBuilder};
use tracing::{info, warn};

use super::{commands, events, render, Data, Error, Token};
use crate::config::{Config, DiscordConfig};
use crate::live::LiveEngine;
use crate::store::{CachedStore, PostgresStore, SqliteStore, Store};
use crate::Engine;

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
        on_error: |e| Box::pin(super::errors::on_error(e)),
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
    let store = open_store(config).await?;
    let live = Arc::new(LiveEngine::new(engine, config));
    build_client_with(config, live, store, token).await
}

/// Opens the database: PostgreSQL when `[storage] url` is set, else the
/// SQLite file at `path`. On tokio's blocking pool: the PostgreSQL driver
/// blocks, and must not run on an async worker.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || open_store_blocking(&config))
        .await
        .context("the database opener panicked")?
}

fn open_store_blocking(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(url) = &config.storage.url {
        let store = PostgresStore::open(url)?;
        info!(server = store.server(), "database open (PostgreSQL)");
        return Ok(Arc::new(store));
    }
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
    // On the blocking pool, as every store call (see `open_store`).
    let state = tokio::task::spawn_blocking(move || CachedStore::load(store))
        .await
        .context("the state loader panicked")?
        .context("cannot read the pins, settings and opt-outs from the database")?;
    let state = Arc::new(state);
    let following = state
        .follow_changes()
        .context("cannot follow the database's changes")?;
    info!(
        following,
        "policy state in memory (following other processes' changes: {following})"
    );
    let data = Data::new(live, state, discord);
    let metrics = data.metrics.clone();
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
    if let Some(listen) = config.metrics.listen {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| {
            format!(
                "cannot listen on {listen} ([metrics] listen): pick a free address such as                  \"127.0.0.1:9464\", or remove the key"
            )
        })?;
        info!(%listen, "serving /metrics and /health");
        let shards = client.shard_manager.clone();
        tokio::spawn(super::health::serve(listener, metrics, shards));
    }
    Ok(client)
}

/// Registers the slash commands: in `dev_guild` when set, else globally.
/// A failure is logged, not fatal.
async fn register(
    ctx: &serenity::all::Context,
    commands: &[poise::Command<Data, Error>],
    dev_guild: Option<u64>,
) {
    let result = match dev_guild {
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
    if data.config.shards.runs_shard_zero() {
        register(ctx, &framework.options().commands, data.config.dev_guild).await;
    } else {
        info!("slash commands are registered by the process that runs shard 0");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_content_intent_only_with_auto_replies() {
        let mut c = DiscordConfig::default();
        assert!(!intents(&c).contains(GatewayIntents::MESSAGE_CONTENT));
        assert!(!intents(&c).intersects(GatewayIntents::privileged()));
        c.auto_reply_channels = vec![5];
        assert!(intents(&c).contains(GatewayIntents::MESSAGE_CONTENT));
    }
}
