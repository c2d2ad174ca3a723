//! The classifier: a message in, a [`Classification`] out.
//!
//! Two stages, combined by learning rather than by rules:
//!
//! 1. [`lexicon`]: the fuzzy first stage. Normalised words are matched,
//!    with typo and stem tolerance, against the hand-written knowledge in
//!    `responses/` (therapy context, topic cues, the crisis lexicon). It is
//!    fast and explainable, and it turns the message into named
//!    [`features`].
//! 2. [`model`]: learned weights (`responses/weights/*.json`, written by
//!    `boundary-bot train`) turn the features into a calibrated crisis score
//!    and topic probabilities. With a sentence-embedding model installed
//!    ([`semantic`]), a second weights file adds the embedding to the
//!    features; it runs only when the first stage cannot decide alone.
//!
//! Crisis is a score with two tiers: [`CrisisTier::Crisis`] (resources at
//! once; it beats every topic) and [`CrisisTier::Possible`] (a watch tier
//! below it, for the adapter to act on by place). The crisis tier is
//! reached when the learned head's probability passes its threshold, or
//! when the lexicon itself finds crisis (a crisis phrase, or two signals):
//! the learned head adds recall on oblique phrasing, and never overrules an
//! explicit phrase. [`rule`] keeps the earlier hand-tuned verdict as the
//! measured baseline.

pub mod crisis;
pub mod embed;
pub mod explain;
pub mod features;
pub mod fit;
pub mod lexicon;
pub mod model;
pub mod rule;
pub mod semantic;
pub mod thresholds;
pub mod training;

use std::path::PathBuf;

use serde::Serialize;

use crate::config::ClassifierConfig;
use crate::content::{Library, TOPIC_IDS};
use crate::error::LoadError;

use features::Feature;
use lexicon::{Lexicon, Reading};
use model::Model;
use semantic::Semantic;

pub use explain::{Evidence, Explanation};

/// A topic id, one of [`TOPIC_IDS`].
pub type TopicId = &'static str;

/// What the bot should do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "topic")]
pub enum Outcome {
    /// Crisis: send crisis resources, whatever else is asked.
    Crisis,
    /// Confidently about this topic.
    Topic(TopicId),
    /// Possibly about a topic, not surely: offer the candidates.
    Unsure,
    /// Not about a boundary topic.
    Nothing,
}

/// How strongly a message signals a crisis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum CrisisTier {
    /// No crisis signal worth acting on.
    #[default]
    #[serde(rename = "calm")]
    Calm,
    /// The watch tier: below crisis, but worth a gentle check where the
    /// member asked, or a quiet moderator alert. The outcome stays the topic's.
    #[serde(rename = "possible-crisis")]
    Possible,
    /// Crisis resources at once; the outcome is [`Outcome::Crisis`].
    #[serde(rename = "crisis")]
    Crisis,
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
    /// The crisis score (0..1).
    pub crisis_score: f32,
    pub crisis_tier: CrisisTier,
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

/// Which stages decide; `Default` is what the bot runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// (a) the hand-tuned rule over the lexicon.
    Rules,
    /// (b) learned weights over the lexicon's features.
    Learned,
    /// (c) learned weights over the sentence embedding alone.
    Embedding,
    /// (d) the learned lexicon stage, with the embedding added where it cannot decide.
    Hybrid,
    /// The best stage available here: hybrid with a model folder, else learned.
    Default,
}

/// The weights files, relative to `responses/`.
pub const LEARNED_WEIGHTS: &str = "weights/lexicon.json";
pub const HYBRID_WEIGHTS: &str = "weights/hybrid.json";
pub const EMBEDDING_WEIGHTS: &str = "weights/embedding.json";

/// Built once from a [`Library`]; classifies many messages.
#[derive(Debug)]
pub struct Classifier {
    lexicon: Lexicon,
    learned: Model,
    semantic: Option<Semantic>,
    model_dir: PathBuf,
    threshold: Option<f32>,
    suggest_floor: Option<f32>,
}

