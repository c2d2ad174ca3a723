//! Turns the core's [`Reply`] into Discord messages: an embed whose title,
//! description and footer are the reply's title, body and referral notice,
//! coloured by tone, plus "did you mean" buttons.
//!
//! Nothing the bot sends is built any other way, so every message carries
//! the notice. Every builder here sets `allowed_mentions` explicitly: nothing
//! may ping, except the replied-to member on replies (and, for crisis
//! alerts, the configured moderator role; see [`super::alert`]).
//!
//! Topic guidance carries feedback buttons ("Helpful", "Not what I
//! asked", and on a public reply to a member's message "Delete"); their
//! custom ids are parsed back by [`Feedback::parse`] and checked again
//! server-side when pressed.
//!
//! Long bodies are split into several embeds (one per message) within
//! Discord's limits; each page repeats the title and the notice.

use poise::CreateReply;
use serenity::all::{
    ButtonStyle, Colour, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed,
    CreateEmbedFooter, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    CreateMessage, Message, UserId,
};

use crate::reply::{Reply, ReplyKind, Tone};

/// Discord's limits, in characters.
pub mod limits {
    pub const CONTENT: usize = 2000;
    pub const EMBED_TITLE: usize = 256;
    pub const EMBED_DESCRIPTION: usize = 4096;
    pub const EMBED_FOOTER: usize = 2048;
    pub const EMBED_TOTAL: usize = 6000;
    pub const BUTTON_LABEL: usize = 80;
    pub const BUTTONS_PER_ROW: usize = 5;
}

/// Prefix of the custom id of "did you mean" buttons: `topic:<id>`.
pub const TOPIC_BUTTON_PREFIX: &str = "topic:";

/// Prefix of the custom id of feedback buttons.
pub const FEEDBACK_BUTTON_PREFIX: &str = "fb:";

/// A feedback button: `fb:helpful:<topic>`, `fb:not-asked:<topic>`,
/// `fb:delete:<topic>:<member id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feedback<'a> {
    Helpful(&'a str),
    NotAsked(&'a str),
    /// Delete the reply; allowed for this member (and moderators).
    Delete(&'a str, UserId),
}

impl<'a> Feedback<'a> {
    pub fn custom_id(&self) -> String {
        match self {
            Feedback::Helpful(t) => format!("{FEEDBACK_BUTTON_PREFIX}helpful:{t}"),
            Feedback::NotAsked(t) => format!("{FEEDBACK_BUTTON_PREFIX}not-asked:{t}"),
            Feedback::Delete(t, u) => format!("{FEEDBACK_BUTTON_PREFIX}delete:{t}:{u}"),
        }
    }

    /// Parses a custom id strictly; the topic is not checked here.
    pub fn parse(custom_id: &'a str) -> Option<Self> {
        let rest = custom_id.strip_prefix(FEEDBACK_BUTTON_PREFIX)?;
        let (kind, rest) = rest.split_once(':')?;
        let topic_ok = |t: &str| {
            !t.is_empty() && t.len() <= 64 && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        };
        match kind {
            "helpful" if topic_ok(rest) => Some(Feedback::Helpful(rest)),
            "not-asked" if topic_ok(rest) => Some(Feedback::NotAsked(rest)),
            "delete" => {
                let (topic, user) = rest.split_once(':')?;
                let user: u64 = user.parse().ok().filter(|u| *u != 0)?;
                if !topic_ok(topic) || user.to_string() != user_text(rest) {
                    return None;
                }
                Some(Feedback::Delete(topic, UserId::new(user)))
            }
            _ => None,
        }
    }

    pub fn topic(&self) -> &'a str {
        match self {
            Feedback::Helpful(t) | Feedback::NotAsked(t) | Feedback::Delete(t, _) => t,
        }
    }

    /// A short name for logs and de-duplication.
    pub fn kind(&self) -> u8 {
        match self {
            Feedback::Helpful(_) => 0,
            Feedback::NotAsked(_) => 1,
            Feedback::Delete(..) => 2,
        }
    }
}

fn user_text(rest: &str) -> &str {
    rest.split_once(':').map_or("", |(_, u)| u)
}

/// The feedback row of a topic reply; `delete_for` adds "Delete" for that
/// member (public replies to a member's message).
pub fn feedback_row(topic: &str, delete_for: Option<UserId>) -> CreateActionRow {
    let mut buttons = vec![
        CreateButton::new(Feedback::Helpful(topic).custom_id())
            .label("Helpful")
            .style(ButtonStyle::Success),
        CreateButton::new(Feedback::NotAsked(topic).custom_id())
            .label("Not what I asked")
            .style(ButtonStyle::Secondary),
    ];
    if let Some(user) = delete_for {
        buttons.push(
            CreateButton::new(Feedback::Delete(topic, user).custom_id())
                .label("Delete")
                .style(ButtonStyle::Danger),
        );
    }
    CreateActionRow::Buttons(buttons)
}

/// Embed colour per tone.
pub fn colour(tone: Tone) -> Colour {
    Colour::new(match tone {
        Tone::Guidance => 0x4F86C6,
        Tone::Urgent => 0xD64545,
        Tone::Info => 0x8E9AAF,
    })
}

/// Mentions that may ping: none.
pub fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new().replied_user(false)
}

