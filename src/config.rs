//! The operator's config file (`config.toml`): where content lives, how
//! cautious the classifier is, and how the Discord adapter behaves.
//!
//! Every key is optional; absent keys take the defaults below, which are
//! the same values documented in `config.toml.example`. Unknown keys are
//! errors, so a typo never silently falls back to a default.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{LoadError, LoadErrorKind};

/// Where the semantic stage's model is looked for by default.
pub const DEFAULT_MODEL_DIR: &str = "models/all-MiniLM-L6-v2";

/// The file read when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "config.toml";

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Folder holding one TOML file per topic, `crisis.toml`, `notice.toml`,
    /// `help.toml` and `lexicon.toml`. Relative paths are resolved against
    /// the folder that holds the config file.
    pub responses_dir: PathBuf,
    pub classifier: ClassifierConfig,
    pub discord: DiscordConfig,
    pub storage: StorageConfig,
    pub crisis: CrisisConfig,
    pub metrics: MetricsConfig,
    /// The file this config was read from, if any (for `/reload` and
    /// SIGHUP). Not a key.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifierConfig {
    /// Confidence (0..1) a topic needs before the bot answers with it.
    /// Without it, the threshold chosen on the dev split (stored in the
    /// weights file) applies.
    pub threshold: Option<f32>,
    /// Candidates below this confidence are not offered as "did you mean".
    /// Without it, the weights file's value applies.
    pub suggest_floor: Option<f32>,
    /// Folder holding the sentence-embedding model (all-MiniLM-L6-v2:
    /// config.json, model.safetensors, tokenizer.json) for the semantic
    /// stage. Relative paths are resolved against the config file's folder.
    /// When the folder does not exist, the bot runs on the first stage and
    /// its learned weights alone (`check` says which stages are active).
    pub model_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    /// File holding the bot token. `DISCORD_TOKEN` takes precedence.
    pub token_file: Option<PathBuf>,
    /// Send all REST traffic to this base URL (a Discord HTTP proxy).
    pub api_base: Option<String>,
    /// Register slash commands in this guild only (instant, for development).
    /// Without it, commands are registered globally.
    pub dev_guild: Option<u64>,
    /// Channels where the bot answers confident topic questions unprompted.
    /// Needs the privileged MESSAGE_CONTENT intent.
    pub auto_reply_channels: Vec<u64>,
    /// Channel that receives "possible crisis message" alerts (no message text).
    pub crisis_alert_channel: Option<u64>,
    /// Role pinged by crisis alerts. Without it, alerts ping nobody.
    pub crisis_alert_ping_role: Option<u64>,
    /// Minutes before the same member gets an auto-reply on the same topic again.
    pub topic_cooldown_minutes: u64,
    /// Minutes before the same member is sent crisis resources again.
    pub crisis_cooldown_minutes: u64,
    /// Minutes before a member who DMs chatter gets the help text again.
    pub help_cooldown_minutes: u64,
    /// Most auto-replies the bot posts in one channel per minute.
    pub channel_replies_per_minute: u32,
    /// Roles whose members may use the moderator commands (`/pin`, `/unpin`,
    /// `/pins`, `/stats`, `/settings`) without Manage Messages.
    pub moderator_roles: Vec<u64>,
    /// Ask for the privileged MESSAGE_CONTENT intent even without
    /// `auto_reply_channels`, so channels pinned with `/pin` get auto-replies.
    pub message_content: bool,
    /// Seconds a REST call to Discord may take before it is abandoned (and
    /// logged), so a hung request cannot hold a handler forever.
    pub request_timeout_seconds: u64,
    /// Member messages the bot works on at once before it sheds work:
    /// beyond this, unprompted topic replies (auto-reply and pinned
    /// channels) are dropped and counted; crisis replies, DMs, mentions,
    /// commands and buttons never are. 0 sheds every unprompted topic reply.
    pub max_messages_in_flight: usize,
    /// Which gateway shards this process runs: "auto" (all, in this one
    /// process), or `{ total = N, range = [first, last] }`.
    pub shards: crate::shards::Shards,
}

/// `[crisis]`: how crisis replies fit the place.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CrisisConfig {
    /// The region (a `code` from `responses/crisis.toml`, such as `US` or
    /// `UK`) whose lines come first when neither the member's locale nor
    /// the server's `/settings region` says. Without it, a crisis reply
    /// lists every region.
    pub default_region: Option<String>,
}

/// `[metrics]`: the optional Prometheus and health endpoints.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve `/metrics` and `/health` on this address, e.g.
    /// "127.0.0.1:9464" (keep it on loopback or a private network: the
    /// counters hold no content, but they show how busy the bot is).
    /// Without it, nothing is served.
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// SQLite database file (the embedded default).
    pub path: PathBuf,
    /// A PostgreSQL server instead of the SQLite file, for running as
    /// several processes: `postgres://user:password@host:5432/dbname`.
    /// When set, `path` is not used.
    pub url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            responses_dir: PathBuf::from("responses"),
            classifier: ClassifierConfig::default(),
            discord: DiscordConfig::default(),
            storage: StorageConfig::default(),
            crisis: CrisisConfig::default(),
            metrics: MetricsConfig::default(),
            source: None,
        }
    }
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            threshold: None,
            suggest_floor: None,
            model_dir: PathBuf::from(DEFAULT_MODEL_DIR),
        }
    }
}

