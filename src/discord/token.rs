//! The bot token: where it comes from (never the command line), file
//! permission checks for `check`, and a `Debug` that never shows it.

use std::fmt;
use std::path::Path;

use tracing::warn;

use crate::config::DiscordConfig;

/// The environment variable holding the bot token.
pub const TOKEN_ENV: &str = "DISCORD_TOKEN";

/// The bot token. Its `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token (surrounding whitespace and a `Bot ` prefix removed).
    pub fn new(token: &str) -> Self {
        let t = token.trim();
        Self(t.strip_prefix("Bot ").unwrap_or(t).trim().to_string())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `DISCORD_TOKEN`, else the config's `token_file`. Errors say how to
    /// get a token and never contain one.
    pub fn from_env_or_config(config: &DiscordConfig) -> anyhow::Result<Self> {
        if let Some(t) = std::env::var_os(TOKEN_ENV) {
            let t = t.to_string_lossy();
            if !t.trim().is_empty() {
                return Ok(Self::new(&t));
            }
        }
        if let Some(path) = &config.token_file {
            return Self::from_file(path);
        }
        anyhow::bail!("{}", NO_TOKEN_HELP)
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        if let Some(mode) = loose_permissions(path) {
            warn!(
                file = %path.display(),
                mode = format!("{mode:o}"),
                "the token file can be read by other users; restrict it with `chmod 600`"
            );
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the token file {} named by [discord] token_file ({})",
                path.display(),
                e.kind()
            )
        })?;
        if text.trim().is_empty() {
            anyhow::bail!(
                "the token file {} is empty; paste the bot token into it, or set {TOKEN_ENV}",
                path.display()
            );
        }
        Ok(Self::new(&text))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// For `boundary-bot check`: where `run` would take the token from, and
/// whether that works, in one line that never contains the token. A
/// `token_file` that cannot be read or is empty is an error (naming the
/// file); no token at all is fine for the console and said so.
pub fn token_status(config: &DiscordConfig) -> anyhow::Result<String> {
    let in_env =
        std::env::var_os(TOKEN_ENV).is_some_and(|t| !t.to_string_lossy().trim().is_empty());
    if in_env {
        return Ok(format!("token: set in {TOKEN_ENV} (not shown)"));
    }
    let Some(path) = &config.token_file else {
        return Ok(format!(
            "token: none; `run` needs {TOKEN_ENV} or [discord] token_file (the console needs none)"
        ));
    };
    Token::from_file(path)?;
    let mut line = format!("token: read from {} (not shown)", path.display());
    if let Some(mode) = loose_permissions(path) {
        line.push_str(&format!(
            "; warning: other users can read it (mode {mode:o}), restrict it with `chmod 600`"
        ));
    }
    Ok(line)
}

/// The permission bits of `path` if users other than its owner may read
/// or write it (Unix only), so `run` can warn about a token file.
pub fn loose_permissions(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// How to get a token, for the error when none is configured.
pub const NO_TOKEN_HELP: &str = "no Discord bot token. Set the DISCORD_TOKEN environment variable \
(DISCORD_TOKEN=... boundary-bot run) or name a file holding it with `token_file` under [discord] \
in the config. To get a token: https://discord.com/developers/applications > New Application > \
Bot > Reset Token. To try the bot without Discord, run `boundary-bot chat`.";

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn token_files_readable_by_others_are_flagged() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "secret").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(loose_permissions(&file), Some(0o644));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(loose_permissions(&file), None);
        // The token still loads either way; the warning is advice.
        assert_eq!(Token::from_file(&file).unwrap().expose(), "secret");
    }

    #[test]
    fn token_is_never_shown() {
        let t = Token::new("  Bot abc.def.ghi\n");
        assert_eq!(t.expose(), "abc.def.ghi");
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
    }

    #[test]
    fn token_file_errors_do_not_leak() {
        let dir = std::env::temp_dir().join(format!("bb-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "  \n").unwrap();
        let err = Token::from_file(&file).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
        let err = Token::from_file(&dir.join("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read"), "{err}");
        std::fs::write(&file, "secret.token.x\n").unwrap();
        assert_eq!(Token::from_file(&file).unwrap().expose(), "secret.token.x");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
