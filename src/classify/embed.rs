//! Sentence embeddings with all-MiniLM-L6-v2 (BERT, 6 layers, 384 dims) on
//! the CPU, via candle.
//!
//! [`Embedder::load`] reads a sentence-transformers model folder once
//! (`config.json`, `model.safetensors`, `tokenizer.json`; `1_Pooling/config.json`
//! is checked when present). [`Embedder::embed`] returns the mean-pooled,
//! L2-normalised embedding of a text truncated to 256 tokens (the model's
//! `max_seq_length`), so the dot product of two embeddings is their cosine.
//! [`Embedder::embed_chunks`] covers long texts: it cuts them into pieces of
//! at most [`CHUNK_TOKENS`] tokens on sentence boundaries and returns one
//! embedding per piece.
//!
//! Defined behaviour on odd input: the empty string, whitespace only, and
//! text the vocabulary does not cover (emoji become `[UNK]`) are *not*
//! errors. They embed like any other text (the empty string as the bare
//! `[CLS] [SEP]` sequence), exactly as the Python model does, and
//! `embed_chunks` returns one chunk for them. Errors are reserved for a
//! missing or broken model folder and for failures inside candle or the
//! tokenizer.
//!
//! Cost and threading (release build, 2 idle cores, no BLAS): about 9 ms for
//! a 32-character message and 80 ms for a 930-character one (~190 tokens);
//! a process holding it is ~104 MiB resident after loading and ~115 MiB
//! after embedding (the load briefly peaks at ~177 MiB while the mapped file
//! and candle's copy of the weights are both resident). Call it from a blocking thread (`tokio::task::spawn_blocking`),
//! never on the async executor. candle runs the work on its own lazily
//! started pools (a rayon pool plus a spinning barrier pool), sized from
//! `RAYON_NUM_THREADS` / `CANDLE_NUM_THREADS`, default one thread per
//! physical core. Two threads cut long-message latency by ~20% on idle cores
//! but become 2–3× *slower* than one when another process holds a core;
//! `RAYON_NUM_THREADS=1` is the safe setting on a shared machine. Results are
//! bit-for-bit identical across runs, processes and these thread counts.

use std::ops::Range;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams};

/// Token limit of [`Embedder::embed`], special tokens included (the model's
/// `max_seq_length` in `sentence_bert_config.json`).
pub const MAX_TOKENS: usize = 256;

/// Upper bound on the length of one piece of [`Embedder::embed_chunks`],
/// special tokens (`[CLS]`, `[SEP]`) included.
pub const CHUNK_TOKENS: usize = 64;

/// How many pieces [`Embedder::embed_chunks`] runs through the model in one
/// padded forward pass. Measured on 2 idle cores, release build: batching is
/// within about ±8% of one-by-one (4 pieces per pass: ~8% faster for a
/// 1,000-char text of two uneven pieces, 0–4% slower single-threaded for ten
/// full pieces, equal with two threads), and 4 bounds the attention buffers
/// (4 × 12 heads × 128² floats = 3 MiB a layer).
const CHUNK_BATCH: usize = 4;

/// Errors from loading the model or embedding text. Library errors are
/// carried as strings so that no candle or tokenizers type leaks out.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("embedding model file not found: {}", path.display())]
    MissingFile { path: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid {}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    #[error("embedding model: {0}")]
    Model(String),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
}

fn model_err(e: candle_core::Error) -> EmbedError {
    EmbedError::Model(e.to_string())
}

fn tok_err(e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Tokenizer(e.to_string())
}

/// A loaded sentence-embedding model. Load it once and share it (it is
/// `Send + Sync`; `embed` takes `&self`).
pub struct Embedder {
    model: BertModel,
    /// No padding, truncation at [`MAX_TOKENS`]: for [`Embedder::embed`].
    tokenizer: Tokenizer,
    /// No padding, no truncation: for cutting long texts into pieces.
    tokenizer_full: Tokenizer,
    device: Device,
    dim: usize,
    cls_id: u32,
    sep_id: u32,
    pad_id: u32,
}

// The bot shares one Embedder across threads.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Embedder>();
};

