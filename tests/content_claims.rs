//! Pins the claims the shipped guidance must make (and must not make), that
//! cross-references between topics resolve, and that no response text
//! repeats an 8-word run from the source articles.
//!
//! Text checks are case-insensitive substring checks on the real
//! `responses/` folder, so wording can change as long as the claim stays.

use boundary_bot::content::Library;
use boundary_bot::discord::commands::member::context_menu;
use regex::Regex;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Words in the window the seed-overlap check compares.
const RUN: usize = 8;

fn library() -> &'static Library {
    static LIBRARY: OnceLock<Library> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("responses");
        Library::load(&dir).expect("shipped content loads")
    })
}

/// A topic's guidance, lowercased, with curly apostrophes made straight.
fn guidance(id: &str) -> String {
    let topic = library()
        .topic(id)
        .unwrap_or_else(|| panic!("topic {id} exists"));
    lower(&topic.guidance)
}

fn lower(text: &str) -> String {
    text.to_lowercase().replace('\u{2019}', "'")
}

/// How a topic refers to another one: see “<Title>”.
fn see(id: &str) -> String {
    let topic = library()
        .topic(id)
        .unwrap_or_else(|| panic!("topic {id} exists"));
    lower(&format!("see \u{201c}{}\u{201d}", topic.title))
}

fn assert_mentions(what: &str, text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(
            text.contains(&lower(needle)),
            "{what}: should mention {needle:?}\n---\n{text}"
        );
    }
}

fn assert_mentions_any(what: &str, text: &str, alternatives: &[&str]) {
    assert!(
        alternatives.iter().any(|a| text.contains(&lower(a))),
        "{what}: should mention one of {alternatives:?}\n---\n{text}"
    );
}

fn assert_omits(what: &str, text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(
            !text.contains(&lower(needle)),
            "{what}: should no longer say {needle:?}\n---\n{text}"
        );
    }
}

/// The paragraph (or list item) of `text` that contains `anchor`.
fn paragraph_with<'a>(text: &'a str, anchor: &str) -> &'a str {
    text.split('\n')
        .find(|p| p.contains(anchor))
        .unwrap_or_else(|| panic!("no paragraph mentions {anchor:?}\n---\n{text}"))
}

#[test]
fn confidentiality_does_not_stop_members_talking_about_suicidal_thoughts() {
    let text = guidance("confidentiality");
    let what = "confidentiality";
    assert_mentions(what, &text, &["suicidal thoughts", "usually"]);
    assert_mentions_any(
        what,
        &text,
        &[
            "doesn't mean anyone",
            "does not mean anyone",
            "stays private",
        ],
    );
    assert_mentions(
        what,
        &text,
        &["breaking confidentiality", "immediate danger"],
    );
    assert_mentions_any(what, &text, &["talk it through with you first"]);
}

#[test]
fn confidentiality_covers_under_18s_insurers_and_care_teams() {
    let text = guidance("confidentiality");
    let what = "confidentiality";
    assert_mentions(what, &text, &["under 18", "parents or guardians"]);
    assert_mentions(
        what,
        &text,
        &["depending on your country", "age", "maturity"],
    );
    assert_mentions(what, &text, &["safety", "at the start"]);
    assert_mentions(what, &text, &["insur", "diagnos", "records"]);
    assert_mentions(what, &text, &["care team", "as part of your care"]);
    assert_omits(
        what,
        &text,
        &[
            "basic billing",
            "can't pass it on to",
            "other professionals unless",
        ],
    );
}

#[test]
fn contact_between_sessions_helps_on_a_bad_night() {
    let text = guidance("contact-between-sessions");
    let what = "contact-between-sessions";
    assert_mentions(what, &text, &["/resources", "plan", "hard week"]);
    assert_mentions_any(
        what,
        &text,
        &["can't answer quickly", "cannot answer quickly"],
    );
    assert_mentions(what, &text, &["emergenc", "immediate danger"]);
}

#[test]
fn romantic_feelings_answers_its_own_questions() {
    let text = guidance("romantic-feelings");
    let what = "romantic-feelings";
    assert_mentions(what, &text, &["after therapy ends", "years", "for good"]);
    assert_mentions(what, &text, &["crime", "in some places"]);
    assert_mentions(what, &text, &["trained to hear"]);
    assert_omits(what, &text, &["won't end things", "will not end things"]);
    assert_mentions(what, &text, &[&see("reporting-concerns")]);
}

#[test]
fn reporting_concerns_covers_routes_outside_the_us() {
    let text = guidance("reporting-concerns");
    let what = "reporting-concerns";
    assert_mentions(what, &text, &["licensing board", "the uk"]);
    assert_mentions(what, &text, &["professional body they are registered with"]);
    assert_mentions(what, &text, &["hcpc", "practitioner psychologists"]);
    assert_mentions(what, &text, &["police", "sexual-assault support service"]);
    assert_mentions(what, &text, &["after therapy has ended"]);
}

#[test]
fn reporting_concerns_sends_ordinary_friction_elsewhere() {
    let text = guidance("reporting-concerns");
    let what = "reporting-concerns";
    let fees = see("fees-and-missed-sessions");
    let ruptures = see("ruptures-and-self-disclosure");
    assert_mentions(what, &text, &["not every", "misconduct"]);
    assert_mentions(what, &text, &[&fees, &ruptures]);
    let friction = paragraph_with(&text, &fees);
    assert_mentions(what, friction, &["fee", "themselves", "hurtful remark"]);
}

