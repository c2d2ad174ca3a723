//! The semantic stage: a sentence-embedding model (all-MiniLM-L6-v2, run
//! in-process by candle) whose embedding joins the first stage's features
//! in a second weights file, `responses/weights/hybrid.json`.
//!
//! It is optional. The weights of the model itself (90 MB) cannot live in
//! the repository, so they are read from `[classifier] model_dir`; without
//! it the bot runs on the first stage alone. It is also slow next to the
//! first stage (milliseconds, not microseconds), so it runs only when the
//! first stage cannot decide: the file's [`Gate`] says when the first
//! stage's verdict is clear enough to keep. Callers in async code must run
//! it off the executor.

use std::path::{Path, PathBuf};

use crate::error::{LoadError, LoadErrorKind};

use super::embed::Embedder;
use super::features::Feature;
use super::lexicon::Reading;
use super::model::{Gate, Model};
use super::{Classification, Classifier, EMBEDDING_WEIGHTS, HYBRID_WEIGHTS};

/// The embedding model and the weights that use it.
pub struct Semantic {
    embedder: Embedder,
    /// Embeddings already computed, by text (training's comparison only;
    /// the bot itself never keeps message text or its embedding).
    memo: Option<std::sync::Mutex<std::collections::HashMap<String, Vec<f32>>>>,
    hybrid: Model,
    /// Only for the measured comparison (`eval --stage embedding`).
    alone: Option<Model>,
    dir: PathBuf,
}

impl std::fmt::Debug for Semantic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Semantic")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Semantic {
    /// Loads the model from `model_dir` and the weights from `responses`.
    pub fn load(model_dir: &Path, responses: &Path) -> Result<Self, LoadError> {
        let embedder = Embedder::load(model_dir).map_err(|e| {
            LoadError::new(
                LoadErrorKind::Unreadable,
                model_dir,
                "classifier.model_dir",
                format!("cannot load the sentence-embedding model ({e})"),
                "install it with scripts/fetch-model.sh (see the README), or remove `model_dir` to run without the semantic stage",
            )
        })?;
        let hybrid = Model::load(&responses.join(HYBRID_WEIGHTS))?;
        let alone_file = responses.join(EMBEDDING_WEIGHTS);
        let alone = if alone_file.exists() {
            Some(Model::load(&alone_file)?)
        } else {
            None
        };
        for model in std::iter::once(&hybrid).chain(alone.as_ref()) {
            let dims = model.space.embedding_dims();
            if dims != super::training::embedding_features(embedder.dim()) {
                return Err(LoadError::new(
                    LoadErrorKind::InvalidValue,
                    responses.join(HYBRID_WEIGHTS),
                    "features",
                    format!("expects {dims} embedding features, the model in {} gives {}", model_dir.display(), super::training::embedding_features(embedder.dim())),
                    "use the model the weights were trained with (all-MiniLM-L6-v2), or train again",
                ));
            }
        }
        Ok(Self {
            embedder,
            memo: None,
            hybrid,
            alone,
            dir: model_dir.to_path_buf(),
        })
    }

    /// The stage from parts already loaded (training's comparison).
    /// `known` holds embeddings already computed for some texts.
    pub fn from_parts(
        embedder: Embedder,
        hybrid: Model,
        alone: Option<Model>,
        dir: &Path,
        known: std::collections::HashMap<String, Vec<f32>>,
    ) -> Self {
        Self {
            embedder,
            memo: Some(std::sync::Mutex::new(known)),
            hybrid,
            alone,
            dir: dir.to_path_buf(),
        }
    }

    pub fn model_dir(&self) -> &Path {
        &self.dir
    }

    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    pub fn hybrid(&self) -> &Model {
        &self.hybrid
    }

    /// The message's embedding: the mean of its chunks' embeddings, so a
    /// long post is read whole. `None` if the model failed on it.
    pub fn embed(&self, text: &str) -> Option<Vec<f32>> {
        let Some(memo) = &self.memo else {
            return super::training::embed_like_runtime(&self.embedder, text);
        };
        if let Some(v) = memo.lock().ok().and_then(|m| m.get(text).cloned()) {
            return Some(v);
        }
        let v = super::training::embed_like_runtime(&self.embedder, text)?;
        if let Ok(mut m) = memo.lock() {
            m.insert(text.to_string(), v.clone());
        }
        Some(v)
    }

    /// Whether the first stage is clear enough to keep its verdict without
    /// the semantic stage: the lexicon itself finds crisis about the writer
    /// (a floor the hybrid keeps too, so the embedding cannot change the
    /// outcome), or both heads are below the gate's calm levels.
    pub fn first_stage_decides(&self, learned: &Model, reading: &Reading, x: &[Feature]) -> bool {
        if reading.crisis.is_crisis() {
            return true;
        }
        let Some(Gate {
            calm_crisis,
            calm_topic,
        }) = self.hybrid.gate
        else {
            return false;
        };
        let crisis = learned.crisis.probability(x);
        let best_topic = learned.best_topic_probability(x);
        crisis < calm_crisis && best_topic < calm_topic
    }

    /// Stage (d): the hybrid weights over the first stage's features plus
    /// the embedding.
    pub fn classify_hybrid(
        &self,
        classifier: &Classifier,
        text: &str,
        reading: &Reading,
    ) -> Option<Classification> {
        let embedding = self.embed(text)?;
        let x = self
            .hybrid
            .space
            .extract(classifier.lexicon(), reading, Some(&embedding));
        Some(classifier.decide(&self.hybrid, reading, &x))
    }

    /// Stage (c): weights over the embedding alone (for the comparison).
    pub fn classify_alone(
        &self,
        classifier: &Classifier,
        text: &str,
        reading: &Reading,
    ) -> Option<Classification> {
        let model = self.alone.as_ref()?;
        let embedding = self.embed(text)?;
        let x = model
            .space
            .extract(classifier.lexicon(), reading, Some(&embedding));
        Some(classifier.decide(model, reading, &x))
    }
}

/// The L2-normalised mean of `vectors` (all of length `dims`).
pub fn mean_of(vectors: &[Vec<f32>], dims: usize) -> Vec<f32> {
    let mut mean = vec![0f32; dims];
    for v in vectors {
        for (m, x) in mean.iter_mut().zip(v) {
            *m += x;
        }
    }
    let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        mean.iter_mut().for_each(|m| *m /= norm);
    }
    mean
}

/// The L2-normalised element-wise maximum of `vectors`.
pub fn max_of(vectors: &[Vec<f32>], dims: usize) -> Vec<f32> {
    let mut max = vec![f32::NEG_INFINITY; dims];
    for v in vectors {
        for (m, x) in max.iter_mut().zip(v) {
            *m = m.max(*x);
        }
    }
    if vectors.is_empty() {
        max.fill(0.0);
    }
    let norm = max.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        max.iter_mut().for_each(|m| *m /= norm);
    }
    max
}
