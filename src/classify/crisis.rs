//! The crisis detector. It runs before topic matching and its verdict
//! beats every topic.
//!
//! It is recall-first. A *phrase* from `crisis.toml` ("kill myself", "kms",
//! "better off without me", "never wake up") means crisis on its own, even
//! after a denial ("I'm not suicidal, but…"): a denial never cancels one.
//! *Signals* are softer (hopelessness, "I'm done", "not suicidal" itself):
//! two different ones mean crisis. A *denial* ("I'm not suicidal") turns
//! the phrase it covers into one signal instead of cancelling it, so a
//! denial plus any other signal is still crisis. *Idioms* ("killing it", "died laughing",
//! "ending it with my therapist") cancel any phrase or signal they overlap,
//! unless the message holds a phrase or signal outside every idiom: an
//! idiom never cancels a crisis said elsewhere in the message.
//!
//! *Others* ("my brother killed himself", "she is suicidal", "his
//! attempt") are about someone else's risk, not the writer's. A phrase or
//! signal inside one does not count towards crisis; the assessment counts
//! them instead, and the classifier puts such a message on the watch tier,
//! where a worried friend who asks still gets the resources. Unlike an
//! idiom, evidence elsewhere does not undo them: "my brother killed himself
//! and I want to die too" is crisis through its second half.

use crate::content::CrisisLexicon;
use crate::normalize::Normalizer;
use crate::phrases::{Fit, Hit, PhraseSet, Spans, TermId, Vocab};

/// What a crisis pattern is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CrisisKind {
    Phrase,
    Signal,
    Denial,
    Idiom,
    /// About someone else's suicide, attempt or self-harm.
    Other,
    /// A word of the concept group with this index (see `combos`).
    Concept(u8),
}

/// Weight of one signal; two different signals reach crisis.
const SIGNAL_WEIGHT: f32 = 0.5;

#[derive(Debug, Clone)]
pub struct CrisisDetector {
    set: PhraseSet<CrisisKind>,
    combos: Vec<Combo>,
}

/// A compiled combo: concept indexes, gap, weight, and a name for `--explain`.
#[derive(Debug, Clone)]
struct Combo {
    first: u8,
    then: u8,
    within: u32,
    weight: f32,
    name: String,
}

/// A combo's match while scoring: where, its weight, and which combo.
#[derive(Debug, Clone, Copy)]
struct ComboMatch {
    hit: Hit,
    weight: f32,
    /// Index into the detector's combos, or [`NOT_A_COMBO`] for a plain
    /// pattern match.
    combo: usize,
}

const NOT_A_COMBO: usize = usize::MAX;

/// The running totals of one assessment.
#[derive(Default)]
struct Tally {
    score: f32,
    phrases: u32,
    /// Distinct signals: overlapping ones ("no point", "see no point") are
    /// one sign, and a signal repeated is still one sign.
    signals: Vec<Hit>,
    combos: Vec<ComboHit>,
    idiom: bool,
}

impl Tally {
    fn count(&mut self, kind: CrisisKind, hit: Hit, denied: bool) {
        match kind {
            CrisisKind::Phrase if !denied => {
                self.score += 1.0;
                self.phrases += 1;
            }
            CrisisKind::Signal
                if !self
                    .signals
                    .iter()
                    .any(|s| s.phrase == hit.phrase || overlaps(s, &hit)) =>
            {
                self.signals.push(hit);
                self.score += SIGNAL_WEIGHT;
            }
            _ => {}
        }
    }
}

/// Where a combo matched, for explanations.
#[derive(Debug, Clone, PartialEq)]
pub struct ComboHit {
    pub name: String,
    pub start: u32,
    pub end: u32,
}

