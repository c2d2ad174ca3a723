//! The learned stage: two linear heads over named features, read from a
//! weights file in `responses/weights/` that `boundary-bot train` writes.
//!
//! - The **crisis head** is a logistic regression: its probability is the
//!   crisis score, with two tiers (`crisis`, and the `possible-crisis`
//!   watch tier below it).
//! - The **topic head** is a softmax over the topics and `none`. After
//!   temperature scaling (fitted on the dev split), a topic's probability
//!   is its calibrated confidence.
//!
//! The file is data, reviewed like content and validated at load: every
//! problem names the file, the field and the fix.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::content::TOPIC_IDS;
use crate::error::{LoadError, LoadErrorKind};

use super::features::{Feature, FeatureSpace};

/// The weights file format this build reads and writes.
pub const FORMAT: u32 = 1;
/// The topic head's class for "not a boundary question".
pub const NONE: &str = "none";

/// What the file says about one head.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HeadFile {
    pub classes: Vec<String>,
    /// Logits are divided by this before the sigmoid or softmax.
    pub temperature: f32,
    /// One row per class, one weight per feature.
    pub weights: Vec<Vec<f32>>,
}

/// Decision thresholds chosen on the dev split.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Crisis probability at or above which crisis resources are sent.
    pub crisis: f32,
    /// Crisis probability at or above which the message is `possible-crisis`.
    pub watch: f32,
    /// Topic confidence needed to answer with a topic.
    pub topic: f32,
    /// Topics below this confidence are not offered as "did you mean".
    pub suggest: f32,
}

/// When the first stage may decide without the semantic stage.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// The first stage's crisis probability must be below this...
    pub calm_crisis: f32,
    /// ...and its best topic's confidence below this, for "clearly nothing".
    pub calm_topic: f32,
}

/// Which stages feed a weights file's features (its `stage` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// (b) the first stage's features.
    Lexicon,
    /// (c) the embedding alone (plus the bias).
    Embedding,
    /// (d) both.
    Hybrid,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Lexicon => "lexicon",
            Kind::Embedding => "embedding",
            Kind::Hybrid => "hybrid",
        }
    }

    /// The first stage's features (and so its crisis verdict) feed it.
    pub fn reads_lexicon(self) -> bool {
        self != Kind::Embedding
    }

    /// The sentence embedding feeds it.
    pub fn reads_embedding(self) -> bool {
        self != Kind::Lexicon
    }
}

/// A weights file as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WeightsFile {
    pub format: u32,
    /// `lexicon`, `embedding` or `hybrid`: which stages feed the features.
    pub stage: Kind,
    /// How the file was made (the command and the training rows).
    pub provenance: String,
    pub features: Vec<String>,
    pub crisis: HeadFile,
    pub topic: HeadFile,
    pub thresholds: Thresholds,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<Gate>,
}

/// A validated linear head.
#[derive(Debug, Clone)]
pub struct Head {
    pub classes: Vec<String>,
    pub temperature: f32,
    /// Row-major: class × feature.
    weights: Vec<f32>,
    features: usize,
}

impl Head {
    pub fn new(file: &HeadFile, features: usize) -> Self {
        Self {
            classes: file.classes.clone(),
            temperature: file.temperature,
            weights: file.weights.iter().flatten().copied().collect(),
            features,
        }
    }

    pub fn weight(&self, class: usize, feature: u32) -> f32 {
        self.weights[class * self.features + feature as usize]
    }

    /// Raw logits, one per class.
    pub fn logits(&self, x: &[Feature]) -> Vec<f32> {
        (0..self.classes.len())
            .map(|c| {
                let row = &self.weights[c * self.features..(c + 1) * self.features];
                x.iter().map(|f| row[f.index as usize] * f.value).sum()
            })
            .collect()
    }

    /// Sigmoid of the first logit (binary heads).
    pub fn probability(&self, x: &[Feature]) -> f32 {
        sigmoid(self.logits(x)[0] / self.temperature)
    }

    /// Softmax over the classes (multi-class heads).
    pub fn probabilities(&self, x: &[Feature]) -> Vec<f32> {
        let logits: Vec<f32> = self
            .logits(x)
            .iter()
            .map(|l| l / self.temperature)
            .collect();
        softmax(&logits)
    }
}

pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}

/// A loaded, validated weights file.
#[derive(Debug, Clone)]
pub struct Model {
    pub stage: Kind,
    pub space: FeatureSpace,
    pub crisis: Head,
    pub topic: Head,
    pub thresholds: Thresholds,
    pub gate: Option<Gate>,
    /// Index of each topic class in the topic head, in [`TOPIC_IDS`] order.
    pub topic_class: Vec<Option<usize>>,
    pub none_class: usize,
}

