//! boundary-bot's Discord-free core.
//!
//! [`Engine`] ties it together: it loads `responses/` once into a
//! [`Library`](content::Library), builds the [`Classifier`](classify::Classifier)
//! from it, and answers messages with a [`Reply`](reply::Reply) that always
//! carries the referral notice.
//!
//! Flow: text → [`normalize`] → crisis check ([`crisis`]) → topic match
//! ([`classify`]) → [`reply::compose`]. Nothing here knows about Discord;
//! the `discord` module is a thin adapter over this.

pub mod classify;
pub mod config;
pub mod console;
pub mod content;
pub mod crisis;
pub mod discord;
pub mod error;
pub mod eval;
pub mod live;
pub mod normalize;
pub mod phrases;
pub mod reply;
pub mod store;

use classify::{Classification, Classifier, Evidence};
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
        Ok(Self::new(library, &config.classifier))
    }

    pub fn new(library: Library, config: &ClassifierConfig) -> Self {
        let classifier = Classifier::new(&library, config);
        Self {
            library,
            classifier,
        }
    }

    pub fn library(&self) -> &Library {
        &self.library
    }

    /// Crisis first, then topics.
    pub fn classify(&self, text: &str) -> Classification {
        self.classifier.classify(text)
    }

    /// Like [`classify`](Self::classify), with the evidence behind it.
    pub fn explain(&self, text: &str) -> (Classification, Vec<Evidence>) {
        self.classifier.explain(text)
    }

    /// Classifies `text` and composes the reply the bot would send.
    pub fn answer(&self, text: &str, surface: Surface) -> (Classification, Reply) {
        let classification = self.classify(text);
        let reply = reply::compose(&self.library, &classification, surface);
        (classification, reply)
    }
}
