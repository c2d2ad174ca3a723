//! Load through the fake Discord on 127.0.0.1: 10,000 MESSAGE_CREATE events
//! across 100 auto-reply channels from 1,000 members, sent as fast as the
//! harness can, then a 500-message burst from one spammer.
//!
//! The messages are the project's labelled sets (topic questions, chatter
//! and crisis). What must be answered is worked out from the engine and the
//! cooldown rules, then checked by counting the recorded REST calls:
//!
//! * every crisis message is answered exactly once (the crisis cooldown is 0
//!   here, so that "every crisis message" is checkable);
//! * for each (member, topic) exactly one of that member's confident
//!   messages on the topic is answered (the topic cooldown covers the run);
//! * nothing else is answered, and no message gets two replies.
//!
//! It reports throughput, event -> reply latency (median, p99), and the
//! process's peak and final RSS. The bot and the fake Discord share the
//! process, and the fake keeps every request, so RSS is an upper bound.
//!
//! Run: `cargo bench --bench load` (without `--bench`, a small smoke run).

#[path = "../tests/e2e_support/mod.rs"]
mod e2e_support;
#[path = "../tests/fake_discord/mod.rs"]
mod fake_discord;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use boundary_bot::classify::Outcome;
use e2e_support::{TestBot, QUIET};
use fake_discord::payloads::{self, MessageSpec};

const CHANNEL_BASE: u64 = 1_300_000_000_000_000_000;
const USER_BASE: u64 = 1_400_000_000_000_000_000;
const MESSAGE_BASE: u64 = 1_500_000_000_000_000_000;

