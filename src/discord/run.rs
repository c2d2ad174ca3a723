//! `boundary-bot run`: connect, reload on SIGHUP, shut down on SIGINT or
//! SIGTERM, and report why the gateway connection ended.

use std::sync::Arc;

use anyhow::Context as _;
use serenity::all::ShardManager;
use tracing::{error, info, warn};

use super::{build_client_with, gateway_end_error, intents, logging, open_store, Token};
use crate::config::Config;
use crate::live::LiveEngine;
use crate::shards::Shards;
use crate::Engine;

/// Connects the shards `[discord] shards` names: all that Discord
/// recommends for "auto", else this process's range (serenity's shard
/// manager runs each shard as its own task).
pub async fn start(client: &mut serenity::Client, shards: Shards) -> serenity::Result<()> {
    match shards {
        Shards::Auto => client.start_autosharded().await,
        // serenity's range end is inclusive here, like `last`.
        Shards::Range(r) => client.start_shard_range(r.first..r.last, r.total).await,
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
        shards = ?discord.shards,
        auto_reply_channels = discord.auto_reply_channels.len(),
        crisis_alerts = discord.crisis_alert_channel.is_some(),
        "starting"
    );
    let store = open_store(config).await?;
    let live = Arc::new(LiveEngine::new(engine, config));
    let mut client = build_client_with(config, live.clone(), store, token).await?;
    let signals = tokio::spawn(shutdown_on_signal(client.shard_manager.clone()));
    let hangups = tokio::spawn(reload_on_hangup(live));
    let result = start(&mut client, discord.shards).await;
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

/// `boundary-bot run`: logging, token, a runtime, and [`run`].
pub fn run_blocking(config: Config, engine: Engine) -> anyhow::Result<()> {
    // Logging first, so a warning about the token file is seen.
    logging::init()?;
    let token = Token::from_env_or_config(&config.discord)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run(&config, Arc::new(engine), &token))
}
