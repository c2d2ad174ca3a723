//! Stage (a): the hand-tuned rule over a [`Reading`], as the bot used it
//! before the learned stage. It is kept as the measured baseline of the
//! comparison (`boundary-bot eval --stage rules`) and as the fallback for
//! a learned model that cannot be used; it never decides on its own.
//!
//! Confidence is `s / (s + 1)` scaled by the margin over the runner-up.
//! Without therapy context only strong cues decide. A dead heat abstains.

use crate::content::TOPIC_IDS;

use super::lexicon::{Reading, TOPICS};
use super::{Candidate, Classification, CrisisTier, Outcome};

/// Candidates found without any therapy context count for this much.
const NO_CONTEXT_FACTOR: f32 = 0.5;

/// A topic's rule score, for ranking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankedTopic {
    pub topic: usize,
    pub score: f32,
}

/// Topics with any score, best first (ties by topic order).
pub fn ranked(reading: &Reading) -> Vec<RankedTopic> {
    let context = reading.context.present();
    let mut ranked: Vec<RankedTopic> = (0..TOPICS)
        .map(|topic| {
            let s = &reading.scores[topic];
            let score = if context {
                s.total
            } else {
                s.strong.max(s.total * NO_CONTEXT_FACTOR)
            };
            RankedTopic { topic, score }
        })
        .filter(|r| r.score > 0.0)
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.topic.cmp(&b.topic)));
    ranked
}

/// The rule's margin-scaled confidence for a score.
fn confidence(score: f32, margin: f32) -> f32 {
    score / (score + 1.0) * (0.75 + 0.25 * margin)
}

/// The rule's verdict: crisis when the lexicon says so, else the best
/// topic when sure enough.
pub fn verdict(reading: &Reading, threshold: f32, suggest_floor: f32) -> Classification {
    let ranked = ranked(reading);
    let top = ranked.first().map_or(0.0, |r| r.score);
    let second = ranked.get(1).map_or(0.0, |r| r.score);
    let margin = if top > 0.0 { (top - second) / top } else { 0.0 };
    let candidates: Vec<Candidate> = ranked
        .iter()
        .take(3)
        .map(|r| Candidate {
            topic: TOPIC_IDS[r.topic],
            confidence: confidence(r.score, margin),
        })
        .collect();
    // Only context, or a strong cue, can make a topic certain.
    let best = ranked.first().map(|r| {
        let s = &reading.scores[r.topic];
        let decisive = if reading.context.present() {
            s.total
        } else {
            s.strong
        };
        (r.topic, confidence(decisive, margin))
    });
    let crisis = reading.crisis.is_crisis();
    let (outcome, conf) = match best {
        _ if crisis => (Outcome::Crisis, reading.crisis.score.min(1.0)),
        // A dead heat between two topics is a question for the member.
        Some((t, conf)) if conf >= threshold && top - second > f32::EPSILON => {
            (Outcome::Topic(TOPIC_IDS[t]), conf)
        }
        _ => {
            let conf = candidates.first().map_or(0.0, |c| c.confidence);
            if conf >= suggest_floor && conf > 0.0 {
                (Outcome::Unsure, conf)
            } else {
                (Outcome::Nothing, conf)
            }
        }
    };
    Classification {
        outcome,
        confidence: conf,
        candidates: candidates
            .into_iter()
            .filter(|c| c.confidence >= suggest_floor)
            .collect(),
        therapy_context: reading.context.present(),
        crisis_score: reading.crisis.score.min(1.0),
        crisis_tier: if crisis {
            CrisisTier::Crisis
        } else {
            CrisisTier::Calm
        },
    }
}