/// Mentions that may ping on a reply: only the member replied to.
pub fn reply_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new().replied_user(true)
}

/// Cuts `text` to at most `max` characters, ending with "…" when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Splits `text` into pieces of at most `max` characters, preferring to cut
/// between paragraphs, then lines, then words.
pub fn split_text(text: &str, max: usize) -> Vec<String> {
    assert!(max > 0);
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > max {
        // Byte index just past the first `max` characters.
        let limit = rest
            .char_indices()
            .nth(max)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let head = &rest[..limit];
        let cut = head
            .rfind("\n\n")
            .or_else(|| head.rfind('\n'))
            .or_else(|| head.rfind(' '))
            .filter(|&i| i > 0)
            .unwrap_or(limit);
        let piece = rest[..cut].trim_end();
        if !piece.is_empty() {
            pieces.push(piece.to_string());
        }
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(rest.to_string());
    }
    pieces
}

/// The reply as one or more embeds, each within Discord's limits and each
/// carrying the title and the referral notice. Send one per message.
pub fn pages(reply: &Reply) -> Vec<CreateEmbed> {
    let title = truncate(reply.title(), limits::EMBED_TITLE);
    let footer = truncate(reply.footer(), limits::EMBED_FOOTER);
    let used = title.chars().count() + footer.chars().count();
    let room = limits::EMBED_DESCRIPTION
        .min(limits::EMBED_TOTAL.saturating_sub(used))
        .max(1);
    split_text(reply.body(), room)
        .into_iter()
        .map(|body| {
            CreateEmbed::new()
                .title(title.clone())
                .description(body)
                .colour(colour(reply.tone()))
                .footer(CreateEmbedFooter::new(footer.clone()))
        })
        .collect()
}

/// The buttons of a reply: "did you mean" buttons for an unsure reply,
/// feedback buttons for topic guidance.
pub fn buttons(reply: &Reply) -> Vec<CreateActionRow> {
    buttons_for(reply, None)
}

fn buttons_for(reply: &Reply, delete_for: Option<UserId>) -> Vec<CreateActionRow> {
    if let ReplyKind::Topic(topic) = reply.kind() {
        return vec![feedback_row(topic, delete_for)];
    }
    suggestion_buttons(reply)
}

/// "Did you mean" buttons, one per suggestion (custom id `topic:<id>`).
pub fn suggestion_buttons(reply: &Reply) -> Vec<CreateActionRow> {
    let buttons: Vec<CreateButton> = reply
        .suggestions()
        .iter()
        .take(limits::BUTTONS_PER_ROW)
        .map(|s| {
            CreateButton::new(format!("{TOPIC_BUTTON_PREFIX}{}", s.topic))
                .label(truncate(&s.title, limits::BUTTON_LABEL))
                .style(ButtonStyle::Secondary)
        })
        .collect();
    if buttons.is_empty() {
        Vec::new()
    } else {
        vec![CreateActionRow::Buttons(buttons)]
    }
}

/// Channel messages for `reply`. With `reference`, the first message is a
/// reply to it and may ping its author (only them), and topic guidance gets
/// a "Delete" button for that author; otherwise nothing pings.
/// Buttons go on the last message.
pub fn messages(reply: &Reply, reference: Option<&Message>) -> Vec<CreateMessage> {
    let pages = pages(reply);
    let last = pages.len() - 1;
    pages
        .into_iter()
        .enumerate()
        .map(|(i, embed)| {
            let mut m = CreateMessage::new().embed(embed);
            match reference {
                Some(msg) if i == 0 => {
                    m = m.reference_message(msg).allowed_mentions(reply_mentions());
                }
                _ => m = m.allowed_mentions(no_mentions()),
            }
            if i == last {
                m = m.components(buttons_for(reply, reference.map(|msg| msg.author.id)));
            }
            m
        })
        .collect()
}

/// Poise replies (slash commands, context menus) for `reply`: the first is
/// the interaction response, the rest follow-ups. Nothing pings.
pub fn command_replies(reply: &Reply, ephemeral: bool) -> Vec<CreateReply> {
    let pages = pages(reply);
    let last = pages.len() - 1;
    pages
        .into_iter()
        .enumerate()
        .map(|(i, embed)| {
            let mut r = CreateReply::default()
                .embed(embed)
                .ephemeral(ephemeral)
                .allowed_mentions(no_mentions());
            if i == last {
                r = r.components(buttons(reply));
            }
            r
        })
        .collect()
}

/// The same with a line of plain text above the first embed (for polite
/// errors such as an unknown topic). The text must come from this crate,
/// never from a member.
pub fn command_replies_with_note(reply: &Reply, note: &str, ephemeral: bool) -> Vec<CreateReply> {
    let mut replies = command_replies(reply, ephemeral);
    if let Some(first) = replies.first_mut() {
        *first = std::mem::take(first).content(truncate(note, limits::CONTENT));
    }
    replies
}

