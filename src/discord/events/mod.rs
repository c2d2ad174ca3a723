//! Gateway events that are not slash commands: member messages (DMs,
//! mentions, auto-reply and pinned channels), button presses ("did you
//! mean", feedback), and the lifecycle events that keep pins consistent
//! (message deleted, pins changed, channel deleted, bot removed).

pub mod feedback;
pub mod interaction;
pub mod lifecycle;
pub mod message;

use serenity::all::{FullEvent, Interaction};
use tracing::info;

use super::{Error, FrameworkContext};
use crate::metrics::EventLabels;

/// poise's `event_handler`: runs after poise has dispatched commands.
pub async fn handle(fw: FrameworkContext<'_>, event: &FullEvent) -> Result<(), Error> {
    let kind = EventLabels {
        event: event.snake_case_name(),
    };
    fw.user_data.metrics.events.get_or_create(&kind).inc();
    match event {
        FullEvent::Message { new_message } => message::handle(fw, new_message).await,
        FullEvent::InteractionCreate {
            interaction: Interaction::Component(press),
        } => interaction::handle(fw, press).await,
        FullEvent::MessageDelete {
            channel_id,
            deleted_message_id,
            ..
        } => lifecycle::message_deleted(fw, *channel_id, *deleted_message_id).await,
        FullEvent::MessageDeleteBulk {
            channel_id,
            multiple_deleted_messages_ids,
            ..
        } => {
            for id in multiple_deleted_messages_ids {
                lifecycle::message_deleted(fw, *channel_id, *id).await?;
            }
            Ok(())
        }
        FullEvent::ChannelPinsUpdate { pin } => lifecycle::pins_updated(fw, pin).await,
        FullEvent::ChannelDelete { channel, .. } => lifecycle::channel_deleted(fw, channel).await,
        FullEvent::GuildDelete { incomplete, .. } => lifecycle::guild_deleted(fw, incomplete).await,
        FullEvent::Resume { .. } => {
            info!("gateway session resumed");
            Ok(())
        }
        _ => Ok(()),
    }
}
