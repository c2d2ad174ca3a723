//! `/pins` (moderators): the guild's pinned topics with channel links.

use tracing::warn;

use crate::discord::{permissions, Context, Error};

/// List this server's pinned topics.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_MESSAGES"
)]
pub async fn pins(ctx: Context<'_>) -> Result<(), Error> {
    if !permissions::require_moderator(ctx).await? {
        return Ok(());
    }
    let guild = ctx.guild_id().expect("moderators are in a guild");
    let guild_id = guild.get();
    let pins = match ctx.data().db(move |s| s.pins(guild_id)).await {
        Ok(pins) => pins,
        Err(e) => {
            warn!(guild = %guild, error = %e, "/pins: could not read");
            let text = super::not_done("read the pins", &e);
            return super::note(ctx, "Pinned topics", &text).await;
        }
    };
    if pins.is_empty() {
        return super::note(
            ctx,
            "Pinned topics",
            "No topics are pinned in this server. Pin one with `/pin`.",
        )
        .await;
    }
    let engine = ctx.data().engine();
    let lines: Vec<String> = pins
        .iter()
        .map(|p| {
            let title = engine
                .library()
                .topic(&p.topic)
                .map_or(p.topic.as_str(), |t| t.title.as_str());
            format!(
                "- <#{}>: **{title}** (`{}`), pinned <t:{}:R> ([message](https://discord.com/channels/{}/{}/{}))",
                p.channel_id, p.topic, p.pinned_at, p.guild_id, p.channel_id, p.message_id
            )
        })
        .collect();
    super::note(ctx, "Pinned topics", &lines.join("\n")).await
}
