//! Criterion benchmark of the classifier's stages on short (<= 80 chars)
//! and long (~1,000 chars) messages, against a naive strsim baseline
//! measured in the same run: normalised Levenshtein of the whole message
//! against every example question in `responses/`. Prints per-message
//! medians and ratios.
//!
//! - `first-stage`: the fuzzy lexicon, feature extraction and the learned
//!   heads (what every message costs).
//! - `semantic`: the embedding model plus the hybrid heads (what a message
//!   the first stage cannot decide costs); only with the model installed in
//!   `models/all-MiniLM-L6-v2` (or `BOUNDARY_BOT_MODEL_DIR`).
//!
//! Run: `cargo bench --bench classify`

use std::hint::black_box;
use std::path::Path;

use boundary_bot::classify::Stage;
use boundary_bot::config::Config;
use boundary_bot::Engine;
use criterion::{criterion_group, Criterion};

const SHORT: [&str; 8] = [
    "can i hug my therepist",
    "is it weird to text my T at 2am?",
    "my counselor wont write me an esa letter",
    "thinking of ending it with my therapist",
    "lol same, good morning everyone",
    "i want to kms",
    "ran into my psych at the grocery store omg",
    "is it ok to give my shrink a xmas gift",
];

const LONG: &str = "ok so this is kind of a long one and i'm sorry in advance. i've been seeing my T for about two years now, \
ever since my divorce, and honestly she has been the one steady thing in my life. we meet every tuesday and she always \
remembers the little things, like my dog's name and that my mom has been sick. lately though i've been feeling really \
weird about it because i think about her a lot between sessions, like i'll see something funny and want to send it to \
her, or i'll have a bad night and want to email her at 2am just to tell her what happened. last week i actually did send \
an email and she replied the next day saying she was glad i reached out but that we should talk about it in session. \
now i'm embarrassed and i don't know if i crossed a line or if she's annoyed with me. a friend of mine said her \
therapist lets her text whenever she wants, so now i'm confused about what's normal. is it ok to contact your therapist \
between sessions? how much is too much? i don't want to ruin the relationship because it's the best thing i've got \
going right now and i really don't want to lose her or have her think i'm too needy.";

fn engine() -> Engine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config = Config {
        responses_dir: root.join("responses"),
        ..Config::default()
    };
    config.classifier.model_dir = std::env::var_os("BOUNDARY_BOT_MODEL_DIR")
        .map(Into::into)
        .unwrap_or_else(|| root.join("models/all-MiniLM-L6-v2"));
    Engine::load(&config).expect("responses/ loads")
}

/// The naive baseline: best normalised Levenshtein similarity between the
/// lower-cased message and every example question.
fn naive(examples: &[(usize, String)], text: &str) -> (usize, f64) {
    let text = text.to_lowercase();
    examples
        .iter()
        .map(|(topic, ex)| (*topic, strsim::normalized_levenshtein(&text, ex)))
        .fold(
            (0, 0.0),
            |best, cur| if cur.1 > best.1 { cur } else { best },
        )
}

fn bench(c: &mut Criterion) {
    let engine = engine();
    let examples: Vec<(usize, String)> = engine
        .library()
        .topics
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            t.matching
                .examples
                .iter()
                .map(move |e| (i, e.to_lowercase()))
        })
        .collect();
    assert!(SHORT.iter().all(|m| m.len() <= 80));
    assert!(
        (900..=1200).contains(&LONG.len()),
        "long message is {} chars",
        LONG.len()
    );

    let first = |text: &str| engine.classifier().run(text, Stage::Learned).classification;
    let mut g = c.benchmark_group("first-stage");
    g.bench_function("short", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % SHORT.len();
            black_box(first(black_box(SHORT[i])))
        })
    });
    g.bench_function("long", |b| b.iter(|| black_box(first(black_box(LONG)))));
    // Cost must stay linear in length: 10 KB and 100 KB of the long story.
    let ten_kb: String = LONG
        .repeat(10_240 / LONG.len() + 1)
        .chars()
        .take(10_240)
        .collect();
    let hundred_kb: String = LONG
        .repeat(102_400 / LONG.len() + 1)
        .chars()
        .take(102_400)
        .collect();
    g.sample_size(20);
    g.bench_function("10kb", |b| b.iter(|| black_box(first(black_box(&ten_kb)))));
    g.bench_function("100kb", |b| {
        b.iter(|| black_box(first(black_box(&hundred_kb))))
    });
    g.finish();

    if let Some(semantic) = engine.classifier().semantic() {
        let classifier = engine.classifier();
        let heavy = |text: &str| {
            let reading = classifier.lexicon().read(text);
            semantic.classify_hybrid(classifier, text, &reading)
        };
        let mut g = c.benchmark_group("semantic");
        g.sample_size(20);
        g.bench_function("short", |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % SHORT.len();
                black_box(heavy(black_box(SHORT[i])))
            })
        });
        g.bench_function("long", |b| b.iter(|| black_box(heavy(black_box(LONG)))));
        g.finish();
    } else {
        println!("semantic stage not benchmarked: no model folder (run scripts/fetch-model.sh)");
    }

    let mut g = c.benchmark_group("naive");
    g.bench_function("short", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % SHORT.len();
            black_box(naive(&examples, black_box(SHORT[i])))
        })
    });
    g.bench_function("long", |b| {
        b.iter(|| black_box(naive(&examples, black_box(LONG))))
    });
    g.finish();
}

criterion_group!(benches, bench);

/// Median (ns) that criterion stored for `group/name` in this run.
fn median_ns(group: &str, name: &str) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target").into());
    let path = Path::new(&dir)
        .join("criterion")
        .join(group)
        .join(name)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if let (Some(ten), Some(hundred)) = (
        median_ns("first-stage", "10kb"),
        median_ns("first-stage", "100kb"),
    ) {
        println!(
            "\nlength scaling: 10 KB {:.2} ms, 100 KB {:.2} ms (x{:.1} for 10x the text; target < 50 ms at 100 KB)",
            ten / 1e6,
            hundred / 1e6,
            hundred / ten
        );
    }
    println!("\nper-message medians (this run):");
    for size in ["short", "long"] {
        if let (Some(ours), Some(base)) = (median_ns("first-stage", size), median_ns("naive", size))
        {
            println!(
                "  {size:<5}  first stage {:>9.2} µs   naive strsim {:>9.2} µs   naive/first = {:.1}x",
                ours / 1000.0,
                base / 1000.0,
                base / ours
            );
        }
        if let Some(heavy) = median_ns("semantic", size) {
            println!("  {size:<5}  semantic stage {:>9.2} µs", heavy / 1000.0);
        }
    }
}
