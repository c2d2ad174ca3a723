//! Slash commands and the message context menu, one file each.
//!
//! Every command answers with a [`Reply`](crate::reply::Reply) rendered by
//! [`render`](super::render), ephemerally unless stated otherwise. The
//! moderator commands carry `check = "checks::moderator"` (and `/reload`
//! `checks::operator`); a refusal or failure is a [`Notice`](super::Notice)
//! returned with `?`, which `on_error` renders.

pub mod member;
pub mod moderator;
pub mod operator;

use member::{ask, context_menu, help, optout, resources, topic, topics};
use moderator::{pin, pins, settings, stats, unpin};
use operator::reload;

use tracing::info;

use super::{Context, Data, Error};

/// Every command, in registration order.
pub fn all() -> Vec<poise::Command<Data, Error>> {
    vec![
        ask::ask(),
        topic::topic(),
        topics::topics(),
        resources::resources(),
        help::help(),
        context_menu::get_boundary_guidance(),
        optout::optout(),
        optout::optin(),
        pin::pin(),
        unpin::unpin(),
        pins::pins(),
        stats::stats(),
        settings::settings(),
        reload::reload(),
    ]
}

/// Counts a topic reply (guild, topic and day only; nothing about the member).
pub(crate) async fn count_reply(ctx: Context<'_>, topic: Option<&str>) {
    if let Some(topic) = topic {
        let guild = ctx.guild_id().map_or(0, |g| g.get());
        ctx.data()
            .count_reply(guild, topic, &[crate::store::Count::Reply])
            .await;
    }
}

/// One log line per answered command: ids, outcome and topic only.
pub(crate) fn log_answer(ctx: Context<'_>, outcome: &str, topic: &str, ephemeral: bool) {
    let metrics = &ctx.data().metrics;
    metrics.reply("command", "sent");
    if outcome == "crisis" {
        metrics.crisis_replies.inc();
    }
    info!(
        command = %ctx.command().name,
        guild = ?ctx.guild_id().map(|g| g.get()),
        channel = %ctx.channel_id(),
        user = %ctx.author().id,
        outcome,
        topic,
        ephemeral,
        "command answered"
    );
}
