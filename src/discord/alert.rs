//! The optional moderator alert for a crisis message, or a watch-tier
//! ("possible crisis") one.
//!
//! It names the channel, the member (a mention that does not ping) and
//! links to the message, and carries the crisis resources so moderators
//! can offer them. It **never** copies the message text. Direct messages
//! never cause an alert: they are private. Only `crisis_alert_ping_role`,
//! when configured, is allowed to ping.

use std::time::Instant;

use crate::metrics::AlertLabels;
use serenity::all::{ChannelId, CreateAllowedMentions, CreateMessage, GuildId, RoleId, UserId};
use tracing::{info, warn};

use super::{render, Data};
use crate::config::DiscordConfig;
use crate::content::Library;
pub use crate::policy::AlertLevel;
use crate::reply;

/// Where a possible crisis message was seen.
#[derive(Debug, Clone)]
pub struct AlertSource {
    pub guild_id: GuildId,
    pub channel_id: ChannelId,
    /// The member who wrote the message.
    pub user_id: UserId,
    /// A jump link to the message, or to the channel when there is no
    /// message to link (a public `/ask`).
    pub link: String,
    /// How the bot came across it: "auto-reply channel", "mention",
    /// "context menu", "/ask".
    pub via: &'static str,
    pub level: AlertLevel,
    /// Whether the member was sent the crisis lines (the watch tier posts
    /// nothing in a public channel nobody asked in).
    pub replied: bool,
}

/// The alert message. Built only from ids, the link and `responses/`.
pub fn alert_message(
    library: &Library,
    config: &DiscordConfig,
    source: &AlertSource,
) -> CreateMessage {
    let ping = config
        .crisis_alert_ping_role
        .map(|r| format!("<@&{r}> "))
        .unwrap_or_default();
    let heading = match source.level {
        AlertLevel::Crisis => "**Crisis message**",
        AlertLevel::Possible => {
            "**Possible crisis** (watch tier: it may be a crisis, or about someone else's)"
        }
    };
    let action = if source.replied {
        "The member was sent crisis lines."
    } else {
        "The bot did not reply in the channel."
    };
    let content = format!(
        "{ping}{heading} from <@{user}> in <#{channel}> (found via {via}): {link}\n\
         {action} The message text is not copied here; please check in with them.",
        user = source.user_id,
        channel = source.channel_id,
        via = source.via,
        link = source.link,
    );
    let mentions = match config.crisis_alert_ping_role {
        Some(role) => CreateAllowedMentions::new()
            .roles([RoleId::new(role)])
            .replied_user(false),
        None => render::no_mentions(),
    };
    let resources = reply::resources(library, Default::default());
    let embed = render::pages(&resources)
        .into_iter()
        .next()
        .expect("at least one page");
    CreateMessage::new()
        .content(render::truncate(&content, render::limits::CONTENT))
        .embed(embed)
        .allowed_mentions(mentions)
}

/// Posts the alert to `crisis_alert_channel`, if configured, at most once
/// per crisis cooldown per member. Failures are logged, never raised: the
/// member's own crisis reply matters more.
pub async fn send(http: &serenity::all::Http, data: &Data, source: AlertSource) {
    let Some(channel) = data.config.crisis_alert_channel else {
        return;
    };
    if data
        .cooldowns
        .try_alert(source.user_id.get(), Instant::now())
        .is_err()
    {
        info!(
            guild = %source.guild_id,
            channel = %source.channel_id,
            user = %source.user_id,
            "crisis alert suppressed (alert cooldown)"
        );
        return;
    }
    let message = alert_message(data.engine().library(), &data.config, &source);
    match ChannelId::new(channel).send_message(http, message).await {
        Ok(sent) => {
            let level = AlertLabels {
                level: source.level.as_str(),
            };
            data.metrics.alerts.get_or_create(&level).inc();
            info!(
                guild = %source.guild_id,
                channel = %source.channel_id,
                user = %source.user_id,
                alert_channel = channel,
                alert_message = %sent.id,
                via = source.via,
                level = ?source.level,
                "crisis alert posted"
            )
        }
        Err(e) => {
            super::respond::count_failure(data, &e);
            warn!(
                guild = %source.guild_id,
                channel = %source.channel_id,
                user = %source.user_id,
                alert_channel = channel,
                error = %e,
                "could not post crisis alert"
            )
        }
    }
}
