//! Turns a first-stage [`Reading`] (and, with the semantic stage, a
//! sentence embedding) into the named, sparse feature vector that the
//! learned heads weigh.
//!
//! Feature names are the contract between `boundary-bot train` and the
//! weights file: each weight is stored beside its feature's name, so the
//! file can be read, reviewed and explained. The families:
//!
//! | name | value |
//! |---|---|
//! | `bias` | 1 |
//! | `context`, `context:other-professional` | therapy context found; a non-therapist professional named |
//! | `topic:<id>:total`, `:strong`, `:far`, `:cues2`, `:lead` | the topic's cue score parts; two or more cues; it leads the rule ranking |
//! | `crisis:score`, `:rule`, `:phrases`, `:signals`, `:denial`, `:idiom`, `:combo`, `:others` | the crisis lexicon's aggregate evidence |
//! | `cp:<kind>:<pattern>` | one crisis pattern matched (not cancelled by an idiom) |
//! | `w:<stem>` | a word stem occurs, scaled by 1/sqrt(distinct stems) so length adds nothing |
//! | `e:<i>` | dimension i of the message's sentence embedding |

use std::collections::{BTreeSet, HashMap};

use rust_stemmers::{Algorithm, Stemmer};

use crate::content::TOPIC_IDS;

use super::crisis::CrisisKind;
use super::lexicon::{Lexicon, Reading, TOPICS};
use super::rule;

/// One non-zero feature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feature {
    pub index: u32,
    pub value: f32,
}

/// The names a weights file may use for the fixed (non-word) features.
pub fn fixed_names() -> Vec<String> {
    let mut names = vec![
        "bias".to_string(),
        "context".into(),
        "context:other-professional".into(),
    ];
    for id in TOPIC_IDS {
        for part in TOPIC_PARTS {
            names.push(format!("topic:{id}:{part}"));
        }
    }
    for part in CRISIS_PARTS {
        names.push(format!("crisis:{part}"));
    }
    names
}

const TOPIC_PARTS: [&str; 5] = ["total", "strong", "far", "cues2", "lead"];
const CRISIS_PARTS: [&str; 8] = [
    "score", "rule", "phrases", "signals", "denial", "idiom", "combo", "others",
];

/// The fixed features' values, in [`fixed_names`] order.
fn fixed_values(reading: &Reading) -> Vec<f32> {
    let mut v = vec![
        1.0,
        flag(reading.context.present()),
        flag(reading.context.other_professional),
    ];
    let ranked = rule::ranked(reading);
    let leader = match (ranked.first(), ranked.get(1)) {
        (Some(a), Some(b)) if a.score > b.score => Some(a.topic),
        (Some(a), None) => Some(a.topic),
        _ => None,
    };
    for (t, s) in reading.scores.iter().enumerate().take(TOPICS) {
        v.extend([
            s.total.min(4.0),
            s.strong.min(4.0),
            s.far,
            flag(s.cues >= 2),
            flag(leader == Some(t)),
        ]);
    }
    v.extend(crisis_values(reading));
    v
}

fn crisis_values(reading: &Reading) -> [f32; 8] {
    let c = &reading.crisis;
    [
        c.score.min(3.0),
        flag(c.is_crisis()),
        c.phrases.min(3) as f32,
        c.signals.min(4) as f32,
        flag(c.denied),
        flag(c.idiom),
        flag(!c.combos.is_empty()),
        c.others.min(2) as f32,
    ]
}

fn flag(b: bool) -> f32 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// The feature names of one weights file, indexed for extraction.
#[derive(Debug, Clone)]
pub struct FeatureSpace {
    names: Vec<String>,
    /// Index of each `cp:` name.
    crisis_patterns: HashMap<String, u32>,
    /// Index of each `w:` stem.
    words: HashMap<String, u32>,
    /// Index of `e:0`, when the space has embedding dimensions.
    embedding: Option<EmbeddingSlots>,
    fixed: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct EmbeddingSlots {
    first: u32,
    dims: u32,
}

/// Why a list of feature names cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpaceError {
    #[error("feature {index} is {found:?}, but the first features must be the fixed ones (expected {expected:?})")]
    Fixed {
        index: usize,
        found: String,
        expected: String,
    },
    #[error("feature {index} ({name:?}) is not a known feature name")]
    Unknown { index: usize, name: String },
    #[error("embedding features must be e:0, e:1, … in order (feature {index} is {name:?})")]
    Embedding { index: usize, name: String },
}

