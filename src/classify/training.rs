//! `boundary-bot train`: from labelled JSON Lines to the weights files.
//!
//! Inputs, all in the `eval` format: the project's own training messages
//! (`training/*.jsonl`), its own earlier labelled sets
//! (`tests/fixtures/{dev,holdout,holdout2}.jsonl`), every topic's
//! `examples`, and the real posts of `../shared/train/` (never copied into
//! the project: only the weights learned from them are). Rows are split
//! into train and dev by [`fit::is_dev`]; heads are fitted on train, and
//! their temperature, thresholds and gate are chosen on dev.
//!
//! `tests/fixtures/messages.jsonl` and `new-topics.jsonl` stay out: they
//! are the own test set.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use crate::content::{Library, TOPIC_IDS};
use crate::eval::{read_rows, Row};

use super::features::{all_crisis_pattern_keys, fixed_names, word_stems, Feature, FeatureSpace};
use super::fit::{fit, fit_temperature, is_dev, mask, round4, Example, FitSettings};
use super::lexicon::{Lexicon, Reading};
pub use super::model::Kind;
use super::model::{Gate, HeadFile, Model, Thresholds, WeightsFile, FORMAT, NONE};
use super::semantic::{max_of, mean_of};

/// Real posts count this much more than the project's own messages: they
/// are what the bot meets, and they are fewer.
const REAL_WEIGHT: f32 = 2.0;

fn row_weight(r: &Labelled) -> f32 {
    match r.source {
        Source::RealCrisis | Source::RealBoundary => REAL_WEIGHT,
        Source::Own | Source::Example => 1.0,
    }
}

/// A word stem becomes a feature when this many training rows hold it.
const MIN_STEM_ROWS: usize = 3;

/// Where a row came from; dev figures are reported per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// `../shared/train/crisis-pool.jsonl`: real posts, crisis and not.
    RealCrisis,
    /// `../shared/train/boundary-pool.jsonl`: real therapy-related posts.
    RealBoundary,
    /// The project's own labelled messages.
    Own,
    /// A topic's `examples` (train only).
    Example,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::RealCrisis => "real crisis posts (crisis-pool)",
            Source::RealBoundary => "real boundary posts (boundary-pool)",
            Source::Own => "own messages",
            Source::Example => "topic examples",
        }
    }
}

/// One labelled row, read by the first stage.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub row: Row,
    pub source: Source,
    pub dev: bool,
    pub reading: Reading,
    pub stems: BTreeSet<String>,
    pub embedding: Option<Vec<f32>>,
}

/// The files `train` reads.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The project's own labelled files.
    pub own: Vec<PathBuf>,
    /// The folder with `crisis-pool.jsonl` and `boundary-pool.jsonl`.
    pub shared: PathBuf,
}

impl Inputs {
    /// The standard inputs of a checkout at `root`.
    pub fn standard(root: &Path, shared: PathBuf) -> anyhow::Result<Self> {
        let mut own: Vec<PathBuf> = std::fs::read_dir(root.join("training"))
            .context("training/: cannot read the project's training folder")?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        own.sort();
        for f in ["dev", "holdout", "holdout2"] {
            own.push(root.join(format!("tests/fixtures/{f}.jsonl")));
        }
        Ok(Self { own, shared })
    }
}

/// Embeds one text as the semantic stage does (`None` if the model failed).
pub type EmbedFn<'a> = dyn Fn(&str) -> Option<Vec<f32>> + 'a;

/// Reads every input row and runs the first stage (and the embedder) on it.
pub fn read_inputs(
    inputs: &Inputs,
    library: &Library,
    lexicon: &Lexicon,
    embed: Option<&EmbedFn<'_>>,
) -> anyhow::Result<Vec<Labelled>> {
    let mut sourced: Vec<(Row, Source)> = Vec::new();
    for (name, source) in [
        ("crisis-pool.jsonl", Source::RealCrisis),
        ("boundary-pool.jsonl", Source::RealBoundary),
    ] {
        let file = inputs.shared.join(name);
        if !file.exists() {
            bail!(
                "{}: not found; train needs the shared training pool (--shared DIR)",
                file.display()
            );
        }
        sourced.extend(read_rows(&file)?.into_iter().map(|r| (r, source)));
    }
    for file in &inputs.own {
        sourced.extend(read_rows(file)?.into_iter().map(|r| (r, Source::Own)));
    }
    for topic in &library.topics {
        for (i, text) in topic.matching.examples.iter().enumerate() {
            let row = Row {
                id: format!("example:{}:{i}", topic.id),
                text: text.clone(),
                label: topic.id.clone(),
                also: Vec::new(),
                confidence: None,
            };
            sourced.push((row, Source::Example));
        }
    }
    sourced
        .into_iter()
        .map(|(row, source)| {
            check_label(&row)?;
            let reading = lexicon.read(&row.text);
            let stems = word_stems(&reading);
            let embedding = match embed {
                Some(f) => Some(
                    f(&row.text)
                        .with_context(|| format!("{}: the embedding model failed", row.id))?,
                ),
                None => None,
            };
            let dev = source != Source::Example && is_dev(&row.id);
            Ok(Labelled {
                row,
                source,
                dev,
                reading,
                stems,
                embedding,
            })
        })
        .collect()
}