fn required(dir: &Path, name: &str) -> Result<PathBuf, EmbedError> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(EmbedError::MissingFile { path })
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value, EmbedError> {
    let text = std::fs::read_to_string(path).map_err(|source| EmbedError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| EmbedError::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

impl Embedder {
    /// Loads the model folder `dir` (a sentence-transformers folder such as
    /// all-MiniLM-L6-v2). The weights are memory-mapped while they are read.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let config_path = required(dir, "config.json")?;
        let weights_path = required(dir, "model.safetensors")?;
        let tokenizer_path = required(dir, "tokenizer.json")?;

        let config: Config =
            serde_json::from_value(read_json(&config_path)?).map_err(|e| EmbedError::Config {
                path: config_path.clone(),
                message: e.to_string(),
            })?;
        let bad_config = |message: String| EmbedError::Config {
            path: config_path.clone(),
            message,
        };
        if config.max_position_embeddings < MAX_TOKENS {
            return Err(bad_config(format!(
                "max_position_embeddings {} < {MAX_TOKENS}",
                config.max_position_embeddings
            )));
        }
        let pad_id = u32::try_from(config.pad_token_id)
            .map_err(|_| bad_config("pad_token_id out of range".into()))?;

        // Only mean pooling is implemented; refuse a folder that says otherwise.
        let pooling_path = dir.join("1_Pooling").join("config.json");
        if pooling_path.is_file() {
            let pooling = read_json(&pooling_path)?;
            if pooling.get("pooling_mode_mean_tokens") != Some(&serde_json::Value::Bool(true)) {
                return Err(EmbedError::Config {
                    path: pooling_path,
                    message: "only mean pooling (pooling_mode_mean_tokens) is supported".into(),
                });
            }
        }

        let device = Device::Cpu;
        // SAFETY: the file is mapped read-only and only read while `vb` lives
        // (candle copies every tensor into its own memory); it must not be
        // truncated by another process during `load`.
        let vb =
            unsafe { VarBuilder::from_mmaped_safetensors(&[&weights_path], DType::F32, &device) }
                .map_err(model_err)?;
        let model = BertModel::load(vb, &config).map_err(model_err)?;

        let mut tokenizer_full =
            Tokenizer::from_file(&tokenizer_path).map_err(|e| EmbedError::Config {
                path: tokenizer_path.clone(),
                message: e.to_string(),
            })?;
        // tokenizer.json ships with fixed padding to 128 and truncation at 128.
        tokenizer_full.with_padding(None);
        tokenizer_full.with_truncation(None).map_err(tok_err)?;
        let mut tokenizer = tokenizer_full.clone();
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(tok_err)?;

        let special = |t: &str| {
            tokenizer_full
                .token_to_id(t)
                .ok_or_else(|| EmbedError::Tokenizer(format!("vocabulary has no {t}")))
        };
        let cls_id = special("[CLS]")?;
        let sep_id = special("[SEP]")?;

        let embedder = Self {
            model,
            tokenizer,
            tokenizer_full,
            device,
            dim: config.hidden_size,
            cls_id,
            sep_id,
            pad_id,
        };
        Ok(embedder)
    }

    /// Embedding width (384 for all-MiniLM-L6-v2).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The L2-normalised, mean-pooled embedding of `text`, truncated to
    /// [`MAX_TOKENS`] tokens. Empty or emoji-only text is not an error (see
    /// the module docs).
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let encoding = self.tokenizer.encode(text, true).map_err(tok_err)?;
        let mut out = self.forward_pooled(&[encoding.get_ids()])?;
        out.pop()
            .ok_or_else(|| EmbedError::Model("no output row".into()))
    }

    /// One L2-normalised embedding per piece of `text`, in text order. Pieces
    /// hold at most [`CHUNK_TOKENS`] tokens and are cut between sentences
    /// where possible (after `.`/`!`/`?`/`…` and whitespace, and at line
    /// breaks; see `sentence_starts`); a longer sentence is cut by tokens, between words where
    /// possible. Text that fits in one piece gives exactly one vector, equal
    /// to [`Embedder::embed`]. Never returns an empty list.
    pub fn embed_chunks(&self, text: &str) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed_chunks_batched(text, CHUNK_BATCH)
    }

    /// [`Embedder::embed_chunks`] with an explicit batch size (1 = one
    /// forward pass per piece). For benchmarks.
    #[doc(hidden)]
    pub fn embed_chunks_batched(
        &self,
        text: &str,
        batch: usize,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let pieces = self.chunk_ids(text)?;
        let mut out = Vec::with_capacity(pieces.len());
        for group in pieces.chunks(batch.max(1)) {
            let refs: Vec<&[u32]> = group.iter().map(Vec::as_slice).collect();
            out.extend(self.forward_pooled(&refs)?);
        }
        Ok(out)
    }

    /// Token ids (with `[CLS]`/`[SEP]`) of each piece of `text`.
    fn chunk_ids(&self, text: &str) -> Result<Vec<Vec<u32>>, EmbedError> {
        let encoding = self.tokenizer_full.encode(text, false).map_err(tok_err)?;
        let ids = encoding.get_ids();
        let ranges = chunk_ranges(
            text,
            encoding.get_offsets(),
            encoding.get_word_ids(),
            CHUNK_TOKENS - 2,
        );
        Ok(ranges
            .into_iter()
            .map(|r| {
                let mut piece = Vec::with_capacity(r.len() + 2);
                piece.push(self.cls_id);
                piece.extend_from_slice(&ids[r]);
                piece.push(self.sep_id);
                piece
            })
            .collect())
    }

    /// Runs the model on a batch of id sequences (special tokens included)
    /// and returns one mean-pooled, L2-normalised vector per sequence. A
    /// single sequence runs unpadded; several are right-padded and pooled
    /// over the attention mask only.
    fn forward_pooled(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let max_len = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        if max_len == 0 {
            return Ok(Vec::new());
        }
        let n = seqs.len();
        let pooled = if n == 1 {
            let ids = Tensor::new(seqs[0], &self.device)
                .and_then(|t| t.unsqueeze(0))
                .map_err(model_err)?;
            let type_ids = ids.zeros_like().map_err(model_err)?;
            let hidden = self
                .model
                .forward(&ids, &type_ids, None)
                .map_err(model_err)?;
            hidden.mean(1).map_err(model_err)?
        } else {
            let mut ids = Vec::with_capacity(n * max_len);
            let mut mask = Vec::with_capacity(n * max_len);
            for s in seqs {
                ids.extend_from_slice(s);
                ids.resize(ids.len() + max_len - s.len(), self.pad_id);
                mask.extend(std::iter::repeat_n(1u32, s.len()));
                mask.extend(std::iter::repeat_n(0u32, max_len - s.len()));
            }
            let dev = &self.device;
            let run = || -> candle_core::Result<Tensor> {
                let ids = Tensor::from_vec(ids, (n, max_len), dev)?;
                let mask = Tensor::from_vec(mask, (n, max_len), dev)?;
                let type_ids = ids.zeros_like()?;
                let hidden = self.model.forward(&ids, &type_ids, Some(&mask))?;
                let maskf = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (n, L, 1)
                let summed = hidden.broadcast_mul(&maskf)?.sum(1)?; // (n, H)
                let counts = maskf.sum(1)?; // (n, 1)
                summed.broadcast_div(&counts)
            };
            run().map_err(model_err)?
        };
        let rows: Vec<Vec<f32>> = pooled.to_vec2().map_err(model_err)?;
        rows.into_iter().map(l2_normalise).collect()
    }
}

