//! Turns a raw Discord message into the words the classifiers compare.
//!
//! What it removes or folds: Discord markup (mentions, custom emoji, URLs,
//! timestamps, code fences, spoiler bars), Unicode tricks (compatibility
//! forms, accents and zalgo marks, zero-width and direction-override
//! characters, curly apostrophes), case, letters stretched past two
//! ("sooooo" becomes "soo"), a word repeated in a row ("to to to"), and a
//! possessive `'s`. It undoes the spellings people use to get words past
//! filters: letters spaced or dotted out ("k i l l", "s.u.i.c.i.d.e") are
//! joined, and leetspeak digits inside words are read as letters ("su1c1de",
//! "k1ll", "un@live"). It also reads the forum shorthand "T" / "my t" as
//! "therapist", and applies the lexicon's synonyms ("wanna" = "want to").
//!
//! The output is one buffer plus word spans: two allocations a message.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The words of one message, in order, lower-case.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Words {
    buf: String,
    spans: Vec<(u32, u32)>,
    /// Single letters in a row not yet pushed ("k i l l"): three or more
    /// are one spaced-out word.
    letters: String,
}

impl Words {
    pub fn len(&self) -> usize {
        self.spans.len()
    }
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
    pub fn get(&self, i: usize) -> &str {
        let (a, b) = self.spans[i];
        &self.buf[a as usize..b as usize]
    }
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
    /// The words `start..end` joined by spaces (for explanations).
    pub fn join(&self, start: usize, end: usize) -> String {
        (start..end)
            .map(|i| self.get(i))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn last(&self) -> Option<&str> {
        self.len().checked_sub(1).map(|i| self.get(i))
    }

    fn push(&mut self, word: &str) {
        let mut chars = word.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            if c.is_alphabetic() {
                self.letters.push(c);
                return;
            }
        }
        self.flush_letters();
        self.push_word(word);
    }

    /// Ends a run of single letters: three or more are joined into one
    /// word ("k i l l" = "kill"), fewer stay words of their own ("i", "a").
    fn flush_letters(&mut self) {
        let letters = std::mem::take(&mut self.letters);
        if letters.chars().count() >= SPACED_OUT_LETTERS {
            self.push_word(&letters);
        } else {
            let mut buf = [0u8; 4];
            for c in letters.chars() {
                self.push_word(c.encode_utf8(&mut buf));
            }
        }
    }

    fn push_word(&mut self, word: &str) {
        // A word said twice in a row counts once ("to to to").
        if word.is_empty() || self.last() == Some(word) {
            return;
        }
        let start = self.buf.len() as u32;
        self.buf.push_str(word);
        self.spans.push((start, self.buf.len() as u32));
        self.buf.push(' ');
    }
}

/// Single letters in a row that are read as one spaced-out word.
const SPACED_OUT_LETTERS: usize = 3;

/// Leetspeak: digits and symbols inside a word that stand for letters.
fn leet_letter(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        '@' => 'a',
        '$' => 's',
        _ => return None,
    })
}

/// "su1c1de" -> "suicide": a word with letters and leet digits, and no
/// other digits, is read as letters. Numbers ("2am", "1500") stay as they are.
fn unleet(word: &str) -> Option<String> {
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    let leet = word.chars().filter(|c| leet_letter(*c).is_some()).count();
    let other = word.chars().count() - letters - leet;
    (letters >= 2 && leet > 0 && other == 0)
        .then(|| word.chars().map(|c| leet_letter(c).unwrap_or(c)).collect())
}

/// Words before a lone "t" that make it mean "therapist" ("my t said").
const T_DETERMINERS: [&str; 11] = [
    "my", "your", "ur", "her", "his", "their", "our", "the", "new", "old", "former",
];

/// Normalises text with a synonym table.
#[derive(Debug, Clone, Default)]
pub struct Normalizer {
    synonyms: HashMap<String, Vec<String>>,
}

