//! `--explain`: what each stage contributed to a verdict. The first
//! stage's matched patterns (which pattern matched which words, and how),
//! the learned heads' largest feature contributions, whether the semantic
//! stage ran and what the embedding added, and the final scores.

use serde::Serialize;

use crate::content::TOPIC_IDS;
use crate::phrases::{Fit, Hit, Spans};

use super::crisis::CrisisKind;
use super::features::Feature;
use super::lexicon::{Label, Lexicon, Reading};
use super::model::{Head, Model};
use super::{Classification, Classifier, Stage};

/// One first-stage match, for `--explain` and for content editors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// `crisis-phrase`, `crisis-signal`, `crisis-denial`, `idiom`,
    /// `crisis-combo`, `context`, `ignore` or a topic id.
    pub source: String,
    /// The pattern as written in `responses/`.
    pub pattern: String,
    /// The message words it matched (normalised).
    pub matched: String,
    /// How the words matched: exact, stem or typo.
    pub fit: Fit,
    /// Weight the cue adds to its topic's score (cues only).
    pub weight: f32,
    /// True if an idiom or an `ignore` phrase cancelled it.
    pub cancelled: bool,
}

/// One feature's part in a head's logit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    pub feature: String,
    pub value: f32,
    pub weight: f32,
    /// `value × weight`.
    pub contribution: f32,
}

/// A head's score for one class and the features that moved it most.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeadExplanation {
    pub class: String,
    pub probability: f32,
    pub logit: f32,
    /// Largest contributions by size, at most eight.
    pub top: Vec<Contribution>,
    /// What the embedding's dimensions added together (hybrid only).
    pub embedding: Option<f32>,
}

/// Everything `classify --explain` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub classification: Classification,
    pub evidence: Vec<Evidence>,
    /// Which weights decided: `lexicon` or `hybrid`.
    pub decided_by: String,
    pub crisis: HeadExplanation,
    /// The topic head, for the class it ranked first.
    pub topic: HeadExplanation,
}

pub fn explain(classifier: &Classifier, text: &str) -> Explanation {
    let run = classifier.run(text, Stage::Default);
    let lexicon = classifier.lexicon();
    let mut evidence = matches(lexicon, &run.reading);
    for combo in &run.reading.crisis.combos {
        evidence.push(Evidence {
            source: "crisis-combo".into(),
            pattern: combo.name.clone(),
            matched: run
                .reading
                .words
                .join(combo.start as usize, combo.end as usize),
            fit: Fit::Exact,
            weight: 0.0,
            cancelled: false,
        });
    }
    let (model, features): (&Model, Vec<Feature>) = match classifier.semantic() {
        Some(s) if run.semantic => {
            let embedding = s.embed(text);
            let x = s
                .hybrid()
                .space
                .extract(lexicon, &run.reading, embedding.as_deref());
            (s.hybrid(), x)
        }
        _ => (classifier.learned(), run.features.clone()),
    };
    let probs = model.topic.probabilities(&features);
    let best = (0..probs.len())
        .max_by(|&a, &b| probs[a].total_cmp(&probs[b]))
        .unwrap_or(0);
    Explanation {
        decided_by: model.stage.name().to_string(),
        crisis: head_explanation(
            model,
            &model.crisis,
            0,
            &features,
            model.crisis.probability(&features),
        ),
        topic: head_explanation(model, &model.topic, best, &features, probs[best]),
        classification: run.classification,
        evidence,
    }
}

fn head_explanation(
    model: &Model,
    head: &Head,
    class: usize,
    x: &[Feature],
    probability: f32,
) -> HeadExplanation {
    let names = model.space.names();
    let mut parts: Vec<Contribution> = Vec::new();
    let mut embedding = None;
    for f in x {
        let weight = head.weight(class, f.index);
        let name = &names[f.index as usize];
        if name.starts_with("e:") {
            *embedding.get_or_insert(0.0) += weight * f.value;
            continue;
        }
        parts.push(Contribution {
            feature: name.clone(),
            value: f.value,
            weight,
            contribution: weight * f.value,
        });
    }
    let logit = head.logits(x)[class];
    parts.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    parts.truncate(8);
    HeadExplanation {
        class: head.classes[class].clone(),
        probability,
        logit,
        top: parts,
        embedding,
    }
}

/// The first stage's matches, crisis first.
fn matches(lexicon: &Lexicon, reading: &Reading) -> Vec<Evidence> {
    let fit = |h: &Hit| {
        let fits = reading.terms[h.start as usize..h.end as usize]
            .iter()
            .flatten();
        if h.typo {
            Fit::Typo
        } else if fits.clone().any(|(_, f)| *f == Fit::Stem) {
            Fit::Stem
        } else {
            Fit::Exact
        }
    };
    let matched = |h: &Hit| reading.words.join(h.start as usize, h.end as usize);
    let detector = lexicon.crisis_detector();
    let mut out = Vec::new();
    for h in &reading.crisis_hits {
        let source = match detector.phrases().phrase(h).label {
            CrisisKind::Phrase => "crisis-phrase",
            CrisisKind::Signal => "crisis-signal",
            CrisisKind::Denial => "crisis-denial",
            CrisisKind::Idiom => "idiom",
            CrisisKind::Other => "someone-else",
            CrisisKind::Concept(_) => continue,
        };
        out.push(Evidence {
            source: source.into(),
            pattern: detector.phrases().phrase(h).text.to_string(),
            matched: matched(h),
            fit: fit(h),
            weight: 0.0,
            cancelled: detector.cancelled(h, &reading.crisis_hits),
        });
    }
    let set = lexicon.topic_phrases();
    let ignores = Spans::new(
        reading
            .hits
            .iter()
            .filter(|h| set.phrase(h).label == Label::Ignore),
    );
    for h in &reading.hits {
        let (source, weight) = match set.phrase(h).label {
            Label::Context | Label::WeakContext => ("context".to_string(), 0.0),
            Label::Pronoun => continue,
            Label::Ignore => ("ignore".to_string(), 0.0),
            Label::Cue { topic, weight, .. } => (TOPIC_IDS[topic as usize].to_string(), weight),
        };
        out.push(Evidence {
            source,
            pattern: set.phrase(h).text.to_string(),
            matched: matched(h),
            fit: fit(h),
            weight,
            cancelled: lexicon.blocked(h, &ignores),
        });
    }
    out
}
