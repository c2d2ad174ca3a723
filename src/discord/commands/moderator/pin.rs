//! `/pin topic:<topic> [channel]` (moderators).
//!
//! Posts the topic's guidance (with the referral notice) in the channel,
//! pins it with Discord's pin, and records channel → topic. Pinning a
//! channel again replaces the old pin and unpins the old message. If any
//! step fails, the steps before it are undone (the new message unpinned and
//! deleted), the old pin stays as it was, and the moderator is told.

use serenity::all::{ChannelId, Http, MessageId};
use tracing::{info, warn};

use crate::content::Library;
use crate::discord::{checks, render, respond, Context, Error, Notice};
use crate::reply;
use crate::store::{self, Pin};

pub const NEEDS_INTENT: &str = "Note: auto-replies in pinned channels need the Message Content \
intent, which this bot does not request. Its operator can set `message_content = true` under \
[discord] (and enable the intent in the developer portal).";

/// Pin a topic's guidance in a channel; the bot then favours that topic there.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_MESSAGES",
    check = "checks::moderator"
)]
pub async fn pin(
    ctx: Context<'_>,
    #[description = "The topic to pin"]
    #[autocomplete = "crate::discord::commands::member::topic::autocomplete_topic"]
    topic: String,
    #[description = "The channel (default: this one)"]
    #[channel_types("Text")]
    channel: Option<ChannelId>,
) -> Result<(), Error> {
    let data = ctx.data();
    let engine = data.engine();
    let library = engine.library();
    let Some(topic) = library.find_topic(&topic) else {
        let text =
            "Sorry, I couldn't find that topic; `/topics` lists them all. Nothing was changed.";
        return Err(Notice::unchanged("Unknown topic", text).into());
    };
    let guild = checks::guild(ctx)?;
    let channel = channel.unwrap_or(ctx.channel_id());
    crate::discord::respond::defer_ephemeral(ctx).await?;
    let http = &ctx.serenity_context().http;

    let guidance = reply::guidance(library, topic);
    let posted = match post_and_pin(http, channel, &guidance).await {
        Ok(posted) => posted,
        Err(problem) => {
            warn!(guild = %guild, channel = %channel, problem, "/pin: could not post or pin");
            let text = format!("{problem} Nothing was changed.");
            return Err(Notice::unchanged("Could not pin", text).into());
        }
    };
    let first = posted[0];
    let record = Pin {
        guild_id: guild.get(),
        channel_id: channel.get(),
        topic: topic.id.clone(),
        message_id: first.get(),
        pinned_by: ctx.author().id.get(),
        pinned_at: store::now(),
    };
    let saved = record.clone();
    let old = match data.db(move |s| s.put_pin(&saved)).await {
        Ok(old) => old,
        Err(e) => {
            take_down(http, channel, &posted, true).await;
            let notice = Notice::failed_to("Could not pin", "save the pin")(e);
            return Err(notice
                .undone("I took the guidance message down again.")
                .into());
        }
    };
    let mut text = format!("Pinned **{}** in <#{channel}>.", topic.title);
    if let Some(old) = old.filter(|o| o.message_id != record.message_id) {
        text.push_str(&unpin_replaced(http, channel, library, &old).await);
    }
    if !data.message_content {
        text.push_str("\n\n");
        text.push_str(NEEDS_INTENT);
    }
    info!(
        guild = %guild,
        channel = %channel,
        user = %ctx.author().id,
        topic = %topic.id,
        message_id = %first,
        "topic pinned"
    );
    Ok(respond::note(ctx, "Pinned", &text).await?)
}

/// Posts `guidance` in `channel` and pins its first message; on failure,
/// takes down what was posted and says what the moderator can fix.
async fn post_and_pin(
    http: &Http,
    channel: ChannelId,
    guidance: &reply::Reply,
) -> Result<Vec<MessageId>, String> {
    let mut posted = Vec::new();
    for message in render::messages(guidance, None) {
        match channel.send_message(http, message).await {
            Ok(sent) => posted.push(sent.id),
            Err(e) => {
                warn!(channel = %channel, error = %e, "/pin: could not post");
                take_down(http, channel, &posted, false).await;
                return Err(format!(
                    "I couldn't post the guidance in <#{channel}>. Please check that I may send \
                     messages and embed links there."
                ));
            }
        }
    }
    if let Err(e) = channel.pin(http, posted[0]).await {
        warn!(channel = %channel, error = %e, "/pin: could not pin");
        take_down(http, channel, &posted, false).await;
        return Err(format!(
            "I couldn't pin the message in <#{channel}>. Please check that I have the Manage \
             Messages permission there."
        ));
    }
    Ok(posted)
}

/// Unpins the message of the pin that `/pin` replaced; the sentence that
/// tells the moderator.
async fn unpin_replaced(http: &Http, channel: ChannelId, library: &Library, old: &Pin) -> String {
    let old_title = library
        .topic(&old.topic)
        .map_or(old.topic.as_str(), |t| t.title.as_str());
    match channel.unpin(http, MessageId::new(old.message_id)).await {
        Ok(()) => format!(" It replaces **{old_title}**, whose message I unpinned."),
        Err(e) => {
            warn!(channel = %channel, error = %e, "/pin: could not unpin the old message");
            format!(
                " It replaces **{old_title}**, but I couldn't unpin its old message: please \
                 unpin it by hand."
            )
        }
    }
}

/// Undoes a half-done pin: unpins (when `pinned`) and deletes what was posted.
async fn take_down(http: &Http, channel: ChannelId, posted: &[MessageId], pinned: bool) {
    if pinned {
        if let Some(first) = posted.first() {
            if let Err(e) = channel.unpin(http, *first).await {
                warn!(channel = %channel, error = %e, "/pin: could not undo the pin");
            }
        }
    }
    for id in posted {
        if let Err(e) = channel.delete_message(http, *id).await {
            warn!(channel = %channel, error = %e, "/pin: could not delete the posted message");
        }
    }
}