impl Model {
    /// The highest probability the topic head gives any topic (not `none`).
    pub fn best_topic_probability(&self, x: &[Feature]) -> f32 {
        let p = self.topic.probabilities(x);
        (0..p.len())
            .filter(|&c| c != self.none_class)
            .map(|c| p[c])
            .fold(0.0, f32::max)
    }

    /// Reads and validates `file`.
    pub fn load(file: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(file).map_err(|e| {
            LoadError::new(
                LoadErrorKind::Unreadable,
                file,
                "-",
                format!("cannot read the weights file ({e})"),
                "restore it from the repository, or write it again with `boundary-bot train`",
            )
        })?;
        let parsed: WeightsFile = serde_json::from_str(&text).map_err(|e| {
            LoadError::new(
                LoadErrorKind::Syntax,
                file,
                "-",
                format!("not a weights file: {e}"),
                "restore it from the repository, or write it again with `boundary-bot train`",
            )
        })?;
        Self::from_file(file, parsed)
    }

    /// Validates a parsed weights file; `file` is only used in errors.
    pub fn from_file(file: &Path, w: WeightsFile) -> Result<Self, LoadError> {
        let bad = |field: &str, problem: String| {
            LoadError::new(
                LoadErrorKind::InvalidValue,
                file,
                field,
                problem,
                "write the file again with `boundary-bot train` rather than editing it by hand",
            )
        };
        if w.format != FORMAT {
            return Err(bad(
                "format",
                format!("is {}, this build reads format {FORMAT}", w.format),
            ));
        }
        let space =
            FeatureSpace::new(w.features.clone()).map_err(|e| bad("features", e.to_string()))?;
        check_head(&w.crisis, space.len(), "crisis").map_err(|p| bad("crisis", p))?;
        check_head(&w.topic, space.len(), "topic").map_err(|p| bad("topic", p))?;
        if w.crisis.classes != ["crisis"] {
            return Err(bad("crisis.classes", "must be [\"crisis\"]".into()));
        }
        let none_class = w.topic.classes.iter().position(|c| c == NONE);
        let Some(none_class) = none_class else {
            return Err(bad("topic.classes", "has no \"none\" class".into()));
        };
        if let Some(c) = w
            .topic
            .classes
            .iter()
            .find(|c| *c != NONE && !TOPIC_IDS.contains(&c.as_str()))
        {
            return Err(bad("topic.classes", format!("{c:?} is not a topic id")));
        }
        check_thresholds(&w.thresholds).map_err(|p| bad("thresholds", p))?;
        let topic_class = TOPIC_IDS
            .iter()
            .map(|id| w.topic.classes.iter().position(|c| c == id))
            .collect();
        Ok(Self {
            stage: w.stage,
            crisis: Head::new(&w.crisis, space.len()),
            topic: Head::new(&w.topic, space.len()),
            space,
            thresholds: w.thresholds,
            gate: w.gate,
            topic_class,
            none_class,
        })
    }
}

fn check_head(head: &HeadFile, features: usize, name: &str) -> Result<(), String> {
    if head.weights.len() != head.classes.len() {
        return Err(format!(
            "{} classes but {} weight rows",
            head.classes.len(),
            head.weights.len()
        ));
    }
    if let Some((i, row)) = head
        .weights
        .iter()
        .enumerate()
        .find(|(_, r)| r.len() != features)
    {
        return Err(format!(
            "{name} row {i} has {} weights for {features} features",
            row.len()
        ));
    }
    if head.weights.iter().flatten().any(|w| !w.is_finite()) {
        return Err("holds a weight that is not a finite number".into());
    }
    if !(head.temperature.is_finite() && head.temperature > 0.0) {
        return Err(format!("temperature {} must be above 0", head.temperature));
    }
    Ok(())
}

fn check_thresholds(t: &Thresholds) -> Result<(), String> {
    let unit = |v: f32| v > 0.0 && v < 1.0;
    if !(unit(t.crisis) && unit(t.watch) && unit(t.topic) && unit(t.suggest)) {
        return Err("every threshold must lie strictly between 0 and 1".into());
    }
    if t.watch > t.crisis {
        return Err(format!(
            "watch ({}) must not exceed crisis ({})",
            t.watch, t.crisis
        ));
    }
    if t.suggest > t.topic {
        return Err(format!(
            "suggest ({}) must not exceed topic ({})",
            t.suggest, t.topic
        ));
    }
    Ok(())
}

