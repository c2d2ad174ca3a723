//! Errors: poise's `on_error` (a polite answer, never internals; a
//! [`Notice`] rendered as its note) and the gateway close codes turned into
//! what an operator can fix.

use tracing::{error, info, warn};

use super::{render, respond, Context, Data, Error, Notice, TOKEN_ENV};
use crate::config::DiscordConfig;
use crate::reply::{self, Surface};

/// Logs errors by kind and ids only, never arguments or events (they may
/// hold message text), and tells the member politely when a command failed.
pub(super) async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    use poise::FrameworkError as E;
    match error {
        E::Setup { error, .. } => error!(error = %error, "setup failed"),
        E::EventHandler { error, event, .. } => {
            error!(event = event.snake_case_name(), error = %error, "event handler failed")
        }
        E::Command { error, ctx, .. }
        | E::CommandCheckFailed {
            error: Some(error),
            ctx,
            ..
        } => match error.downcast::<Notice>() {
            Ok(notice) => tell(ctx, &notice).await,
            Err(error) => command_failed(ctx, error).await,
        },
        E::GuildOnly { ctx, .. } => tell(ctx, &Notice::GuildOnly).await,
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

/// Logs a notice (ids and reason; for a database failure, the error) and
/// sends it as an ephemeral note.
async fn tell(ctx: Context<'_>, notice: &Notice) {
    let command = &ctx.command().name;
    let guild = ctx.guild_id().map(|g| g.get());
    let (channel, user) = (ctx.channel_id(), ctx.author().id);
    match notice {
        Notice::NotDone { doing, error, .. } => {
            warn!(%command, ?guild, %channel, %user, error = %error, "command not done: could not {doing}")
        }
        n if n.is_refusal() => {
            info!(%command, ?guild, %channel, %user, reason = %n, "command refused")
        }
        n => info!(%command, ?guild, %channel, %user, reason = %n, "command not done"),
    }
    if let Err(e) = respond::note(ctx, notice.title(), &notice.text()).await {
        warn!(%command, %user, error = %e, "could not send a notice");
    }
}

async fn command_failed(ctx: Context<'_>, error: Error) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
