//! Message context menu "Get boundary guidance".
//!
//! Discord includes the target message's text in the interaction, so this
//! works without the MESSAGE_CONTENT intent. The answer is ephemeral to the
//! member who clicked.

use serenity::all::Message;

use crate::classify::Outcome;
use crate::discord::alert::{self, AlertSource};
use crate::discord::{render, Context, Error};

/// The name shown in Discord's "Apps" menu.
pub const NAME: &str = "Get boundary guidance";

#[poise::command(context_menu_command = "Get boundary guidance")]
pub async fn get_boundary_guidance(ctx: Context<'_>, message: Message) -> Result<(), Error> {
    let data = ctx.data();
    let (classification, reply) = data.answer(&message.content).await;
    super::send(ctx, render::command_replies(&reply, true)).await?;
    super::count_reply(ctx, classification.topic()).await;
    super::log_answer(
        ctx,
        classification.label(),
        classification.topic().unwrap_or("-"),
        true,
    );
    // A crisis message in a server (not one of the bot's own): alert the
    // moderators about its author.
    let bot_id = ctx.framework().bot_id();
    if classification.outcome == Outcome::Crisis
        && !message.author.bot
        && message.author.id != bot_id
    {
        if let Some(guild_id) = ctx.guild_id().or(message.guild_id) {
            let source = AlertSource {
                guild_id,
                channel_id: message.channel_id,
                user_id: message.author.id,
                link: format!(
                    "https://discord.com/channels/{guild_id}/{}/{}",
                    message.channel_id, message.id
                ),
                via: "context menu",
            };
            alert::send(&ctx.serenity_context().http, data, source).await;
        }
    }
    Ok(())
}
