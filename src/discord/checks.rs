//! Who may run which command: [`PermissionLevel`] and the poise checks
//! `moderator` and `operator` (`#[poise::command(check = "…")]`).
//!
//! Discord hides the moderator commands from members without Manage
//! Messages (`default_member_permissions`), but a guild's owner can
//! override that per role or channel, so the bot checks again: Manage
//! Messages (or Administrator) in the channel, or a role listed in
//! `[discord] moderator_roles`. A check that fails returns a
//! [`Notice`], which `on_error` renders as a polite ephemeral note; nothing
//! changes.

use serenity::all::{GuildId, Member, Permissions};

use super::{Context, Error, Notice};
use crate::config::DiscordConfig;

/// What a command needs of the member who runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionLevel {
    /// Manage Messages (or Administrator) in the channel, or a moderator role.
    Moderator,
    /// The application's owner, or an administrator of the home guild
    /// (`[discord] dev_guild`) when invoked there.
    Operator,
}

/// The poise check for the moderator commands.
pub async fn moderator(ctx: Context<'_>) -> Result<bool, Error> {
    require(ctx, PermissionLevel::Moderator)
}

/// The poise check for `/reload`.
pub async fn operator(ctx: Context<'_>) -> Result<bool, Error> {
    require(ctx, PermissionLevel::Operator)
}

fn require(ctx: Context<'_>, level: PermissionLevel) -> Result<bool, Error> {
    if allows(ctx, level) {
        return Ok(true);
    }
    let moderator_in_dm = level == PermissionLevel::Moderator && ctx.guild_id().is_none();
    Err(if moderator_in_dm {
        Notice::GuildOnly
    } else {
        Notice::NotPermitted(level)
    }
    .into())
}

/// Whether the invoker of `ctx` has `level`.
pub fn allows(ctx: Context<'_>, level: PermissionLevel) -> bool {
    let data = ctx.data();
    match level {
        PermissionLevel::Moderator => {
            ctx.guild_id().is_some() && member(&ctx).is_some_and(|m| is_moderator(m, &data.config))
        }
        PermissionLevel::Operator => {
            let owner = data.owners.contains(&ctx.author().id);
            let home_admin = data.config.dev_guild.is_some_and(|home| {
                ctx.guild_id().map(|g| g.get()) == Some(home)
                    && member(&ctx)
                        .and_then(|m| m.permissions)
                        .is_some_and(|p| p.contains(Permissions::ADMINISTRATOR))
            });
            owner || home_admin
        }
    }
}

/// The guild a guild-only command runs in.
pub fn guild(ctx: Context<'_>) -> Result<GuildId, Notice> {
    ctx.guild_id().ok_or(Notice::GuildOnly)
}

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