fn l2_normalise(mut v: Vec<f32>) -> Result<Vec<f32>, EmbedError> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return Err(EmbedError::Model(format!(
            "degenerate embedding (norm {norm})"
        )));
    }
    v.iter_mut().for_each(|x| *x /= norm);
    Ok(v)
}

/// Byte offsets where sentences start: 0, then after a run of `.`, `!`,
/// `?` or `…` (plus closing quotes or brackets) followed by whitespace,
/// after a line break, and after a CJK full stop (`。！？`). Deliberately
/// simpler than Unicode's UAX #29 rules, which do not break before a
/// lower-case letter ("i'm sad. i want…") and so miss most sentence ends in
/// chat. A false break (after "e.g.") only moves a chunk boundary.
fn sentence_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    // After a terminal (+ closers): a break is pending once whitespace
    // follows; `cjk` means it is pending at once.
    let mut after_terminal = false;
    let mut pending = false;
    for (i, c) in text.char_indices() {
        if pending {
            if c.is_whitespace() {
                continue;
            }
            if !(after_terminal && is_closer(c)) {
                starts.push(i);
                pending = false;
                after_terminal = false;
            }
        }
        match c {
            '\n' | '\u{2029}' => pending = true,
            '。' | '！' | '？' => {
                after_terminal = true;
                pending = true;
            }
            '.' | '!' | '?' | '…' => after_terminal = true,
            c if after_terminal && is_closer(c) => {}
            c if after_terminal && c.is_whitespace() => pending = true,
            _ => after_terminal = false,
        }
    }
    starts
}

fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | ')' | ']' | '}' | '»' | '”' | '’' | '」' | '』' | '）'
    )
}

