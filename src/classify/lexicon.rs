//! The fuzzy first stage: what the message's words match in `responses/`.
//!
//! It owns the hand-written matching knowledge: therapy-context words,
//! topic cues, `ignore` phrases and (through [`CrisisDetector`]) the crisis
//! lexicon. It reads a message into a [`Reading`]: every match, the
//! therapy context, and per topic a [`TopicScore`]. It never decides what
//! the bot says; the learned stage ([`super::model`]) does that from the
//! reading's features, and [`Lexicon::rule_verdict`] keeps the hand-tuned
//! rule of earlier versions as the measured baseline.
//!
//! A topic cue counts in full near a therapy word (or near "she", "him"…
//! once a therapist is named), and for less far from one. Strong cues
//! ("dual relationship") count without context. Each distinct cue adds its
//! weight once (strong 2, cue 1, weak 0.5), divided among the topics that
//! share it, so scores never grow with length.

use std::collections::HashMap;

use crate::content::{Library, TOPIC_IDS};
use crate::normalize::{Normalizer, Words};
use crate::phrases::{terms_of, Fit, Hit, PhraseSet, Spans, TermId, Vocab};

use super::crisis::{CrisisAssessment, CrisisDetector};

/// What a pattern in the topic set stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Label {
    Cue {
        topic: u8,
        weight: f32,
        strong: bool,
    },
    Context,
    WeakContext,
    Pronoun,
    Ignore,
}

pub const STRONG: f32 = 2.0;
const CUE: f32 = 1.0;
const WEAK: f32 = 0.5;
/// Cues further than this many words from a therapy word count less.
const NEAR_WORDS: u32 = 10;
const FAR_FACTOR: f32 = 0.4;
/// A cue this close to "she", "him"… (once a therapist is named) is near.
const PRONOUN_NEAR_WORDS: u32 = 3;
/// Far cues together add at most this much to a topic.
const FAR_CAP: f32 = 0.4;
/// Weak cues together add at most this much to a topic.
const WEAK_CAP: f32 = 0.5;

/// The number of topics.
pub const TOPICS: usize = TOPIC_IDS.len();

/// One topic's evidence in a message.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TopicScore {
    /// Everything the topic's cues added.
    pub total: f32,
    /// The part added by strong cues.
    pub strong: f32,
    /// The part added by weak cues (capped).
    pub weak: f32,
    /// The part added by cues far from any therapy word (capped).
    pub far: f32,
    /// Distinct cues counted.
    pub cues: u32,
}

/// A cue that counted, for explanations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountedCue {
    pub topic: usize,
    pub phrase: u32,
    pub added: f32,
}

/// Where the therapy context sits in a message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// Word positions of therapy words that count.
    pub anchors: Vec<u32>,
    /// Word positions of "she", "him"… (only once a therapist is named).
    pub pronouns: Vec<u32>,
    /// A professional was named who turned out not to be a therapist.
    pub other_professional: bool,
}

impl Context {
    pub fn present(&self) -> bool {
        !self.anchors.is_empty()
    }

    /// Whether a cue at `hit` sits near the therapist.
    fn near(&self, hit: &Hit) -> bool {
        let within = |at: u32, words: u32| {
            at.abs_diff(hit.start) <= words || (hit.start <= at && at < hit.end)
        };
        self.anchors.iter().any(|&a| within(a, NEAR_WORDS))
            || self.pronouns.iter().any(|&p| within(p, PRONOUN_NEAR_WORDS))
    }
}

/// Everything the first stage found in one message.
#[derive(Debug, Clone)]
pub struct Reading {
    pub words: Words,
    pub terms: Vec<Option<(TermId, Fit)>>,
    pub crisis: CrisisAssessment,
    /// Crisis-lexicon matches (phrases, signals, denials, idioms, concepts).
    pub crisis_hits: Vec<Hit>,
    /// Topic-set matches (cues, context, pronouns, ignores).
    pub hits: Vec<Hit>,
    pub context: Context,
    /// Per topic, in [`TOPIC_IDS`] order.
    pub scores: [TopicScore; TOPICS],
    pub counted: Vec<CountedCue>,
}