/// The detector's verdict on one message.
#[derive(Debug, Clone, PartialEq)]
pub struct CrisisAssessment {
    /// 1.0 or more means crisis.
    pub score: f32,
    /// Concept combos that matched (empty for most messages).
    pub combos: Vec<ComboHit>,
    /// Phrases that counted (not denied, not cancelled by an idiom).
    pub phrases: u32,
    /// Distinct signals that counted.
    pub signals: u32,
    /// A denial ("I'm not suicidal") was found.
    pub denied: bool,
    /// An everyday idiom ("killing it") cancelled something.
    pub idiom: bool,
    /// Mentions of someone else's suicide, attempt or self-harm.
    pub others: u32,
}

impl CrisisAssessment {
    pub fn is_crisis(&self) -> bool {
        self.score >= 1.0
    }
}

impl CrisisDetector {
    pub fn new(vocab: &mut Vocab, norm: &Normalizer, lexicon: &CrisisLexicon) -> Self {
        // Crisis phrases are short and exact in order: no stray words
        // between pattern words, except where the pattern says `*`.
        let mut set = PhraseSet::new(0);
        for (list, kind) in [
            (&lexicon.phrases, CrisisKind::Phrase),
            (&lexicon.signals, CrisisKind::Signal),
            (&lexicon.denials, CrisisKind::Denial),
            (&lexicon.idioms, CrisisKind::Idiom),
            (&lexicon.others, CrisisKind::Other),
        ] {
            for pattern in list {
                set.add(vocab, norm, pattern, kind);
            }
        }
        let names: Vec<&String> = lexicon.concepts.keys().collect();
        for (i, words) in lexicon.concepts.values().enumerate() {
            for pattern in words {
                set.add(vocab, norm, pattern, CrisisKind::Concept(i as u8));
            }
        }
        let index = |name: &str| names.iter().position(|n| *n == name).unwrap_or(0) as u8;
        let combos = lexicon
            .combos
            .iter()
            .map(|c| Combo {
                first: index(&c.first),
                then: index(&c.then),
                within: u32::from(c.within),
                weight: c.weight,
                name: format!("{} + {}", c.first, c.then),
            })
            .collect();
        Self { set, combos }
    }

    pub fn phrases(&self) -> &PhraseSet<CrisisKind> {
        &self.set
    }

    /// The names of the concept combos (`first + then`).
    pub fn combo_names(&self) -> impl Iterator<Item = &str> {
        self.combos.iter().map(|c| c.name.as_str())
    }

    /// Finds crisis hits in `terms` (appended to `hits`) and scores them.
    pub fn assess(&self, terms: &[Option<(TermId, Fit)>], hits: &mut Vec<Hit>) -> CrisisAssessment {
        let first = hits.len();
        self.set.find(terms, hits);
        let found = &hits[first..];
        let cancel = Cancellers::new(&self.set, found);
        let denials = Spans::new(
            found
                .iter()
                .filter(|h| self.set.phrase(h).label == CrisisKind::Denial),
        );
        let mut tally = Tally::default();
        if !denials.is_empty() {
            tally.score += SIGNAL_WEIGHT;
        }
        // Combos become extra matches, scored like phrases or signals.
        let patterns = found.iter().map(|&hit| ComboMatch {
            hit,
            weight: 0.0,
            combo: NOT_A_COMBO,
        });
        for m in patterns.chain(self.combo_hits(found)) {
            let kind = self.kind_of(&m);
            if matches!(
                kind,
                CrisisKind::Idiom | CrisisKind::Other | CrisisKind::Concept(_)
            ) || cancel.others.overlaps(&m.hit)
            {
                continue;
            }
            // An idiom cancels what it overlaps, unless the message holds
            // crisis evidence of its own elsewhere ("wrote a goodbye letter
            // to my therapist and I'm ready now"): then nothing is cancelled.
            if cancel.by_idiom(&m.hit) {
                tally.idiom = true;
                continue;
            }
            let denied = denials.overlaps(&m.hit);
            if m.combo != NOT_A_COMBO && !denied {
                tally.combos.push(ComboHit {
                    name: self.combos[m.combo].name.clone(),
                    start: m.hit.start,
                    end: m.hit.end,
                });
            }
            tally.count(kind, m.hit, denied);
        }
        CrisisAssessment {
            score: tally.score,
            combos: tally.combos,
            phrases: tally.phrases,
            signals: tally.signals.len() as u32,
            denied: !denials.is_empty(),
            idiom: tally.idiom,
            others: cancel.others_count,
        }
    }

