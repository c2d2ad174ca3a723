//! Fuzzy phrase matching: the machinery shared by the topic classifier and
//! the crisis detector.
//!
//! Every word of every pattern goes into one [`Vocab`]. A message's words
//! are mapped to vocabulary terms once, trying in turn: the exact word, its
//! English stem ("hugging" = "hug"), the word with doubled letters single
//! ("huug" = "hug"), and a typo match (optimal string alignment distance 1,
//! or 2 for words of nine letters or more, same first letter). Patterns are
//! then found over that term sequence in one pass, indexed by first term.

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};

use crate::normalize::{Normalizer, Words};

pub type TermId = u32;

/// How a message word reached its vocabulary term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    Exact,
    Stem,
    Typo,
}

/// All pattern words, and how to find them in messages.
pub struct Vocab {
    exact: HashMap<Box<str>, TermId>,
    by_stem: HashMap<String, TermId>,
    /// Typo targets by first letter: (spelling, its term, length in chars).
    by_initial: HashMap<char, Vec<(Box<str>, TermId, usize)>>,
    /// Real words that look like typos of pattern words ("better"/"letter").
    not_typos: std::collections::HashSet<Box<str>>,
    terms: Vec<Box<str>>,
    stemmer: Stemmer,
}

impl std::fmt::Debug for Vocab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vocab")
            .field("terms", &self.terms.len())
            .finish()
    }
}

/// Shortest word that may be matched as a typo. Five-letter words have too
/// many real neighbours ("noise"/"noose", "scams"/"scars").
const MIN_TYPO_LEN: usize = 6;
/// Shortest stem that joins words: "offing" stems to "of", which must not
/// make it a spelling of "of".
const MIN_STEM_LEN: usize = 3;

impl Vocab {
    pub fn new<'a>(not_typos: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            exact: HashMap::new(),
            by_stem: HashMap::new(),
            by_initial: HashMap::new(),
            not_typos: not_typos.into_iter().map(Box::from).collect(),
            terms: Vec::new(),
            stemmer: Stemmer::create(Algorithm::English),
        }
    }

    /// The term for `word`, adding it if new. Words with the same English
    /// stem share a term ("hold", "holding", "holds").
    pub fn intern(&mut self, word: &str) -> TermId {
        if let Some(&id) = self.exact.get(word) {
            return id;
        }
        let stem = self.stemmer.stem(word).into_owned();
        // Words listed as not-typos keep their own term even when an English
        // stem joins them to another ("reference" is not "refer").
        let distinct = self.not_typos.contains(word);
        let shared = if distinct || stem.len() < MIN_STEM_LEN {
            None
        } else {
            self.by_stem.get(&stem).copied()
        };
        let id = match shared {
            Some(id) => id,
            None => {
                let id = self.terms.len() as TermId;
                self.terms.push(word.into());
                if !distinct && stem.len() >= MIN_STEM_LEN {
                    self.by_stem.entry(stem).or_insert(id);
                }
                id
            }
        };
        self.add_spelling(word, id);
        id
    }

    /// Makes `word` another spelling of `canonical`'s term ("counselor" for
    /// "therapist"), so one pattern covers every name.
    pub fn alias(&mut self, word: &str, canonical: &str) {
        let id = self.intern(canonical);
        let stem = self.stemmer.stem(word).into_owned();
        if stem.len() >= MIN_STEM_LEN {
            self.by_stem.entry(stem).or_insert(id);
        }
        self.add_spelling(word, id);
    }

    fn add_spelling(&mut self, word: &str, id: TermId) {
        self.exact.insert(word.into(), id);
        let len = word.chars().count();
        if len >= MIN_TYPO_LEN && !word.chars().all(|c| c.is_ascii_digit()) {
            if let Some(first) = word.chars().next() {
                self.by_initial
                    .entry(first)
                    .or_default()
                    .push((word.into(), id, len));
            }
        }
    }

    pub fn term(&self, id: TermId) -> &str {
        &self.terms[id as usize]
    }

    /// The vocabulary term a message word stands for, if any.
    pub fn lookup(&self, word: &str) -> Option<(TermId, Fit)> {
        if let Some(&id) = self.exact.get(word) {
            return Some((id, Fit::Exact));
        }
        if word.len() < 3 || self.not_typos.contains(word) {
            return None;
        }
        let stem = self.stemmer.stem(word);
        if stem.len() >= MIN_STEM_LEN {
            if let Some(&id) = self.by_stem.get(stem.as_ref()) {
                return Some((id, Fit::Stem));
            }
        }
        if has_double(word) {
            let single = undouble(word);
            if let Some(&id) = self.exact.get(single.as_str()) {
                return Some((id, Fit::Stem));
            }
        }
        self.typo(word).map(|id| (id, Fit::Typo))
    }

    fn typo(&self, word: &str) -> Option<TermId> {
        let len = word.chars().count();
        if len < MIN_TYPO_LEN || word.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        let max = if len >= 9 { 2 } else { 1 };
        let first = word.chars().next()?;
        let mut best: Option<(usize, TermId)> = None;
        for (spelling, id, spelling_len) in self.by_initial.get(&first)? {
            if spelling_len.abs_diff(len) > max {
                continue;
            }
            let id = *id;
            let d = strsim::osa_distance(word, spelling);
            if d <= max && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, id));
            }
        }
        best.map(|(_, id)| id)
    }
}