/// The compiled matching knowledge of `responses/`.
#[derive(Debug)]
pub struct Lexicon {
    norm: Normalizer,
    vocab: Vocab,
    topics: PhraseSet<Label>,
    crisis: CrisisDetector,
}

impl Lexicon {
    pub fn new(library: &Library) -> Self {
        let lexicon = &library.lexicon;
        let norm = Normalizer::new(&lexicon.synonyms);
        let mut vocab = Vocab::new(lexicon.not_typos.iter().map(String::as_str));
        for (canonical, names) in &lexicon.aliases {
            for name in names {
                for word in norm.words(name).iter() {
                    vocab.alias(word, canonical);
                }
            }
        }
        let crisis = CrisisDetector::new(&mut vocab, &norm, &library.crisis.lexicon);
        // Topic phrases tolerate one stray word between pattern words.
        let mut topics = PhraseSet::new(1);
        for (list, label) in [
            (&lexicon.context, Label::Context),
            (&lexicon.weak_context, Label::WeakContext),
            (&lexicon.pronouns, Label::Pronoun),
            (&lexicon.ignore, Label::Ignore),
        ] {
            for pattern in list {
                topics.add(&mut vocab, &norm, pattern, label);
            }
        }
        add_cues(library, &norm, &mut vocab, &mut topics);
        Self {
            norm,
            vocab,
            topics,
            crisis,
        }
    }

    pub fn crisis_detector(&self) -> &CrisisDetector {
        &self.crisis
    }

    pub fn topic_phrases(&self) -> &PhraseSet<Label> {
        &self.topics
    }

    pub fn normalizer(&self) -> &Normalizer {
        &self.norm
    }

    /// Reads one message.
    pub fn read(&self, text: &str) -> Reading {
        let words = self.norm.words(text);
        let terms = terms_of(&self.vocab, &words);
        let mut crisis_hits = Vec::new();
        let crisis = self.crisis.assess(&terms, &mut crisis_hits);
        let mut hits = Vec::new();
        self.topics.find(&terms, &mut hits);
        let ignores = Spans::new(hits.iter().filter(|h| self.label(h) == Label::Ignore));
        let context = self.context(&hits, &ignores);
        let (scores, counted) = self.score_topics(&hits, &ignores, &context);
        Reading {
            words,
            terms,
            crisis,
            crisis_hits,
            hits,
            context,
            scores,
            counted,
        }
    }

    fn label(&self, hit: &Hit) -> Label {
        self.topics.phrase(hit).label
    }

    /// Inside a longer `ignore` phrase ("physical therapist", "in touch"),
    /// a match does not count.
    pub fn blocked(&self, hit: &Hit, ignores: &Spans) -> bool {
        self.label(hit) != Label::Ignore && ignores.contains_longer(hit)
    }

    fn context(&self, hits: &[Hit], ignores: &Spans) -> Context {
        // "session" means therapy unless the message's professional turned
        // out not to be a therapist ("my physical therapist", "camp counselor").
        let other_professional = hits
            .iter()
            .any(|h| self.label(h) == Label::Context && self.blocked(h, ignores));
        let anchors: Vec<u32> = hits
            .iter()
            .filter(|h| match self.label(h) {
                Label::Context => !self.blocked(h, ignores),
                Label::WeakContext => !self.blocked(h, ignores) && !other_professional,
                _ => false,
            })
            .map(|h| h.start)
            .collect();
        // Once a therapist is named, "she", "him" and the like usually mean them.
        let pronouns = if anchors.is_empty() {
            Vec::new()
        } else {
            hits.iter()
                .filter(|h| self.label(h) == Label::Pronoun)
                .map(|h| h.start)
                .collect()
        };
        Context {
            anchors,
            pronouns,
            other_professional,
        }
    }

