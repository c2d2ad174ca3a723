//! Gateway events that are not slash commands: member messages (DMs,
//! mentions, auto-reply channels) and "did you mean" button presses.

pub mod interaction;
pub mod message;

use serenity::all::{FullEvent, Interaction};
use tracing::info;

use super::{Error, FrameworkContext};

/// poise's `event_handler`: runs after poise has dispatched commands.
pub async fn handle(fw: FrameworkContext<'_>, event: &FullEvent) -> Result<(), Error> {
    match event {
        FullEvent::Message { new_message } => message::handle(fw, new_message).await,
        FullEvent::InteractionCreate {
            interaction: Interaction::Component(press),
        } => interaction::handle(fw, press).await,
        FullEvent::Resume { .. } => {
            info!("gateway session resumed");
            Ok(())
        }
        _ => Ok(()),
    }
}
