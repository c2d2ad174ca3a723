//! The config and responses parsers never panic, whatever the file holds:
//! a proptest corpus of truncated, spliced and random files. A broken file
//! is an error naming that file.

mod copy_tree;
use boundary_bot::config::Config;
use boundary_bot::content::Library;
use proptest::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn shipped() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/responses"))
}

/// One temp copy of responses/ shared by all cases; each case rewrites one
/// file and restores it.
fn sandbox() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        copy_tree::copy_tree(shipped(), &dir);
        dir
    })
}

const FILES: [&str; 5] = [
    "gifts.toml",
    "crisis.toml",
    "notice.toml",
    "help.toml",
    "lexicon.toml",
];

/// A file's text after one edit: cut short, a splice of random text, or a
/// line dropped.
fn mutate(text: &str, kind: u8, at: usize, junk: &str) -> String {
    let cut = text
        .char_indices()
        .map(|(i, _)| i)
        .nth(at % text.chars().count().max(1))
        .unwrap_or(0);
    match kind % 3 {
        0 => text[..cut].to_string(),
        1 => format!("{}{junk}{}", &text[..cut], &text[cut..]),
        _ => {
            let lines: Vec<&str> = text.lines().collect();
            let drop = at % lines.len().max(1);
            lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != drop)
                .map(|(_, l)| *l)
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn mutated_responses_load_or_fail_cleanly(file in 0usize..FILES.len(), kind in any::<u8>(), at in any::<usize>(), junk in "\\PC{0,40}|[\\[\\]=\"'#\\n ]{0,20}") {
        let dir = sandbox();
        let name = FILES[file];
        let original = fs::read_to_string(shipped().join(name)).unwrap();
        let broken = mutate(&original, kind, at, &junk);
        fs::write(dir.join(name), &broken).unwrap();
        let result = Library::load(dir);
        fs::write(dir.join(name), &original).unwrap();
        if let Err(e) = result {
            let line = e.to_string();
            prop_assert!(!line.contains('\n'), "one line: {line}");
            prop_assert!(line.contains(".toml") || line.contains("responses"), "names a file: {line}");
        }
    }

    #[test]
    fn arbitrary_config_text_never_panics(text in "\\PC{0,200}") {
        let _ = Config::parse(Path::new("config.toml"), &text);
    }

    #[test]
    fn mutated_example_config_never_panics(kind in any::<u8>(), at in any::<usize>(), junk in "\\PC{0,40}") {
        let example = include_str!("../config.toml.example");
        let text = mutate(example, kind, at, &junk);
        if let Err(e) = Config::parse(Path::new("config.toml"), &text) {
            prop_assert!(e.to_string().starts_with("config.toml: field `"), "{e}");
        }
    }
}

/// The configs the container image and compose.yaml ship are valid, and
/// the example's commented-out shard, PostgreSQL and metrics lines are too.
#[test]
fn shipped_deployment_configs_parse() {
    for file in ["deploy/config.container.toml", "deploy/config.compose.toml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        Config::parse(&path, &text).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    let example = include_str!("../config.toml.example")
        .replace("# shards = {", "shards = {")
        .replace("# url = \"postgres", "url = \"postgres")
        .replace("# listen = ", "listen = ");
    let config = Config::parse(Path::new("config.toml.example"), &example).unwrap();
    assert!(config.storage.url.is_some());
    assert!(config.discord.shards.runs_shard_zero());
    assert!(config.metrics.listen.is_some_and(|a| a.ip().is_loopback()));
}
