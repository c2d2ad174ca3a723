//! Choosing a weights file's thresholds on the dev split.
//!
//! - **crisis**: the threshold (on a 0.01 grid) with the lowest cost on dev,
//!   counting the lexicon's own crisis verdict as the decision does,
//!   where a missed crisis costs four false alarms (recall comes first),
//!   and false alarms beyond 4% of calm rows cost as much as misses.
//! - **watch**: the highest threshold below it at which 98% of dev crisis
//!   rows reach at least the watch tier, but no lower than a third of it.
//! - **topic**: the lowest threshold at which at most 3% of dev `none` rows
//!   get a topic reply (`none_false_reply <= 0.03`).
//! - **suggest**: 0.2, or the topic threshold when that is lower.

use crate::content::TOPIC_IDS;

use super::features::Feature;
use super::fit::round4;
use super::model::{Model, Thresholds, NONE};
use super::training::Labelled;

/// What one dev row scored.
#[derive(Debug, Clone, Copy)]
struct Scored {
    crisis_row: bool,
    none_row: bool,
    /// The lexicon finds crisis on its own (a floor in the decision).
    lexicon_crisis: bool,
    /// The best topic may be answered at all (therapy context or a strong cue).
    grounded: bool,
    crisis: f32,
    best_topic: f32,
}

/// A missed crisis costs this many false alarms...
const MISS_COST: f32 = 4.0;
/// ...until false alarms pass this share of calm dev rows.
const MAX_FALSE_ALARM: f32 = 0.04;
/// Share of dev crisis rows the watch tier must reach.
const WATCH_RECALL: f32 = 0.98;
/// The most dev `none` rows that may get a topic reply.
const NONE_FALSE_REPLY: f32 = 0.03;

pub fn choose(model: &Model, rows: &[Labelled], x: &[Vec<Feature>]) -> Thresholds {
    let scored: Vec<Scored> = rows
        .iter()
        .zip(x)
        .filter(|(r, _)| r.dev)
        .map(|(r, f)| score(model, r, f))
        .collect();
    let crisis = crisis_threshold(&scored);
    let watch = watch_threshold(&scored, crisis);
    let topic = topic_threshold(&scored, crisis);
    Thresholds {
        crisis,
        watch,
        topic,
        suggest: topic.min(0.2),
    }
}

fn score(model: &Model, r: &Labelled, x: &[Feature]) -> Scored {
    let p = model.topic.probabilities(x);
    let (best_topic, best_id) = TOPIC_IDS
        .iter()
        .zip(&model.topic_class)
        .filter_map(|(id, c)| c.map(|c| (p[c], *id)))
        .fold(
            (0.0, TOPIC_IDS[0]),
            |best, cur| if cur.0 > best.0 { cur } else { best },
        );
    let best_index = TOPIC_IDS.iter().position(|t| *t == best_id).unwrap_or(0);
    let grounded = r.reading.context.present() || r.reading.scores[best_index].strong > 0.0;
    Scored {
        crisis_row: r.row.label == "crisis",
        none_row: r.row.label == NONE,
        lexicon_crisis: model.stage.reads_lexicon() && r.reading.crisis.is_crisis(),
        grounded,
        crisis: model.crisis.probability(x),
        best_topic,
    }
}

fn grid() -> impl Iterator<Item = f32> {
    (5..=95).map(|i| round4(i as f32 / 100.0))
}

fn crisis_threshold(scored: &[Scored]) -> f32 {
    let calm = scored.iter().filter(|s| !s.crisis_row).count().max(1) as f32;
    let cost = |t: f32| -> f32 {
        let (misses, alarms) = scored.iter().fold((0.0, 0.0), |(m, a), s| {
            match (s.crisis_row, s.crisis >= t || s.lexicon_crisis) {
                (true, false) => (m + 1.0, a),
                (false, true) => (m, a + 1.0),
                _ => (m, a),
            }
        });
        // Above the false-alarm budget, every alarm costs as much as a miss.
        let over = (alarms / calm - MAX_FALSE_ALARM).max(0.0) * calm;
        misses * MISS_COST + alarms + over * MISS_COST
    };
    // The lowest cost; among equal costs, the lowest threshold (recall first).
    let mut best = (0.05, f32::INFINITY);
    for t in grid() {
        let c = cost(t);
        if c < best.1 {
            best = (t, c);
        }
    }
    best.0
}

fn watch_threshold(scored: &[Scored], crisis: f32) -> f32 {
    let crisis_rows: Vec<&Scored> = scored.iter().filter(|s| s.crisis_row).collect();
    let reached = |t: f32| {
        crisis_rows.iter().filter(|s| s.crisis >= t).count() as f32
            / crisis_rows.len().max(1) as f32
    };
    let floor = round4(crisis / 3.0).max(0.01);
    let candidates: Vec<f32> = grid().filter(|&t| t <= crisis && t >= floor).collect();
    candidates
        .into_iter()
        .rev()
        .find(|&t| reached(t) >= WATCH_RECALL)
        .unwrap_or(floor)
}

fn topic_threshold(scored: &[Scored], crisis: f32) -> f32 {
    let none_rows: Vec<&Scored> = scored.iter().filter(|s| s.none_row).collect();
    let replied = |t: f32| {
        none_rows
            .iter()
            .filter(|s| s.crisis < crisis && !s.lexicon_crisis && s.grounded && s.best_topic >= t)
            .count() as f32
            / none_rows.len().max(1) as f32
    };
    grid()
        .find(|&t| replied(t) <= NONE_FALSE_REPLY)
        .unwrap_or(0.95)
}
