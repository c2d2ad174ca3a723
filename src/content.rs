//! Loads `responses/` into a validated [`Library`]: the topic guidance, the
//! crisis reply and its lexicon, the referral notice, the help text and the
//! classifier's shared vocabulary.
//!
//! Content is data that moderators edit. Everything is checked here, at
//! start-up or on reload, and every problem is reported as a [`LoadError`]
//! naming the file, the field and the fix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Deserialize;

pub use crate::regions::{CrisisLine, CrisisRegion, LineKind};

use crate::error::{LoadError, LoadErrorKind};

/// The topic ids. They are fixed: each is the name of a file in `responses/`
/// and a label in the evaluation data.
pub const TOPIC_IDS: [&str; 17] = [
    "letters",
    "referral",
    "friendship",
    "contact-between-sessions",
    "former-therapist",
    "physical-touch",
    "romantic-feelings",
    "dual-relationship",
    "confidentiality",
    "gifts",
    "ending-therapy",
    "reporting-concerns",
    "breaks-and-absences",
    "ruptures-and-self-disclosure",
    "fees-and-missed-sessions",
    "young-people",
    "online-therapy",
];

/// Files in `responses/` that are not topics.
const SPECIAL_FILES: [&str; 4] = ["crisis", "notice", "help", "lexicon"];

/// Discord limits that content must respect (characters).
pub mod limits {
    pub const EMBED_TITLE: usize = 256;
    pub const EMBED_DESCRIPTION: usize = 4096;
    pub const EMBED_FOOTER: usize = 2048;
    pub const EMBED_TOTAL: usize = 6000;
    /// Select-menu option descriptions, where topic summaries are shown.
    pub const SUMMARY: usize = 100;
    /// Select-menu option labels and button labels, where titles are shown.
    pub const TITLE: usize = 80;
}

/// One boundary topic, as written in `responses/<id>.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub guidance: String,
    #[serde(default)]
    pub related: Vec<String>,
    #[serde(rename = "match")]
    pub matching: TopicMatching,
}

/// What the classifier needs to recognise a topic.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicMatching {
    /// Words and phrases that point to the topic when the message is about
    /// therapy (a professional or a session is mentioned).
    #[serde(default)]
    pub cues: Vec<String>,
    /// Phrases telling enough to count even without a therapy word
    /// ("transference", "dual relationship"). Worth twice a cue.
    #[serde(default)]
    pub strong_cues: Vec<String>,
    /// Loose hints worth half a cue: they help, but never decide alone.
    #[serde(default)]
    pub weak_cues: Vec<String>,
    /// Example questions: documentation for editors and a self-check
    /// (`boundary-bot check` reports any that classify elsewhere).
    #[serde(default)]
    pub examples: Vec<String>,
}

/// `responses/crisis.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrisisContent {
    pub title: String,
    /// After the lines: for the reader, and for a friend who is worried.
    pub message: String,
    /// The watch tier's title: a gentler opening, for a message that may
    /// be a crisis.
    pub possible_title: String,
    /// The watch tier's opening line, before the lines.
    pub possible_opening: String,
    /// The crisis lines, by region (see [`crate::regions`]).
    pub regions: Vec<CrisisRegion>,
    pub fallback: String,
    pub lexicon: CrisisLexicon,
}

/// Crisis patterns. A pattern is words separated by spaces; `*` stands for
/// up to three words of any kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrisisLexicon {
    /// Any one of these means crisis, even after a denial.
    pub phrases: Vec<String>,
    /// Hopelessness and finality signals: two different ones mean crisis.
    #[serde(default)]
    pub signals: Vec<String>,
    /// Denials ("not suicidal"): they count as one signal, and the phrase
    /// they cover counts as nothing more. They never cancel other phrases.
    #[serde(default)]
    pub denials: Vec<String>,
    /// Word groups used by `combos` ("intent", "death", "means", …).
    #[serde(default)]
    pub concepts: BTreeMap<String, Vec<String>>,
    /// Two concept groups close together, in order ("want to" … "die").
    #[serde(default)]
    pub combos: Vec<CrisisCombo>,
    /// Everyday idioms that contain crisis words but are not crisis.
    #[serde(default)]
    pub idioms: Vec<String>,
    /// Someone else's suicide, attempt or self-harm ("killed himself", "she
    /// is suicidal"): what they cover does not count as the writer's own
    /// crisis, and the message goes to the watch tier instead.
    #[serde(default)]
    pub others: Vec<String>,
}

