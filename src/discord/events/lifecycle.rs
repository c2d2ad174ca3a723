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

use super::super::{Error, FrameworkContext};

pub fn message_deleted(
    fw: FrameworkContext<'_>,
    channel: ChannelId,
    message: MessageId,
) -> Result<(), Error> {
    match fw
        .user_data
        .store
        .remove_pin_of_message(channel.get(), message.get())
    {
        Ok(Some(pin)) => info!(
            guild = pin.guild_id,
            channel = pin.channel_id,
            message_id = pin.message_id,
            topic = %pin.topic,
            "pinned guidance deleted: pin record removed"
        ),
        Ok(None) => {}
        Err(e) => warn!(channel = %channel, error = %e, "could not update pins after a deletion"),
    }
    Ok(())
}

pub async fn pins_updated(
    fw: FrameworkContext<'_>,
    event: &ChannelPinsUpdateEvent,
) -> Result<(), Error> {
    let store = &fw.user_data.store;
    let channel = event.channel_id;
    let pin = match store.pin(channel.get()) {
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
    match store.remove_pin_of_message(channel.get(), pin.message_id) {
        Ok(Some(pin)) => info!(
            guild = pin.guild_id,
            channel = pin.channel_id,
            message_id = pin.message_id,
            topic = %pin.topic,
            "pinned guidance unpinned by a person: pin record removed"
        ),
        Ok(None) => {}
        Err(e) => warn!(channel = %channel, error = %e, "could not remove the pin record"),
    }
    Ok(())
}

pub fn channel_deleted(fw: FrameworkContext<'_>, channel: &GuildChannel) -> Result<(), Error> {
    match fw.user_data.store.remove_pin(channel.id.get()) {
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

pub fn guild_deleted(fw: FrameworkContext<'_>, guild: &UnavailableGuild) -> Result<(), Error> {
    if guild.unavailable {
        info!(guild = %guild.id, "guild unavailable (outage): records kept");
        return Ok(());
    }
    match fw.user_data.store.remove_guild(guild.id.get()) {
        Ok(pins) => info!(guild = %guild.id, pins, "removed from the guild: its records removed"),
        Err(e) => warn!(guild = %guild.id, error = %e, "could not remove the guild's records"),
    }
    Ok(())
}
