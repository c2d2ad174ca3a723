//! Member messages: direct messages, @mentions of the bot, and messages in
//! the configured auto-reply channels and pinned channels.
//!
//! Decide, then act: [`handle`] gathers the facts (the place, the
//! classification, the pin, the server's settings and the member's opt-out,
//! all from memory), calls the pure [`policy::decide`] (whose doc holds the
//! policy table), and performs the decision inside one span that carries the
//! ids. The core composes what to say ([`Engine::answer`](crate::Engine::answer)).

use std::time::{Duration, Instant};

use serenity::all::{Message, MessageType, UserId};
use tracing::{debug, info, info_span, warn, Instrument};

use super::super::alert::{self, AlertSource};
use super::super::{render, Asker, Data, Error, FrameworkContext};
use crate::classify::Classification;
use crate::policy::limiter::MessageIds;
use crate::policy::{self, Answer, CrisisFacts, Decision, Limit, MessageFacts, ServerPolicy};
use crate::reply::{self, Reply};
use crate::store::Count;

pub use crate::policy::Place;

/// Whether the bot should look at `msg` at all, and why.
pub fn place(msg: &Message, bot_id: UserId, data: &Data) -> Option<Place> {
    let human = !msg.author.bot && !msg.author.system && msg.author.id != bot_id;
    let ordinary = matches!(msg.kind, MessageType::Regular | MessageType::InlineReply);
    if !human || msg.webhook_id.is_some() || !ordinary {
        return None;
    }
    if msg.guild_id.is_none() {
        Some(Place::Direct)
    } else if msg.mentions_user_id(bot_id) {
        Some(Place::Mention)
    } else if data.state.pin_of(msg.channel_id.get()).is_some() {
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
    let bot_id = fw.bot_id();
    let Some(place) = place(msg, bot_id, data) else {
        return Ok(());
    };
    let span = info_span!(
        "message",
        guild = msg.guild_id.map_or(0, |g| g.get()),
        channel = msg.channel_id.get(),
        message_id = msg.id.get(),
        user = msg.author.id.get(),
        place = place.as_str(),
    );
    async {
        let arrived = Instant::now();
        let slot = data.enter_message();
        let text = strip_mention(&msg.content, bot_id);
        let asker = Asker {
            locale: None,
            guild: msg.guild_id.map(|g| g.get()),
        };
        let (classification, reply) = data.answer(&text, asker).await;
        let decision = policy::decide(gather(data, msg, place, &classification));
        let shed = slot.crowded && is_sheddable(&decision, place);
        if shed {
            data.note_shed();
            data.metrics.reply(place.as_str(), "shed");
        } else if act(fw, msg, place, decision, &classification, reply).await {
            let took = arrived.elapsed().as_secs_f64();
            data.metrics.reply_seconds.observe(took);
        }
    }
    .instrument(span)
    .await;
    Ok(())
}

/// Whether `decision` is a reply the bot may drop under load.
fn is_sheddable(decision: &Decision, place: Place) -> bool {
    match decision {
        Decision::Reply { limit, .. } => policy::sheddable(place, *limit),
        Decision::Quiet(_) | Decision::AlertOnly(_) => false,
    }
}

/// What the policy needs to know, from memory: no database call.
fn gather(data: &Data, msg: &Message, place: Place, c: &Classification) -> MessageFacts {
    let guild = msg.guild_id.map(|g| g.get());
    let settings = guild.map(|g| data.settings(g)).unwrap_or_default();
    let pinned = match place {
        Place::PinnedChannel => data.state.pin_of(msg.channel_id.get()).map(|p| p.topic),
        _ => None,
    };
    let pinned_candidate = c
        .candidates
        .iter()
        .map(|candidate| candidate.topic)
        .find(|t| Some(*t) == pinned.as_deref());
    MessageFacts {
        place,
        tier: CrisisFacts::tier_of(c),
        outcome: c.outcome,
        pinned_candidate,
        in_server: guild.is_some(),
        server: ServerPolicy {
            auto_replies_off: settings.auto_reply == Some(false),
            topic_cooldown: settings
                .topic_cooldown_minutes
                .map(|m| Duration::from_secs(m.saturating_mul(60))),
            watch: settings.watch.unwrap_or_default(),
        },
        opted_out: data.state.is_opted_out(msg.author.id.get()),
    }
}

/// Performs `decision`: the limit, the reply, its count, the alert, and one
/// log line of the outcome (ids come from the caller's span). Whether a
/// reply went out.
async fn act(
    fw: FrameworkContext<'_>,
    msg: &Message,
    place: Place,
    decision: Decision,
    c: &Classification,
    composed: Reply,
) -> bool {
    let data = fw.user_data;
    let (answer, limit, alert) = match decision {
        Decision::Quiet(why) => {
            debug!(outcome = c.label(), reason = why.as_str(), "no reply");
            return false;
        }
        Decision::AlertOnly(level) => {
            info!(tier = ?c.crisis_tier, "crisis-tier message: no reply (watch tier, unprompted)");
            send_alert(fw, msg, place, level, false).await;
            return false;
        }
        Decision::Reply {
            answer,
            limit,
            alert,
        } => (answer, limit, alert),
    };
    let engine = data.engine();
    let library = engine.library();
    let (reply, topic) = match answer {
        Answer::PinnedTopic(t) => match library.topic(t) {
            Some(topic) => (reply::guidance(library, topic), Some(t)),
            None => (composed, c.topic()),
        },
        Answer::Composed => (composed, c.topic()),
    };
    let ids = MessageIds {
        message: msg.id.get(),
        user: msg.author.id.get(),
        channel: msg.channel_id.get(),
    };
    // Crisis replies are not counted as topic replies.
    let crisis = limit == Limit::Crisis;
    let outcome = match data.cooldowns.admit(limit, ids, Instant::now()) {
        Err(why) => {
            info!(
                outcome = c.label(),
                topic = topic.unwrap_or("-"),
                reason = why.as_str(),
                "reply suppressed"
            );
            "suppressed"
        }
        Ok(()) if send(fw.serenity_context, data, msg, &reply).await => "sent",
        Ok(()) => "failed",
    };
    data.metrics.reply(place.as_str(), outcome);
    let replied = outcome == "sent";
    if replied && crisis {
        data.metrics.crisis_replies.inc();
    }
    if replied {
        if let (Some(t), false) = (topic, crisis) {
            let guild = msg.guild_id.map_or(0, |g| g.get());
            data.count_reply(guild, t, &[Count::Reply]).await;
        }
        info!(
            outcome = c.label(),
            tier = ?c.crisis_tier,
            topic = topic.unwrap_or("-"),
            kind = ?reply.kind(),
            "replied"
        );
    }
    if let Some(level) = alert {
        send_alert(fw, msg, place, level, replied).await;
    }
    replied
}

/// The moderators' alert about `msg` (never its text).
async fn send_alert(
    fw: FrameworkContext<'_>,
    msg: &Message,
    place: Place,
    level: policy::AlertLevel,
    replied: bool,
) {
    let Some(guild_id) = msg.guild_id else {
        return;
    };
    let source = AlertSource {
        guild_id,
        channel_id: msg.channel_id,
        user_id: msg.author.id,
        link: msg.link(),
        via: place.as_str(),
        level,
        replied,
    };
    alert::send(&fw.serenity_context.http, fw.user_data, source).await;
}

/// Sends `reply` (a reply to the member's message in a server, a plain
/// message in a DM); whether at least one part went out.
async fn send(ctx: &serenity::all::Context, data: &Data, msg: &Message, reply: &Reply) -> bool {
    let reference = msg.guild_id.is_some().then_some(msg);
    let mut sent = 0;
    for m in render::messages(reply, reference) {
        match msg.channel_id.send_message(ctx, m).await {
            Ok(_) => sent += 1,
            Err(e) => {
                super::super::respond::count_failure(data, &e);
                warn!(error = %e, "could not send reply");
                break;
            }
        }
    }
    sent > 0
}
