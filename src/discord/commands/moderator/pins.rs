//! `/pins` (moderators): the guild's pinned topics with channel links.

use crate::discord::{checks, respond, Context, Error, Notice};

/// List this server's pinned topics.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_MESSAGES",
    check = "checks::moderator"
)]
pub async fn pins(ctx: Context<'_>) -> Result<(), Error> {
    let guild = checks::guild(ctx)?.get();
    let pins = ctx.data().db(move |s| s.pins(guild)).await;
    let pins = pins.map_err(Notice::failed_to("Pinned topics", "read the pins"))?;
    if pins.is_empty() {
        let text = "No topics are pinned in this server. Pin one with `/pin`.";
        return Ok(respond::note(ctx, "Pinned topics", text).await?);
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
    Ok(respond::note(ctx, "Pinned topics", &lines.join("\n")).await?)
}
