//! Member messages: direct messages, @mentions of the bot, and messages in
//! the configured auto-reply channels.
//!
//! The core decides what to say ([`Engine::answer`](crate::Engine::answer));
//! this decides whether and where:
//!
//! | where              | crisis | topic          | unsure           | nothing                |
//! |--------------------|--------|----------------|------------------|------------------------|
//! | DM                 | yes    | yes            | "did you mean"   | help, once per cooldown |
//! | @mention           | yes    | topic cooldown | "did you mean"   | help, once per cooldown |
//! | auto-reply channel | yes    | topic cooldown | silent           | silent                 |
//! | pinned channel     | yes    | topic cooldown | pinned topic if among the candidates, else silent | silent |
//!
//! A channel pinned with `/pin` behaves as an auto-reply channel whose
//! pinned topic is favoured: an unsure message that lists it as a
//! candidate (at least `suggest_floor`) gets its guidance; a message
//! clearly about another topic gets that topic. Unprompted replies (auto-
//! reply and pinned channels) are skipped for members who opted out and in
//! guilds whose moderators turned auto-replies off, but crisis replies are
//! never suppressed.
//!
//! In guild channels every reply also counts against the channel's rate
//! limit; crisis replies are exempt from both the topic cooldowns and the
//! rate limit and only have their own short per-member cooldown. Every
//! message gets at most one reply.

use std::time::{Duration, Instant};

use serenity::all::{Message, MessageType, UserId};
use tracing::{debug, info, warn};

use super::super::alert::{self, AlertSource};
use super::super::cooldown::{Gate, Suppressed};
use super::super::{render, Asker, Data, Error, FrameworkContext};
use crate::classify::{CrisisTier, Outcome};
use crate::policy::{decide_crisis, CrisisFacts};
use crate::reply::{self, Reply};
use crate::store::Count;

pub use crate::policy::Place;

/// The topic pinned in `channel`, if any (a storage error counts as none).
pub async fn pinned_topic(data: &Data, channel: u64) -> Option<String> {
    match data.db(move |s| s.pin(channel)).await {
        Ok(pin) => pin.map(|p| p.topic),
        Err(e) => {
            warn!(channel, error = %e, "could not read the pin record");
            None
        }
    }
}

/// Whether the bot should look at `msg` at all, and why.
pub async fn place(msg: &Message, bot_id: UserId, data: &Data) -> Option<Place> {
    let human = !msg.author.bot && !msg.author.system && msg.author.id != bot_id;
    let ordinary = matches!(msg.kind, MessageType::Regular | MessageType::InlineReply);
    if !human || msg.webhook_id.is_some() || !ordinary {
        return None;
    }
    if msg.guild_id.is_none() {
        Some(Place::Direct)
    } else if msg.mentions_user_id(bot_id) {
        Some(Place::Mention)
    } else if pinned_topic(data, msg.channel_id.get()).await.is_some() {
        Some(Place::PinnedChannel)
    } else if data
        .config
        .auto_reply_channels
        .contains(&msg.channel_id.get())
    {
        Some(Place::AutoReplyChannel)
    } else {
        None
    }
}

/// The message text without the bot's own mention.
pub fn strip_mention(text: &str, bot_id: UserId) -> String {
    text.replace(&format!("<@{bot_id}>"), " ")
        .replace(&format!("<@!{bot_id}>"), " ")
        .trim()
        .to_string()
}

