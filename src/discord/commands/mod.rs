//! Slash commands and the message context menu, one file each.
//!
//! Every command answers with a [`Reply`](crate::reply::Reply) rendered by
//! [`render`](super::render), ephemerally unless stated otherwise.

pub mod ask;
pub mod context_menu;
pub mod help;
pub mod optout;
pub mod pin;
pub mod pins;
pub mod reload;
pub mod resources;
pub mod settings;
pub mod stats;
pub mod topic;
pub mod topics;
pub mod unpin;

use poise::CreateReply;
use tracing::info;

use super::{Context, Data, Error};
use crate::store::{StoreError, StoreErrorKind};

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

/// What a member or moderator is told when `doing` ("save the settings")
/// failed in the database: nothing was changed, and what to do next
/// (wait a minute when it was busy, else tell the operator).
pub(crate) fn not_done(doing: &str, e: &StoreError) -> String {
    match e.kind() {
        StoreErrorKind::Busy => format!(
            "I couldn't {doing}: my database is busy just now. Nothing was changed; please try \
             again in a minute."
        ),
        _ => format!(
            "I couldn't {doing} (a database error). Nothing was changed; please tell the bot's \
             operator."
        ),
    }
}

/// A moderator confirmation or error: a note with the referral notice,
/// ephemeral.
pub(crate) async fn note(ctx: Context<'_>, title: &str, text: &str) -> Result<(), Error> {
    super::permissions::say(ctx, title, text).await
}

/// Sends the pages of a reply: the first as the interaction response, the
/// rest as follow-ups.
pub(crate) async fn send(ctx: Context<'_>, replies: Vec<CreateReply>) -> Result<(), Error> {
    for reply in replies {
        super::respond::send(ctx, reply).await?;
    }
    Ok(())
}

/// One log line per answered command: ids, outcome and topic only.
pub(crate) fn log_answer(ctx: Context<'_>, outcome: &str, topic: &str, ephemeral: bool) {
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
