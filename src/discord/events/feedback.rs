//! Feedback button presses on topic guidance: "Helpful", "Not what I
//! asked", and "Delete" on public replies.
//!
//! The custom id is never trusted: it must parse strictly, name a topic in
//! the library, and be one of the buttons on the bot's own message the
//! press came from. Anything else gets a polite ephemeral note and changes
//! nothing. Counts carry the guild, the topic and the day only; each member
//! counts once per message and button (remembered in memory). "Delete" is
//! allowed for the member the reply answered and for moderators.

use serenity::all::{
    ActionRowComponent, ButtonKind, ComponentInteraction, CreateInteractionResponse,
};
use tracing::{info, warn};

use super::super::checks;
use super::super::render::{self, Feedback};
use super::super::respond;
use super::super::{Error, FeedbackPress, FrameworkContext};
use crate::reply;
use crate::store::Count;

pub const FORGED: &str = "Sorry, I don't recognise that button. Nothing was changed.";
pub const THANKS_HELPFUL: &str =
    "Thank you! Knowing what helps lets the moderators improve the guidance.";
pub const THANKS_NOT_ASKED: &str = "Thank you for saying so. You can try `/ask` with your question in other words, or see every topic with `/topics`.";
pub const ALREADY: &str = "You already gave feedback on this reply. Thank you!";
pub const NOT_YOURS: &str =
    "Sorry, only the member this replied to, or a moderator, can delete it. Nothing was changed.";
pub const DELETED: &str = "Deleted.";
pub const NOT_DELETED: &str = "Sorry, I couldn't delete that message. A moderator can remove it.";

/// Whether `custom_id` is one of the buttons on `press.message`.
fn on_message(press: &ComponentInteraction, custom_id: &str) -> bool {
    press.message.components.iter().any(|row| {
        row.components.iter().any(|c| match c {
            ActionRowComponent::Button(b) => matches!(
                &b.data,
                ButtonKind::NonLink { custom_id: id, .. } if id == custom_id
            ),
            _ => false,
        })
    })
}

pub async fn handle(fw: FrameworkContext<'_>, press: &ComponentInteraction) -> Result<(), Error> {
    let data = fw.user_data;
    let http = &fw.serenity_context.http;
    let engine = data.engine();
    let library = engine.library();
    let custom_id = press.data.custom_id.as_str();
    let feedback = Feedback::parse(custom_id)
        .filter(|f| library.topic(f.topic()).is_some())
        .filter(|_| press.message.author.id == fw.bot_id() && on_message(press, custom_id));
    let guild = press.guild_id.map_or(0, |g| g.get());
    let (title, text, outcome) = match feedback {
        None => ("Unknown button", FORGED, "forged"),
        Some(f @ (Feedback::Helpful(topic) | Feedback::NotAsked(topic))) => {
            let pressed = FeedbackPress {
                message: press.message.id.get(),
                user: press.user.id.get(),
                kind: f.kind(),
            };
            if !data.first_feedback(pressed) {
                ("Feedback", ALREADY, "repeat")
            } else {
                let (what, text): (&'static [Count], _) = match f {
                    Feedback::Helpful(_) => (&[Count::Helpful], THANKS_HELPFUL),
                    _ => (&[Count::NotHelpful], THANKS_NOT_ASKED),
                };
                match data.count(guild, topic, what).await {
                    Ok(()) => ("Feedback", text, "counted"),
                    Err(e) => {
                        warn!(error = %e, "could not count feedback");
                        // Not counted: the member may press again.
                        data.forget_feedback(pressed);
                        ("Feedback", text, "not-counted")
                    }
                }
            }
        }
        Some(Feedback::Delete(_, member)) => {
            let moderator = press
                .member
                .as_ref()
                .is_some_and(|m| checks::is_moderator(m, &data.config));
            if press.user.id != member && !moderator {
                ("Delete", NOT_YOURS, "refused")
            } else {
                match press
                    .channel_id
                    .delete_message(http, press.message.id)
                    .await
                {
                    Ok(()) => ("Delete", DELETED, "deleted"),
                    Err(e) => {
                        warn!(interaction = %press.id, error = %e, "could not delete a reply");
                        ("Delete", NOT_DELETED, "delete-failed")
                    }
                }
            }
        }
    };
    let note = reply::note(library, title, text);
    let (first, _) = render::component_response(&note, None, true);
    let response = CreateInteractionResponse::Message(first);
    if let Err(e) = respond::component(http, press, response).await {
        warn!(interaction = %press.id, user = %press.user.id, error = %e, "could not answer feedback press");
    }
    info!(
        guild = ?press.guild_id.map(|g| g.get()),
        channel = %press.channel_id,
        interaction = %press.id,
        user = %press.user.id,
        topic = feedback.map(|f| f.topic()).unwrap_or("-"),
        outcome,
        "feedback press answered"
    );
    Ok(())
}
