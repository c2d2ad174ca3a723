//! `/settings` (moderators): per-server settings that survive restarts.
//!
//! * `/settings show`
//! * `/settings auto-reply state:on|off`: unprompted replies in auto-reply
//!   and pinned channels (crisis replies are never switched off);
//! * `/settings cooldown minutes:<0..=1440>`: minutes before a member gets
//!   an unprompted reply on the same topic again;
//! * `/settings region code:<US|UK|…>`: whose crisis lines come first for
//!   members whose locale names no region;
//! * `/settings watch action:alert|reply|off`: what a watch-tier ("possible
//!   crisis") message does in a channel where nobody asked the bot.

use tracing::info;

use crate::discord::{checks, respond, Context, Error, Notice};
use crate::store::{GuildSettings, WatchAction};

#[derive(Debug, Clone, Copy, PartialEq, Eq, poise::ChoiceParameter)]
pub enum OnOff {
    #[name = "on"]
    On,
    #[name = "off"]
    Off,
}

/// Server settings for the bot (moderators).
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_MESSAGES",
    check = "checks::moderator",
    subcommands("show", "auto_reply", "cooldown", "region", "watch"),
    subcommand_required
)]
pub async fn settings(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Show this server's settings.
#[poise::command(slash_command, guild_only)]
pub async fn show(ctx: Context<'_>) -> Result<(), Error> {
    let settings = read(ctx).await?;
    let text = describe(ctx, &settings);
    Ok(respond::note(ctx, "Settings", &text).await?)
}

/// Turn unprompted replies on or off in this server (crisis replies stay on).
#[poise::command(slash_command, guild_only, rename = "auto-reply")]
pub async fn auto_reply(
    ctx: Context<'_>,
    #[description = "on or off"] state: OnOff,
) -> Result<(), Error> {
    let mut settings = read(ctx).await?;
    settings.auto_reply = Some(state == OnOff::On);
    write(ctx, settings).await
}

/// Minutes before a member gets an unprompted reply on the same topic again.
#[poise::command(slash_command, guild_only)]
pub async fn cooldown(
    ctx: Context<'_>,
    #[description = "Minutes (0 to 1440)"]
    #[min = 0]
    #[max = 1440]
    minutes: u32,
) -> Result<(), Error> {
    if minutes > 1440 {
        let text = "Please give a number of minutes from 0 to 1440. Nothing was changed.";
        return Err(Notice::unchanged("Settings", text).into());
    }
    let mut settings = read(ctx).await?;
    settings.topic_cooldown_minutes = Some(u64::from(minutes));
    write(ctx, settings).await
}

/// Whose crisis lines come first here (a code such as US, UK, AU).
#[poise::command(slash_command, guild_only)]
pub async fn region(
    ctx: Context<'_>,
    #[description = "Region code: US, CA, UK, IE, AU, NZ, DE, FR, NL or BR"]
    #[max_length = 8]
    code: String,
) -> Result<(), Error> {
    let engine = ctx.data().engine();
    let regions = &engine.library().crisis.regions;
    let Some(found) = crate::regions::find(regions, &code) else {
        let codes: Vec<&str> = regions.iter().map(|r| r.code.as_str()).collect();
        let text = format!(
            "That isn't a region the bot lists. Please use one of: {}. Nothing was changed.",
            codes.join(", ")
        );
        return Err(Notice::unchanged("Settings", text).into());
    };
    let mut settings = read(ctx).await?;
    settings.region = Some(found.code.clone());
    write(ctx, settings).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, poise::ChoiceParameter)]
pub enum WatchChoice {
    #[name = "alert"]
    Alert,
    #[name = "reply"]
    Reply,
    #[name = "off"]
    Off,
}

/// What a "possible crisis" message does in auto-reply and pinned channels.
#[poise::command(slash_command, guild_only)]
pub async fn watch(
    ctx: Context<'_>,
    #[description = "alert: quiet alert only (default); reply: lines in the channel and alert; off: nothing"]
    action: WatchChoice,
) -> Result<(), Error> {
    let mut settings = read(ctx).await?;
    settings.watch = Some(match action {
        WatchChoice::Alert => WatchAction::Alert,
        WatchChoice::Reply => WatchAction::Reply,
        WatchChoice::Off => WatchAction::Off,
    });
    write(ctx, settings).await
}

fn describe(ctx: Context<'_>, s: &GuildSettings) -> String {
    let config = &ctx.data().config;
    let auto = match s.auto_reply {
        Some(true) | None => "on",
        Some(false) => "off (crisis replies still go out)",
    };
    let minutes = s
        .topic_cooldown_minutes
        .unwrap_or(config.topic_cooldown_minutes);
    let default = |unset: bool| if unset { " (the default)" } else { "" };
    let region = s
        .region
        .as_deref()
        .unwrap_or("none: the config's default region");
    let watch = s.watch.unwrap_or_default();
    format!(
        "- Auto-replies: {auto}\n- Topic cooldown: {minutes} minutes{}\n- Crisis-line region: {region}\n- Possible-crisis messages in auto-reply channels: {}{}",
        default(s.topic_cooldown_minutes.is_none()),
        watch.as_str(),
        default(s.watch.is_none()),
    )
}

async fn read(ctx: Context<'_>) -> Result<GuildSettings, Notice> {
    let guild = checks::guild(ctx)?.get();
    let read = ctx.data().db(move |s| s.settings(guild)).await;
    read.map_err(Notice::failed_to("Settings", "read the settings"))
}

async fn write(ctx: Context<'_>, settings: GuildSettings) -> Result<(), Error> {
    let guild = checks::guild(ctx)?.get();
    let saved = settings.clone();
    let write = ctx.data().db(move |s| s.put_settings(guild, &saved)).await;
    write.map_err(Notice::failed_to("Settings", "save the settings"))?;
    info!(
        guild,
        user = %ctx.author().id,
        auto_reply = ?settings.auto_reply,
        topic_cooldown_minutes = ?settings.topic_cooldown_minutes,
        region = ?settings.region,
        watch = ?settings.watch.map(WatchAction::as_str),
        "settings changed"
    );
    let text = format!("Saved.\n{}", describe(ctx, &settings));
    Ok(respond::note(ctx, "Settings", &text).await?)
}
