//! The topic classifier: a message in, a [`Classification`] out.
//!
//! Crisis is checked first (see [`crate::crisis`]) and beats every topic.
//! A topic then needs two kinds of evidence: a *therapy context* (a name
//! for the professional or a therapy word, from `lexicon.toml`) and a
//! *topic cue* (from the topic's `[match]` section). "I hugged my dog" has
//! a cue but no context, so it is not a therapy question. Strong cues
//! ("dual relationship") count without context.
//!
//! Each distinct cue adds its weight (strong 2, cue 1, weak 0.5), divided
//! among the topics that share it, so telling cues outweigh common ones.
//! Scores add up over distinct cues, never over length, so a long story is
//! not penalised. Confidence is `s / (s + 1)` scaled by the margin over
//! the runner-up; below the configured threshold the classifier abstains.

use std::collections::HashMap;

use serde::Serialize;

use crate::config::ClassifierConfig;
use crate::content::{Library, TOPIC_IDS};
use crate::crisis::{CrisisDetector, CrisisKind};
use crate::normalize::Normalizer;
use crate::phrases::{terms_of, Fit, Hit, PhraseSet, Spans, TermId, Vocab};

/// A topic id, one of [`TOPIC_IDS`].
pub type TopicId = &'static str;

/// What the bot should do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "topic")]
pub enum Outcome {
    /// Crisis signals: send crisis resources, whatever else is asked.
    Crisis,
    /// Confidently about this topic.
    Topic(TopicId),
    /// Possibly about a topic, not surely: offer the candidates.
    Unsure,
    /// Not about a boundary topic.
    Nothing,
}

/// A topic the message might be about, with its confidence (0..1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Candidate {
    pub topic: TopicId,
    pub confidence: f32,
}

/// The classifier's answer for one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    pub outcome: Outcome,
    /// Confidence in `outcome` (for `Unsure`/`Nothing`, the best candidate's).
    pub confidence: f32,
    /// Up to three topics, best first (for "did you mean").
    pub candidates: Vec<Candidate>,
    /// Whether the message talks about the member's own therapy.
    pub therapy_context: bool,
}

impl Classification {
    /// The topic to answer with, or `None` when crisis, unsure or nothing.
    pub fn topic(&self) -> Option<TopicId> {
        match self.outcome {
            Outcome::Topic(t) => Some(t),
            _ => None,
        }
    }

    /// The label used by the evaluation: a topic id, `crisis` or `none`.
    pub fn label(&self) -> &'static str {
        match self.outcome {
            Outcome::Crisis => "crisis",
            Outcome::Topic(t) => t,
            Outcome::Unsure | Outcome::Nothing => "none",
        }
    }
}

