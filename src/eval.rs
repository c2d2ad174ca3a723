//! The metrics behind `boundary-bot eval`: accuracy, crisis recall and
//! false alarms, replies to `none` messages, per-label precision/recall/F1
//! and a confusion table, over a labelled JSON Lines file.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::classify::{Classification, CrisisTier, Outcome, Stage};
use crate::Engine;

/// One labelled message. Unknown keys are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct Row {
    pub id: String,
    pub text: String,
    pub label: String,
    #[serde(default)]
    pub also: Vec<String>,
    /// The labeller's own `high` or `medium`, when given.
    #[serde(default)]
    pub confidence: Option<String>,
}

impl Row {
    pub fn accepts(&self, predicted: &str) -> bool {
        self.label == predicted || self.also.iter().any(|a| a == predicted)
    }
}

/// Reads a JSON Lines file; a bad line is an error naming file and line.
pub fn read_rows(path: &Path) -> anyhow::Result<Vec<Row>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the eval file", path.display()))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: Row = serde_json::from_str(line).with_context(|| {
            format!(
                "{}: line {}: not an eval row (needs id, text, label)",
                path.display(),
                n + 1
            )
        })?;
        rows.push(row);
    }
    if rows.is_empty() {
        bail!("{}: the file holds no rows", path.display());
    }
    Ok(rows)
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LabelScores {
    pub support: usize,
    pub predicted: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub id: String,
    pub label: String,
    pub also: Vec<String>,
    pub predicted: String,
    #[serde(skip)]
    pub text: String,
}

/// The evaluation's results; `--json` prints this object.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub rows: usize,
    pub accuracy: f64,
    pub topic_accuracy: f64,
    pub none_false_reply: f64,
    pub crisis_recall: f64,
    pub crisis_false_alarm: f64,
    pub per_label: BTreeMap<String, LabelScores>,
    /// label -> predicted -> count
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// Crisis rows that reached at least the `possible-crisis` watch tier.
    pub crisis_watch_recall: f64,
    /// Non-crisis rows put in the watch tier (but not crisis).
    pub watch_rate: f64,
    /// Topic answers binned by confidence: is the confidence the share right?
    pub calibration: Vec<CalibrationBin>,
    /// Expected calibration error of the topic answers.
    pub expected_calibration_error: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Miss>,
}

/// Topic answers whose confidence fell in `[low, high)`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CalibrationBin {
    pub low: f64,
    pub high: f64,
    pub answers: usize,
    pub mean_confidence: f64,
    /// Share of these answers whose topic was right.
    pub accuracy: f64,
}

const CALIBRATION_BINS: usize = 10;

/// The calibration table and its expected calibration error.
pub fn calibration(answers: &[(f32, bool)]) -> (Vec<CalibrationBin>, f64) {
    let mut bins = Vec::new();
    let mut ece = 0.0;
    for b in 0..CALIBRATION_BINS {
        let low = b as f64 / CALIBRATION_BINS as f64;
        let high = (b + 1) as f64 / CALIBRATION_BINS as f64;
        let inside: Vec<&(f32, bool)> = answers
            .iter()
            .filter(|(c, _)| {
                let c = f64::from(*c);
                c >= low && (c < high || (b + 1 == CALIBRATION_BINS && c <= high))
            })
            .collect();
        if inside.is_empty() {
            continue;
        }
        let n = inside.len();
        let mean_confidence = inside.iter().map(|(c, _)| f64::from(*c)).sum::<f64>() / n as f64;
        let accuracy = share(inside.iter().filter(|(_, right)| *right).count(), n);
        ece += n as f64 / answers.len() as f64 * (accuracy - mean_confidence).abs();
        bins.push(CalibrationBin {
            low,
            high,
            answers: n,
            mean_confidence,
            accuracy,
        });
    }
    (bins, ece)
}

