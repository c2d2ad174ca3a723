//! Builds what the bot says: plain data (title, body, footer, tone) that
//! the Discord adapter renders as an embed and the console prints as text.
//!
//! Every [`Reply`] is made by one constructor that attaches the referral
//! notice as its footer, so no reply can leave it out. Reply text comes
//! from `responses/` only, never from the member's message, and any
//! mention syntax is defused as a last line of defence.

use std::fmt;

use serde::Serialize;

use crate::classify::{Classification, CrisisTier, Outcome, TopicId};
use crate::content::{Library, Topic};
use crate::regions::{self, CrisisRegion, RegionHints};

/// What a reply is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "topic")]
pub enum ReplyKind {
    Topic(TopicId),
    Crisis,
    NotSure,
    Help,
    TopicList,
    Resources,
    /// The watch tier: crisis lines with a gentler opening, where the
    /// member asked.
    PossibleCrisis,
    /// A short note from the bot itself: a confirmation, a refusal, an error.
    Note,
}

/// A colour hint for the renderer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    /// Topic guidance.
    Guidance,
    /// Crisis resources: stands out.
    Urgent,
    /// Help, lists, "not sure".
    Info,
}

/// A topic offered in a "did you mean" reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub topic: TopicId,
    pub title: String,
}

/// One message the bot would send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    kind: ReplyKind,
    title: String,
    body: String,
    footer: String,
    tone: Tone,
    suggestions: Vec<Suggestion>,
}

impl Reply {
    /// The only constructor: the footer is always the referral notice.
    fn new(library: &Library, kind: ReplyKind, title: &str, body: String, tone: Tone) -> Self {
        Self {
            kind,
            title: defuse_mentions(title),
            body: defuse_mentions(&body),
            footer: defuse_mentions(&library.notice),
            tone,
            suggestions: Vec::new(),
        }
    }

    pub fn kind(&self) -> ReplyKind {
        self.kind
    }
    pub fn title(&self) -> &str {
        &self.title
    }
    pub fn body(&self) -> &str {
        &self.body
    }
    /// The referral notice.
    pub fn footer(&self) -> &str {
        &self.footer
    }
    pub fn tone(&self) -> Tone {
        self.tone
    }
    /// Topics to offer as buttons ("did you mean").
    pub fn suggestions(&self) -> &[Suggestion] {
        &self.suggestions
    }
}

/// Plain-text rendering, as the offline console prints it.
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "## {}\n\n{}\n\n-- {}",
            self.title,
            self.body.trim(),
            self.footer
        )
    }
}

/// Where the reply will be shown; wording differs slightly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Surface {
    /// Discord, where slash commands exist.
    #[default]
    Discord,
    /// The offline console, where `/topic` is typed as a console command.
    Console,
}

/// Who reads a reply: where it is shown, and what tells us their region
/// (for the order of crisis lines).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reader<'a> {
    pub surface: Surface,
    pub regions: RegionHints<'a>,
}

impl From<Surface> for Reader<'static> {
    fn from(surface: Surface) -> Self {
        Reader {
            surface,
            regions: RegionHints::default(),
        }
    }
}

/// The reply for a classified message.
///
/// Crisis gets the crisis reply, the watch tier the gentler one, a topic
/// its guidance, an unsure result the "did you mean" reply, and anything
/// else the help text. Whether a watch-tier reply is sent at all depends on
/// where the message was written; that is the adapter's call.
pub fn compose(library: &Library, classification: &Classification, reader: Reader<'_>) -> Reply {
    match classification.outcome {
        Outcome::Crisis => crisis(library, reader.regions),
        _ if classification.crisis_tier == CrisisTier::Possible => {
            possible_crisis(library, reader.regions)
        }
        Outcome::Topic(id) => match library.topic(id) {
            Some(topic) => guidance(library, topic),
            None => help(library, reader.surface),
        },
        Outcome::Unsure => not_sure(library, classification, reader.surface),
        Outcome::Nothing => help(library, reader.surface),
    }
}

/// A topic's guidance.
pub fn guidance(library: &Library, topic: &Topic) -> Reply {
    let id = crate::content::TOPIC_IDS
        .iter()
        .copied()
        .find(|id| *id == topic.id)
        .unwrap_or("referral");
    let mut body = topic.guidance.trim().to_string();
    let related: Vec<&str> = topic
        .related
        .iter()
        .filter_map(|r| library.topic(r))
        .map(|t| t.title.as_str())
        .collect();
    if !related.is_empty() {
        body.push_str("\n\n*Related:* ");
        body.push_str(&related.join(" · "));
    }
    Reply::new(
        library,
        ReplyKind::Topic(id),
        &topic.title,
        body,
        Tone::Guidance,
    )
}

/// The crisis reply: the lines for the reader's region come first.
pub fn crisis(library: &Library, hints: RegionHints<'_>) -> Reply {
    let c = &library.crisis;
    let body = format!(
        "{}\n{}\n\n{}",
        region_lines(library, hints),
        c.fallback.trim(),
        c.message.trim()
    );
    Reply::new(library, ReplyKind::Crisis, &c.title, body, Tone::Urgent)
}