fn has_double(word: &str) -> bool {
    let b = word.as_bytes();
    b.windows(2).any(|w| w[0] == w[1])
}

fn undouble(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Term(TermId),
    /// `*`: up to this many words of any kind.
    Gap(u8),
}

/// Words a `*` may stand for.
const GAP_WORDS: u8 = 3;

/// A compiled pattern and the label it carries.
#[derive(Debug, Clone)]
pub struct Phrase<L> {
    parts: Vec<Part>,
    pub label: L,
    /// The pattern as the content author wrote it.
    pub text: Box<str>,
}

/// Where a phrase matched in a message's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub phrase: u32,
    pub start: u32,
    pub end: u32,
    /// True if any word matched only as a typo.
    pub typo: bool,
}

/// A set of labelled patterns, searchable in one pass over a message.
#[derive(Debug, Clone)]
pub struct PhraseSet<L> {
    phrases: Vec<Phrase<L>>,
    by_first: HashMap<TermId, Vec<u32>>,
    /// Extra words allowed between two pattern words ("letter *of* rec").
    slack: u8,
}

impl<L: PartialEq> PhraseSet<L> {
    /// `slack` is how many stray words may sit between adjacent pattern words.
    pub fn new(slack: u8) -> Self {
        Self {
            phrases: Vec::new(),
            by_first: HashMap::new(),
            slack,
        }
    }

    /// Compiles `pattern` into terms of `vocab`. Returns false if the
    /// pattern has no words (validation rejects those earlier).
    pub fn add(&mut self, vocab: &mut Vocab, norm: &Normalizer, pattern: &str, label: L) -> bool {
        let mut parts = Vec::new();
        for chunk in pattern.split_whitespace() {
            if chunk == "*" {
                if !parts.is_empty() {
                    parts.push(Part::Gap(GAP_WORDS));
                }
                continue;
            }
            for word in norm.words(chunk).iter() {
                parts.push(Part::Term(vocab.intern(word)));
            }
        }
        while matches!(parts.last(), Some(Part::Gap(_))) {
            parts.pop();
        }
        let Some(Part::Term(first)) = parts.first().copied() else {
            return false;
        };
        // Spellings that compile to the same terms ("attracted",
        // "attraction") are one pattern, so they count once.
        let duplicate = self.by_first.get(&first).is_some_and(|list| {
            list.iter().any(|&i| {
                self.phrases[i as usize].parts == parts && self.phrases[i as usize].label == label
            })
        });
        if duplicate {
            return true;
        }
        let index = self.phrases.len() as u32;
        self.by_first.entry(first).or_default().push(index);
        self.phrases.push(Phrase {
            parts,
            label,
            text: pattern.into(),
        });
        true
    }

    pub fn phrase(&self, hit: &Hit) -> &Phrase<L> {
        &self.phrases[hit.phrase as usize]
    }

    pub fn phrase_at(&self, index: u32) -> &Phrase<L> {
        &self.phrases[index as usize]
    }