fn share(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

/// Runs the engine over `rows`, with the stages the bot runs.
pub fn evaluate(engine: &Engine, rows: &[Row]) -> Report {
    evaluate_stage(engine, rows, Stage::Default)
}

/// Runs the engine over `rows` with the chosen stages.
pub fn evaluate_stage(engine: &Engine, rows: &[Row], stage: Stage) -> Report {
    evaluate_with(rows, |text| {
        engine.classifier().run(text, stage).classification
    })
}

/// Rows that reached the watch tier.
struct WatchCounts {
    /// Crisis rows at the watch tier or above.
    crisis_watched: usize,
    /// Non-crisis rows at the watch tier (not crisis).
    calm_watched: usize,
}

fn watch_counts(rows: &[Row], classified: &[Classification]) -> WatchCounts {
    let pairs = || rows.iter().zip(classified);
    WatchCounts {
        crisis_watched: pairs()
            .filter(|(r, c)| r.label == "crisis" && c.crisis_tier != CrisisTier::Calm)
            .count(),
        calm_watched: pairs()
            .filter(|(r, c)| r.label != "crisis" && c.crisis_tier == CrisisTier::Possible)
            .count(),
    }
}

/// Each topic answer's confidence and whether its topic was right.
fn topic_answers(rows: &[Row], classified: &[Classification]) -> Vec<(f32, bool)> {
    rows.iter()
        .zip(classified)
        .filter_map(|(r, c)| match c.outcome {
            Outcome::Topic(t) => Some((c.confidence, r.accepts(t))),
            _ => None,
        })
        .collect()
}

/// Scores `classify` over `rows`.
pub fn evaluate_with(rows: &[Row], classify: impl Fn(&str) -> Classification) -> Report {
    let classified: Vec<Classification> = rows.iter().map(|r| classify(&r.text)).collect();
    let predictions: Vec<&'static str> = classified.iter().map(Classification::label).collect();
    let pairs = || rows.iter().zip(predictions.iter().copied());
    let count = |f: &dyn Fn(&Row, &str) -> bool| pairs().filter(|(r, p)| f(r, p)).count();

    let correct = count(&|r, p| r.accepts(p));
    let is_topic = |r: &Row| r.label != "none" && r.label != "crisis";
    let topic_rows = count(&|r, _| is_topic(r));
    let topic_correct = count(&|r, p| is_topic(r) && r.accepts(p));
    let none_rows = count(&|r, _| r.label == "none");
    let none_replied = count(&|r, p| r.label == "none" && p != "none");
    let crisis_rows = count(&|r, _| r.label == "crisis");
    let crisis_caught = count(&|r, p| r.label == "crisis" && p == "crisis");
    let calm_rows = count(&|r, _| r.label != "crisis");
    let false_alarms = count(&|r, p| r.label != "crisis" && p == "crisis");

    let per_label = per_label_scores(rows, &predictions);

    let (confusion, errors) = confusion_and_misses(rows, &predictions);

    let watch = watch_counts(rows, &classified);
    let answers = topic_answers(rows, &classified);
    let (calibration, expected_calibration_error) = calibration(&answers);
    Report {
        crisis_watch_recall: share(watch.crisis_watched, crisis_rows),
        watch_rate: share(watch.calm_watched, calm_rows),
        calibration,
        expected_calibration_error,
        rows: rows.len(),
        accuracy: share(correct, rows.len()),
        topic_accuracy: share(topic_correct, topic_rows),
        none_false_reply: share(none_replied, none_rows),
        crisis_recall: share(crisis_caught, crisis_rows),
        crisis_false_alarm: share(false_alarms, calm_rows),
        per_label,
        confusion,
        errors,
    }
}

/// Precision, recall and F1 of every label that occurs or is predicted.
fn per_label_scores(rows: &[Row], predictions: &[&'static str]) -> BTreeMap<String, LabelScores> {
    let pairs = || rows.iter().zip(predictions.iter().copied());
    let count = |f: &dyn Fn(&Row, &str) -> bool| pairs().filter(|(r, p)| f(r, p)).count();
    let mut labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
    labels.extend(predictions.iter().map(|p| p.to_string()));
    labels.sort();
    labels.dedup();
    labels
        .iter()
        .map(|l| {
            let support = count(&|r, _| &r.label == l);
            let predicted = count(&|_, p| p == l);
            let right_predictions = count(&|r, p| p == l && r.accepts(p));
            let found = count(&|r, p| &r.label == l && r.accepts(p));
            let precision = share(right_predictions, predicted);
            let recall = share(found, support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            let scores = LabelScores {
                support,
                predicted,
                precision,
                recall,
                f1,
            };
            (l.clone(), scores)
        })
        .collect()
}

/// The confusion table (label -> predicted -> rows) and the misclassified rows.
fn confusion_and_misses(
    rows: &[Row],
    predictions: &[&'static str],
) -> (BTreeMap<String, BTreeMap<String, usize>>, Vec<Miss>) {
    let pairs = || rows.iter().zip(predictions.iter().copied());
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut errors = Vec::new();
    for (row, predicted) in pairs() {
        *confusion
            .entry(row.label.clone())
            .or_default()
            .entry(predicted.to_string())
            .or_default() += 1;
        if !row.accepts(predicted) {
            errors.push(Miss {
                id: row.id.clone(),
                label: row.label.clone(),
                also: row.also.clone(),
                predicted: predicted.to_string(),
                text: row.text.clone(),
            });
        }
    }
    (confusion, errors)
}

impl Report {
    /// The human-readable summary printed by `boundary-bot eval`.
    pub fn render(&self, with_errors: bool) -> String {
        let mut out = format!(
            "rows                {}\naccuracy            {:.3}\ntopic_accuracy      {:.3}\nnone_false_reply    {:.3}\ncrisis_recall       {:.3}\ncrisis_false_alarm  {:.3}\ncrisis_watch_recall {:.3}\nwatch_rate          {:.3}\ncalibration_error   {:.3}\n\n",
            self.rows,
            self.accuracy,
            self.topic_accuracy,
            self.none_false_reply,
            self.crisis_recall,
            self.crisis_false_alarm,
            self.crisis_watch_recall,
            self.watch_rate,
            self.expected_calibration_error
        );
        out.push_str(&format!(
            "{:<26} {:>7} {:>9} {:>9} {:>7} {:>7}\n",
            "label", "support", "predicted", "precision", "recall", "f1"
        ));
        for (label, s) in &self.per_label {
            out.push_str(&format!(
                "{:<26} {:>7} {:>9} {:>9.3} {:>7.3} {:>7.3}\n",
                label, s.support, s.predicted, s.precision, s.recall, s.f1
            ));
        }
        out.push_str("\nconfusion (label -> predicted: count)\n");
        for (label, row) in &self.confusion {
            let cells: Vec<String> = row.iter().map(|(p, n)| format!("{p}: {n}")).collect();
            out.push_str(&format!("  {label:<26} {}\n", cells.join(", ")));
        }
        if with_errors {
            out.push_str(&format!("\nmisclassified ({})\n", self.errors.len()));
            for e in &self.errors {
                let text: String = e
                    .text
                    .chars()
                    .take(140)
                    .collect::<String>()
                    .replace('\n', " / ");
                out.push_str(&format!(
                    "  {} label={} predicted={}{}\n    {}\n",
                    e.id,
                    e.label,
                    e.predicted,
                    if e.also.is_empty() {
                        String::new()
                    } else {
                        format!(" also={}", e.also.join(","))
                    },
                    text
                ));
            }
        }
        out
    }
}