#[test]
fn dual_relationship_is_firm_on_family_and_money() {
    let text = guidance("dual-relationship");
    let what = "dual-relationship";
    let family = paragraph_with(&text, "family");
    assert_mentions_any(what, family, &["should not", "shouldn't", "never"]);
    let money = paragraph_with(&text, "red flag");
    assert_mentions(what, money, &["business", "money", "not a grey area"]);
    assert_mentions(what, &text, &[&see("reporting-concerns")]);
}

#[test]
fn notice_says_general_information_and_who_to_ask() {
    let text = lower(&library().notice);
    let what = "notice";
    assert_mentions(
        what,
        &text,
        &["general information, not professional advice"],
    );
    assert_mentions(what, &text, &["a qualified mental-health professional"]);
    assert_mentions(
        what,
        &text,
        &["ideally your own therapist, or a doctor or support service"],
    );
    // Help right now is one command away; the crisis reply itself is the
    // one place that says to call the emergency number.
    assert_mentions(what, &text, &["/resources"]);
    let sentences = text.matches(". ").count() + 1;
    assert!(sentences <= 2, "notice: one or two sentences\n{text}");
}

#[test]
fn help_says_what_is_public_private_and_alerted() {
    let text = lower(&library().help.body);
    let what = "help";
    assert_mentions(what, &text, &["private", "/ask", context_menu::NAME, "dm"]);
    assert_mentions(what, &text, &["public", "@mention", "auto-reply", "crisis"]);
    assert_mentions(
        what,
        &text,
        &["moderators may be alerted", "link to the message"],
    );
    assert_mentions(what, &text, &["never contains what you wrote"]);
    let words = library().help.body.split_whitespace().count();
    assert!((80..=160).contains(&words), "help body is {words} words");
}

#[test]
fn every_topic_guidance_is_120_to_250_words() {
    for topic in &library().topics {
        let words = topic.guidance.split_whitespace().count();
        assert!(
            (120..=250).contains(&words),
            "{}: guidance is {words} words",
            topic.id
        );
    }
}

#[test]
fn cross_references_resolve_to_real_titles() {
    let see = Regex::new(r"(?i)\bsee \u{201c}([^\u{201d}]+)\u{201d}").unwrap();
    let loose = Regex::new(r"(?i)\bsee (the|our) [^.\u{201c}]{0,60}\btopic\b").unwrap();
    let lib = library();
    let titles: BTreeSet<&str> = lib.topics.iter().map(|t| t.title.as_str()).collect();
    for topic in &lib.topics {
        for found in see.captures_iter(&topic.guidance) {
            let title = &found[1];
            assert!(
                titles.contains(title) && title != topic.title,
                "{}: see \u{201c}{title}\u{201d} is not another topic's title; titles: {titles:?}",
                topic.id
            );
        }
        if let Some(m) = loose.find(&topic.guidance) {
            panic!(
                "{}: {:?} should name the topic as see \u{201c}<Title>\u{201d}",
                topic.id,
                m.as_str()
            );
        }
        for related in &topic.related {
            assert!(
                related != &topic.id && lib.topic(related).is_some(),
                "{}: related id {related:?} is not another topic",
                topic.id
            );
        }
    }
}

/// Lowercase words: letters, digits and apostrophes (curly ones made
/// straight); apostrophes at a word's edges are quotes, not part of it.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace('\u{2019}', "'")
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn seeds_dir() -> PathBuf {
    match std::env::var_os("BOUNDARY_BOT_SEEDS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds"),
    }
}

fn files_with(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

/// Every 8-word run in the seed articles.
fn seed_runs(dir: &Path) -> HashSet<Vec<String>> {
    let mut runs = HashSet::new();
    for file in files_with(dir, "txt") {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        for window in words(&text).windows(RUN) {
            runs.insert(window.to_vec());
        }
    }
    runs
}

/// Every string value in a TOML document, however deeply nested.
fn strings<'a>(value: &'a toml::Value, out: &mut Vec<&'a str>) {
    match value {
        toml::Value::String(s) => out.push(s),
        toml::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        toml::Value::Table(table) => table.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The runs in one response file that also appear in the seeds.
fn copied_runs(file: &Path, seeds: &HashSet<Vec<String>>) -> Vec<String> {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let value: toml::Value =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut values = Vec::new();
    strings(&value, &mut values);
    let mut copied = Vec::new();
    for s in values {
        for window in words(s).windows(RUN) {
            if seeds.contains(window) {
                copied.push(window.join(" "));
            }
        }
    }
    copied
}

#[test]
fn no_eight_word_run_matches_the_seeds() {
    let dir = seeds_dir();
    if !dir.is_dir() {
        println!("seeds folder not found; skipped");
        let required = std::env::var("BOUNDARY_BOT_REQUIRE_SEEDS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "BOUNDARY_BOT_REQUIRE_SEEDS=1 but {} does not exist",
            dir.display()
        );
        return;
    }
    let seeds = seed_runs(&dir);
    assert!(!seeds.is_empty(), "no .txt seeds in {}", dir.display());
    let responses = Path::new(env!("CARGO_MANIFEST_DIR")).join("responses");
    let mut offences = Vec::new();
    for file in files_with(&responses, "toml") {
        for run in copied_runs(&file, &seeds) {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            println!("{name}: \"{run}\"");
            offences.push(format!("{name}: \"{run}\""));
        }
    }
    assert!(
        offences.is_empty(),
        "{} run(s) of {RUN} words copied from the seeds:\n{}",
        offences.len(),
        offences.join("\n")
    );
}