    /// The cue hits that count, each at its near or far weight.
    fn cue_hits(&self, hits: &[Hit], ignores: &Spans, context: &Context) -> Vec<CueHit> {
        let mut cues: Vec<CueHit> = hits
            .iter()
            .filter(|h| !self.blocked(h, ignores))
            .filter_map(|h| match self.label(h) {
                Label::Cue {
                    topic,
                    weight,
                    strong,
                } => {
                    // Strong cues stand on their own; others should sit near
                    // a therapy word to count in full.
                    let near = strong || context.near(h);
                    Some(CueHit {
                        topic: topic as usize,
                        phrase: h.phrase,
                        weight: if near { weight } else { weight * FAR_FACTOR },
                        full: weight,
                        strong,
                        start: h.start,
                        end: h.end,
                    })
                }
                _ => None,
            })
            .collect();
        cues.sort_by_key(|c| (c.topic, c.start));
        cues
    }

    fn score_topics(
        &self,
        hits: &[Hit],
        ignores: &Spans,
        context: &Context,
    ) -> ([TopicScore; TOPICS], Vec<CountedCue>) {
        let cues = self.cue_hits(hits, ignores, context);
        let mut scores = [TopicScore::default(); TOPICS];
        let mut counted = Vec::new();
        for cue in distinct_cues(&cues) {
            let score = &mut scores[cue.topic];
            let is_weak = !cue.strong && cue.full <= WEAK;
            let mut add = cue.weight;
            if is_weak {
                add = add.min((WEAK_CAP - score.weak).max(0.0));
                score.weak += add;
            }
            if add < cue.full * 0.99 || (is_weak && cue.weight < cue.full * 0.99) {
                add = add.min((FAR_CAP - score.far).max(0.0));
                score.far += add;
            }
            score.total += add;
            score.cues += 1;
            if cue.strong {
                score.strong += add;
            }
            counted.push(CountedCue {
                topic: cue.topic,
                phrase: cue.phrase,
                added: add,
            });
        }
        (scores, counted)
    }
}

/// A cue match with its weight where it stands.
#[derive(Debug, Clone, Copy, PartialEq)]
struct CueHit {
    topic: usize,
    phrase: u32,
    /// Weight here (full when near the therapist).
    weight: f32,
    /// The pattern's own weight.
    full: f32,
    strong: bool,
    start: u32,
    end: u32,
}

/// Overlapping hits of one topic ("text", "text my therapist") are one piece
/// of evidence, the heaviest; a cue said twice counts once, at its best.
/// `cues` must be sorted by topic, then start.
fn distinct_cues(cues: &[CueHit]) -> Vec<CueHit> {
    let mut found: Vec<CueHit> = Vec::new();
    let mut i = 0;
    while i < cues.len() {
        let mut best = cues[i];
        let mut end = best.end;
        let mut j = i + 1;
        while j < cues.len() && cues[j].topic == best.topic && cues[j].start < end {
            if cues[j].weight > best.weight {
                best = cues[j];
            }
            end = end.max(cues[j].end);
            j += 1;
        }
        match found
            .iter_mut()
            .find(|e| e.topic == best.topic && e.phrase == best.phrase)
        {
            Some(e) => e.weight = e.weight.max(best.weight),
            None => found.push(best),
        }
        i = j;
    }
    found
}

