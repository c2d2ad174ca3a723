//! `/unpin [channel]` (moderators): unpins the guidance message, removes
//! the record, and says what was removed.

use serenity::all::{ChannelId, MessageId};
use tracing::{info, warn};

use crate::discord::{checks, respond, Context, Error, Notice};

/// Unpin a channel's topic guidance.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_MESSAGES",
    check = "checks::moderator"
)]
pub async fn unpin(
    ctx: Context<'_>,
    #[description = "The channel (default: this one)"]
    #[channel_types("Text")]
    channel: Option<ChannelId>,
) -> Result<(), Error> {
    let data = ctx.data();
    let guild = checks::guild(ctx)?;
    let channel = channel.unwrap_or(ctx.channel_id());
    let channel_id = channel.get();
    let pin = data.db(move |s| s.pin(channel_id)).await;
    let pin = pin.map_err(Notice::failed_to("Could not unpin", "read the pins"))?;
    let Some(pin) = pin.filter(|p| p.guild_id == guild.get()) else {
        let text = format!("No topic is pinned in <#{channel}>. Nothing was changed.");
        return Err(Notice::unchanged("Nothing to unpin", text).into());
    };
    crate::discord::respond::defer_ephemeral(ctx).await?;
    let message_id = pin.message_id;
    let removed = data
        .db(move |s| s.remove_pin_of_message(channel_id, message_id))
        .await;
    removed.map_err(Notice::failed_to("Could not unpin", "remove the pin"))?;
    let engine = data.engine();
    let title = engine
        .library()
        .topic(&pin.topic)
        .map_or(pin.topic.clone(), |t| t.title.clone());
    let http = &ctx.serenity_context().http;
    let text = match channel.unpin(http, MessageId::new(pin.message_id)).await {
        Ok(()) => format!("Unpinned **{title}** from <#{channel}> and removed it from my records."),
        Err(e) => {
            warn!(channel = %channel, error = %e, "/unpin: could not unpin the message");
            format!(
                "Removed **{title}** in <#{channel}> from my records, but I couldn't unpin its \
                 message (it may be gone already); unpin it by hand if it is still there."
            )
        }
    };
    info!(
        guild = %guild,
        channel = %channel,
        user = %ctx.author().id,
        topic = %pin.topic,
        "topic unpinned"
    );
    Ok(respond::note(ctx, "Unpinned", &text).await?)
}