/// Cuts tokens `0..offsets.len()` into consecutive ranges of at most `max`
/// tokens. Whole sentences are packed together greedily; a sentence longer
/// than `max` is cut into windows, backing off to a word start when that
/// keeps at least half a window. Always returns at least one range (an
/// empty one for no tokens).
fn chunk_ranges(
    text: &str,
    offsets: &[(usize, usize)],
    word_ids: &[Option<u32>],
    max: usize,
) -> Vec<Range<usize>> {
    let n = offsets.len();
    if n <= max {
        return std::iter::once(0..n).collect();
    }
    // Sentence index of each token, by its start byte offset.
    let starts = sentence_starts(text);
    let sentence_of = |tok: usize| starts.partition_point(|&s| s <= offsets[tok].0).max(1) - 1;
    let mut sentences: Vec<Range<usize>> = Vec::new();
    let mut begin = 0;
    for tok in 1..=n {
        if tok == n || sentence_of(tok) != sentence_of(begin) {
            sentences.push(begin..tok);
            begin = tok;
        }
    }

    let mut out: Vec<Range<usize>> = Vec::new();
    let mut current: Option<Range<usize>> = None;
    for s in sentences {
        if s.len() > max {
            out.extend(current.take());
            let mut start = s.start;
            while s.end - start > max {
                let mut end = start + max;
                let word = |t: usize| word_ids.get(t).copied().flatten();
                if word(end).is_some() && word(end) == word(end - 1) {
                    let mut back = end;
                    while back > start && word(back - 1) == word(end) {
                        back -= 1;
                    }
                    if back - start >= max / 2 {
                        end = back;
                    }
                }
                out.push(start..end);
                start = end;
            }
            current = Some(start..s.end);
        } else {
            current = match current {
                Some(c) if s.end - c.start <= max => Some(c.start..s.end),
                Some(c) => {
                    out.push(c);
                    Some(s)
                }
                None => Some(s),
            };
        }
    }
    out.extend(current);
    out
}

#[cfg(test)]
mod unit {
    use super::{chunk_ranges, sentence_starts};

    #[test]
    fn sentence_starts_suit_chat() {
        let t = "i'm sad. i want a hug!! (really.) ok\nnext line\n\n  e.g. this? yes。好的";
        let got: Vec<&str> = {
            let s = sentence_starts(t);
            s.iter()
                .zip(s.iter().skip(1).chain([&t.len()]))
                .map(|(&a, &b)| &t[a..b])
                .collect()
        };
        assert_eq!(
            got,
            [
                "i'm sad. ",
                "i want a hug!! ",
                "(really.) ",
                "ok\n",
                "next line\n\n  ",
                "e.g. ",
                "this? ",
                "yes。",
                "好的"
            ]
        );
        assert_eq!(sentence_starts(""), vec![0]);
        assert_eq!(sentence_starts("3.5 is a number."), vec![0]);
    }

    /// Fake tokenisation: one token per whitespace-separated word.
    fn words(text: &str) -> (Vec<(usize, usize)>, Vec<Option<u32>>) {
        let mut offsets = Vec::new();
        let mut pos = 0;
        for w in text.split_whitespace() {
            let at = text[pos..].find(w).unwrap() + pos;
            offsets.push((at, at + w.len()));
            pos = at + w.len();
        }
        let ids = (0..offsets.len() as u32).map(Some).collect();
        (offsets, ids)
    }

    #[test]
    fn packs_sentences_and_splits_long_ones() {
        let text = "a b c. d e. f g h i j k l m n. o.";
        let (off, ids) = words(text);
        let r = chunk_ranges(text, &off, &ids, 4);
        // "a b c." | "d e." | "f g h i" "j k l m" "n." + "o."
        assert_eq!(r, vec![0..3, 3..5, 5..9, 9..13, 13..15]);
        let covered: Vec<usize> = r.iter().flat_map(|r| r.clone()).collect();
        assert_eq!(covered, (0..off.len()).collect::<Vec<_>>());
    }

    #[test]
    fn short_and_empty() {
        let r = chunk_ranges("", &[], &[], 4);
        assert_eq!((r.len(), r[0].clone()), (1, 0..0));
        let (off, ids) = words("x y");
        let r = chunk_ranges("x y", &off, &ids, 4);
        assert_eq!((r.len(), r[0].clone()), (1, 0..2));
    }

    #[test]
    fn does_not_cut_inside_a_word_when_avoidable() {
        // tokens 0..6, word ids: 0 0 1 1 1 2 -> max 4 would cut word 1.
        let text = "aaaaaa";
        let off: Vec<(usize, usize)> = (0..6).map(|i| (i, i + 1)).collect();
        let ids = [0, 0, 1, 1, 1, 2].map(Some).to_vec();
        assert_eq!(chunk_ranges(text, &off, &ids, 4), vec![0..2, 2..6]);
    }
}