impl FeatureSpace {
    /// Indexes `names`, which must start with [`fixed_names`].
    pub fn new(names: Vec<String>) -> Result<Self, SpaceError> {
        let fixed = fixed_names();
        for (index, expected) in fixed.iter().enumerate() {
            let found = names.get(index).cloned().unwrap_or_default();
            if &found != expected {
                let expected = expected.clone();
                return Err(SpaceError::Fixed {
                    index,
                    found,
                    expected,
                });
            }
        }
        let mut space = Self {
            crisis_patterns: HashMap::new(),
            words: HashMap::new(),
            embedding: None,
            fixed: fixed.len(),
            names: Vec::new(),
        };
        for (index, name) in names.iter().enumerate().skip(fixed.len()) {
            space.index_name(index, name)?;
        }
        space.names = names;
        Ok(space)
    }

    fn index_name(&mut self, index: usize, name: &str) -> Result<(), SpaceError> {
        let at = index as u32;
        if let Some(p) = name.strip_prefix("cp:") {
            self.crisis_patterns.insert(p.to_string(), at);
        } else if let Some(w) = name.strip_prefix("w:") {
            self.words.insert(w.to_string(), at);
        } else if let Some(d) = name.strip_prefix("e:") {
            let slots = self
                .embedding
                .get_or_insert(EmbeddingSlots { first: at, dims: 0 });
            if d.parse::<u32>().ok() != Some(slots.dims) || slots.first + slots.dims != at {
                return Err(SpaceError::Embedding {
                    index,
                    name: name.to_string(),
                });
            }
            slots.dims += 1;
        } else {
            return Err(SpaceError::Unknown {
                index,
                name: name.to_string(),
            });
        }
        Ok(())
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// How many embedding dimensions the space expects (0 for none).
    pub fn embedding_dims(&self) -> usize {
        self.embedding.map_or(0, |e| e.dims as usize)
    }

    /// The features of one message. `embedding` must have
    /// [`embedding_dims`](Self::embedding_dims) values when the space has any.
    pub fn extract(
        &self,
        lexicon: &Lexicon,
        reading: &Reading,
        embedding: Option<&[f32]>,
    ) -> Vec<Feature> {
        let mut out: Vec<Feature> = fixed_values(reading)
            .into_iter()
            .enumerate()
            .take(self.fixed)
            .filter(|(_, v)| *v != 0.0)
            .map(|(i, value)| Feature {
                index: i as u32,
                value,
            })
            .collect();
        for key in crisis_pattern_keys(lexicon, reading) {
            if let Some(&index) = self.crisis_patterns.get(&key) {
                out.push(Feature { index, value: 1.0 });
            }
        }
        let stems = word_stems(reading);
        let scale = 1.0 / (stems.len().max(1) as f32).sqrt();
        for stem in &stems {
            if let Some(&index) = self.words.get(stem) {
                out.push(Feature {
                    index,
                    value: scale,
                });
            }
        }
        if let (Some(slots), Some(e)) = (self.embedding, embedding) {
            for (i, &value) in e.iter().enumerate().take(slots.dims as usize) {
                out.push(Feature {
                    index: slots.first + i as u32,
                    value,
                });
            }
        }
        out.sort_by_key(|f| f.index);
        out.dedup_by_key(|f| f.index);
        out
    }
}

/// `<kind>:<pattern>` of each crisis pattern that matched and was not
/// cancelled by an idiom (idioms themselves are listed as `idiom:`).
pub fn crisis_pattern_keys(lexicon: &Lexicon, reading: &Reading) -> BTreeSet<String> {
    let detector = lexicon.crisis_detector();
    let set = detector.phrases();
    let mut keys = BTreeSet::new();
    for hit in &reading.crisis_hits {
        let phrase = set.phrase(hit);
        let Some(kind) = kind_name(phrase.label) else {
            continue;
        };
        if detector.cancelled(hit, &reading.crisis_hits) {
            continue;
        }
        keys.insert(format!("{kind}:{}", phrase.text));
    }
    for combo in &reading.crisis.combos {
        keys.insert(format!("combo:{}", combo.name));
    }
    keys
}

/// The `<kind>` part of a `cp:` key; concept words have none (their
/// combos are keys of their own).
fn kind_name(label: CrisisKind) -> Option<&'static str> {
    Some(match label {
        CrisisKind::Phrase => "phrase",
        CrisisKind::Signal => "signal",
        CrisisKind::Denial => "denial",
        CrisisKind::Idiom => "idiom",
        CrisisKind::Other => "other",
        CrisisKind::Concept(_) => return None,
    })
}

