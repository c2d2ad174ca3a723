//! The classifier's measured quality on the project's own test set
//! (`tests/fixtures/messages.jsonl` and `new-topics.jsonl`, kept out of
//! training), for both configurations that ship:
//!
//! - the first stage with its learned weights (no model folder), which a
//!   fresh clone runs;
//! - the default with the semantic stage, when the model is installed in
//!   `models/all-MiniLM-L6-v2` (`scripts/fetch-model.sh`). Without it these
//!   tests say they were skipped; CI sets `BOUNDARY_BOT_REQUIRE_MODEL=1` so
//!   that a skip fails there.
//!
//! The floors sit at the measured values (the README gives the exact
//! numbers and the commands); they are regression guards.

use std::path::{Path, PathBuf};

use boundary_bot::config::Config;
use boundary_bot::eval::{evaluate, read_rows, Report, Row};
use boundary_bot::Engine;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn engine(model_dir: PathBuf) -> Engine {
    let mut config = Config {
        responses_dir: root().join("responses"),
        ..Config::default()
    };
    config.classifier.model_dir = model_dir;
    Engine::load(&config).expect("responses load")
}

fn first_stage() -> Engine {
    engine(root().join("no-model-here"))
}

/// The default engine with the semantic stage, or `None` (with a note)
/// when the model is not installed.
fn with_model() -> Option<Engine> {
    let dir = root().join("models/all-MiniLM-L6-v2");
    if dir.is_dir() {
        let e = engine(dir);
        assert!(e.classifier().semantic().is_some());
        return Some(e);
    }
    if std::env::var_os("BOUNDARY_BOT_REQUIRE_MODEL").is_some() {
        panic!(
            "BOUNDARY_BOT_REQUIRE_MODEL is set but {} is missing",
            dir.display()
        );
    }
    eprintln!(
        "skipped: no model in {} (run scripts/fetch-model.sh)",
        dir.display()
    );
    None
}

fn own_test_set() -> Vec<Row> {
    let mut rows = read_rows(&root().join("tests/fixtures/messages.jsonl")).expect("fixture reads");
    rows.extend(read_rows(&root().join("tests/fixtures/new-topics.jsonl")).expect("fixture reads"));
    rows
}

fn crisis_misses(r: &Report) -> Vec<&String> {
    r.errors
        .iter()
        .filter(|e| e.label == "crisis")
        .map(|e| &e.id)
        .collect()
}

/// Crisis is recall-first: every crisis message in the set is caught.
fn assert_floors(r: &Report, accuracy: f64) {
    assert_eq!(
        r.crisis_recall,
        1.0,
        "crisis misses: {:?}",
        crisis_misses(r)
    );
    assert!(r.crisis_false_alarm <= 0.01, "{}", r.crisis_false_alarm);
    assert!(
        r.none_false_reply <= 0.03,
        "none_false_reply {}",
        r.none_false_reply
    );
    assert!(r.accuracy >= accuracy, "accuracy {}", r.accuracy);
}

#[test]
fn first_stage_meets_its_floors_on_the_own_test_set() {
    let r = evaluate(&first_stage(), &own_test_set());
    assert_eq!(r.rows, 390);
    // 0.80 until the long own-words posts (training/own-long-*.jsonl): with
    // their hard-negative therapy talk in dev, the first stage's topic
    // threshold, chosen for none_false_reply <= 0.03, rose from 0.46 to
    // 0.66 (0.61 with the chatter), and its accuracy on these short messages fell from 0.823 to
    // 0.764, 0.777 with the short chatter (README, "Classifier: the
    // comparison of stages").
    assert_floors(&r, 0.75);
}

#[test]
fn semantic_stage_meets_its_floors_on_the_own_test_set() {
    let Some(engine) = with_model() else { return };
    let r = evaluate(&engine, &own_test_set());
    assert_floors(&r, 0.86);
    assert!(
        r.expected_calibration_error <= 0.08,
        "ECE {}",
        r.expected_calibration_error
    );
}

/// The semantic stage runs only where the first stage cannot decide: never
/// when the lexicon itself finds crisis (the hybrid keeps that floor), and
/// the bot's classification is the first pass finished.
#[test]
fn the_semantic_stage_runs_only_where_the_first_cannot_decide() {
    let Some(engine) = with_model() else { return };
    let c = engine.classifier();
    let crisis = c.first_pass("i want to kill myself tonight");
    assert!(!crisis.needs_semantic);
    assert_eq!(
        crisis.run.classification.outcome,
        boundary_bot::classify::Outcome::Crisis
    );
    let unsure = "my therapist said something odd at the end today";
    let first = c.first_pass(unsure);
    assert!(first.needs_semantic);
    let whole = c.finish(first, unsure);
    assert!(whole.semantic);
    assert_eq!(whole.classification, engine.classify(unsure));
}

#[test]
fn every_topic_is_reachable_in_the_own_test_set() {
    let r = evaluate(&first_stage(), &own_test_set());
    for id in boundary_bot::content::TOPIC_IDS {
        let scores = &r.per_label[id];
        assert!(scores.recall > 0.0, "{id} is never recognised");
    }
}

#[test]
fn calibration_table_covers_every_topic_answer() {
    let r = evaluate(&first_stage(), &own_test_set());
    let answered: usize = r.calibration.iter().map(|b| b.answers).sum();
    let topics: usize = r
        .per_label
        .iter()
        .filter(|(l, _)| *l != "none" && *l != "crisis")
        .map(|(_, s)| s.predicted)
        .sum();
    assert_eq!(answered, topics);
    assert!(
        r.expected_calibration_error <= 0.10,
        "ECE {}",
        r.expected_calibration_error
    );
}