fn check_label(row: &Row) -> anyhow::Result<()> {
    let known = |l: &str| l == "crisis" || l == NONE || TOPIC_IDS.contains(&l);
    if !known(&row.label) {
        bail!("row {}: unknown label {:?}", row.id, row.label);
    }
    Ok(())
}

/// Whether a feature belongs in a weights file of this kind.
fn keeps(kind: Kind, feature: &str) -> bool {
    kind.reads_lexicon() || feature == "bias" || feature.starts_with("e:")
}

/// The feature names for a kind of weights file.
pub fn feature_names(kind: Kind, lexicon: &Lexicon, rows: &[Labelled], dims: usize) -> Vec<String> {
    let mut names = fixed_names();
    if kind != Kind::Embedding {
        names.extend(
            all_crisis_pattern_keys(lexicon)
                .into_iter()
                .map(|k| format!("cp:{k}")),
        );
        let stems = super::fit::frequent_stems(
            rows.iter().filter(|r| !r.dev).map(|r| &r.stems),
            MIN_STEM_ROWS,
        );
        names.extend(stems.into_iter().map(|s| format!("w:{s}")));
    }
    if kind != Kind::Lexicon {
        names.extend((0..dims).map(|i| format!("e:{i}")));
    }
    names
}

/// Each row's features in `space`, masked to what `kind` may use.
pub fn row_features(
    kind: Kind,
    space: &FeatureSpace,
    lexicon: &Lexicon,
    rows: &[Labelled],
) -> Vec<Vec<Feature>> {
    rows.iter()
        .map(|r| {
            let x = space.extract(lexicon, &r.reading, r.embedding.as_deref());
            mask(&x, space, |name| keeps(kind, name))
        })
        .collect()
}

/// Fits both heads of one weights file and chooses its thresholds on dev.
pub fn train_kind(
    kind: Kind,
    lexicon: &Lexicon,
    rows: &[Labelled],
    dims: usize,
    provenance: &str,
) -> WeightsFile {
    let names = feature_names(kind, lexicon, rows, dims);
    let space = FeatureSpace::new(names.clone()).expect("training builds a valid feature space");
    let x = row_features(kind, &space, lexicon, rows);
    let crisis = crisis_head(rows, &x, space.len());
    let topic = topic_head(rows, &x, space.len());
    let mut file = WeightsFile {
        format: FORMAT,
        stage: kind,
        provenance: provenance.into(),
        features: names,
        crisis,
        topic,
        thresholds: Thresholds {
            crisis: 0.5,
            watch: 0.25,
            topic: 0.5,
            suggest: 0.2,
        },
        gate: None,
    };
    let model = Model::from_file(Path::new("(training)"), file.clone())
        .expect("training writes a valid model");
    file.thresholds = super::thresholds::choose(&model, rows, &x);
    file
}

/// Rows the crisis head does not learn from: the crisis pool's
/// judgement-call `none` rows (grief over another person's suicide, another
/// person's attempt). The bot's own labels count those as crisis when they
/// name a suicide ("my husband after his attempt": resources help a worried
/// partner too), so the two conventions would pull the head apart.
fn crisis_head_skips(r: &Labelled) -> bool {
    r.source == Source::RealCrisis
        && r.row.label == NONE
        && r.row.confidence.as_deref() == Some("medium")
}

