//! boundary-bot's Discord-free core.
//!
//! [`Engine`] ties it together: it loads `responses/` once into a
//! [`Library`](content::Library), builds the [`Classifier`](classify::Classifier)
//! from it, and answers messages with a [`Reply`](reply::Reply) that always
//! carries the referral notice.
//!
//! Flow: text → [`normalize`] → the fuzzy first stage
//! ([`classify::lexicon`]) → learned crisis and topic heads
//! ([`classify::model`], with the optional semantic stage) →
//! [`reply::compose`]. Nothing here knows about Discord; the `discord`
//! module is a thin adapter over this.

pub mod classify;
pub mod config;
pub mod console;
pub mod content;
pub mod discord;
pub mod error;
pub mod eval;
pub mod live;
pub mod normalize;
pub mod phrases;
pub mod reply;
pub mod store;

use classify::{Classification, Classifier, Explanation};
use config::{ClassifierConfig, Config};
use content::Library;
use error::LoadError;
use reply::{Reply, Surface};

/// The loaded content and the classifier built from it.
#[derive(Debug)]
pub struct Engine {
    library: Library,
    classifier: Classifier,
}

impl Engine {
    /// Loads `responses/` as named by `config` and builds the classifier.
    pub fn load(config: &Config) -> Result<Self, LoadError> {
        let library = Library::load(&config.responses_dir)?;
        Self::new(library, &config.classifier)
    }

    pub fn new(library: Library, config: &ClassifierConfig) -> Result<Self, LoadError> {
        let classifier = Classifier::load(&library, config)?;
        Ok(Self {
            library,
            classifier,
        })
    }

    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    pub fn library(&self) -> &Library {
        &self.library
    }

    /// Crisis first, then topics.
    pub fn classify(&self, text: &str) -> Classification {
        self.classifier.classify(text)
    }

    /// Like [`classify`](Self::classify), with what each stage contributed.
    pub fn explain(&self, text: &str) -> Explanation {
        self.classifier.explain(text)
    }

    /// Like [`answer`](Self::answer), on the first stage and its learned
    /// weights only (when the semantic stage is unavailable).
    pub fn answer_first_stage(&self, text: &str, surface: Surface) -> (Classification, Reply) {
        let classification = self
            .classifier
            .run(text, classify::Stage::Learned)
            .classification;
        let reply = reply::compose(&self.library, &classification, surface);
        (classification, reply)
    }

    /// Classifies `text` and composes the reply the bot would send.
    pub fn answer(&self, text: &str, surface: Surface) -> (Classification, Reply) {
        let classification = self.classify(text);
        let reply = reply::compose(&self.library, &classification, surface);
        (classification, reply)
    }
}
