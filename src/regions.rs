//! Crisis lines by region: the `[[regions]]` of `responses/crisis.toml`,
//! their validation, and which region a reader sees first.
//!
//! A reader's region comes from, in order: the interaction's `locale`
//! (Discord's client language, such as `en-GB`), the server's region set
//! with `/settings region`, and `[crisis] default_region` in the config.
//! The crisis reply shows that region's lines in full, the server's region
//! too when it differs, and then the international fallback.

use std::path::Path;

use serde::Deserialize;

use crate::error::{LoadError, LoadErrorKind};

/// One country's or area's crisis lines.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrisisRegion {
    /// Short code used by `/settings region` and the config (`US`, `UK`).
    pub code: String,
    /// Shown as the heading ("United Kingdom").
    pub name: String,
    /// Discord locales whose readers see this region first (`en-GB`).
    #[serde(default)]
    pub locales: Vec<String>,
    /// The emergency number ("999").
    pub emergency: String,
    pub lines: Vec<CrisisLine>,
}

/// One crisis line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrisisLine {
    pub name: String,
    /// How to reach it, as the member reads it ("Call or text 988").
    pub contact: String,
    /// `call`, `text`, `call-or-text` or `chat`.
    pub kind: LineKind,
    /// When it answers ("24/7", or the hours).
    pub hours: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineKind {
    Call,
    Text,
    CallOrText,
    Chat,
}

impl LineKind {
    pub fn takes_calls(self) -> bool {
        matches!(self, LineKind::Call | LineKind::CallOrText)
    }
}

/// Where a reader's region came from, best first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegionHints<'a> {
    /// The interaction's locale, when there is an interaction.
    pub locale: Option<&'a str>,
    /// The server's `/settings region`.
    pub server: Option<&'a str>,
    /// `[crisis] default_region` from the config.
    pub default: Option<&'a str>,
}

/// The regions to show, in order: the reader's own first, then the
/// server's when it differs. Empty only when nothing matches at all (the
/// reply then shows every region).
pub fn choose<'r>(regions: &'r [CrisisRegion], hints: RegionHints<'_>) -> Vec<&'r CrisisRegion> {
    let by_code = |code: &str| find(regions, code);
    let by_locale = |locale: &str| {
        regions.iter().find(|r| {
            r.locales
                .iter()
                .any(|l| l.eq_ignore_ascii_case(locale.trim()))
        })
    };
    let own = hints
        .locale
        .and_then(by_locale)
        .or_else(|| hints.server.and_then(by_code))
        .or_else(|| hints.default.and_then(by_code));
    let server = hints.server.and_then(by_code);
    let mut out: Vec<&CrisisRegion> = own.into_iter().collect();
    if let Some(s) = server.filter(|s| own.is_none_or(|o| o.code != s.code)) {
        out.push(s);
    }
    out
}

/// The region `code` names, in any case (for `/settings region` and the
/// config).
pub fn find<'r>(regions: &'r [CrisisRegion], code: &str) -> Option<&'r CrisisRegion> {
    regions
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code.trim()))
}

/// Checks the regions of `file`: at least one, unique codes and locales,
/// each with an emergency number and a line that takes calls.
pub fn validate(file: &Path, regions: &[CrisisRegion]) -> Result<(), LoadError> {
    let invalid = |field: String, problem: &str, fix: &str| {
        LoadError::new(LoadErrorKind::InvalidValue, file, field, problem, fix)
    };
    if regions.is_empty() {
        return Err(invalid(
            "regions".into(),
            "lists no regions",
            "add [[regions]] entries with code, name, emergency and [[regions.lines]]",
        ));
    }
    for (i, r) in regions.iter().enumerate() {
        let at = |f: &str| format!("regions[{i}] ({}).{f}", r.code);
        if r.code.trim().is_empty() || r.name.trim().is_empty() {
            return Err(invalid(at("code"), "needs a code and a name", "set both"));
        }
        if regions[..i]
            .iter()
            .any(|o| o.code.eq_ignore_ascii_case(&r.code))
        {
            return Err(invalid(
                at("code"),
                "is used twice",
                "give each region its own code",
            ));
        }
        let taken = |l: &String| {
            regions[..i]
                .iter()
                .any(|o| o.locales.iter().any(|x| x.eq_ignore_ascii_case(l)))
        };
        if let Some(l) = r.locales.iter().find(|l| taken(l)) {
            return Err(invalid(
                at("locales"),
                &format!("repeats the locale {l} of an earlier region"),
                "list each locale under one region only",
            ));
        }
        if r.emergency.trim().is_empty() {
            return Err(invalid(
                at("emergency"),
                "is empty",
                "give the emergency number",
            ));
        }
        if !r.lines.iter().any(|l| l.kind.takes_calls()) {
            return Err(invalid(
                at("lines"),
                "has no line that takes calls",
                "add a line with kind = \"call\" or \"call-or-text\"",
            ));
        }
        for (j, line) in r.lines.iter().enumerate() {
            let empty = [&line.name, &line.contact, &line.hours]
                .iter()
                .any(|s| s.trim().is_empty());
            if empty {
                return Err(invalid(
                    at(&format!("lines[{j}]")),
                    "has an empty name, contact or hours",
                    "fill in all three",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: &str, locales: &[&str]) -> CrisisRegion {
        CrisisRegion {
            code: code.into(),
            name: code.into(),
            locales: locales.iter().map(|l| l.to_string()).collect(),
            emergency: "112".into(),
            lines: vec![CrisisLine {
                name: "Line".into(),
                contact: "Call 1".into(),
                kind: LineKind::Call,
                hours: "24/7".into(),
            }],
        }
    }

    fn codes(regions: Vec<&CrisisRegion>) -> Vec<&str> {
        regions.iter().map(|r| r.code.as_str()).collect()
    }

    #[test]
    fn the_locale_comes_first_then_the_server_then_the_default() {
        let all = [
            region("US", &["en-US"]),
            region("UK", &["en-GB"]),
            region("AU", &[]),
        ];
        let hints = |locale, server| RegionHints {
            locale,
            server,
            default: Some("US"),
        };
        assert_eq!(codes(choose(&all, hints(Some("en-GB"), None))), ["UK"]);
        assert_eq!(
            codes(choose(&all, hints(Some("en-GB"), Some("AU")))),
            ["UK", "AU"]
        );
        assert_eq!(codes(choose(&all, hints(Some("ja"), Some("au")))), ["AU"]);
        assert_eq!(codes(choose(&all, hints(None, None))), ["US"]);
        assert_eq!(
            codes(choose(&all, hints(Some("en-US"), Some("US")))),
            ["US"]
        );
        let nothing = RegionHints::default();
        assert!(choose(&all, nothing).is_empty());
    }

    #[test]
    fn a_region_without_a_call_line_or_emergency_number_is_refused() {
        let mut r = region("US", &[]);
        r.lines[0].kind = LineKind::Text;
        let err = validate(Path::new("crisis.toml"), &[r])
            .unwrap_err()
            .to_string();
        assert!(err.contains("regions[0] (US).lines"), "{err}");
        let mut r = region("US", &[]);
        r.emergency = " ".into();
        let err = validate(Path::new("crisis.toml"), &[r])
            .unwrap_err()
            .to_string();
        assert!(err.contains("emergency"), "{err}");
        let twice = [region("US", &["en-US"]), region("CA", &["en-us"])];
        assert!(validate(Path::new("crisis.toml"), &twice).is_err());
    }
}