/// Every `cp:` key the lexicon can produce, in a stable order.
pub fn all_crisis_pattern_keys(lexicon: &Lexicon) -> Vec<String> {
    let set = lexicon.crisis_detector().phrases();
    let mut keys = BTreeSet::new();
    for i in 0..set.len() as u32 {
        let phrase = set.phrase_at(i);
        let Some(kind) = kind_name(phrase.label) else {
            continue;
        };
        keys.insert(format!("{kind}:{}", phrase.text));
    }
    for name in lexicon.crisis_detector().combo_names() {
        keys.insert(format!("combo:{name}"));
    }
    keys.into_iter().collect()
}

/// The distinct English stems of a message's words.
pub fn word_stems(reading: &Reading) -> BTreeSet<String> {
    thread_local! {
        static STEMMER: Stemmer = Stemmer::create(Algorithm::English);
    }
    STEMMER.with(|stemmer| {
        reading
            .words
            .iter()
            .filter(|w| w.len() <= 24)
            .map(|w| stemmer.stem(w).into_owned())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Library;

    fn lexicon() -> Lexicon {
        Lexicon::new(
            &Library::load(std::path::Path::new("responses")).expect("shipped responses load"),
        )
    }

    fn space(extra: &[&str]) -> FeatureSpace {
        let mut names = fixed_names();
        names.extend(extra.iter().map(|s| s.to_string()));
        FeatureSpace::new(names).expect("valid space")
    }

    #[test]
    fn names_are_checked() {
        assert!(matches!(
            FeatureSpace::new(vec!["nope".into()]),
            Err(SpaceError::Fixed { index: 0, .. })
        ));
        let mut names = fixed_names();
        names.push("z:what".into());
        assert!(matches!(
            FeatureSpace::new(names),
            Err(SpaceError::Unknown { .. })
        ));
        let mut names = fixed_names();
        names.extend(["e:0".into(), "e:2".into()]);
        assert!(matches!(
            FeatureSpace::new(names),
            Err(SpaceError::Embedding { .. })
        ));
    }

    #[test]
    fn word_features_do_not_grow_with_length() {
        let l = lexicon();
        let s = space(&["w:hug"]);
        let value = |text: &str| {
            let x = s.extract(&l, &l.read(text), None);
            let hug = s.names().iter().position(|n| n == "w:hug").unwrap() as u32;
            x.iter().find(|f| f.index == hug).map(|f| f.value).unwrap()
        };
        let short = value("hug");
        let long =
            value("hug hug hug and many other words in a long rambling message about the week");
        assert!(long < short && long > 0.0);
    }

    #[test]
    fn crisis_patterns_and_topic_scores_become_features() {
        let l = lexicon();
        let s = space(&["cp:phrase:kill myself", "e:0", "e:1"]);
        let x = s.extract(
            &l,
            &l.read("my therapist hug and i want to kill myself"),
            Some(&[0.5, -0.5]),
        );
        let named: Vec<&str> = x
            .iter()
            .map(|f| s.names()[f.index as usize].as_str())
            .collect();
        for want in [
            "bias",
            "context",
            "topic:physical-touch:total",
            "crisis:rule",
            "cp:phrase:kill myself",
            "e:0",
            "e:1",
        ] {
            assert!(named.contains(&want), "{want} missing from {named:?}");
        }
    }
}
