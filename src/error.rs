//! Load-time errors for the config file and `responses/`.
//!
//! Every error names the file, the field and the fix, so a moderator who
//! edited a TOML file can repair it without reading Rust. `Display` is one
//! line; `kind()` lets code branch without string matching.

use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong, for callers that need to branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadErrorKind {
    /// The file could not be read (missing, permissions).
    Unreadable,
    /// The file is not valid TOML, or a value has the wrong type.
    Syntax,
    /// A key the schema does not know.
    UnknownKey,
    /// A required key is absent.
    MissingField,
    /// A value is present but not acceptable (empty, too long, out of range).
    InvalidValue,
    /// Two files claim the same topic id.
    DuplicateId,
    /// A required topic file is absent from `responses/`.
    MissingTopic,
}

/// An error found while loading configuration or content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    kind: LoadErrorKind,
    file: PathBuf,
    field: String,
    problem: String,
    fix: String,
}

impl LoadError {
    pub fn new(
        kind: LoadErrorKind,
        file: impl AsRef<Path>,
        field: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            file: file.as_ref().to_path_buf(),
            field: field.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    pub fn kind(&self) -> LoadErrorKind {
        self.kind
    }
    pub fn file(&self) -> &Path {
        &self.file
    }
    pub fn field(&self) -> &str {
        &self.field
    }

    /// Turns a `toml` deserialisation error into a file/field/fix error.
    pub(crate) fn from_toml(file: &Path, err: &toml::de::Error, text: &str) -> Self {
        let message = err.message().trim().to_string();
        let line = err
            .span()
            .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
        let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let key = rest.split('`').next().unwrap_or_default().to_string();
            let expected = rest
                .split_once(", expected ")
                .map(|(_, e)| format!("; the known keys here are {e}"))
                .unwrap_or_default();
            return Self::new(
                LoadErrorKind::UnknownKey,
                file,
                key,
                format!("unknown key{at}"),
                format!("remove it or correct its spelling{expected}"),
            );
        }
        if let Some(rest) = message.strip_prefix("missing field `") {
            let key = rest.split('`').next().unwrap_or_default().to_string();
            return Self::new(
                LoadErrorKind::MissingField,
                file,
                key.clone(),
                format!("required key is missing{at}"),
                format!("add `{key} = ...` to the file"),
            );
        }
        Self::new(
            LoadErrorKind::Syntax,
            file,
            "-",
            format!("{}{at}", message.replace('\n', " ")),
            "fix the TOML syntax or the value's type at that line",
        )
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: field `{}`: {}. Fix: {}.",
            self.file.display(),
            self.field,
            self.problem,
            self.fix
        )
    }
}

impl std::error::Error for LoadError {}