/// One piece of evidence, for `--explain` and for content editors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// `crisis-phrase`, `crisis-signal`, `idiom`, `context`, `ignore` or a topic id.
    pub source: String,
    /// The pattern as written in `responses/`.
    pub pattern: String,
    /// The message words it matched (normalised).
    pub matched: String,
    /// How the words matched: exact, stem or typo.
    pub fit: Fit,
    /// Weight added to the topic (cues only).
    pub weight: f32,
    /// True if an idiom or a not-context phrase cancelled it.
    pub cancelled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Label {
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

const STRONG: f32 = 2.0;
const CUE: f32 = 1.0;
const WEAK: f32 = 0.5;
/// Cues further than this many words from a therapy word count less.
const NEAR_WORDS: u32 = 10;
const FAR_FACTOR: f32 = 0.4;
/// A cue this close to "she", "him"… (once a therapist is named) is near.
const PRONOUN_NEAR_WORDS: u32 = 3;
/// Far cues together add at most this much to a topic: a topic must be
/// discussed near the therapist to be answered.
const FAR_CAP: f32 = 0.4;
/// Weak cues together add at most this much to a topic.
const WEAK_CAP: f32 = 0.5;
/// Candidates found without any therapy context count for this much.
const NO_CONTEXT_FACTOR: f32 = 0.5;

/// Built once from a [`Library`]; classifies many messages.
#[derive(Debug)]
pub struct Classifier {
    norm: Normalizer,
    vocab: Vocab,
    topics: PhraseSet<Label>,
    crisis: CrisisDetector,
    threshold: f32,
    suggest_floor: f32,
}

impl Classifier {
    pub fn new(library: &Library, config: &ClassifierConfig) -> Self {
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

        // How many topics list each cue, so shared cues count less.
        let mut sharing: HashMap<Vec<String>, u32> = HashMap::new();
        for topic in &library.topics {
            let m = &topic.matching;
            let mut own: Vec<Vec<String>> = m
                .strong_cues
                .iter()
                .chain(&m.cues)
                .chain(&m.weak_cues)
                .map(|p| norm.words(p).iter().map(str::to_string).collect())
                .collect();
            own.sort();
            own.dedup();
            for key in own {
                *sharing.entry(key).or_default() += 1;
            }
        }

        // Topic phrases tolerate one stray word between pattern words.
        let mut topics = PhraseSet::new(1);
        for pattern in &lexicon.context {
            topics.add(&mut vocab, &norm, pattern, Label::Context);
        }
        for pattern in &lexicon.weak_context {
            topics.add(&mut vocab, &norm, pattern, Label::WeakContext);
        }
        for pattern in &lexicon.pronouns {
            topics.add(&mut vocab, &norm, pattern, Label::Pronoun);
        }
        for pattern in &lexicon.ignore {
            topics.add(&mut vocab, &norm, pattern, Label::Ignore);
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
                    let key: Vec<String> = norm.words(pattern).iter().map(str::to_string).collect();
                    let shared = sharing.get(&key).copied().unwrap_or(1).max(1) as f32;
                    let label = Label::Cue {
                        topic: index,
                        weight: weight / shared,
                        strong,
                    };
                    topics.add(&mut vocab, &norm, pattern, label);
                }
            }
        }
        Self {
            norm,
            vocab,
            topics,
            crisis,
            threshold: config.threshold,
            suggest_floor: config.suggest_floor,
        }
    }

    /// Classifies one message.
    pub fn classify(&self, text: &str) -> Classification {
        self.run(text, None)
    }

    /// Classifies one message and lists the evidence behind the verdict.
    pub fn explain(&self, text: &str) -> (Classification, Vec<Evidence>) {
        let mut evidence = Vec::new();
        let c = self.run(text, Some(&mut evidence));
        (c, evidence)
    }

    fn run(&self, text: &str, evidence: Option<&mut Vec<Evidence>>) -> Classification {
        let words = self.norm.words(text);
        let terms = terms_of(&self.vocab, &words);

        let mut crisis_hits = Vec::new();
        let crisis = self.crisis.assess(&terms, &mut crisis_hits);
        let mut hits = Vec::new();
        self.topics.find(&terms, &mut hits);

        let ignores = Spans::new(
            hits.iter()
                .filter(|h| self.topics.phrase(h).label == Label::Ignore),
        );
        // Inside a longer `ignore` phrase ("physical therapist", "in touch"),
        // a match does not count.
        let blocked = |hit: &Hit| {
            self.topics.phrase(hit).label != Label::Ignore && ignores.contains_longer(hit)
        };
        // "session" means therapy unless the message's professional turned
        // out not to be a therapist ("my physical therapist", "camp counselor").
        let other_professional = hits
            .iter()
            .any(|h| self.topics.phrase(h).label == Label::Context && blocked(h));
        let anchors: Vec<u32> = hits
            .iter()
            .filter(|h| match self.topics.phrase(h).label {
                Label::Context => !blocked(h),
                Label::WeakContext => !blocked(h) && !other_professional,
                _ => false,
            })
            .map(|h| h.start)
            .collect();
        let therapy_context = !anchors.is_empty();
        // Once a therapist is named, "she", "him" and the like usually mean
        // them: a cue right next to one ("hug her", "text him") is near.
        let pronouns: Vec<u32> = if therapy_context {
            hits.iter()
                .filter(|h| self.topics.phrase(h).label == Label::Pronoun)
                .map(|h| h.start)
                .collect()
        } else {
            Vec::new()
        };
        let near = |h: &Hit| {
            anchors
                .iter()
                .any(|&a| a.abs_diff(h.start) <= NEAR_WORDS || (h.start <= a && a < h.end))
                || pronouns.iter().any(|&p| {
                    p.abs_diff(h.start) <= PRONOUN_NEAR_WORDS || (h.start <= p && p < h.end)
                })
        };

        // Per topic: the best weight in each cluster of overlapping hits.
        let mut scores = [0f32; TOPIC_IDS.len()];
        let mut strong = [0f32; TOPIC_IDS.len()];
        let mut weak = [0f32; TOPIC_IDS.len()];
        let mut far = [0f32; TOPIC_IDS.len()];
        // (topic, weight, strong, start, end, phrase)
        let mut cues: Vec<(u8, f32, bool, u32, u32, u32)> = hits
            .iter()
            .filter(|h| !blocked(h))
            .filter_map(|h| match self.topics.phrase(h).label {
                Label::Cue {
                    topic,
                    weight,
                    strong,
                } => {
                    // Strong cues stand on their own; others should sit
                    // near a therapy word to count in full.
                    let weight = if strong || near(h) {
                        weight
                    } else {
                        weight * FAR_FACTOR
                    };
                    Some((topic, weight, strong, h.start, h.end, h.phrase))
                }
                _ => None,
            })
            .collect();
        cues.sort_by_key(|c| (c.0, c.3));
        // Overlapping hits of one topic ("text", "text my therapist") are
        // one piece of evidence: the heaviest counts. A cue said twice counts
        // once, at its best (nearest) weight.
        let mut found: Vec<(u8, u32, f32, bool)> = Vec::new(); // topic, phrase, weight, strong
        let mut i = 0;
        while i < cues.len() {
            let mut best = cues[i];
            let mut end = best.4;
            let mut j = i + 1;
            while j < cues.len() && cues[j].0 == best.0 && cues[j].3 < end {
                if cues[j].1 > best.1 {
                    best = cues[j];
                }
                end = end.max(cues[j].4);
                j += 1;
            }
            match found.iter_mut().find(|e| e.0 == best.0 && e.1 == best.5) {
                Some(e) => e.2 = e.2.max(best.1),
                None => found.push((best.0, best.5, best.1, best.2)),
            }
            i = j;
        }
        for &(topic, phrase, weight, is_strong) in &found {
            let t = topic as usize;
            let is_weak = !is_strong
                && matches!(self.topics.phrase_at(phrase).label, Label::Cue { weight, .. } if weight <= WEAK);
            let full = match self.topics.phrase_at(phrase).label {
                Label::Cue { weight, .. } => weight,
                _ => 0.0,
            };
            let mut add = weight;
            if is_weak {
                add = add.min((WEAK_CAP - weak[t]).max(0.0));
                weak[t] += add;
            }
            if add < full * 0.99 || (is_weak && weight < full * 0.99) {
                add = add.min((FAR_CAP - far[t]).max(0.0));
                far[t] += add;
            }
            scores[t] += add;
            if is_strong {
                strong[t] += add;
            }
        }

        let mut ranked: Vec<(usize, f32)> = (0..TOPIC_IDS.len())
            .map(|t| {
                let s = if therapy_context {
                    scores[t]
                } else {
                    strong[t].max(scores[t] * NO_CONTEXT_FACTOR)
                };
                (t, s)
            })
            .filter(|&(_, s)| s > 0.0)
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let top = ranked.first().map_or(0.0, |r| r.1);
        let second = ranked.get(1).map_or(0.0, |r| r.1);
        let margin = if top > 0.0 { (top - second) / top } else { 0.0 };
        let confidence_of = |s: f32| s / (s + 1.0) * (0.75 + 0.25 * margin);
        let candidates: Vec<Candidate> = ranked
            .iter()
            .take(3)
            .map(|&(t, s)| Candidate {
                topic: TOPIC_IDS[t],
                confidence: confidence_of(s),
            })
            .collect();

        // Only context, or a strong cue, can make a topic certain.
        let best = ranked.first().map(|&(t, _)| {
            let decisive = if therapy_context {
                scores[t]
            } else {
                strong[t]
            };
            (t, confidence_of(decisive))
        });

        let (outcome, confidence) = if crisis.is_crisis() {
            (Outcome::Crisis, crisis.score.min(1.0))
        } else {
            match best {
                // A dead heat between two topics is a question for the
                // member ("did you mean"), not a coin toss.
                Some((t, conf)) if conf >= self.threshold && top - second > f32::EPSILON => {
                    (Outcome::Topic(TOPIC_IDS[t]), conf)
                }
                _ => {
                    let conf = candidates.first().map_or(0.0, |c| c.confidence);
                    if conf >= self.suggest_floor && conf > 0.0 {
                        (Outcome::Unsure, conf)
                    } else {
                        (Outcome::Nothing, conf)
                    }
                }
            }
        };
        let candidates = candidates
            .into_iter()
            .filter(|c| c.confidence >= self.suggest_floor)
            .collect();

        if let Some(evidence) = evidence {
            self.describe(&words, &terms, &crisis_hits, &hits, evidence);
            for combo in &crisis.combos {
                evidence.push(Evidence {
                    source: "crisis-combo".into(),
                    pattern: combo.name.clone(),
                    matched: words.join(combo.start as usize, combo.end as usize),
                    fit: Fit::Exact,
                    weight: 0.0,
                    cancelled: false,
                });
            }
        }
        Classification {
            outcome,
            confidence,
            candidates,
            therapy_context,
        }
    }

    fn describe(
        &self,
        words: &crate::normalize::Words,
        terms: &[Option<(TermId, Fit)>],
        crisis_hits: &[Hit],
        hits: &[Hit],
        out: &mut Vec<Evidence>,
    ) {
        let ignores = Spans::new(
            hits.iter()
                .filter(|h| self.topics.phrase(h).label == Label::Ignore),
        );
        let fit = |h: &Hit| {
            let fits = terms[h.start as usize..h.end as usize].iter().flatten();
            if h.typo {
                Fit::Typo
            } else if fits.clone().any(|(_, f)| *f == Fit::Stem) {
                Fit::Stem
            } else {
                Fit::Exact
            }
        };
        let set = self.crisis.phrases();
        for h in crisis_hits {
            let source = match set.phrase(h).label {
                CrisisKind::Phrase => "crisis-phrase",
                CrisisKind::Signal => "crisis-signal",
                CrisisKind::Denial => "crisis-denial",
                CrisisKind::Idiom => "idiom",
                CrisisKind::Concept(_) => continue,
            };
            out.push(Evidence {
                source: source.into(),
                pattern: set.phrase(h).text.to_string(),
                matched: words.join(h.start as usize, h.end as usize),
                fit: fit(h),
                weight: 0.0,
                cancelled: self.crisis.cancelled(h, crisis_hits),
            });
        }
        for h in hits {
            let label = self.topics.phrase(h).label;
            let cancelled = label != Label::Ignore && ignores.contains_longer(h);
            let (source, weight) = match label {
                Label::Context | Label::WeakContext => ("context".to_string(), 0.0),
                Label::Pronoun => continue,
                Label::Ignore => ("ignore".to_string(), 0.0),
                Label::Cue { topic, weight, .. } => (TOPIC_IDS[topic as usize].to_string(), weight),
            };
            out.push(Evidence {
                source,
                pattern: self.topics.phrase(h).text.to_string(),
                matched: words.join(h.start as usize, h.end as usize),
                fit: fit(h),
                weight,
                cancelled,
            });
        }
    }
}