pub async fn handle(fw: FrameworkContext<'_>, msg: &Message) -> Result<(), Error> {
    let data = fw.user_data;
    let ctx = fw.serenity_context;
    let bot_id = fw.bot_id();
    let Some(place) = place(msg, bot_id, data).await else {
        return Ok(());
    };
    let text = strip_mention(&msg.content, bot_id);
    let engine = data.engine();
    let guild = msg.guild_id.map(|g| g.get());
    let asker = Asker {
        locale: None,
        guild,
    };
    let (mut classification, mut reply) = data.answer(&text, asker).await;
    let tier = CrisisFacts::tier_of(&classification);
    if tier != CrisisTier::Calm {
        return crisis(fw, msg, place, tier, &reply).await;
    }
    let (user, message, channel) = (msg.author.id.get(), msg.id.get(), msg.channel_id.get());
    // A pinned channel favours its topic over "not sure".
    if place == Place::PinnedChannel && classification.outcome == Outcome::Unsure {
        let pinned = pinned_topic(data, channel).await;
        let favoured = classification
            .candidates
            .iter()
            .find(|c| Some(c.topic) == pinned.as_deref());
        if let Some(topic) = favoured.and_then(|c| engine.library().topic(c.topic)) {
            reply = reply::guidance(engine.library(), topic);
            classification.outcome = Outcome::Topic(favoured.expect("found").topic);
        }
    }
    let outcome = classification.outcome;
    let settings = match (place.unprompted(), guild) {
        (true, Some(g)) => data.settings_or_default(g).await,
        _ => Default::default(),
    };
    if place.unprompted() {
        let off = settings.auto_reply == Some(false);
        let opted_out = data
            .db(move |s| s.opted_out(user))
            .await
            .unwrap_or_else(|e| {
                warn!(user, error = %e, "could not read the opt-out; not replying unprompted");
                true
            });
        if off || opted_out {
            debug!(
                guild,
                channel,
                message_id = message,
                user,
                place = place.as_str(),
                reason = if off { "auto-replies off" } else { "opted out" },
                "no auto-reply"
            );
            return Ok(());
        }
    }
    let topic_ttl = settings
        .topic_cooldown_minutes
        .map(|m| Duration::from_secs(m.saturating_mul(60)));
    let now = Instant::now();
    let cooldowns = &data.cooldowns;
    let decision: Result<(), Suppressed> = match (place, outcome) {
        (Place::AutoReplyChannel | Place::PinnedChannel, Outcome::Unsure | Outcome::Nothing) => {
            debug!(
                guild = ?msg.guild_id.map(|g| g.get()),
                channel,
                message_id = message,
                user,
                outcome = classification.label(),
                "not confident: no auto-reply"
            );
            return Ok(());
        }
        (Place::Direct, outcome) => cooldowns.try_direct_reply(message, user, gate(outcome), now),
        (_, outcome) => {
            cooldowns.try_channel_reply_with(message, user, channel, gate(outcome), now, topic_ttl)
        }
    };
    if let Err(why) = decision {
        info!(
            guild = ?msg.guild_id.map(|g| g.get()),
            channel,
            message_id = message,
            user,
            place = place.as_str(),
            outcome = classification.label(),
            topic = classification.topic().unwrap_or("-"),
            reason = why.as_str(),
            "reply suppressed"
        );
        return Ok(());
    }

    if send(ctx, msg, place, &reply).await {
        if let Outcome::Topic(topic) = outcome {
            data.count_reply(guild.unwrap_or(0), topic, &[Count::Reply])
                .await;
        }
        info!(
            guild,
            channel,
            message_id = message,
            user,
            place = place.as_str(),
            outcome = classification.label(),
            topic = classification.topic().unwrap_or("-"),
            kind = ?reply.kind(),
            "replied"
        );
    }
    Ok(())
}

/// A crisis or watch-tier message: the lines where they are decided, at
/// most once per crisis cooldown, and the moderators' alert.
async fn crisis(
    fw: FrameworkContext<'_>,
    msg: &Message,
    place: Place,
    tier: CrisisTier,
    reply: &Reply,
) -> Result<(), Error> {
    let data = fw.user_data;
    let ctx = fw.serenity_context;
    let guild = msg.guild_id.map(|g| g.get());
    let facts = CrisisFacts {
        tier,
        place,
        in_server: guild.is_some(),
        watch: data.watch_action(guild, tier).await,
    };
    let Some(decision) = decide_crisis(facts) else {
        return Ok(());
    };
    let (user, message) = (msg.author.id.get(), msg.id.get());
    let outcome = match decision.reply {
        false => "no reply (watch tier, unprompted)",
        true => match data.cooldowns.try_crisis(message, user, Instant::now()) {
            Err(why) => why.as_str(),
            Ok(()) if send(ctx, msg, place, reply).await => "replied",
            Ok(()) => "not sent",
        },
    };
    let replied = outcome == "replied";
    info!(
        guild,
        channel = msg.channel_id.get(),
        message_id = message,
        user,
        place = place.as_str(),
        tier = ?tier,
        kind = ?reply.kind(),
        outcome,
        "crisis-tier message"
    );
    if let (Some(level), Some(guild_id)) = (decision.alert, msg.guild_id) {
        let source = AlertSource {
            guild_id,
            channel_id: msg.channel_id,
            user_id: msg.author.id,
            link: msg.link(),
            via: place.as_str(),
            level,
            replied,
        };
        alert::send(&ctx.http, data, source).await;
    }
    Ok(())
}

/// Sends `reply` (a reply to the member's message in a server, a plain
/// message in a DM); whether at least one part went out.
async fn send(ctx: &serenity::all::Context, msg: &Message, place: Place, reply: &Reply) -> bool {
    let reference = msg.guild_id.is_some().then_some(msg);
    let mut sent = 0;
    for m in render::messages(reply, reference) {
        match msg.channel_id.send_message(ctx, m).await {
            Ok(_) => sent += 1,
            Err(e) => {
                warn!(
                    guild = ?msg.guild_id.map(|g| g.get()),
                    channel = msg.channel_id.get(),
                    message_id = msg.id.get(),
                    user = msg.author.id.get(),
                    place = place.as_str(),
                    error = %e,
                    "could not send reply"
                );
                break;
            }
        }
    }
    sent > 0
}

fn gate(outcome: Outcome) -> Gate {
    match outcome {
        Outcome::Topic(t) => Gate::Topic(t),
        Outcome::Nothing => Gate::Help,
        Outcome::Unsure | Outcome::Crisis => Gate::Plain,
    }
}