    /// A pattern's own kind; a combo counts as a phrase when its weight is
    /// a whole sign, else as a signal.
    fn kind_of(&self, m: &ComboMatch) -> CrisisKind {
        match m.combo {
            NOT_A_COMBO => self.set.phrase(&m.hit).label,
            _ if m.weight >= 1.0 => CrisisKind::Phrase,
            _ => CrisisKind::Signal,
        }
    }

    /// Where each combo matched: a word of its first concept followed,
    /// within its gap, by a word of its second.
    fn combo_hits(&self, found: &[Hit]) -> Vec<ComboMatch> {
        if self.combos.is_empty() {
            return Vec::new();
        }
        // Hits of each concept, in message order (find() yields them so).
        let mut by_concept: Vec<Vec<Hit>> = Vec::new();
        for hit in found {
            if let CrisisKind::Concept(c) = self.set.phrase(hit).label {
                let c = c as usize;
                if by_concept.len() <= c {
                    by_concept.resize(c + 1, Vec::new());
                }
                by_concept[c].push(*hit);
            }
        }
        let none = Vec::new();
        let of = |c: u8| by_concept.get(c as usize).unwrap_or(&none);
        let mut out = Vec::new();
        for (c, combo) in self.combos.iter().enumerate() {
            let thens = of(combo.then);
            for a in of(combo.first) {
                let next = thens.partition_point(|b| b.start < a.end);
                if let Some(b) = thens.get(next).filter(|b| b.start - a.end <= combo.within) {
                    let hit = Hit {
                        phrase: u32::MAX - c as u32,
                        start: a.start,
                        end: b.end,
                        typo: a.typo || b.typo,
                    };
                    out.push(ComboMatch {
                        hit,
                        weight: combo.weight,
                        combo: c,
                    });
                }
            }
        }
        out
    }

    /// Whether `hit` (from [`assess`](Self::assess)) was cancelled: by an
    /// idiom, or because it is about someone else.
    pub fn cancelled(&self, hit: &Hit, all: &[Hit]) -> bool {
        let label = self.set.phrase(hit).label;
        let cancel = Cancellers::new(&self.set, all);
        !matches!(label, CrisisKind::Idiom | CrisisKind::Other)
            && (cancel.others.overlaps(hit) || cancel.by_idiom(hit))
    }
}

/// What can stop a phrase or signal from counting: the idioms and the
/// mentions of someone else in the message.
struct Cancellers {
    idioms: Spans,
    others: Spans,
    others_count: u32,
    /// A phrase or signal outside every idiom and every mention of someone
    /// else: crisis evidence of the message's own.
    independent: bool,
}

impl Cancellers {
    fn new(set: &PhraseSet<CrisisKind>, found: &[Hit]) -> Self {
        let of = |kind: CrisisKind| found.iter().filter(move |h| set.phrase(h).label == kind);
        let idioms = Spans::new(of(CrisisKind::Idiom));
        let others = Spans::new(of(CrisisKind::Other));
        let mut other_hits: Vec<&Hit> = of(CrisisKind::Other).collect();
        other_hits.dedup_by(|a, b| overlaps(a, b));
        let independent = found.iter().any(|h| {
            matches!(set.phrase(h).label, CrisisKind::Phrase | CrisisKind::Signal)
                && !idioms.overlaps(h)
                && !others.overlaps(h)
        });
        Self {
            idioms,
            others,
            others_count: other_hits.len() as u32,
            independent,
        }
    }

    /// An idiom cancels what it overlaps unless the message has crisis
    /// evidence of its own elsewhere.
    fn by_idiom(&self, hit: &Hit) -> bool {
        self.idioms.overlaps(hit) && !self.independent
    }
}

fn overlaps(a: &Hit, b: &Hit) -> bool {
    a.start < b.end && b.start < a.end
}
