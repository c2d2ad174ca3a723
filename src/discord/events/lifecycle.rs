//! Keeps the pin records consistent with Discord:
//!
//! | event | what happens |
//! |---|---|
//! | `MESSAGE_DELETE` of a pinned guidance message | its record is removed |
//! | `CHANNEL_PINS_UPDATE` | the channel's pins are fetched; if the recorded message is no longer pinned (a person unpinned it) the record is removed, otherwise it is kept |
//! | `CHANNEL_DELETE` | the channel's record is removed |
//! | `GUILD_DELETE` (the bot was removed, not an outage) | everything about the guild is removed |
//!
//! Storage errors are logged; the next event or `/unpin` can repair.

use serenity::all::{ChannelId, ChannelPinsUpdateEvent, GuildChannel, MessageId, UnavailableGuild};
use tracing::{debug, info, warn};

use super::super::{Data, Error, FrameworkContext};

pub async fn message_deleted(
    fw: FrameworkContext<'_>,
    channel: ChannelId,
    message: MessageId,
) -> Result<(), Error> {
    remove_record(
        fw.user_data,
        channel,
        message.get(),
        "its message was deleted",
    )
    .await;
    Ok(())
}

/// Removes the pin record of `message` in `channel`, if there is one;
/// `why` goes into the log line.
async fn remove_record(data: &Data, channel: ChannelId, message_id: u64, why: &'static str) {
    let channel_id = channel.get();
    match data
        .db(move |s| s.remove_pin_of_message(channel_id, message_id))
        .await
    {
        Ok(Some(pin)) => info!(
            guild = pin.guild_id,
            channel = pin.channel_id,
            message_id = pin.message_id,
            topic = %pin.topic,
            why,
            "pin record removed"
        ),
        Ok(None) => {}
        Err(e) => warn!(channel = %channel, error = %e, why, "could not remove the pin record"),
    }
}

pub async fn pins_updated(
    fw: FrameworkContext<'_>,
    event: &ChannelPinsUpdateEvent,
) -> Result<(), Error> {
    let data = fw.user_data;
    let channel = event.channel_id;
    let channel_id = channel.get();
    let pin = match data.db(move |s| s.pin(channel_id)).await {
        Ok(Some(pin)) => pin,
        Ok(None) => return Ok(()),
        Err(e) => {
            warn!(channel = %channel, error = %e, "could not read the pin record");
            return Ok(());
        }
    };
    let pinned = match channel.pins(&fw.serenity_context.http).await {
        Ok(pinned) => pinned,
        Err(e) => {
            warn!(channel = %channel, error = %e, "could not fetch the channel's pins; record kept");
            return Ok(());
        }
    };
    if pinned.iter().any(|m| m.id.get() == pin.message_id) {
        debug!(channel = %channel, "pins changed; the guidance is still pinned");
        return Ok(());
    }
    remove_record(data, channel, pin.message_id, "a person unpinned it").await;
    Ok(())
}

pub async fn channel_deleted(
    fw: FrameworkContext<'_>,
    channel: &GuildChannel,
) -> Result<(), Error> {
    let channel_id = channel.id.get();
    match fw.user_data.db(move |s| s.remove_pin(channel_id)).await {
        Ok(Some(pin)) => info!(
            guild = pin.guild_id,
            channel = pin.channel_id,
            topic = %pin.topic,
            "channel deleted: pin record removed"
        ),
        Ok(None) => {}
        Err(e) => warn!(channel = %channel.id, error = %e, "could not remove the pin record"),
    }
    Ok(())
}

pub async fn guild_deleted(
    fw: FrameworkContext<'_>,
    guild: &UnavailableGuild,
) -> Result<(), Error> {
    if guild.unavailable {
        info!(guild = %guild.id, "guild unavailable (outage): records kept");
        return Ok(());
    }
    let guild_id = guild.id.get();
    match fw.user_data.db(move |s| s.remove_guild(guild_id)).await {
        Ok(pins) => info!(guild = %guild.id, pins, "removed from the guild: its records removed"),
        Err(e) => warn!(guild = %guild.id, error = %e, "could not remove the guild's records"),
    }
    Ok(())
}