/// A crisis pattern built from two concept groups: a word of `first`
/// followed, within `within` words, by a word of `then`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrisisCombo {
    pub first: String,
    pub then: String,
    /// Most words allowed between the two.
    pub within: u8,
    /// 1.0 means crisis on its own; 0.5 counts as one signal.
    pub weight: f32,
}

/// `responses/notice.toml`: the referral notice on every reply.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeFile {
    text: String,
}

/// `responses/help.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpContent {
    pub title: String,
    pub body: String,
    pub privacy: String,
    pub not_sure: String,
}

/// `responses/lexicon.toml`: vocabulary shared by all topics.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lexicon {
    /// Words that show the message is about therapy: the many names for
    /// the professional, and therapy words (session, appointment).
    pub context: Vec<String>,
    /// Therapy words that count as context unless the message's professional
    /// is not a therapist ("session" with "my physical therapist").
    #[serde(default)]
    pub weak_context: Vec<String>,
    /// Words that refer back to the professional once one is named ("she",
    /// "him"): cues near them count as near the therapist.
    #[serde(default)]
    pub pronouns: Vec<String>,
    /// Phrases whose words do not count, for context or cues: "physical
    /// therapist" is not therapy, "keep in touch" is not touch. They cancel
    /// any shorter match inside them.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Word replacements applied before matching ("wanna" = "want to").
    #[serde(default)]
    pub synonyms: BTreeMap<String, String>,
    /// Other names for a word: `therapist = ["counselor", "psych", …]` lets
    /// every pattern that says "therapist" match every name.
    #[serde(default)]
    pub aliases: BTreeMap<String, Vec<String>>,
    /// Real words that must not be read as typos of a pattern word
    /// ("better" is not a misspelt "letter"), nor joined by stem to another
    /// ("reference" is not "refer").
    #[serde(default)]
    pub not_typos: Vec<String>,
}

/// Everything in `responses/`, validated.
#[derive(Debug, Clone)]
pub struct Library {
    pub topics: Vec<Topic>,
    pub crisis: CrisisContent,
    pub notice: String,
    pub help: HelpContent,
    pub lexicon: Lexicon,
    pub dir: PathBuf,
}

impl Library {
    /// Loads and validates every file in `dir`.
    pub fn load(dir: &Path) -> Result<Self, LoadError> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            LoadError::new(
                LoadErrorKind::Unreadable,
                dir,
                "-",
                format!("cannot read the responses folder ({e})"),
                "run from the project folder, or set `responses_dir` in config.toml",
            )
        })?;
        let mut topic_files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .filter(|p| {
                let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                !SPECIAL_FILES.contains(&stem)
            })
            .collect();
        topic_files.sort();

        let mut topics: Vec<(PathBuf, Topic)> = Vec::new();
        for file in topic_files {
            let topic: Topic = read_toml(&file)?;
            topics.push((file, topic));
        }
        let crisis_file = dir.join("crisis.toml");
        let crisis: CrisisContent = read_toml(&crisis_file)?;
        let notice_file = dir.join("notice.toml");
        let notice: NoticeFile = read_toml(&notice_file)?;
        let help_file = dir.join("help.toml");
        let help: HelpContent = read_toml(&help_file)?;
        let lexicon_file = dir.join("lexicon.toml");
        let lexicon: Lexicon = read_toml(&lexicon_file)?;

        let notice = notice.text.trim().to_string();
        check_notice(&notice_file, &notice)?;
        check_topics(dir, &topics, &notice)?;
        check_crisis(&crisis_file, &crisis, &notice)?;
        check_help(&help_file, &help)?;
        check_lexicon(&lexicon_file, &lexicon)?;

        // Order topics as in TOPIC_IDS so output is stable.
        let mut topics: Vec<Topic> = topics.into_iter().map(|(_, t)| t).collect();
        topics.sort_by_key(|t| TOPIC_IDS.iter().position(|id| *id == t.id));
        Ok(Self {
            topics,
            crisis,
            notice,
            help,
            lexicon,
            dir: dir.to_path_buf(),
        })
    }

    /// The topic with this id, if any.
    pub fn topic(&self, id: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.id == id)
    }

    /// A topic as a member names it: by id, or by id or title ignoring
    /// case and surrounding spaces (members type the title instead of
    /// picking a suggestion). Used by `/topic`, `/pin` and the console.
    pub fn find_topic(&self, name: &str) -> Option<&Topic> {
        let name = name.trim();
        self.topic(name).or_else(|| {
            self.topics
                .iter()
                .find(|t| t.title.eq_ignore_ascii_case(name) || t.id.eq_ignore_ascii_case(name))
        })
    }
}

