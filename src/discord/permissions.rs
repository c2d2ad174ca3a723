//! Who may use the moderator commands and the "Delete" button.
//!
//! Discord hides the moderator commands from members without Manage
//! Messages (`default_member_permissions`), but a guild's owner can
//! override that per role or channel, so the bot checks again: Manage
//! Messages (or Administrator) in the channel, or a role listed in
//! `[discord] moderator_roles`. A refused member gets a polite ephemeral
//! note and nothing changes.

use serenity::all::{Member, Permissions, UserId};
use tracing::info;

use super::{render, Context, Error};
use crate::config::DiscordConfig;
use crate::reply;

pub const NOT_A_MODERATOR: &str = "Sorry, only moderators can do that here: members with the \
Manage Messages permission or a moderator role. Nothing was changed.";

pub const NOT_AN_OPERATOR: &str = "Sorry, only the bot's owner or an administrator of its home \
server can reload its content. Nothing was changed.";

pub const GUILD_ONLY: &str = "This works in a server channel, not in direct messages.";

/// Whether `member` (as sent with an interaction, with its channel
/// permissions) is a moderator.
pub fn is_moderator(member: &Member, config: &DiscordConfig) -> bool {
    let by_permission = member.permissions.is_some_and(|p| {
        p.contains(Permissions::MANAGE_MESSAGES) || p.contains(Permissions::ADMINISTRATOR)
    });
    let by_role = member
        .roles
        .iter()
        .any(|r| config.moderator_roles.contains(&r.get()));
    by_permission || by_role
}

/// The invoking member of a slash command, if invoked in a guild.
pub fn member<'a>(ctx: &'a Context<'_>) -> Option<&'a Member> {
    match ctx {
        poise::Context::Application(a) => a.interaction.member.as_deref(),
        poise::Context::Prefix(_) => None,
    }
}

/// Sends a polite ephemeral note (with the referral notice).
pub async fn say(ctx: Context<'_>, title: &str, text: &str) -> Result<(), Error> {
    let engine = ctx.data().engine();
    let reply = reply::note(engine.library(), title, text);
    super::commands::send(ctx, render::command_replies(&reply, true)).await
}

/// True when the invoker is a moderator in a guild; otherwise answers with
/// a polite refusal and returns false.
pub async fn require_moderator(ctx: Context<'_>) -> Result<bool, Error> {
    let allowed = ctx.guild_id().is_some()
        && member(&ctx).is_some_and(|m| is_moderator(m, &ctx.data().config));
    if !allowed {
        refuse(ctx, "not a moderator").await?;
        let text = if ctx.guild_id().is_some() {
            NOT_A_MODERATOR
        } else {
            GUILD_ONLY
        };
        say(ctx, "Moderators only", text).await?;
    }
    Ok(allowed)
}

/// True for the application's owners, and for administrators of the home
/// guild (`dev_guild`) when invoked there.
pub async fn require_operator(ctx: Context<'_>) -> Result<bool, Error> {
    let data = ctx.data();
    let author: UserId = ctx.author().id;
    let owner = data.owners.contains(&author);
    let home_admin = data.config.dev_guild.is_some_and(|home| {
        ctx.guild_id().map(|g| g.get()) == Some(home)
            && member(&ctx).is_some_and(|m| {
                m.permissions
                    .is_some_and(|p| p.contains(Permissions::ADMINISTRATOR))
            })
    });
    let allowed = owner || home_admin;
    if !allowed {
        refuse(ctx, "not an operator").await?;
        say(ctx, "Not allowed", NOT_AN_OPERATOR).await?;
    }
    Ok(allowed)
}

async fn refuse(ctx: Context<'_>, why: &str) -> Result<(), Error> {
    info!(
        command = %ctx.command().name,
        guild = ?ctx.guild_id().map(|g| g.get()),
        channel = %ctx.channel_id(),
        user = %ctx.author().id,
        reason = why,
        "command refused"
    );
    Ok(())
}
