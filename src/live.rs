//! The content the bot serves, swappable at runtime (`/reload`, SIGHUP).
//!
//! [`LiveEngine::reload`] builds a whole new [`Engine`] first, from
//! `responses/` and the config's content settings (`responses_dir`,
//! `[classifier]`); only when that validates does it replace the live one.
//! On any error the old content stays live and the error is returned.
//! Readers take an `Arc` snapshot, so a reply in progress never sees half
//! of a reload.

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::Config;
use crate::error::LoadError;
use crate::Engine;

#[derive(Debug)]
pub struct LiveEngine {
    current: ArcSwap<Engine>,
    /// The config the bot started with; its `source` file is read again on
    /// reload, when there is one.
    base: Config,
}

/// What a successful reload loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    pub topics: usize,
    pub responses_dir: PathBuf,
    pub config_file: Option<PathBuf>,
}

impl LiveEngine {
    pub fn new(engine: Arc<Engine>, config: &Config) -> Self {
        Self {
            current: ArcSwap::new(engine),
            base: config.clone(),
        }
    }

    /// The engine now live.
    pub fn get(&self) -> Arc<Engine> {
        self.current.load_full()
    }

    /// Validates and loads the content again; swaps it in only if valid.
    pub fn reload(&self) -> Result<Reloaded, LoadError> {
        let config = match &self.base.source {
            Some(file) => Config::load(Some(file))?,
            None => self.base.clone(),
        };
        let engine = Engine::load(&config)?;
        let done = Reloaded {
            topics: engine.library().topics.len(),
            responses_dir: config.responses_dir.clone(),
            config_file: config.source.clone(),
        };
        self.current.store(Arc::new(engine));
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            if entry.path().is_dir() {
                copy_dir(&entry.path(), &to.join(entry.file_name()));
            } else {
                std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            }
        }
    }

    #[test]
    fn a_broken_file_keeps_the_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let responses = dir.path().join("responses");
        copy_dir(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("responses"),
            &responses,
        );
        let config = Config {
            responses_dir: responses.clone(),
            ..Config::default()
        };
        let live = LiveEngine::new(Arc::new(Engine::load(&config).unwrap()), &config);
        let before = live.get();
        std::fs::write(responses.join("notice.toml"), "text = \"\"\n").unwrap();
        let err = live.reload().unwrap_err();
        assert!(err.to_string().contains("notice.toml"), "{err}");
        assert!(Arc::ptr_eq(&before, &live.get()), "old content stays live");
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("responses/notice.toml"),
            responses.join("notice.toml"),
        )
        .unwrap();
        let done = live.reload().unwrap();
        assert_eq!(done.topics, 17);
        assert!(!Arc::ptr_eq(&before, &live.get()));
    }
}