fn corpus() -> Vec<String> {
    let mut texts = Vec::new();
    for file in [
        include_str!("../tests/fixtures/messages.jsonl"),
        include_str!("../tests/fixtures/holdout.jsonl"),
        include_str!("../tests/fixtures/holdout2.jsonl"),
    ] {
        for line in file.lines().filter(|l| !l.trim().is_empty()) {
            let row: serde_json::Value = serde_json::from_str(line).expect("fixture row");
            texts.push(row["text"].as_str().unwrap_or_default().to_string());
        }
    }
    texts
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = (sorted.len() as f64 * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

struct Event {
    id: u64,
    channel: u64,
    user: u64,
    text: usize,
}

/// The reply's referenced message id, if it is a reply in an auto-reply channel.
fn replied_to(r: &fake_discord::Recorded) -> Option<u64> {
    if r.method != "POST" || !r.path.starts_with("/channels/") || !r.path.ends_with("/messages") {
        return None;
    }
    fake_discord::parse_id(&r.body["message_reference"]["message_id"])
}

async fn main_run(events: usize, channels: u64, users: u64) {
    let texts = corpus();
    let channel_ids: Vec<u64> = (0..channels).map(|c| CHANNEL_BASE + c).collect();
    let ids = channel_ids.clone();
    let bot = TestBot::start(move |c| {
        c.discord.auto_reply_channels = ids;
        c.discord.channel_replies_per_minute = 1_000_000;
        c.discord.crisis_cooldown_minutes = 0;
    })
    .await;

    // The plan: who says what where, and what must be answered.
    let plan: Vec<Event> = (0..events)
        .map(|i| Event {
            id: MESSAGE_BASE + i as u64,
            channel: channel_ids[i % channel_ids.len()],
            user: USER_BASE + (i as u64 * 7_919) % users,
            text: (i * 31) % texts.len(),
        })
        .collect();
    let mut crisis: HashSet<u64> = HashSet::new();
    let mut groups: HashMap<(u64, &'static str), Vec<u64>> = HashMap::new();
    let mut silent: HashSet<u64> = HashSet::new();
    for e in &plan {
        match bot.engine.classify(&texts[e.text]).outcome {
            Outcome::Crisis => {
                crisis.insert(e.id);
            }
            Outcome::Topic(t) => groups.entry((e.user, t)).or_default().push(e.id),
            Outcome::Unsure | Outcome::Nothing => {
                silent.insert(e.id);
            }
        }
    }
    let expected = crisis.len() + groups.len();

    let mark = bot.fake.request_mark();
    let mut sent_at: HashMap<u64, Instant> = HashMap::with_capacity(events);
    let started = Instant::now();
    for (i, e) in plan.iter().enumerate() {
        let d = MessageSpec::guild(&texts[e.text])
            .id(e.id)
            .channel(e.channel)
            .author(payloads::user(e.user, "member", false))
            .build();
        if i < 20 {
            fake_discord::validate_dispatch("MESSAGE_CREATE", &d);
        }
        sent_at.insert(e.id, Instant::now());
        bot.fake.dispatch_unchecked("MESSAGE_CREATE", d).await;
    }
    let all_sent = started.elapsed();

    // Wait for the expected number of replies, then a quiet spell for strays.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n = bot.fake.requests()[mark..]
            .iter()
            .filter(|r| replied_to(r).is_some())
            .count();
        if n >= expected || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(QUIET * 4).await;
    let requests = bot.fake.requests();
    let replies: Vec<(u64, Instant)> = requests[mark..]
        .iter()
        .filter_map(|r| replied_to(r).map(|id| (id, r.at)))
        .collect();
    let last_reply = replies.iter().map(|r| r.1).max().unwrap_or(started);

    // Exactly once, and only what should be answered.
    let mut count: HashMap<u64, usize> = HashMap::new();
    for (id, _) in &replies {
        *count.entry(*id).or_default() += 1;
    }
    let twice: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "messages answered more than once: {}",
        twice.len()
    );
    let missed_crisis = crisis.iter().filter(|id| !count.contains_key(id)).count();
    assert_eq!(missed_crisis, 0, "crisis messages not answered");
    for ((user, topic), ids) in &groups {
        let n = ids.iter().filter(|id| count.contains_key(id)).count();
        assert_eq!(
            n, 1,
            "member {user} topic {topic}: {n} replies, expected exactly 1"
        );
    }
    let stray = silent.iter().filter(|id| count.contains_key(id)).count();
    assert_eq!(stray, 0, "unsure or chatter messages answered");
    assert_eq!(replies.len(), expected, "replies vs expected");

    let mut latency: Vec<Duration> = replies
        .iter()
        .map(|(id, at)| at.saturating_duration_since(sent_at[id]))
        .collect();
    latency.sort();
    let span = last_reply.saturating_duration_since(started);
    println!();
    println!(
        "load: {events} MESSAGE_CREATE, {channels} channels, {users} members (optimised build: {})",
        !cfg!(debug_assertions)
    );
    println!(
        "  answered {} (crisis {}, first per member+topic {}), silent {} , cooldown-suppressed {}",
        replies.len(),
        crisis.len(),
        groups.len(),
        silent.len(),
        events - crisis.len() - groups.len() - silent.len()
    );
    println!("  send {:.2} s ({:.0} events/s sent); all replies after {:.2} s ({:.0} events/s end to end)",
        all_sent.as_secs_f64(), events as f64 / all_sent.as_secs_f64(),
        span.as_secs_f64(), events as f64 / span.as_secs_f64());
    println!(
        "  event -> reply latency: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&latency, 0.5).as_secs_f64() * 1e3,
        percentile(&latency, 0.99).as_secs_f64() * 1e3,
        latency.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    bot.shutdown().await;
}

/// One member posts 500 messages in 10 s in one channel (default limits).
async fn spam_burst(messages: usize, over: Duration) {
    let texts = corpus();
    let bot = TestBot::start(|c| {
        c.discord.auto_reply_channels = vec![CHANNEL_BASE];
    })
    .await;
    let per_minute = bot.config.discord.channel_replies_per_minute as usize;
    let spammer = USER_BASE + 999_999;
    // Confident topic questions only: crisis is never rate-limited by design.
    let topical: Vec<&String> = texts
        .iter()
        .filter(|t| matches!(bot.engine.classify(t).outcome, Outcome::Topic(_)))
        .collect();
    let topics: HashSet<_> = topical
        .iter()
        .map(|t| bot.engine.classify(t).topic())
        .collect();
    let mark = bot.fake.request_mark();
    let gap = over / messages as u32;
    for i in 0..messages {
        let d = MessageSpec::guild(topical[i % topical.len()])
            .id(MESSAGE_BASE + 900_000 + i as u64)
            .channel(CHANNEL_BASE)
            .author(payloads::user(spammer, "spammer", false))
            .build();
        bot.fake.dispatch_unchecked("MESSAGE_CREATE", d).await;
        tokio::time::sleep(gap).await;
    }
    tokio::time::sleep(QUIET * 4).await;
    let replies = bot.fake.requests()[mark..]
        .iter()
        .filter(|r| replied_to(r).is_some())
        .count();
    let limit = per_minute.min(topics.len());
    assert!(
        replies <= limit,
        "{replies} replies to a spammer, limit {limit}"
    );
    println!();
    println!(
        "spam burst: {messages} messages in {:.0} s from one member, {} distinct topics",
        over.as_secs_f64(),
        topics.len()
    );
    println!("  replies: {replies} (at most one per topic cooldown, and the channel limit is {per_minute}/min)");
    bot.shutdown().await;
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let started = Instant::now();
    runtime.block_on(async {
        if benching {
            main_run(10_000, 100, 1_000).await;
            spam_burst(500, Duration::from_secs(10)).await;
        } else {
            main_run(300, 10, 50).await;
            spam_burst(50, Duration::from_millis(500)).await;
        }
    });
    println!();
    println!(
        "  peak RSS {} MiB, RSS after the run {} MiB (bot and fake Discord in one process)",
        rss_kib("VmHWM:") / 1024,
        rss_kib("VmRSS:") / 1024
    );
    println!(
        "  command: cargo bench --bench load; wall time {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
