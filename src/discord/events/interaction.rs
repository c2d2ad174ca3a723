//! "Did you mean" button presses (custom id `topic:<id>`); feedback
//! buttons (`fb:…`) go to [`super::feedback`].
//!
//! The id is checked against the library: a forged or stale id gets a
//! polite ephemeral note with the topic list. In a guild the guidance is
//! ephemeral (only the member who pressed sees it); in a DM it is an
//! ordinary message.

use serenity::all::{ComponentInteraction, CreateInteractionResponse};
use tracing::{info, warn};

use super::super::{render, respond, Error, FrameworkContext};
use crate::reply::{self, Surface};
use crate::store::Count;

pub const UNKNOWN_TOPIC_NOTE: &str =
    "Sorry, I don't know that topic. Here are the topics I can help with:";

pub async fn handle(fw: FrameworkContext<'_>, press: &ComponentInteraction) -> Result<(), Error> {
    if press
        .data
        .custom_id
        .starts_with(render::FEEDBACK_BUTTON_PREFIX)
    {
        return super::feedback::handle(fw, press).await;
    }
    let data = fw.user_data;
    let http = &fw.serenity_context.http;
    let engine = data.engine();
    let library = engine.library();
    let topic = press
        .data
        .custom_id
        .strip_prefix(render::TOPIC_BUTTON_PREFIX)
        .and_then(|id| library.topic(id));
    let (reply, note, ephemeral) = match topic {
        Some(topic) => (
            reply::guidance(library, topic),
            None,
            press.guild_id.is_some(),
        ),
        None => (
            reply::topic_list(library, Surface::Discord),
            Some(UNKNOWN_TOPIC_NOTE),
            true,
        ),
    };
    if let Some(topic) = topic {
        let guild = press.guild_id.map_or(0, |g| g.get());
        data.count_reply(guild, &topic.id, &[Count::Reply, Count::DidYouMean])
            .await;
    }
    let (first, rest) = render::component_response(&reply, note, ephemeral);
    let response = CreateInteractionResponse::Message(first);
    if let Err(e) = respond::component(http, press, response).await {
        warn!(interaction = %press.id, user = %press.user.id, error = %e, "could not answer button press");
        return Ok(());
    }
    for followup in rest {
        if let Err(e) = respond::component_followup(http, press, followup).await {
            warn!(interaction = %press.id, user = %press.user.id, error = %e, "could not send follow-up");
            break;
        }
    }
    info!(
        guild = ?press.guild_id.map(|g| g.get()),
        channel = %press.channel_id,
        interaction = %press.id,
        user = %press.user.id,
        topic = topic.map(|t| t.id.as_str()).unwrap_or("-"),
        valid = topic.is_some(),
        "button press answered"
    );
    Ok(())
}
