//! The metrics behind `boundary-bot eval`: accuracy, crisis recall and
//! false alarms, replies to `none` messages, per-label precision/recall/F1
//! and a confusion table, over a labelled JSON Lines file.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::Engine;

/// One labelled message. Unknown keys are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct Row {
    pub id: String,
    pub text: String,
    pub label: String,
    #[serde(default)]
    pub also: Vec<String>,
}

impl Row {
    fn accepts(&self, predicted: &str) -> bool {
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Miss>,
}

fn share(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

/// Runs the engine over `rows`.
pub fn evaluate(engine: &Engine, rows: &[Row]) -> Report {
    let predictions: Vec<&'static str> = rows
        .iter()
        .map(|r| engine.classify(&r.text).label())
        .collect();
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

    let mut labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
    labels.extend(predictions.iter().map(|p| p.to_string()));
    labels.sort();
    labels.dedup();
    let per_label = labels
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
        .collect();

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

    Report {
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

impl Report {
    /// The human-readable summary printed by `boundary-bot eval`.
    pub fn render(&self, with_errors: bool) -> String {
        let mut out = format!(
            "rows                {}\naccuracy            {:.3}\ntopic_accuracy      {:.3}\nnone_false_reply    {:.3}\ncrisis_recall       {:.3}\ncrisis_false_alarm  {:.3}\n\n",
            self.rows,
            self.accuracy,
            self.topic_accuracy,
            self.none_false_reply,
            self.crisis_recall,
            self.crisis_false_alarm
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
