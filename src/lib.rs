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
//! [`reply::compose`]. [`policy`] decides whether and where to speak from
//! the facts an adapter gathers; [`store`] remembers pins, settings,
//! opt-outs and counts; [`shards`] says which gateway shards a process
//! runs. Nothing here knows about Discord; the `discord`
//! module is a thin adapter over this.

pub mod classify;
pub mod config;
pub mod console;
pub mod content;
pub mod discord;
pub mod error;
pub mod eval;
pub mod live;
pub mod metrics;
pub mod normalize;
pub mod phrases;
pub mod policy;
pub mod regions;
pub mod reply;
pub mod shards;
pub mod store;

use classify::{Classification, Classifier, Explanation};
use config::{ClassifierConfig, Config};
use content::Library;
use error::LoadError;
use regions::RegionHints;
use reply::{Reader, Reply};

/// The loaded content and the classifier built from it.
#[derive(Debug)]
pub struct Engine {
    library: Library,
    classifier: Classifier,
    /// `[crisis] default_region`, checked against the library's regions.
    default_region: Option<String>,
}

impl Engine {
    /// Loads `responses/` as named by `config` and builds the classifier.
    pub fn load(config: &Config) -> Result<Self, LoadError> {
        let library = Library::load(&config.responses_dir)?;
        let engine = Self::new(library, &config.classifier)?;
        engine.with_default_region(config)
    }

    /// Sets `[crisis] default_region`, refusing a code `crisis.toml` does
    /// not list.
    pub fn with_default_region(mut self, config: &Config) -> Result<Self, LoadError> {
        let Some(code) = config.crisis.default_region.as_deref() else {
            return Ok(self);
        };
        let regions = &self.library.crisis.regions;
        if regions::find(regions, code).is_none() {
            let codes: Vec<&str> = regions.iter().map(|r| r.code.as_str()).collect();
            return Err(LoadError::new(
                error::LoadErrorKind::InvalidValue,
                config
                    .source
                    .as_deref()
                    .unwrap_or(std::path::Path::new("config.toml")),
                "crisis.default_region",
                format!("is {code:?}, which responses/crisis.toml does not list"),
                format!("use one of {}", codes.join(", ")),
            ));
        }
        self.default_region = Some(code.to_string());
        Ok(self)
    }

    pub fn new(library: Library, config: &ClassifierConfig) -> Result<Self, LoadError> {
        let classifier = Classifier::load(&library, config)?;
        Ok(Self {
            library,
            classifier,
            default_region: None,
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

    /// Classifies `text` and composes the reply the bot would send.
    pub fn answer<'a>(&self, text: &str, reader: impl Into<Reader<'a>>) -> (Classification, Reply) {
        let classification = self.classify(text);
        let reply = self.compose(&classification, reader.into());
        (classification, reply)
    }

    /// The reply for `classification`, with the configured default region.
    pub fn compose(&self, classification: &Classification, reader: Reader<'_>) -> Reply {
        reply::compose(&self.library, classification, self.fill_default(reader))
    }

    /// The region hints with `[crisis] default_region` filled in.
    pub fn region_hints<'a>(&'a self, hints: RegionHints<'a>) -> RegionHints<'a> {
        RegionHints {
            default: hints.default.or(self.default_region.as_deref()),
            ..hints
        }
    }

    fn fill_default<'a>(&'a self, reader: Reader<'a>) -> Reader<'a> {
        Reader {
            regions: self.region_hints(reader.regions),
            ..reader
        }
    }
}
