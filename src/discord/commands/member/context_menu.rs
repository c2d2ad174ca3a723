//! Message context menu "Get boundary guidance".
//!
//! Discord includes the target message's text in the interaction, so this
//! works without the MESSAGE_CONTENT intent. The answer is ephemeral to the
//! member who clicked.

use serenity::all::Message;

use crate::discord::alert::{self, AlertSource};
use crate::discord::{render, respond, Asker, Context, Error};
use crate::policy::{decide_crisis, CrisisFacts, Place};

/// The name shown in Discord's "Apps" menu.
pub const NAME: &str = "Get boundary guidance";

#[poise::command(context_menu_command = "Get boundary guidance")]
pub async fn get_boundary_guidance(ctx: Context<'_>, message: Message) -> Result<(), Error> {
    let data = ctx.data();
    let guild = ctx.guild_id().or(message.guild_id);
    let asker = Asker {
        locale: ctx.locale(),
        guild: guild.map(|g| g.get()),
    };
    let (classification, reply) = data.answer(&message.content, asker).await;
    respond::send_pages(ctx, render::command_replies(&reply, true)).await?;
    super::super::count_reply(ctx, classification.topic()).await;
    super::super::log_answer(
        ctx,
        classification.label(),
        classification.topic().unwrap_or("-"),
        true,
    );
    // A crisis or watch-tier message in a server (not one of the bot's
    // own): alert the moderators about its author.
    let bot_id = ctx.framework().bot_id();
    let tier = CrisisFacts::tier_of(&classification);
    let (Some(guild_id), false) = (guild, message.author.bot || message.author.id == bot_id) else {
        return Ok(());
    };
    let facts = CrisisFacts {
        tier,
        place: Place::ContextMenu,
        in_server: true,
        watch: data.watch_action(Some(guild_id.get())),
    };
    if let Some(level) = decide_crisis(facts).and_then(|d| d.alert) {
        let source = AlertSource {
            guild_id,
            channel_id: message.channel_id,
            user_id: message.author.id,
            link: format!(
                "https://discord.com/channels/{guild_id}/{}/{}",
                message.channel_id, message.id
            ),
            via: "context menu",
            level,
            replied: true,
        };
        alert::send(&ctx.serenity_context().http, data, source).await;
    }
    Ok(())
}
