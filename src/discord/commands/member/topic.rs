//! `/topic name:<topic> [public:<bool>]`, with autocomplete on titles.

use serenity::all::{AutocompleteChoice, CreateAutocompleteResponse};

use crate::content::Library;
use crate::discord::{render, respond, Context, Error};
use crate::reply::{self, Surface};

/// Autocomplete offers at most this many choices (Discord's limit).
const MAX_CHOICES: usize = 25;

pub const UNKNOWN_TOPIC_NOTE: &str =
    "Sorry, I couldn't find that topic. Here are the topics I can help with:";

/// Topic titles containing what was typed so far (value: the topic id).
pub fn choices(library: &Library, partial: &str) -> Vec<AutocompleteChoice> {
    let partial = partial.trim().to_lowercase();
    library
        .topics
        .iter()
        .filter(|t| {
            partial.is_empty()
                || t.title.to_lowercase().contains(&partial)
                || t.id.contains(&partial)
        })
        .take(MAX_CHOICES)
        .map(|t| AutocompleteChoice::new(render::truncate(&t.title, 100), t.id.clone()))
        .collect()
}

pub(crate) async fn autocomplete_topic(
    ctx: Context<'_>,
    partial: &str,
) -> CreateAutocompleteResponse {
    CreateAutocompleteResponse::new().set_choices(choices(ctx.data().engine().library(), partial))
}

/// Show the guidance for one topic.
#[poise::command(slash_command)]
pub async fn topic(
    ctx: Context<'_>,
    #[description = "The topic"]
    #[autocomplete = "autocomplete_topic"]
    name: String,
    #[description = "Post it in the channel for everyone (default: only you see it)"]
    public: Option<bool>,
) -> Result<(), Error> {
    let engine = ctx.data().engine();
    let library = engine.library();
    match library.find_topic(&name) {
        Some(topic) => {
            let ephemeral = !public.unwrap_or(false);
            let reply = reply::guidance(library, topic);
            respond::send_pages(ctx, render::command_replies(&reply, ephemeral)).await?;
            super::super::log_answer(ctx, "topic", &topic.id, ephemeral);
        }
        None => {
            let reply = reply::topic_list(library, Surface::Discord);
            respond::send_pages(
                ctx,
                render::command_replies_with_note(&reply, UNKNOWN_TOPIC_NOTE, true),
            )
            .await?;
            super::super::log_answer(ctx, "unknown-topic", "-", true);
        }
    }
    Ok(())
}
