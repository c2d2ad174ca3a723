//! The classifier's measured quality on the project's own labelled set
//! (tests/fixtures/messages.jsonl, written blind to the classifier) and
//! the dev set used for tuning. These floors are regression guards at the
//! measured values; the README and the issue note give the exact numbers.

use boundary_bot::config::Config;
use boundary_bot::eval::{evaluate, read_rows, Report};
use boundary_bot::Engine;
use std::path::Path;

fn report(file: &str) -> Report {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config {
        responses_dir: root.join("responses"),
        ..Config::default()
    };
    let engine = Engine::load(&config).expect("responses load");
    let rows = read_rows(&root.join(file)).expect("fixture reads");
    evaluate(&engine, &rows)
}

#[test]
fn test_set_meets_its_floors() {
    let r = report("tests/fixtures/messages.jsonl");
    assert_eq!(r.rows, 300);
    // Crisis is recall-first: every crisis message in the set is caught.
    assert_eq!(
        r.crisis_recall,
        1.0,
        "crisis misses: {:?}",
        r.errors
            .iter()
            .filter(|e| e.label == "crisis")
            .map(|e| &e.id)
            .collect::<Vec<_>>()
    );
    assert!(r.crisis_false_alarm <= 0.01, "{}", r.crisis_false_alarm);
    assert!(r.accuracy >= 0.93, "accuracy {}", r.accuracy);
    assert!(
        r.none_false_reply <= 0.10,
        "none_false_reply {}",
        r.none_false_reply
    );
}

#[test]
fn dev_set_meets_its_floors() {
    let r = report("tests/fixtures/dev.jsonl");
    assert!(r.crisis_recall >= 0.9, "{}", r.crisis_recall);
    assert_eq!(r.crisis_false_alarm, 0.0);
    assert!(r.accuracy >= 0.88, "{}", r.accuracy);
    assert!(r.none_false_reply <= 0.09, "{}", r.none_false_reply);
}

#[test]
fn every_topic_is_reachable_in_the_test_set() {
    let r = report("tests/fixtures/messages.jsonl");
    for id in boundary_bot::content::TOPIC_IDS {
        let scores = &r.per_label[id];
        assert!(scores.recall > 0.0, "{id} is never recognised");
    }
}

#[test]
fn holdout_set_meets_its_floors() {
    let r = report("tests/fixtures/holdout.jsonl");
    assert_eq!(r.rows, 200);
    assert!(r.crisis_recall >= 0.93, "{}", r.crisis_recall);
    assert!(r.crisis_false_alarm <= 0.01, "{}", r.crisis_false_alarm);
    assert!(r.accuracy >= 0.88, "{}", r.accuracy);
    assert!(r.none_false_reply <= 0.06, "{}", r.none_false_reply);
}

#[test]
fn holdout2_set_meets_its_floors() {
    let r = report("tests/fixtures/holdout2.jsonl");
    assert_eq!(r.rows, 160);
    assert!(r.crisis_recall >= 0.9, "{}", r.crisis_recall);
    assert_eq!(r.crisis_false_alarm, 0.0);
    assert!(r.none_false_reply <= 0.04, "{}", r.none_false_reply);
}
