//! Slash commands and the message context menu, one file each.
//!
//! Every command answers with a [`Reply`](crate::reply::Reply) rendered by
//! [`render`](super::render), ephemerally unless stated otherwise.

pub mod ask;
pub mod context_menu;
pub mod help;
pub mod resources;
pub mod topic;
pub mod topics;

use poise::CreateReply;
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
    ]
}

/// Sends the pages of a reply: the first as the interaction response, the
/// rest as follow-ups.
pub(crate) async fn send(ctx: Context<'_>, replies: Vec<CreateReply>) -> Result<(), Error> {
    for reply in replies {
        ctx.send(reply).await?;
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