fn read_toml<T: DeserializeOwned>(file: &Path) -> Result<T, LoadError> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        let (kind, fix) = if e.kind() == std::io::ErrorKind::NotFound {
            (
                LoadErrorKind::MissingTopic,
                "restore the file from the repository (git checkout -- responses/)",
            )
        } else {
            (LoadErrorKind::Unreadable, "check the file's permissions")
        };
        LoadError::new(kind, file, "-", format!("cannot read the file ({e})"), fix)
    })?;
    toml::from_str(&text).map_err(|e| LoadError::from_toml(file, &e, &text))
}

fn invalid(file: &Path, field: &str, problem: impl Into<String>, fix: &str) -> LoadError {
    LoadError::new(LoadErrorKind::InvalidValue, file, field, problem, fix)
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Text shown to members must not ping anyone, whoever edited it.
fn check_no_mentions(file: &Path, field: &str, text: &str) -> Result<(), LoadError> {
    for bad in ["@everyone", "@here", "<@"] {
        if text.contains(bad) {
            return Err(invalid(
                file,
                field,
                format!("contains `{bad}`, which could ping people"),
                "remove the mention; the bot never pings anyone",
            ));
        }
    }
    Ok(())
}

fn check_text(file: &Path, field: &str, text: &str, max: usize) -> Result<(), LoadError> {
    if text.trim().is_empty() {
        return Err(invalid(
            file,
            field,
            "is empty",
            &format!("write the text for `{field}`"),
        ));
    }
    if chars(text) > max {
        return Err(invalid(
            file,
            field,
            format!("is {} characters; Discord allows {max} here", chars(text)),
            "shorten it",
        ));
    }
    check_no_mentions(file, field, text)
}

fn check_notice(file: &Path, notice: &str) -> Result<(), LoadError> {
    if notice.is_empty() {
        return Err(invalid(
            file,
            "text",
            "the referral notice is empty, but every reply must carry it",
            "write a notice saying the bot is not a therapist and pointing to a licensed professional and to emergency help",
        ));
    }
    check_text(file, "text", notice, 1024)
}

fn check_topics(dir: &Path, topics: &[(PathBuf, Topic)], notice: &str) -> Result<(), LoadError> {
    let mut seen: BTreeMap<&str, &Path> = BTreeMap::new();
    for (file, topic) in topics {
        if !TOPIC_IDS.contains(&topic.id.as_str()) {
            return Err(invalid(
                file,
                "id",
                format!("`{}` is not one of the topic ids", topic.id),
                &format!("use one of: {}", TOPIC_IDS.join(", ")),
            ));
        }
        if let Some(first) = seen.insert(&topic.id, file) {
            return Err(LoadError::new(
                LoadErrorKind::DuplicateId,
                file,
                "id",
                format!("`{}` is already used by {}", topic.id, first.display()),
                "give each topic its own file; delete or rename the copy",
            ));
        }
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if stem != topic.id {
            return Err(invalid(
                file,
                "id",
                format!("`{}` does not match the file name", topic.id),
                &format!(
                    "rename the file to {}.toml or set id = \"{stem}\"",
                    topic.id
                ),
            ));
        }
        check_topic(file, topic, notice)?;
    }
    for id in TOPIC_IDS {
        if !seen.contains_key(id) {
            let file = dir.join(format!("{id}.toml"));
            return Err(LoadError::new(
                LoadErrorKind::MissingTopic,
                &file,
                "-",
                format!("the topic `{id}` has no file"),
                "restore the file from the repository (git checkout -- responses/)",
            ));
        }
    }
    Ok(())
}

/// One topic's texts against Discord's limits, its related ids and its cues.
fn check_topic(file: &Path, topic: &Topic, notice: &str) -> Result<(), LoadError> {
    check_text(file, "title", &topic.title, limits::TITLE)?;
    check_text(file, "summary", &topic.summary, limits::SUMMARY)?;
    check_text(file, "guidance", &topic.guidance, limits::EMBED_DESCRIPTION)?;
    let total = chars(&topic.title) + chars(&topic.guidance) + chars(notice);
    if total > limits::EMBED_TOTAL {
        return Err(invalid(
            file,
            "guidance",
            format!(
                "title, guidance and notice come to {total} characters; one Discord embed holds {}",
                limits::EMBED_TOTAL
            ),
            "shorten the guidance",
        ));
    }
    for related in &topic.related {
        if related == &topic.id || !TOPIC_IDS.contains(&related.as_str()) {
            return Err(invalid(
                file,
                "related",
                format!("`{related}` is not another topic id"),
                &format!("use ids from: {}", TOPIC_IDS.join(", ")),
            ));
        }
    }
    let m = &topic.matching;
    if m.cues.is_empty() && m.strong_cues.is_empty() {
        return Err(invalid(
            file,
            "match.cues",
            "has no cues, so the topic could never be recognised",
            "add words or phrases members use for this topic",
        ));
    }
    for (field, list) in [
        ("match.cues", &m.cues),
        ("match.strong_cues", &m.strong_cues),
        ("match.weak_cues", &m.weak_cues),
    ] {
        check_patterns(file, field, list)?;
    }
    Ok(())
}

/// A pattern must contain at least one word once normalised.
fn check_patterns(file: &Path, field: &str, list: &[String]) -> Result<(), LoadError> {
    for pattern in list {
        let words = crate::normalize::normalize(pattern);
        if words.is_empty() || words.iter().all(|w| w == "*") {
            return Err(invalid(
                file,
                field,
                format!("{pattern:?} has no words to match"),
                "remove the empty entry",
            ));
        }
    }
    Ok(())
}

fn check_crisis(file: &Path, crisis: &CrisisContent, notice: &str) -> Result<(), LoadError> {
    check_crisis_reply(file, crisis, notice)?;
    check_crisis_lexicon(file, &crisis.lexicon)
}

/// The crisis reply's texts, its regions, and its longest form against
/// Discord's embed limits.
fn check_crisis_reply(file: &Path, crisis: &CrisisContent, notice: &str) -> Result<(), LoadError> {
    check_text(file, "title", &crisis.title, limits::EMBED_TITLE)?;
    check_text(file, "message", &crisis.message, limits::EMBED_DESCRIPTION)?;
    check_text(
        file,
        "fallback",
        &crisis.fallback,
        limits::EMBED_DESCRIPTION,
    )?;
    check_text(
        file,
        "possible_title",
        &crisis.possible_title,
        limits::EMBED_TITLE,
    )?;
    check_text(file, "possible_opening", &crisis.possible_opening, 300)?;
    crate::regions::validate(file, &crisis.regions)?;
    // The longest reply: the watch tier's, for a reader whose region is
    // unknown, which lists every region.
    let mut body =
        chars(&crisis.message) + chars(&crisis.fallback) + chars(&crisis.possible_opening);
    for (i, r) in crisis.regions.iter().enumerate() {
        check_text(file, &format!("regions[{i}].name"), &r.name, 200)?;
        check_text(file, &format!("regions[{i}].emergency"), &r.emergency, 200)?;
        body += chars(&r.name) + chars(&r.emergency) + 30;
        for (j, line) in r.lines.iter().enumerate() {
            for (name, value) in [
                ("name", &line.name),
                ("contact", &line.contact),
                ("hours", &line.hours),
            ] {
                check_text(file, &format!("regions[{i}].lines[{j}].{name}"), value, 200)?;
                body += chars(value) + 8;
            }
        }
    }
    if body > limits::EMBED_DESCRIPTION || body + chars(notice) > limits::EMBED_TOTAL {
        return Err(invalid(
            file,
            "regions",
            format!(
                "the crisis reply comes to about {body} characters; one Discord embed holds {}",
                limits::EMBED_DESCRIPTION
            ),
            "shorten the message or the lines",
        ));
    }
    Ok(())
}

/// The crisis lexicon's patterns and combos.
fn check_crisis_lexicon(file: &Path, lexicon: &CrisisLexicon) -> Result<(), LoadError> {
    if lexicon.phrases.is_empty() {
        return Err(invalid(
            file,
            "lexicon.phrases",
            "is empty, so no crisis could be detected",
            "restore the crisis phrases from the repository",
        ));
    }
    check_patterns(file, "lexicon.phrases", &lexicon.phrases)?;
    check_patterns(file, "lexicon.signals", &lexicon.signals)?;
    check_patterns(file, "lexicon.denials", &lexicon.denials)?;
    for (name, words) in &lexicon.concepts {
        check_patterns(file, &format!("lexicon.concepts.{name}"), words)?;
    }
    for (i, combo) in lexicon.combos.iter().enumerate() {
        for concept in [&combo.first, &combo.then] {
            if !lexicon.concepts.contains_key(concept) {
                return Err(invalid(
                    file,
                    &format!("lexicon.combos[{i}]"),
                    format!(
                        "names the concept `{concept}`, which [lexicon.concepts] does not define"
                    ),
                    "define it under [lexicon.concepts] or correct the name",
                ));
            }
        }
        if !(combo.weight > 0.0 && combo.weight <= 1.0) || combo.within > 10 {
            return Err(invalid(
                file,
                &format!("lexicon.combos[{i}]"),
                "needs 0 < weight <= 1 and within <= 10",
                "use weight = 1.0 (crisis alone) or 0.5 (a signal), and within between 0 and 10",
            ));
        }
    }
    check_patterns(file, "lexicon.idioms", &lexicon.idioms)?;
    check_patterns(file, "lexicon.others", &lexicon.others)
}

fn check_help(file: &Path, help: &HelpContent) -> Result<(), LoadError> {
    check_text(file, "title", &help.title, limits::EMBED_TITLE)?;
    check_text(file, "body", &help.body, 2000)?;
    check_text(file, "privacy", &help.privacy, 1000)?;
    check_text(file, "not_sure", &help.not_sure, 500)
}

fn check_lexicon(file: &Path, lexicon: &Lexicon) -> Result<(), LoadError> {
    if lexicon.context.is_empty() {
        return Err(invalid(
            file,
            "context",
            "is empty, so no message would count as being about therapy",
            "list names for the professional (therapist, counselor, T) and therapy words (session)",
        ));
    }
    check_patterns(file, "context", &lexicon.context)?;
    check_patterns(file, "weak_context", &lexicon.weak_context)?;
    check_patterns(file, "pronouns", &lexicon.pronouns)?;
    check_patterns(file, "ignore", &lexicon.ignore)?;
    for (from, to) in &lexicon.synonyms {
        if from.trim().is_empty() || from.contains(' ') || to.trim().is_empty() {
            return Err(invalid(
                file,
                &format!("synonyms.{from}"),
                "a synonym maps one word to one or more words",
                "write it as word = \"replacement words\"",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_found_by_id_or_by_title_in_any_case() {
        let library = Library::load(Path::new("responses")).expect("shipped responses load");
        let gifts = library.topic("gifts").expect("gifts ships");
        for name in [
            "gifts",
            " GIFTS ",
            gifts.title.as_str(),
            &gifts.title.to_uppercase(),
        ] {
            assert_eq!(
                library.find_topic(name).map(|t| &t.id),
                Some(&gifts.id),
                "{name}"
            );
        }
        assert!(library.find_topic("../../no-such-topic").is_none());
        assert!(library.find_topic("").is_none());
    }
}
