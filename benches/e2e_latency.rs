//! Event-to-REST latency of the real bot through the fake Discord on
//! 127.0.0.1: the time from the fake sending a gateway dispatch to the fake
//! receiving the bot's REST call, for
//!
//! * MESSAGE_CREATE (a DM about a topic) → POST /channels/{c}/messages, and
//! * INTERACTION_CREATE (`/ask`) → POST /interactions/{id}/{token}/callback.
//!
//! The bot is built by `boundary_bot::discord::build_client` on a
//! `tokio::runtime::Runtime::new()` runtime, exactly as `boundary-bot run`
//! builds it; only the API base points at the fake (`tests/e2e/fake_discord`).
//! Events are sent one at a time, each waiting for its reply. This only
//! reports (samples, median, p90, p99, max); it asserts no timing, only that
//! every event got exactly one reply.
//!
//! Run: `cargo bench --bench e2e_latency`
//!
//! Without `--bench` (e.g. `cargo test --benches`) it runs a few events as a
//! smoke test.

// The end-to-end helpers (modules of tests/e2e/main.rs), of which this
// binary uses a part.
#[allow(dead_code, unused_imports)]
#[path = "../tests/e2e/e2e_support/mod.rs"]
mod e2e_support;
#[allow(dead_code)]
#[path = "../tests/e2e/fake_discord/mod.rs"]
mod fake_discord;

use std::time::{Duration, Instant};

use e2e_support::{TestBot, QUIET, WAIT};
use fake_discord::payloads::{self, InteractionSpec, MessageSpec};

const COMMAND: &str = "cargo bench --bench e2e_latency";

struct Plan {
    warmup: usize,
    samples: usize,
}

struct Row {
    what: &'static str,
    samples: Vec<Duration>,
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = (sorted.len() as f64 * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn print_table(rows: &mut [Row], plan: &Plan) {
    println!();
    println!(
        "e2e latency, event -> REST on 127.0.0.1 ({} build, {} warm-up + {} measured per row, \
         sequential)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "optimised"
        },
        plan.warmup,
        plan.samples
    );
    let w = rows.iter().map(|r| r.what.len()).max().unwrap_or(0);
    println!(
        "| {:<w$} | {:>7} | {:>11} | {:>8} | {:>8} | {:>8} |",
        "event -> request", "samples", "median (ms)", "p90 (ms)", "p99 (ms)", "max (ms)"
    );
    let rule: Vec<String> = [w, 7, 11, 8, 8, 8]
        .iter()
        .map(|n| "-".repeat(n + 2))
        .collect();
    println!("|{}|", rule.join("|"));
    for row in rows.iter_mut() {
        row.samples.sort();
        let s = &row.samples;
        println!(
            "| {:<w$} | {:>7} | {:>11} | {:>8} | {:>8} | {:>8} |",
            row.what,
            s.len(),
            ms(percentile(s, 0.5)),
            ms(percentile(s, 0.9)),
            ms(percentile(s, 0.99)),
            ms(*s.last().expect("samples")),
        );
    }
    println!("command: {COMMAND}");
}

/// MESSAGE_CREATE (DM) → POST /channels/{dm}/messages.
async fn messages(bot: &TestBot, text: &str, plan: &Plan) -> Row {
    let path = format!("/channels/{}/messages", payloads::DM_CHANNEL_ID);
    let is_reply = |r: &fake_discord::Recorded| r.is("POST", &path);
    let total = plan.warmup + plan.samples;
    let start_mark = bot.fake.request_mark();
    let mut marks = Vec::with_capacity(total + 1);
    let mut samples = Vec::with_capacity(plan.samples);
    for i in 0..total {
        let d = MessageSpec::dm(text).build();
        fake_discord::validate_dispatch("MESSAGE_CREATE", &d);
        let mark = bot.fake.request_mark();
        marks.push(mark);
        let started = Instant::now();
        bot.fake.dispatch_unchecked("MESSAGE_CREATE", d).await;
        bot.fake.wait_for_request_after(mark, is_reply, WAIT).await;
        let elapsed = started.elapsed();
        if i >= plan.warmup {
            samples.push(elapsed);
        }
    }
    // Exactly one reply per event: let late or duplicate replies arrive, then
    // check that every event's window holds exactly one reply.
    tokio::time::sleep(QUIET).await;
    let requests = bot.fake.requests();
    marks.push(requests.len());
    for (i, w) in marks.windows(2).enumerate() {
        let n = requests[w[0]..w[1]].iter().filter(|r| is_reply(r)).count();
        assert_eq!(n, 1, "MESSAGE_CREATE #{i}: {n} replies, expected exactly 1");
    }
    let all = requests[start_mark..]
        .iter()
        .filter(|r| is_reply(r))
        .count();
    assert_eq!(all, total, "{all} replies to {total} MESSAGE_CREATE events");
    Row {
        what: "MESSAGE_CREATE (DM) -> POST /channels/{c}/messages",
        samples,
    }
}

/// INTERACTION_CREATE (`/ask`) → POST /interactions/{id}/{token}/callback.
async fn interactions(bot: &TestBot, text: &str, plan: &Plan) -> Row {
    let total = plan.warmup + plan.samples;
    let mut paths = Vec::with_capacity(total);
    let mut samples = Vec::with_capacity(plan.samples);
    for i in 0..total {
        let spec = InteractionSpec::guild("ask").option(payloads::opt_string("question", text));
        let d = payloads::slash_command(&spec);
        fake_discord::validate_dispatch("INTERACTION_CREATE", &d);
        let path = format!("/interactions/{}/{}/callback", spec.id, spec.token);
        let mark = bot.fake.request_mark();
        let started = Instant::now();
        bot.fake.dispatch_unchecked("INTERACTION_CREATE", d).await;
        bot.fake
            .wait_for_request_after(mark, |r| r.is("POST", &path), WAIT)
            .await;
        let elapsed = started.elapsed();
        if i >= plan.warmup {
            samples.push(elapsed);
        }
        paths.push(path);
    }
    tokio::time::sleep(QUIET).await;
    let requests = bot.fake.requests();
    for (i, path) in paths.iter().enumerate() {
        let n = requests.iter().filter(|r| r.is("POST", path)).count();
        assert_eq!(n, 1, "INTERACTION_CREATE #{i}: {n} callbacks, expected 1");
    }
    let all = requests
        .iter()
        .filter(|r| r.is_under("POST", "/interactions/"))
        .count();
    assert_eq!(all, total, "{all} callbacks to {total} /ask interactions");
    Row {
        what: "INTERACTION_CREATE (/ask) -> POST /callback",
        samples,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let benching = std::env::args().any(|a| a == "--bench");
    let plan = if benching {
        Plan {
            warmup: 20,
            samples: 500,
        }
    } else {
        Plan {
            warmup: 2,
            samples: 10,
        }
    };
    // Like `boundary-bot run`: a default multi-threaded runtime.
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let started = Instant::now();
    let mut rows = runtime.block_on(async {
        let bot = TestBot::start(|_| {}).await;
        let text = e2e_support::topic_text(&bot.engine);
        let rows = vec![
            messages(&bot, text, &plan).await,
            interactions(&bot, text, &plan).await,
        ];
        bot.shutdown().await;
        rows
    });
    print_table(&mut rows, &plan);
    println!("wall time: {:.1} s", started.elapsed().as_secs_f64());
}