impl Default for DiscordConfig {
    fn default() -> Self {
        Self {
            token_file: None,
            api_base: None,
            dev_guild: None,
            auto_reply_channels: Vec::new(),
            crisis_alert_channel: None,
            crisis_alert_ping_role: None,
            topic_cooldown_minutes: 30,
            crisis_cooldown_minutes: 5,
            help_cooldown_minutes: 60,
            channel_replies_per_minute: 6,
            moderator_roles: Vec::new(),
            message_content: false,
            request_timeout_seconds: 10,
            max_messages_in_flight: 256,
            shards: crate::shards::Shards::Auto,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("boundary-bot.sqlite3"),
            url: None,
        }
    }
}

impl Config {
    /// Loads `path`, or `./config.toml` when `path` is `None`.
    ///
    /// An explicitly named file must exist; the default file may be absent,
    /// in which case the built-in defaults apply.
    pub fn load(path: Option<&Path>) -> Result<Self, LoadError> {
        let (file, explicit) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_CONFIG_PATH), false),
        };
        let text =
            match std::fs::read_to_string(&file) {
                Ok(text) => text,
                Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(Self::default())
                }
                Err(e) => return Err(LoadError::new(
                    LoadErrorKind::Unreadable,
                    &file,
                    "-",
                    format!("cannot read the config file ({e})"),
                    "check the path given to --config, or copy config.toml.example to config.toml",
                )),
            };
        let mut config = Self::parse(&file, &text)?;
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            for path in [
                &mut config.responses_dir,
                &mut config.storage.path,
                &mut config.classifier.model_dir,
            ] {
                if !path.is_absolute() {
                    *path = dir.join(&*path);
                }
            }
        }
        config.source = Some(file);
        Ok(config)
    }

    /// Parses and validates config text; `file` is only used in errors.
    pub fn parse(file: &Path, text: &str) -> Result<Self, LoadError> {
        let config: Self =
            toml::from_str(text).map_err(|e| LoadError::from_toml(file, &e, text))?;
        config.validate(file)?;
        Ok(config)
    }

    fn validate(&self, file: &Path) -> Result<(), LoadError> {
        self.classifier.validate(file)?;
        self.discord.validate(file)?;
        if let Some(url) = &self.storage.url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return invalid(
                    file,
                    "storage.url",
                    "it is not a PostgreSQL URL".into(),
                    "write it as \"postgres://user:password@host:5432/dbname\", or remove it to \
                     use the SQLite file at storage.path",
                );
            }
        }
        if self.storage.path.as_os_str().is_empty() {
            return invalid(
                file,
                "storage.path",
                "the database path is empty".into(),
                "name a file such as \"boundary-bot.sqlite3\"",
            );
        }
        Ok(())
    }
}

/// An `InvalidValue` error about `field` of the config `file`.
fn invalid(file: &Path, field: &str, problem: String, fix: &str) -> Result<(), LoadError> {
    Err(LoadError::new(
        LoadErrorKind::InvalidValue,
        file,
        field,
        problem,
        fix,
    ))
}

impl ClassifierConfig {
    fn validate(&self, file: &Path) -> Result<(), LoadError> {
        if let Some(t) = self.threshold.filter(|t| !(*t > 0.0 && *t <= 1.0)) {
            return invalid(
                file,
                "classifier.threshold",
                format!("{t} is outside 0 < threshold <= 1"),
                "use a value such as 0.5 (higher means fewer, surer replies), or remove it to use the threshold chosen in training",
            );
        }
        if let Some(f) = self.suggest_floor {
            let top = self.threshold.unwrap_or(1.0);
            if !(f >= 0.0 && f <= top) {
                return invalid(
                    file,
                    "classifier.suggest_floor",
                    format!("{f} must be between 0 and classifier.threshold ({top})"),
                    "use a value such as 0.2",
                );
            }
        }
        Ok(())
    }
}

