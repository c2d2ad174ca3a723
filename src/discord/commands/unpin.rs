//! `/unpin [channel]` (moderators): unpins the guidance message, removes
//! the record, and says what was removed.

use serenity::all::{ChannelId, MessageId};
use tracing::{info, warn};

use crate::discord::{permissions, Context, Error};

/// Unpin a channel's topic guidance.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_MESSAGES"
)]
pub async fn unpin(
    ctx: Context<'_>,
    #[description = "The channel (default: this one)"]
    #[channel_types("Text")]
    channel: Option<ChannelId>,
) -> Result<(), Error> {
    if !permissions::require_moderator(ctx).await? {
        return Ok(());
    }
    let data = ctx.data();
    let guild = ctx.guild_id().expect("moderators are in a guild");
    let channel = channel.unwrap_or(ctx.channel_id());
    let channel_id = channel.get();
    let pin = match data.db(move |s| s.pin(channel_id)).await {
        Ok(pin) => pin.filter(|p| p.guild_id == guild.get()),
        Err(e) => {
            warn!(channel = %channel, error = %e, "/unpin: could not read");
            let text = super::not_done("read the pins", &e);
            return super::note(ctx, "Could not unpin", &text).await;
        }
    };
    let Some(pin) = pin else {
        let text = format!("No topic is pinned in <#{channel}>. Nothing was changed.");
        return super::note(ctx, "Nothing to unpin", &text).await;
    };
    crate::discord::respond::defer_ephemeral(ctx).await?;
    let message_id = pin.message_id;
    let removed = data
        .db(move |s| s.remove_pin_of_message(channel_id, message_id))
        .await;
    if let Err(e) = removed {
        warn!(channel = %channel, error = %e, "/unpin: could not remove the record");
        let text = super::not_done("remove the pin", &e);
        return super::note(ctx, "Could not unpin", &text).await;
    }
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
    super::note(ctx, "Unpinned", &text).await
}
