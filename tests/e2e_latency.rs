//! Event-to-REST latency through the fake Discord on 127.0.0.1: the time
//! from sending a gateway dispatch to the fake receiving the bot's REST
//! call, for MESSAGE_CREATE → POST /channels/{c}/messages (a DM about a
//! topic) and INTERACTION_CREATE → POST /interactions/{id}/{token}/callback
//! (`/ask`). Prints the median and p99.
//!
//! The target is a p99 under 5 ms on loopback, measured with
//! `cargo test --release --test e2e_latency -- --nocapture`, where it is
//! asserted. Under `cargo test` (debug build, shared CI machines) only a
//! loose sanity bound is asserted.

mod e2e_support;
mod fake_discord;

use std::time::{Duration, Instant};

use e2e_support::*;
use fake_discord::payloads::{self, InteractionSpec, MessageSpec};

const WARMUP: usize = 20;
const SAMPLES: usize = 200;

fn bound() -> Duration {
    if cfg!(debug_assertions) {
        Duration::from_millis(50)
    } else {
        Duration::from_millis(5)
    }
}

struct Stats {
    median: Duration,
    p99: Duration,
    max: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    Stats {
        median: at(0.5),
        p99: at(0.99),
        max: *samples.last().unwrap(),
    }
}

fn report(what: &str, s: &Stats) {
    eprintln!(
        "latency {what}: median {:.3} ms, p99 {:.3} ms, max {:.3} ms ({SAMPLES} samples, {} build)",
        s.median.as_secs_f64() * 1e3,
        s.p99.as_secs_f64() * 1e3,
        s.max.as_secs_f64() * 1e3,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn event_to_rest_latency() {
    let bot = TestBot::start(|_| {}).await;
    let text = topic_text(&bot.engine);
    let dm_path = format!("/channels/{}/messages", payloads::DM_CHANNEL_ID);

    // MESSAGE_CREATE → POST /channels/{c}/messages
    let mut samples = Vec::with_capacity(SAMPLES);
    for i in 0..WARMUP + SAMPLES {
        let d = MessageSpec::dm(text).build();
        fake_discord::validate_dispatch("MESSAGE_CREATE", &d);
        let mark = bot.fake.request_mark();
        let started = Instant::now();
        bot.fake.dispatch_unchecked("MESSAGE_CREATE", d).await;
        bot.fake
            .wait_for_request_after(mark, |r| r.is("POST", &dm_path), WAIT)
            .await;
        if i >= WARMUP {
            samples.push(started.elapsed());
        }
    }
    let messages = stats(samples);
    report("MESSAGE_CREATE -> POST /messages", &messages);

    // INTERACTION_CREATE (/ask) → POST /interactions/{id}/{token}/callback
    let mut samples = Vec::with_capacity(SAMPLES);
    for i in 0..WARMUP + SAMPLES {
        let spec = InteractionSpec::guild("ask").option(payloads::opt_string("question", text));
        let d = payloads::slash_command(&spec);
        fake_discord::validate_dispatch("INTERACTION_CREATE", &d);
        let path = format!("/interactions/{}/{}/callback", spec.id, spec.token);
        let started = Instant::now();
        bot.fake.dispatch_unchecked("INTERACTION_CREATE", d).await;
        bot.fake
            .wait_for_request(|r| r.is("POST", &path), WAIT)
            .await;
        if i >= WARMUP {
            samples.push(started.elapsed());
        }
    }
    let commands = stats(samples);
    report("INTERACTION_CREATE -> POST /callback", &commands);
    bot.shutdown().await;

    assert!(
        messages.p99 < bound() && commands.p99 < bound(),
        "p99 above the sanity bound {:?}",
        bound()
    );
}