fn markup() -> &'static Regex {
    static MARKUP: OnceLock<Regex> = OnceLock::new();
    MARKUP.get_or_init(|| {
        Regex::new(
            r"(?x)
              ```[A-Za-z0-9_+-]*            # code fence, with its language tag
            | <a?:[A-Za-z0-9_~]{1,64}:\d+>  # custom emoji
            | <(?:@[!&]?|\#|/[^<>:]{1,100}:)\d+>  # user, role, channel, command mentions
            | <t:-?\d+(?::[A-Za-z])?>       # timestamps
            | <?https?://[^\s>]+>?          # links
            | \|\|                          # spoiler bars (the words inside stay)
            ",
        )
        .expect("markup pattern is valid")
    })
}

/// Characters that are invisible or reorder text; removed inside words.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}')
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{FF07}' | '`' | '\u{00B4}'
    )
}

impl Normalizer {
    /// A normaliser that replaces each key of `synonyms` by its value's words.
    pub fn new<'a>(synonyms: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        let plain = Normalizer::default();
        let synonyms = synonyms
            .into_iter()
            .map(|(from, to)| {
                let to: Vec<String> = plain.words(to).iter().map(str::to_string).collect();
                (from.to_lowercase(), to)
            })
            .collect();
        Self { synonyms }
    }

    /// The normalised words of `text`.
    pub fn words(&self, text: &str) -> Words {
        let text = markup().replace_all(text, " ");
        let mut out = Words {
            buf: String::with_capacity(text.len() + 16),
            spans: Vec::with_capacity(text.len() / 5 + 1),
            letters: String::new(),
        };
        let mut word = String::with_capacity(32);
        let mut state = WordState::default();
        for c in text.nfkd() {
            if is_combining_mark(c) || is_invisible(c) {
                continue;
            }
            if is_apostrophe(c) {
                if !word.is_empty() {
                    state.apostrophe_at = Some(word.len());
                }
                continue;
            }
            // "un@live", "$uicide": symbols inside a word may be letters.
            let symbol_letter = matches!(c, '@' | '$') && !word.is_empty();
            if symbol_letter {
                word.push(c);
                continue;
            }
            if c.is_alphanumeric() {
                if word.is_empty() {
                    state.first_upper = c.is_uppercase();
                }
                for lower in c.to_lowercase() {
                    // Stretched letters: keep at most two in a row.
                    let mut tail = word.chars().rev();
                    if tail.next() == Some(lower) && tail.next() == Some(lower) {
                        continue;
                    }
                    word.push(lower);
                }
                continue;
            }
            self.finish_word(&mut word, &mut state, &mut out);
        }
        self.finish_word(&mut word, &mut state, &mut out);
        out.flush_letters();
        out
    }

    fn finish_word(&self, word: &mut String, state: &mut WordState, out: &mut Words) {
        if word.is_empty() {
            *state = WordState::default();
            return;
        }
        // Possessive or contraction 's: "therapist's" -> "therapist", "t's" -> "t".
        if state.apostrophe_at == Some(word.len() - 1) && word.ends_with('s') {
            word.pop();
        }
        if let Some(letters) = unleet(word) {
            *word = letters;
        }
        word.retain(|c| c != '@' && c != '$');
        if word.is_empty() {
            *state = WordState::default();
            return;
        }
        let w = word.as_str();
        let therapist = match w {
            "t" => state.first_upper || out.last().is_some_and(|p| T_DETERMINERS.contains(&p)),
            "ts" => state.first_upper,
            _ => false,
        };
        if therapist {
            out.push(if w == "t" { "therapist" } else { "therapists" });
        } else if let Some(replacement) = self.synonyms.get(w) {
            for r in replacement {
                out.push(r);
            }
        } else {
            out.push(w);
        }
        word.clear();
        *state = WordState::default();
    }
}

#[derive(Default)]
struct WordState {
    first_upper: bool,
    apostrophe_at: Option<usize>,
}

/// Normalises without synonyms; a convenience for tests and validation.
pub fn normalize(text: &str) -> Vec<String> {
    Normalizer::default()
        .words(text)
        .iter()
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> String {
        normalize(text).join(" ")
    }

    #[test]
    fn folds_case_quotes_and_possessives() {
        assert_eq!(
            n("Can I HUG my Therapist’s dog?"),
            "can i hug my therapist dog"
        );
        assert_eq!(n("I don’t know"), "i dont know");
    }

    #[test]
    fn strips_discord_markup_but_keeps_spoiler_words() {
        assert_eq!(
            n("<@123456789> hey <:sadcat:98765> look https://x.y/z ||i hug|| <#42> <@&7>"),
            "hey look i hug"
        );
        assert_eq!(n("```rust\nlet x = 1;\n```"), "let x 1");
    }

    #[test]
    fn removes_invisible_and_combining_characters() {
        assert_eq!(n("s\u{200b}ui\u{200d}cide"), "suicide");
        assert_eq!(n("h̸̢̛u̵g̷"), "hug");
        assert_eq!(n("\u{202e}gift"), "gift");
        assert_eq!(n("ｔｈｅｒａｐｉｓｔ"), "therapist");
    }

    #[test]
    fn squeezes_stretched_letters_and_repeated_words() {
        assert_eq!(n("sooooo sad to to to say"), "soo sad to say");
    }

    #[test]
    fn reads_t_as_therapist() {
        assert_eq!(n("my T said"), "my therapist said");
        assert_eq!(n("my t's office"), "my therapist office");
        assert_eq!(n("Ts are people"), "therapists are people");
        assert_eq!(n("at t minus"), "at t minus");
    }

    #[test]
    fn joins_spaced_and_dotted_letters() {
        assert_eq!(n("i want to k i l l myself"), "i want to kill myself");
        assert_eq!(n("s.u.i.c.i.d.e"), "suicide");
        assert_eq!(n("k.m.s"), "kms");
        assert_eq!(n("i am a mess"), "i am a mess");
    }

    #[test]
    fn reads_leetspeak_inside_words() {
        assert_eq!(n("su1c1de"), "suicide");
        assert_eq!(n("k1ll mys3lf"), "kill myself");
        assert_eq!(n("un@live"), "unalive");
        assert_eq!(n("at 2am, 1500 words"), "at 2am 1500 words");
    }

    #[test]
    fn applies_synonyms() {
        let syn = [("wanna".to_string(), "want to".to_string())];
        let norm = Normalizer::new(syn.iter().map(|(a, b)| (a, b)));
        let words = norm.words("i wanna die");
        assert_eq!(words.iter().collect::<Vec<_>>(), ["i", "want", "to", "die"]);
    }
}