/// The first stage's [`Run`], before the semantic stage.
#[derive(Debug, Clone)]
pub struct FirstPass {
    pub run: Run,
    /// The semantic stage is loaded and the first stage cannot decide alone.
    pub needs_semantic: bool,
}

/// What one message looked like to each stage that ran.
#[derive(Debug, Clone)]
pub struct Run {
    pub reading: Reading,
    pub features: Vec<Feature>,
    pub classification: Classification,
    /// The semantic stage ran (the first stage could not decide alone).
    pub semantic: bool,
}

impl Classifier {
    /// Builds the lexicon and loads the learned weights from the library's
    /// folder; with a `model_dir`, also the semantic stage.
    pub fn load(library: &Library, config: &ClassifierConfig) -> Result<Self, LoadError> {
        let lexicon = Lexicon::new(library);
        let learned = Model::load(&library.dir.join(LEARNED_WEIGHTS))?;
        let semantic = if config.model_dir.is_dir() {
            Some(Semantic::load(&config.model_dir, &library.dir)?)
        } else {
            None
        };
        Ok(Self {
            lexicon,
            learned,
            semantic,
            model_dir: config.model_dir.clone(),
            threshold: config.threshold,
            suggest_floor: config.suggest_floor,
        })
    }

    /// A classifier from models already in memory (training's comparison).
    pub fn from_models(
        library: &Library,
        config: &ClassifierConfig,
        learned: Model,
        semantic: Option<Semantic>,
    ) -> Self {
        Self {
            lexicon: Lexicon::new(library),
            learned,
            semantic,
            model_dir: config.model_dir.clone(),
            threshold: config.threshold,
            suggest_floor: config.suggest_floor,
        }
    }

    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    pub fn learned(&self) -> &Model {
        &self.learned
    }

    pub fn semantic(&self) -> Option<&Semantic> {
        self.semantic.as_ref()
    }

    /// The stages the bot runs, for `check`.
    pub fn active_stages(&self) -> String {
        match &self.semantic {
            Some(s) => format!(
                "fuzzy lexicon + learned weights ({LEARNED_WEIGHTS}), semantic stage from {} ({HYBRID_WEIGHTS}) where the first stage cannot decide",
                s.model_dir().display()
            ),
            None => format!(
                "fuzzy lexicon + learned weights ({LEARNED_WEIGHTS}); no semantic stage: no model folder at {} (install it with scripts/fetch-model.sh)",
                self.model_dir.display()
            ),
        }
    }

    /// Classifies one message with the stages the bot runs.
    pub fn classify(&self, text: &str) -> Classification {
        self.run(text, Stage::Default).classification
    }

    /// Classifies with the chosen stages, keeping what each saw.
    pub fn run(&self, text: &str, stage: Stage) -> Run {
        let first = self.first_pass(text);
        match (stage, &self.semantic) {
            (Stage::Default | Stage::Hybrid, _) => self.finish(first, text),
            (Stage::Learned, _) => first.run,
            (Stage::Rules, _) => {
                let mut run = first.run;
                run.classification =
                    rule::verdict(&run.reading, self.rule_threshold(), self.rule_floor());
                run
            }
            (Stage::Embedding, None) => {
                let mut run = first.run;
                run.classification = unavailable(&run.reading);
                run
            }
            (Stage::Embedding, Some(s)) => {
                let mut run = first.run;
                if let Some(c) = s.classify_alone(self, text, &run.reading) {
                    run.classification = c;
                    run.semantic = true;
                }
                run
            }
        }
    }

    /// The first stage alone (microseconds), and whether the bot's stages
    /// still need the semantic one ([`finish`](Self::finish)), so a caller
    /// can run only that part off its async executor.
    pub fn first_pass(&self, text: &str) -> FirstPass {
        let reading = self.lexicon.read(text);
        let features = self.learned.space.extract(&self.lexicon, &reading, None);
        let classification = self.decide(&self.learned, &reading, &features);
        let needs_semantic = self
            .semantic
            .as_ref()
            .is_some_and(|s| !s.first_stage_decides(&self.learned, &reading, &features));
        FirstPass {
            run: Run {
                classification,
                features,
                semantic: false,
                reading,
            },
            needs_semantic,
        }
    }

