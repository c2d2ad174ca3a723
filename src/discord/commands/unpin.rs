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
    let pin = match data.store.pin(channel.get()) {
        Ok(pin) => pin.filter(|p| p.guild_id == guild.get()),
        Err(e) => {
            warn!(channel = %channel, error = %e, "/unpin: could not read");
            return super::note(
                ctx,
                "Could not unpin",
                "I couldn't read the pins (a database error). Nothing was changed; please tell \
                 the bot's operator.",
            )
            .await;
        }
    };
    let Some(pin) = pin else {
        let text = format!("No topic is pinned in <#{channel}>. Nothing was changed.");
        return super::note(ctx, "Nothing to unpin", &text).await;
    };
    ctx.defer_ephemeral().await?;
    if let Err(e) = data
        .store
        .remove_pin_of_message(pin.channel_id, pin.message_id)
    {
        warn!(channel = %channel, error = %e, "/unpin: could not remove the record");
        return super::note(
            ctx,
            "Could not unpin",
            "I couldn't remove the pin (a database error). Nothing was changed; please tell the \
             bot's operator.",
        )
        .await;
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