    pub fn len(&self) -> usize {
        self.phrases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    /// Every match of every phrase in `terms`, appended to `hits`.
    pub fn find(&self, terms: &[Option<(TermId, Fit)>], hits: &mut Vec<Hit>) {
        for (start, slot) in terms.iter().enumerate() {
            let Some((first, fit)) = *slot else { continue };
            let Some(candidates) = self.by_first.get(&first) else {
                continue;
            };
            for &p in candidates {
                let parts = &self.phrases[p as usize].parts;
                if let Some((end, typo)) = self.match_rest(&parts[1..], terms, start + 1) {
                    hits.push(Hit {
                        phrase: p,
                        start: start as u32,
                        end: end as u32,
                        typo: typo || fit == Fit::Typo,
                    });
                }
            }
        }
    }

    /// Matches `parts` starting at word `pos`; returns the end and whether
    /// a typo was involved.
    fn match_rest(
        &self,
        parts: &[Part],
        terms: &[Option<(TermId, Fit)>],
        pos: usize,
    ) -> Option<(usize, bool)> {
        let Some((&part, rest)) = parts.split_first() else {
            return Some((pos, false));
        };
        match part {
            Part::Gap(n) => {
                let Some((Part::Term(want), after)) = rest.split_first() else {
                    return Some((pos, false));
                };
                self.seek(*want, after, terms, pos, n as usize + self.slack as usize)
            }
            Part::Term(want) => self.seek(want, rest, terms, pos, self.slack as usize),
        }
    }

    fn seek(
        &self,
        want: TermId,
        rest: &[Part],
        terms: &[Option<(TermId, Fit)>],
        pos: usize,
        skip: usize,
    ) -> Option<(usize, bool)> {
        let last = (pos + skip).min(terms.len().saturating_sub(1));
        for (i, slot) in terms.iter().enumerate().take(last + 1).skip(pos) {
            if let Some((id, fit)) = *slot {
                if id == want {
                    if let Some((end, typo)) = self.match_rest(rest, terms, i + 1) {
                        return Some((end, typo || fit == Fit::Typo));
                    }
                }
            }
        }
        None
    }
}

/// Hit spans sorted by start, for "inside or overlapping one of these"
/// questions in logarithmic time, so long messages stay linear.
#[derive(Debug, Default)]
pub struct Spans {
    spans: Vec<(u32, u32)>,
    longest: u32,
}

impl Spans {
    pub fn new<'a>(hits: impl Iterator<Item = &'a Hit>) -> Self {
        let mut spans: Vec<(u32, u32)> = hits.map(|h| (h.start, h.end)).collect();
        spans.sort_unstable();
        let longest = spans.iter().map(|s| s.1 - s.0).max().unwrap_or(0);
        Self { spans, longest }
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Spans that could touch `hit`: those starting from `longest` words
    /// before it up to its end.
    fn near(&self, hit: &Hit) -> impl Iterator<Item = &(u32, u32)> + '_ {
        let from = hit.start.saturating_sub(self.longest);
        let until = hit.end.max(hit.start + 1);
        let first = self.spans.partition_point(|s| s.0 < from);
        self.spans[first..].iter().take_while(move |s| s.0 < until)
    }

    /// Whether a span strictly longer than `hit` contains it.
    pub fn contains_longer(&self, hit: &Hit) -> bool {
        let len = hit.end - hit.start;
        self.near(hit)
            .any(|s| s.0 <= hit.start && hit.end <= s.1 && s.1 - s.0 > len)
    }

    /// Whether any span overlaps `hit`.
    pub fn overlaps(&self, hit: &Hit) -> bool {
        self.near(hit).any(|s| s.0 < hit.end && hit.start < s.1)
    }
}

/// Maps a message's words to vocabulary terms.
pub fn terms_of(vocab: &Vocab, words: &Words) -> Vec<Option<(TermId, Fit)>> {
    words.iter().map(|w| vocab.lookup(w)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(patterns: &[&str], slack: u8) -> (Vocab, Normalizer, PhraseSet<usize>) {
        let mut vocab = Vocab::new(["better"]);
        let norm = Normalizer::default();
        let mut set = PhraseSet::new(slack);
        for (i, p) in patterns.iter().enumerate() {
            assert!(set.add(&mut vocab, &norm, p, i));
        }
        (vocab, norm, set)
    }

    fn labels(patterns: &[&str], slack: u8, text: &str) -> Vec<usize> {
        let (vocab, norm, set) = setup(patterns, slack);
        let words = norm.words(text);
        let mut hits = Vec::new();
        set.find(&terms_of(&vocab, &words), &mut hits);
        hits.iter().map(|h| set.phrase(h).label).collect()
    }

    #[test]
    fn matches_typos_stems_and_stretches() {
        let p = ["therapist", "hug", "recommendation letter"];
        assert_eq!(labels(&p, 0, "my therepist"), [0]);
        assert_eq!(labels(&p, 0, "hugging"), [1]);
        assert_eq!(labels(&p, 0, "huuuuug"), [1]);
        assert_eq!(labels(&p, 0, "a recomendation letter"), [2]);
    }

    #[test]
    fn protected_words_are_not_typos() {
        assert!(labels(&["letter"], 0, "feeling better").is_empty());
    }

    #[test]
    fn slack_and_gaps() {
        assert!(labels(&["letter recommendation"], 0, "letter of recommendation").is_empty());
        assert_eq!(
            labels(&["letter recommendation"], 1, "letter of recommendation"),
            [0]
        );
        assert_eq!(labels(&["want * die"], 0, "i want to just die"), [0]);
        assert!(labels(&["want * die"], 0, "i want to go out and then die").is_empty());
    }
}