    /// Completes a [`first_pass`](Self::first_pass) with the semantic stage
    /// where it is needed: the bot's own classification.
    pub fn finish(&self, first: FirstPass, text: &str) -> Run {
        let mut run = first.run;
        if let (true, Some(s)) = (first.needs_semantic, &self.semantic) {
            if let Some(c) = s.classify_hybrid(self, text, &run.reading) {
                run.classification = c;
                run.semantic = true;
            }
        }
        run
    }

    fn rule_threshold(&self) -> f32 {
        self.threshold.unwrap_or(0.4)
    }

    fn rule_floor(&self) -> f32 {
        self.suggest_floor.unwrap_or(0.2)
    }

    /// The learned decision from one model's heads.
    pub fn decide(&self, model: &Model, reading: &Reading, x: &[Feature]) -> Classification {
        let t = &model.thresholds;
        let threshold = self.threshold.unwrap_or(t.topic);
        let floor = self.suggest_floor.unwrap_or(t.suggest).min(threshold);
        let crisis_score = model.crisis.probability(x);
        let probs = model.topic.probabilities(x);
        let mut ranked: Vec<Candidate> = TOPIC_IDS
            .iter()
            .zip(&model.topic_class)
            .filter_map(|(id, class)| {
                class.map(|c| Candidate {
                    topic: id,
                    confidence: probs[c],
                })
            })
            .collect();
        ranked.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        let best = ranked.first().copied();
        // The lexicon's own crisis verdict (a crisis phrase, or two signals)
        // is a floor the learned head cannot lower: recall comes first.
        let lexicon_says = model.stage.reads_lexicon() && reading.crisis.is_crisis();
        // Someone else's risk ("my friend said she wants to kill herself")
        // is at least the watch tier: the resources help a worried friend.
        let about_someone_else = reading.crisis.others > 0;
        // Without the embedding, word stems alone ("here", "gift") are too
        // thin to raise crisis: the first stage needs some crisis evidence
        // of the lexicon's for either tier.
        let evidence = reading.crisis.score > 0.0 || !reading.crisis.combos.is_empty();
        let heard = evidence || model.stage.reads_embedding();
        let crisis_tier = if (heard && crisis_score >= t.crisis) || lexicon_says {
            CrisisTier::Crisis
        } else if (heard && crisis_score >= t.watch) || about_someone_else {
            CrisisTier::Possible
        } else {
            CrisisTier::Calm
        };
        let best_confidence = best.map_or(0.0, |b| b.confidence);
        // A topic answer needs the message to be about therapy: a therapy
        // word, or a cue strong enough to stand alone ("I hugged my dog" is
        // not a question about a therapist). Without either, at most "did
        // you mean".
        let grounded = |topic: TopicId| {
            reading.context.present() || reading.scores[topic_index(topic)].strong > 0.0
        };
        let (outcome, confidence) = match best {
            _ if crisis_tier == CrisisTier::Crisis => (Outcome::Crisis, crisis_score),
            Some(b) if b.confidence >= threshold && grounded(b.topic) => {
                (Outcome::Topic(b.topic), b.confidence)
            }
            Some(b) if b.confidence >= floor => (Outcome::Unsure, b.confidence),
            _ => (Outcome::Nothing, best_confidence),
        };
        ranked.retain(|c| c.confidence >= floor);
        ranked.truncate(3);
        Classification {
            outcome,
            confidence,
            candidates: ranked,
            therapy_context: reading.context.present(),
            crisis_score,
            crisis_tier,
        }
    }

    /// Classifies one message and lists the evidence behind the verdict.
    pub fn explain(&self, text: &str) -> Explanation {
        explain::explain(self, text)
    }
}

fn topic_index(topic: TopicId) -> usize {
    TOPIC_IDS.iter().position(|t| *t == topic).unwrap_or(0)
}