fn crisis_head(rows: &[Labelled], x: &[Vec<Feature>], features: usize) -> HeadFile {
    let examples: Vec<Example> = rows
        .iter()
        .zip(x)
        .filter(|(r, _)| !r.dev && !crisis_head_skips(r))
        .map(|(r, f)| Example {
            features: f.clone(),
            class: usize::from(r.row.label == "crisis"),
            weight: row_weight(r),
        })
        .collect();
    let weights = fit(&examples, 1, features, FitSettings::default());
    let head = HeadFile {
        classes: vec!["crisis".into()],
        temperature: 1.0,
        weights: vec![weights],
    };
    let dev: Vec<(Vec<f32>, usize)> = rows
        .iter()
        .zip(x)
        .filter(|(r, _)| r.dev)
        .map(|(r, f)| (logits(&head, f), usize::from(r.row.label == "crisis")))
        .collect();
    with_temperature(head, &dev, true)
}

fn topic_head(rows: &[Labelled], x: &[Vec<Feature>], features: usize) -> HeadFile {
    let mut classes: Vec<String> = TOPIC_IDS.iter().map(|s| s.to_string()).collect();
    classes.push(NONE.into());
    let class_of = |label: &str| classes.iter().position(|c| c == label);
    let labelled: Vec<(bool, Example)> = rows
        .iter()
        .zip(x)
        .filter(|(r, _)| r.row.label != "crisis")
        .filter_map(|(r, f)| {
            let class = class_of(&r.row.label)?;
            Some((
                r.dev,
                Example {
                    features: f.clone(),
                    class,
                    weight: row_weight(r),
                },
            ))
        })
        .collect();
    let train: Vec<Example> = labelled
        .iter()
        .filter(|(d, _)| !d)
        .map(|(_, e)| e.clone())
        .collect();
    let weights = fit(&train, classes.len(), features, FitSettings::default());
    let head = HeadFile {
        weights: weights.chunks(features).map(<[f32]>::to_vec).collect(),
        classes,
        temperature: 1.0,
    };
    let dev: Vec<(Vec<f32>, usize)> = labelled
        .iter()
        .filter(|(d, _)| *d)
        .map(|(_, e)| (logits(&head, &e.features), e.class))
        .collect();
    with_temperature(head, &dev, false)
}

fn logits(head: &HeadFile, x: &[Feature]) -> Vec<f32> {
    head.weights
        .iter()
        .map(|row| x.iter().map(|f| row[f.index as usize] * f.value).sum())
        .collect()
}

fn with_temperature(mut head: HeadFile, dev: &[(Vec<f32>, usize)], binary: bool) -> HeadFile {
    let (logits, classes): (Vec<Vec<f32>>, Vec<usize>) = dev.iter().cloned().unzip();
    head.temperature = round4(fit_temperature(&logits, &classes, binary));
    head
}

/// The gate of a hybrid file: the first stage decides alone only below
/// the crisis and topic levels that 1% of dev crisis rows and 1% of dev
/// topic rows fall under.
pub fn choose_gate(learned: &Model, rows: &[Labelled], learned_x: &[Vec<Feature>]) -> Gate {
    let mut crisis: Vec<f32> = Vec::new();
    let mut topic: Vec<f32> = Vec::new();
    for (r, x) in rows.iter().zip(learned_x).filter(|(r, _)| r.dev) {
        if r.row.label == "crisis" {
            crisis.push(learned.crisis.probability(x));
        } else if r.row.label != NONE {
            topic.push(learned.best_topic_probability(x));
        }
    }
    Gate {
        calm_crisis: round4(quantile(&mut crisis, 0.01).max(0.005)),
        calm_topic: round4(quantile(&mut topic, 0.01).max(0.005)),
    }
}

fn quantile(values: &mut [f32], q: f32) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f32::total_cmp);
    values[((values.len() as f32 * q) as usize).min(values.len() - 1)]
}

/// Embeds `text` as the semantic stage does at run time: the mean of its
/// chunks' embeddings (the post as a whole), then their element-wise
/// maximum (so one sentence that says much is not averaged away in a long
/// post), rounded to four decimals.
pub fn embed_like_runtime(embedder: &super::embed::Embedder, text: &str) -> Option<Vec<f32>> {
    let chunks = embedder.embed_chunks(text).ok()?;
    let mut out = mean_of(&chunks, embedder.dim());
    out.extend(max_of(&chunks, embedder.dim()));
    Some(out.into_iter().map(round4).collect())
}

/// Feature dimensions the semantic stage adds for an embedder of `dim`.
pub fn embedding_features(dim: usize) -> usize {
    2 * dim
}