/// Compiles every topic's cues; a cue listed by several topics is divided
/// among them, so telling cues outweigh common ones.
fn add_cues(library: &Library, norm: &Normalizer, vocab: &mut Vocab, set: &mut PhraseSet<Label>) {
    let key = |p: &str| -> Vec<String> { norm.words(p).iter().map(str::to_string).collect() };
    let mut sharing: HashMap<Vec<String>, u32> = HashMap::new();
    for topic in &library.topics {
        let m = &topic.matching;
        let mut own: Vec<Vec<String>> = m
            .strong_cues
            .iter()
            .chain(&m.cues)
            .chain(&m.weak_cues)
            .map(|p| key(p))
            .collect();
        own.sort();
        own.dedup();
        for k in own {
            *sharing.entry(k).or_default() += 1;
        }
    }
    for topic in &library.topics {
        let index = TOPIC_IDS.iter().position(|id| *id == topic.id).unwrap_or(0) as u8;
        let m = &topic.matching;
        for (list, weight, strong) in [
            (&m.strong_cues, STRONG, true),
            (&m.cues, CUE, false),
            (&m.weak_cues, WEAK, false),
        ] {
            for pattern in list {
                let shared = sharing.get(&key(pattern)).copied().unwrap_or(1).max(1) as f32;
                let label = Label::Cue {
                    topic: index,
                    weight: weight / shared,
                    strong,
                };
                set.add(vocab, norm, pattern, label);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon() -> Lexicon {
        let library =
            Library::load(std::path::Path::new("responses")).expect("shipped responses load");
        Lexicon::new(&library)
    }

    fn score(reading: &Reading, topic: &str) -> TopicScore {
        reading.scores[TOPIC_IDS.iter().position(|t| *t == topic).unwrap()]
    }

    #[test]
    fn context_is_found_and_other_professionals_are_not_therapy() {
        let l = lexicon();
        assert!(l.read("can i hug my therepist").context.present());
        assert!(l.read("my T said no").context.present());
        let pt = l.read("my physical therapist gave me a session plan");
        assert!(!pt.context.present() && pt.context.other_professional);
    }

    #[test]
    fn a_cue_near_the_therapist_counts_in_full_and_far_ones_are_capped() {
        let l = lexicon();
        let near = score(&l.read("can i hug my therapist"), "physical-touch");
        assert!(near.total >= 1.0 && near.far == 0.0, "{near:?}");
        let filler =
            " and then we talked about work and the weather and my week and my cat and more";
        let far = score(
            &l.read(&format!("my therapist{filler}{filler} i want a hug")),
            "physical-touch",
        );
        assert!(far.far > 0.0 && far.far <= FAR_CAP + 1e-6, "{far:?}");
    }

    #[test]
    fn a_cue_counts_once_however_often_it_is_said() {
        let l = lexicon();
        let once = score(&l.read("can i hug my therapist"), "physical-touch");
        let thrice = score(
            &l.read("can i hug my therapist hug hug hug"),
            "physical-touch",
        );
        assert_eq!(once.cues, thrice.cues);
    }

    #[test]
    fn ignore_phrases_cancel_what_they_contain() {
        let l = lexicon();
        let r = l.read("lets keep in touch with my therapist");
        assert_eq!(score(&r, "physical-touch").total, 0.0);
    }

    #[test]
    fn crisis_evidence_is_read_with_denials_and_idioms() {
        let l = lexicon();
        assert!(l.read("i want to kill myself").crisis.is_crisis());
        let denied = l.read("im not suicidal");
        assert!(denied.crisis.denied && !denied.crisis.is_crisis());
        let idiom = l.read("i want to die of embarrassment");
        assert!(idiom.crisis.idiom && !idiom.crisis.is_crisis());
        assert!(l.read("k i l l myself").crisis.is_crisis());
        let both = l.read("wrote a goodbye letter to my therapist and im ready now");
        assert!(
            both.crisis.is_crisis(),
            "an idiom must not cancel a crisis said elsewhere"
        );
        assert!(l.read("thinking about su1c1de").crisis.is_crisis());
    }

    #[test]
    fn someone_elses_risk_is_counted_apart_from_the_writers_own() {
        let l = lexicon();
        for text in [
            "my brother killed himself two years ago",
            "my friend committed suicide last spring",
            "she died by suicide and i keep rereading our texts",
            "found out my son has been cutting himself",
        ] {
            let c = l.read(text).crisis;
            assert!(c.others > 0 && !c.is_crisis(), "{text}: {c:?}");
        }
        // Someone else's risk now stays crisis: the lines go to whoever
        // can help.
        let now = l.read("my daughter says she wants to kill herself").crisis;
        assert!(now.others == 0 && now.is_crisis(), "{now:?}");
        // The writer's own words elsewhere still count.
        let both = l
            .read("my brother killed himself and now i want to die too")
            .crisis;
        assert!(both.others > 0 && both.is_crisis(), "{both:?}");
        // Words share a stem, so the patterns name a subject: the writer's
        // own "commit suicide" is not someone else's.
        let own = l.read("im going to commit suicide tonight").crisis;
        assert!(own.others == 0 && own.is_crisis(), "{own:?}");
    }
}