/// The embedding stage was asked for but no model folder is configured.
fn unavailable(reading: &Reading) -> Classification {
    Classification {
        outcome: Outcome::Nothing,
        confidence: 0.0,
        candidates: Vec::new(),
        therapy_context: reading.context.present(),
        crisis_score: 0.0,
        crisis_tier: CrisisTier::Calm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn classifier(crisis_bias: f32, topic_bias: &[(&str, f32)]) -> Classifier {
        let library = Library::load(Path::new("responses")).expect("shipped responses load");
        let file = model::tests::file(crisis_bias, topic_bias);
        let learned = Model::from_file(Path::new("test.json"), file).unwrap();
        Classifier::from_models(&library, &ClassifierConfig::default(), learned, None)
    }

    #[test]
    fn without_a_model_the_first_pass_is_the_whole_classification() {
        let c = classifier(-1.0, &[("gifts", 3.0)]);
        for text in [
            "can i give my therapist a gift",
            "i want to kill myself",
            "",
        ] {
            let first = c.first_pass(text);
            assert!(!first.needs_semantic, "no semantic stage is loaded");
            let whole = c.finish(first.clone(), text);
            assert_eq!(whole.classification, first.run.classification);
            assert!(!whole.semantic);
            assert_eq!(c.classify(text), first.run.classification);
        }
    }

    #[test]
    fn the_crisis_head_sets_the_tiers() {
        // sigmoid(0) = 0.5 >= crisis 0.5; sigmoid(-1) = 0.27 is in the watch band.
        // One soft signal ("hopeless") is evidence, not a crisis on its own.
        let hopeless = classifier(0.0, &[]).classify("i feel hopeless");
        assert_eq!(hopeless.crisis_tier, CrisisTier::Crisis);
        // Without any crisis evidence the first stage raises neither tier.
        assert_eq!(
            classifier(0.0, &[]).classify("hello").crisis_tier,
            CrisisTier::Calm
        );
        let watched = classifier(-1.0, &[]).classify("i feel hopeless");
        assert_eq!(watched.crisis_tier, CrisisTier::Possible);
        assert_ne!(
            watched.outcome,
            Outcome::Crisis,
            "the watch tier keeps the topic outcome"
        );
        assert_eq!(
            classifier(-4.0, &[]).classify("hello").crisis_tier,
            CrisisTier::Calm
        );
    }

    #[test]
    fn an_explicit_crisis_phrase_is_a_floor_the_head_cannot_lower() {
        let c = classifier(-10.0, &[("gifts", 9.0)])
            .classify("i want to kill myself, can i give my therapist a gift");
        assert_eq!(c.outcome, Outcome::Crisis);
        assert_eq!(c.crisis_tier, CrisisTier::Crisis);
    }

    #[test]
    fn topics_are_answered_above_the_threshold_and_offered_below_it() {
        let sure = classifier(-10.0, &[("gifts", 6.0)]).classify("a question about my therapist");
        assert_eq!(sure.outcome, Outcome::Topic("gifts"));
        assert!(sure.confidence > 0.9);
        // Two topics at 0.45 each: neither passes 0.5, both are offered.
        let split = classifier(-10.0, &[("gifts", 5.0), ("letters", 5.0), ("none", 2.8)])
            .classify("anything");
        assert_eq!(split.outcome, Outcome::Unsure);
        assert_eq!(split.candidates.len(), 2);
        let quiet = classifier(-10.0, &[("none", 6.0)]).classify("about my therapist");
        assert_eq!(quiet.outcome, Outcome::Nothing);
        assert!(quiet.candidates.len() <= 3);
    }

    #[test]
    fn a_topic_needs_therapy_context_or_a_strong_cue() {
        let c = classifier(-10.0, &[("physical-touch", 6.0)]);
        assert_ne!(
            c.classify("i hugged my dog").outcome,
            Outcome::Topic("physical-touch")
        );
        assert_eq!(
            c.classify("i hugged my therapist").outcome,
            Outcome::Topic("physical-touch")
        );
    }
}