/// The watch tier's reply: a gentler opening, then the same lines.
pub fn possible_crisis(library: &Library, hints: RegionHints<'_>) -> Reply {
    let c = &library.crisis;
    let body = format!(
        "{}\n\n{}\n{}\n\n{}",
        c.possible_opening.trim(),
        region_lines(library, hints),
        c.fallback.trim(),
        c.message.trim()
    );
    Reply::new(
        library,
        ReplyKind::PossibleCrisis,
        &c.possible_title,
        body,
        Tone::Urgent,
    )
}

/// Every region's lines, on request; the reader's region first.
pub fn resources(library: &Library, hints: RegionHints<'_>) -> Reply {
    let c = &library.crisis;
    let first = regions::choose(&c.regions, hints);
    let rest = c
        .regions
        .iter()
        .filter(|r| !first.iter().any(|f| f.code == r.code));
    let body: String = first
        .iter()
        .copied()
        .chain(rest)
        .map(region_block)
        .collect::<Vec<_>>()
        .join("\n");
    let body = format!("{body}\n{}", c.fallback.trim());
    Reply::new(
        library,
        ReplyKind::Resources,
        "Crisis and support lines",
        body,
        Tone::Urgent,
    )
}

/// The regions the reader sees first (every region when none is known).
fn region_lines(library: &Library, hints: RegionHints<'_>) -> String {
    let all = &library.crisis.regions;
    let mut chosen = regions::choose(all, hints);
    if chosen.is_empty() {
        chosen = all.iter().collect();
    }
    chosen
        .into_iter()
        .map(region_block)
        .collect::<Vec<_>>()
        .join("\n")
}

fn region_block(region: &CrisisRegion) -> String {
    let mut out = format!("**{}**\n", region.name);
    for line in &region.lines {
        out.push_str(&format!(
            "- {}: {} ({})\n",
            line.name, line.contact, line.hours
        ));
    }
    out.push_str(&format!("- Emergency services: {}\n", region.emergency));
    out
}

fn topic_hint(surface: Surface) -> &'static str {
    match surface {
        Surface::Discord => "Open any topic with `/topic`, or see them all with `/topics`.",
        Surface::Console => "Type `/topic <id>` to open a topic, or `/topics` to list them all.",
    }
}

/// "Did you mean": the best candidates and how to open a topic.
pub fn not_sure(library: &Library, classification: &Classification, surface: Surface) -> Reply {
    let mut body = library.help.not_sure.trim().to_string();
    let mut suggestions = Vec::new();
    for candidate in &classification.candidates {
        if let Some(topic) = library.topic(candidate.topic) {
            body.push_str(&format!("\n- **{}**: {}", topic.title, topic.summary));
            suggestions.push(Suggestion {
                topic: candidate.topic,
                title: topic.title.clone(),
            });
        }
    }
    body.push_str("\n\n");
    body.push_str(topic_hint(surface));
    let mut reply = Reply::new(
        library,
        ReplyKind::NotSure,
        "Did you mean…",
        body,
        Tone::Info,
    );
    reply.suggestions = suggestions;
    reply
}

/// What the bot does, how to use it, and its privacy promise.
pub fn help(library: &Library, surface: Surface) -> Reply {
    let h = &library.help;
    let body = format!(
        "{}\n\n{}\n\n**Privacy**\n{}",
        h.body.trim(),
        topic_hint(surface),
        h.privacy.trim()
    );
    Reply::new(library, ReplyKind::Help, &h.title, body, Tone::Info)
}

/// Every topic with its one-line summary.
pub fn topic_list(library: &Library, surface: Surface) -> Reply {
    let mut body: String = library
        .topics
        .iter()
        .map(|t| format!("- **{}** (`{}`): {}\n", t.title, t.id, t.summary))
        .collect();
    body.push('\n');
    body.push_str(topic_hint(surface));
    Reply::new(
        library,
        ReplyKind::TopicList,
        "Boundary topics",
        body,
        Tone::Info,
    )
}

/// A short note from the bot itself (a moderator confirmation, a polite
/// refusal, an error), with the referral notice like every reply. `title`
/// and `body` must come from this crate or `responses/`, never from a
/// member's message.
pub fn note(library: &Library, title: &str, body: &str) -> Reply {
    Reply::new(
        library,
        ReplyKind::Note,
        title,
        body.to_string(),
        Tone::Info,
    )
}

/// Makes `@everyone`, `@here` and `<@…>` inert by inserting a zero-width
/// space, so text can never ping even if a mention slipped into content.
pub fn defuse_mentions(text: &str) -> String {
    text.replace("@everyone", "@\u{200B}everyone")
        .replace("@here", "@\u{200B}here")
        .replace("<@", "<\u{200B}@")
}