impl WeightsFile {
    /// The file's text: JSON with one line per feature name and one line
    /// per weight row, so a diff shows what training changed.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\n");
        out.push_str(&format!("  \"format\": {},\n", self.format));
        out.push_str(&format!("  \"stage\": {},\n", compact(&self.stage)));
        out.push_str(&format!(
            "  \"provenance\": {},\n",
            compact(&self.provenance)
        ));
        out.push_str(&format!(
            "  \"thresholds\": {},\n",
            compact(&self.thresholds)
        ));
        if let Some(gate) = &self.gate {
            out.push_str(&format!("  \"gate\": {},\n", compact(gate)));
        }
        out.push_str("  \"features\": [\n");
        let names: Vec<String> = self
            .features
            .iter()
            .map(|n| format!("    {}", compact(n)))
            .collect();
        out.push_str(&names.join(",\n"));
        out.push_str("\n  ],\n");
        out.push_str(&format!("  \"crisis\": {},\n", head_json(&self.crisis)));
        out.push_str(&format!("  \"topic\": {}\n", head_json(&self.topic)));
        out.push_str("}\n");
        out
    }
}

fn head_json(head: &HeadFile) -> String {
    let rows: Vec<String> = head
        .weights
        .iter()
        .map(|r| format!("      {}", serde_json::to_string(r).unwrap_or_default()))
        .collect();
    format!(
        "{{\n    \"classes\": {},\n    \"temperature\": {},\n    \"weights\": [\n{}\n    ]\n  }}",
        serde_json::to_string(&head.classes).unwrap_or_default(),
        serde_json::to_string(&head.temperature).unwrap_or_default(),
        rows.join(",\n")
    )
}

/// Compact JSON of a value, for [`WeightsFile::to_json`].
fn compact<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::classify::features::fixed_names;

    /// A tiny valid file: every weight zero except the biases given.
    pub fn file(crisis_bias: f32, topic_bias: &[(&str, f32)]) -> WeightsFile {
        let features = fixed_names();
        let n = features.len();
        let row = |b: f32| {
            let mut r = vec![0.0; n];
            r[0] = b;
            r
        };
        let mut classes: Vec<String> = TOPIC_IDS.iter().map(|s| s.to_string()).collect();
        classes.push(NONE.into());
        let weights = classes
            .iter()
            .map(|c| {
                row(topic_bias
                    .iter()
                    .find(|(k, _)| k == c)
                    .map_or(0.0, |(_, b)| *b))
            })
            .collect();
        WeightsFile {
            format: FORMAT,
            stage: Kind::Lexicon,
            provenance: "test".into(),
            features,
            crisis: HeadFile {
                classes: vec!["crisis".into()],
                temperature: 1.0,
                weights: vec![row(crisis_bias)],
            },
            topic: HeadFile {
                classes,
                temperature: 1.0,
                weights,
            },
            thresholds: Thresholds {
                crisis: 0.5,
                watch: 0.2,
                topic: 0.5,
                suggest: 0.2,
            },
            gate: None,
        }
    }

    fn problem(w: WeightsFile) -> String {
        Model::from_file(Path::new("responses/weights/lexicon.json"), w)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_valid_file_loads_and_round_trips_through_its_text() {
        let w = file(-2.0, &[("gifts", 3.0)]);
        let parsed: WeightsFile = serde_json::from_str(&w.to_json()).unwrap();
        assert_eq!(parsed, w);
        let m = Model::from_file(Path::new("x.json"), parsed).unwrap();
        let bias = [crate::classify::features::Feature {
            index: 0,
            value: 1.0,
        }];
        assert!(m.crisis.probability(&bias) < 0.5);
    }

    #[test]
    fn errors_name_the_file_the_field_and_the_fix() {
        let mut w = file(0.0, &[]);
        w.format = 9;
        let e = problem(w);
        assert!(
            e.contains("lexicon.json")
                && e.contains("`format`")
                && e.contains("boundary-bot train"),
            "{e}"
        );
        let mut w = file(0.0, &[]);
        w.crisis.weights[0].pop();
        assert!(problem(w).contains("`crisis`"));
        let mut w = file(0.0, &[]);
        w.thresholds.watch = 0.9;
        assert!(problem(w).contains("`thresholds`"));
        let mut w = file(0.0, &[]);
        w.topic.classes[0] = "hugs".into();
        assert!(problem(w).contains("not a topic id"));
        let mut w = file(0.0, &[]);
        w.topic.weights[1][0] = f32::NAN;
        assert!(problem(w).contains("finite"));
    }

    #[test]
    fn the_shipped_weights_load() {
        for name in ["lexicon.json", "hybrid.json", "embedding.json"] {
            let path = Path::new("responses/weights").join(name);
            if path.exists() || name == "lexicon.json" {
                Model::load(&path).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
}