impl DiscordConfig {
    fn validate(&self, file: &Path) -> Result<(), LoadError> {
        let d = self;
        if let Some(base) = &d.api_base {
            if !(base.starts_with("http://") || base.starts_with("https://")) {
                return invalid(
                    file,
                    "discord.api_base",
                    format!("{base:?} is not an http(s) URL"),
                    "use a base URL such as \"http://127.0.0.1:8080\", or remove the key to talk to Discord directly",
                );
            }
        }
        for (field, id) in [
            ("discord.dev_guild", d.dev_guild),
            ("discord.crisis_alert_channel", d.crisis_alert_channel),
            ("discord.crisis_alert_ping_role", d.crisis_alert_ping_role),
        ] {
            if id == Some(0) {
                return invalid(
                    file,
                    field,
                    "0 is not a Discord id".into(),
                    "copy the id with Discord's developer mode, or remove the key",
                );
            }
        }
        if let Some((problem, fix)) = d.shards.problem() {
            return invalid(file, "discord.shards", problem, fix);
        }
        if d.auto_reply_channels.contains(&0) {
            return invalid(
                file,
                "discord.auto_reply_channels",
                "0 is not a Discord channel id".into(),
                "copy channel ids with Discord's developer mode (right-click > Copy Channel ID)",
            );
        }
        if d.moderator_roles.contains(&0) {
            return invalid(
                file,
                "discord.moderator_roles",
                "0 is not a Discord role id".into(),
                "copy role ids with Discord's developer mode (Server Settings > Roles > right-click > Copy Role ID)",
            );
        }
        if !(1..=300).contains(&d.request_timeout_seconds) {
            return invalid(
                file,
                "discord.request_timeout_seconds",
                format!("{} is outside 1 to 300", d.request_timeout_seconds),
                "use a number of seconds from 1 to 300, such as 10",
            );
        }
        if d.channel_replies_per_minute == 0 {
            return invalid(
                file,
                "discord.channel_replies_per_minute",
                "0 would silence auto-replies entirely".into(),
                "use a small positive number such as 6, or leave auto_reply_channels empty",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, LoadError> {
        Config::parse(Path::new("config.toml"), text)
    }

    #[test]
    fn the_example_file_documents_the_defaults() {
        let example = include_str!("../config.toml.example");
        assert_eq!(parse(example).unwrap(), Config::default());
    }

    #[test]
    fn empty_file_is_all_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn unknown_key_names_file_and_field() {
        let err = parse("[classifier]\nthreshhold = 0.4\n").unwrap_err();
        assert_eq!(err.kind(), LoadErrorKind::UnknownKey);
        assert_eq!(err.field(), "threshhold");
        let line = err.to_string();
        assert!(
            line.starts_with("config.toml: field `threshhold`"),
            "{line}"
        );
        assert!(line.contains("threshold"), "lists the known keys: {line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn out_of_range_threshold_is_rejected() {
        let err = parse("[classifier]\nthreshold = 1.5\n").unwrap_err();
        assert_eq!(err.field(), "classifier.threshold");
    }

    #[test]
    fn wrong_type_is_a_syntax_error_with_line() {
        let err = parse("\n[discord]\nauto_reply_channels = \"general\"\n").unwrap_err();
        assert_eq!(err.kind(), LoadErrorKind::Syntax);
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    #[test]
    fn moderator_roles_are_validated() {
        let c = parse("[discord]\nmoderator_roles = [5, 6]\n").unwrap();
        assert_eq!(c.discord.moderator_roles, vec![5, 6]);
        let err = parse("[discord]\nmoderator_roles = [0]\n").unwrap_err();
        assert_eq!(err.field(), "discord.moderator_roles");
        let err = parse("[storage]\npath = \"\"\n").unwrap_err();
        assert_eq!(err.field(), "storage.path");
    }

    #[test]
    fn a_storage_url_must_be_postgres() {
        let c = parse("[storage]\nurl = \"postgres://bot@db:5432/bb\"\n").unwrap();
        assert_eq!(c.storage.url.as_deref(), Some("postgres://bot@db:5432/bb"));
        let err = parse("[storage]\nurl = \"mysql://bot@db/bb\"\n").unwrap_err();
        assert_eq!(err.field(), "storage.url");
        assert!(
            err.to_string().contains("postgres://user:password@host"),
            "{err}"
        );
    }

    #[test]
    fn request_timeout_is_bounded() {
        let c = parse("[discord]\nrequest_timeout_seconds = 3\n").unwrap();
        assert_eq!(c.discord.request_timeout_seconds, 3);
        for bad in ["0", "301"] {
            let err = parse(&format!("[discord]\nrequest_timeout_seconds = {bad}\n")).unwrap_err();
            assert_eq!(err.field(), "discord.request_timeout_seconds");
            assert!(err.to_string().contains("1 to 300"), "{err}");
        }
    }

    #[test]
    fn storage_path_is_relative_to_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "[storage]\npath = \"state/bot.sqlite3\"\n").unwrap();
        let c = Config::load(Some(&file)).unwrap();
        assert_eq!(c.storage.path, dir.path().join("state/bot.sqlite3"));
        assert_eq!(c.source.as_deref(), Some(file.as_path()));
    }

    #[test]
    fn missing_explicit_file_is_an_error_but_default_is_not() {
        let err = Config::load(Some(Path::new("/nonexistent/boundary.toml"))).unwrap_err();
        assert_eq!(err.kind(), LoadErrorKind::Unreadable);
    }
}