/// The weights files one training run writes, by path under `responses/`.
#[derive(Debug, Clone)]
pub struct Trained {
    pub files: Vec<(&'static str, WeightsFile)>,
}

/// Trains every weights file the inputs allow: the lexicon file always;
/// with an embedder, the embedding-only and hybrid files too.
pub fn train_all(
    library: &Library,
    lexicon: &Lexicon,
    inputs: &Inputs,
    embedder: Option<&super::embed::Embedder>,
    cache: Option<&Path>,
) -> anyhow::Result<(Trained, Vec<Labelled>)> {
    let store = std::cell::RefCell::new(EmbeddingCache::open(cache));
    let embed = embedder.map(|e| {
        let store = &store;
        move |text: &str| {
            store
                .borrow_mut()
                .get_or(text, || embed_like_runtime(e, text))
        }
    });
    let embed_ref = embed.as_ref().map(|f| f as &EmbedFn<'_>);
    let rows = read_inputs(inputs, library, lexicon, embed_ref)?;
    store.borrow().save()?;
    let train_rows = rows.iter().filter(|r| !r.dev).count();
    let provenance = format!(
        "boundary-bot train: {} rows ({train_rows} train, {} dev by id hash) from training/*.jsonl, tests/fixtures/{{dev,holdout,holdout2}}.jsonl, topic examples and ../shared/train/{{crisis,boundary}}-pool.jsonl",
        rows.len(),
        rows.len() - train_rows
    );
    let lexicon_file = train_kind(Kind::Lexicon, lexicon, &rows, 0, &provenance);
    let mut files = vec![(super::LEARNED_WEIGHTS, lexicon_file.clone())];
    if let Some(e) = embedder {
        let dims = embedding_features(e.dim());
        let learned = Model::from_file(Path::new("(training)"), lexicon_file)?;
        let learned_x = row_features(Kind::Lexicon, &learned.space, lexicon, &rows);
        let mut hybrid = train_kind(Kind::Hybrid, lexicon, &rows, dims, &provenance);
        hybrid.gate = Some(choose_gate(&learned, &rows, &learned_x));
        files.push((super::HYBRID_WEIGHTS, hybrid));
        files.push((
            super::EMBEDDING_WEIGHTS,
            train_kind(Kind::Embedding, lexicon, &rows, dims, &provenance),
        ));
    }
    Ok((Trained { files }, rows))
}

/// Embeddings of training rows kept between runs of `train` (only with
/// `--embedding-cache`), keyed by a hash of the text: the text itself is
/// never written. A cache is a speed-up for development; a run without one
/// computes every embedding afresh.
struct EmbeddingCache {
    file: Option<PathBuf>,
    entries: std::collections::HashMap<u64, Vec<f32>>,
    dirty: bool,
}

impl EmbeddingCache {
    fn open(file: Option<&Path>) -> Self {
        let mut entries = std::collections::HashMap::new();
        if let Some(bytes) = file.and_then(|f| std::fs::read(f).ok()) {
            let floats = |b: &[u8]| -> Vec<f32> {
                b.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            };
            let mut at = 0;
            while at + 12 <= bytes.len() {
                let key = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default());
                let dims = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap_or_default())
                    as usize;
                let end = at + 12 + dims * 4;
                if end > bytes.len() {
                    break;
                }
                entries.insert(key, floats(&bytes[at + 12..end]));
                at = end;
            }
        }
        Self {
            file: file.map(Path::to_path_buf),
            entries,
            dirty: false,
        }
    }

    fn get_or(
        &mut self,
        text: &str,
        compute: impl FnOnce() -> Option<Vec<f32>>,
    ) -> Option<Vec<f32>> {
        let key = text_key(text);
        if let Some(v) = self.entries.get(&key) {
            return Some(v.clone());
        }
        let v = compute()?;
        if self.file.is_some() {
            self.entries.insert(key, v.clone());
            self.dirty = true;
        }
        Some(v)
    }

    fn save(&self) -> anyhow::Result<()> {
        let Some(file) = self.file.as_ref().filter(|_| self.dirty) else {
            return Ok(());
        };
        let mut keys: Vec<&u64> = self.entries.keys().collect();
        keys.sort();
        let mut out = Vec::new();
        for key in keys {
            let v = &self.entries[key];
            out.extend(key.to_le_bytes());
            out.extend((v.len() as u32).to_le_bytes());
            v.iter().for_each(|x| out.extend(x.to_le_bytes()));
        }
        std::fs::write(file, out)
            .with_context(|| format!("{}: cannot write the embedding cache", file.display()))
    }
}

/// FNV-1a of a text, as the cache key.
fn text_key(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