/// A response to a component interaction (button press) and its follow-ups.
pub fn component_response(
    reply: &Reply,
    note: Option<&str>,
    ephemeral: bool,
) -> (
    CreateInteractionResponseMessage,
    Vec<CreateInteractionResponseFollowup>,
) {
    let pages = pages(reply);
    let last = pages.len() - 1;
    let mut first = None;
    let mut rest = Vec::new();
    for (i, embed) in pages.into_iter().enumerate() {
        let components = if i == last {
            buttons(reply)
        } else {
            Vec::new()
        };
        if i == 0 {
            let mut m = CreateInteractionResponseMessage::new()
                .embed(embed)
                .ephemeral(ephemeral)
                .allowed_mentions(no_mentions())
                .components(components);
            if let Some(note) = note {
                m = m.content(truncate(note, limits::CONTENT));
            }
            first = Some(m);
        } else {
            rest.push(
                CreateInteractionResponseFollowup::new()
                    .embed(embed)
                    .ephemeral(ephemeral)
                    .allowed_mentions(no_mentions())
                    .components(components),
            );
        }
    }
    (first.expect("at least one page"), rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_respects_limit_and_prefers_paragraphs() {
        let text = format!("{}\n\n{}", "a".repeat(30), "b ".repeat(40));
        let pieces = split_text(&text, 40);
        assert_eq!(pieces[0], "a".repeat(30));
        assert!(pieces.iter().all(|p| p.chars().count() <= 40), "{pieces:?}");
        let rejoined: String = pieces.concat().split_whitespace().collect();
        let original: String = text.split_whitespace().collect();
        assert_eq!(rejoined, original);
    }

    #[test]
    fn split_handles_unbroken_and_multibyte_text() {
        let text = "é".repeat(100);
        let pieces = split_text(&text, 30);
        assert_eq!(pieces.len(), 4);
        assert!(pieces.iter().all(|p| p.chars().count() <= 30));
        assert_eq!(pieces.concat(), text);
        assert_eq!(split_text("", 10), vec![String::new()]);
        assert_eq!(split_text("short", 10), vec!["short".to_string()]);
    }

    #[test]
    fn long_replies_become_several_embeds_within_limits() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("responses");
        let mut library = crate::content::Library::load(&dir).expect("responses/ loads");
        let paragraph = "Boundaries protect the work you do together. ".repeat(20);
        library.topics[0].guidance = vec![paragraph.trim(); 30].join("\n\n");
        let reply = crate::reply::guidance(&library, &library.topics[0]);
        assert!(reply.body().chars().count() > limits::EMBED_DESCRIPTION);
        let pages: Vec<serde_json::Value> = pages(&reply)
            .into_iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect();
        assert!(pages.len() > 1);
        let mut text = String::new();
        for page in &pages {
            let title = page["title"].as_str().unwrap();
            let description = page["description"].as_str().unwrap();
            let footer = page["footer"]["text"].as_str().unwrap();
            assert_eq!(footer, reply.footer(), "every page carries the notice");
            assert!(description.chars().count() <= limits::EMBED_DESCRIPTION);
            let total =
                title.chars().count() + description.chars().count() + footer.chars().count();
            assert!(total <= limits::EMBED_TOTAL);
            text.push_str(description);
        }
        let squash = |s: &str| s.split_whitespace().collect::<String>();
        assert_eq!(squash(&text), squash(reply.body()), "nothing lost");
        // One message per page.
        let messages = messages(&reply, None);
        assert_eq!(messages.len(), pages.len());
    }

    #[test]
    fn feedback_ids_round_trip_and_forgeries_fail() {
        let user = UserId::new(42);
        for f in [
            Feedback::Helpful("gifts"),
            Feedback::NotAsked("physical-touch"),
            Feedback::Delete("gifts", user),
        ] {
            assert_eq!(Feedback::parse(&f.custom_id()), Some(f));
        }
        for forged in [
            "fb:helpful:",
            "fb:helpful:../../admin",
            "fb:helpful:GIFTS",
            "fb:delete:gifts:",
            "fb:delete:gifts:0",
            "fb:delete:gifts:+42",
            "fb:delete:gifts:042",
            "fb:delete:gifts:42:1",
            "fb:boost:gifts",
            "topic:gifts",
        ] {
            assert_eq!(Feedback::parse(forged), None, "{forged}");
        }
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }

    #[test]
    fn allowed_mentions_serialise_to_nothing() {
        let v = serde_json::to_value(no_mentions()).unwrap();
        assert_eq!(v["parse"], serde_json::json!([]));
        assert_eq!(v["users"], serde_json::json!([]));
        assert_eq!(v["roles"], serde_json::json!([]));
        assert_eq!(v["replied_user"], false);
        let v = serde_json::to_value(reply_mentions()).unwrap();
        assert_eq!(v["parse"], serde_json::json!([]));
        assert_eq!(v["replied_user"], true);
    }
}
