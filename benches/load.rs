//! Load through the fake Discord on 127.0.0.1 (the real bot and the fake in
//! one process). `cargo bench --bench load` runs each phase in a fresh
//! process of its own (this binary, re-run with `--phase NAME`), so that each
//! phase's peak RSS is its own:
//!
//! * `full`: 10,000 MESSAGE_CREATE events across 100 auto-reply channels
//!   from 1,000 members, sent as fast as the harness can; the fake keeps
//!   every request, response and message, as in the end-to-end tests.
//! * `lean`: the same run with the fake keeping counters only
//!   ([`FakeDiscord::tap_requests`]), so RSS is the bot's (plus a harness
//!   of fixed size); the difference from `full` is the fake's request log.
//! * `flood`: the `lean` traffic with the bot's default cap on messages in
//!   flight (`[discord] max_messages_in_flight`; the other phases run
//!   uncapped): over it the bot sheds unprompted topic replies, never a
//!   crisis reply. Every crisis message is still answered exactly once; the
//!   topic groups left unanswered are no more than the bot's shed counter
//!   (read from its `/metrics`).
//! * `paced`: the same traffic at a fixed 1,000 events/s, below saturation,
//!   so event -> reply latency is service time rather than queueing.
//! * `users`: 100,000 events from 100,000 distinct members at 1,000
//!   events/s (below saturation, so no queue confounds RSS), with RSS read
//!   at 10k, 25k, 50k and 100k members once the replies so far have all
//!   arrived, to show whether the bot's memory grows with the number of
//!   members. Default cooldowns.
//! * `tables-flood`, `tables-expiry`: the per-member state alone (the
//!   cooldown and rate-limit tables), fed 1,000,000 distinct members all at
//!   once (only the cap of `MAX_ENTRIES` per table bounds them), and
//!   5,000,000 arriving at 20/s in simulated time (entries expire).
//! * `spam`: a 500-message burst in 10 s from one member (default limits).
//!
//! The messages are the project's labelled sets (topic questions, chatter
//! and crisis). What must be answered is worked out from the engine and the
//! cooldown rules, then checked by counting the recorded REST calls (in the
//! lean phases, counted by the tap as they arrive):
//!
//! * every group of messages that may get one reply gets exactly one: a
//!   (member, topic) pair (the topic cooldown covers the run), and each
//!   crisis message, or with a crisis cooldown each member's crisis messages;
//! * nothing else is answered (unsure and chatter), and no message gets two
//!   replies;
//! * every message the bot sends carries the referral notice and pings
//!   nobody unexpected (the same checks as `TestBot::shutdown`).
//!
//! Run: `cargo bench --bench load` (without `--bench`, a small smoke run of
//! every phase in one process).

// The end-to-end helpers (modules of tests/e2e/main.rs), of which this
// binary uses a part.
#[allow(dead_code, unused_imports)]
#[path = "../tests/e2e/e2e_support/mod.rs"]
mod e2e_support;
#[allow(dead_code)]
#[path = "../tests/e2e/fake_discord/mod.rs"]
mod fake_discord;

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use boundary_bot::classify::Outcome;
use boundary_bot::policy::limiter::Gate;
use boundary_bot::policy::{self, CrisisFacts, Decision, Limit, MessageFacts, Place, ServerPolicy};
use e2e_support::{TestBot, QUIET};
use fake_discord::payloads::{self, MessageSpec};
use fake_discord::{FakeDiscord, Recorded};

const CHANNEL_BASE: u64 = 1_300_000_000_000_000_000;
const USER_BASE: u64 = 1_400_000_000_000_000_000;
const MESSAGE_BASE: u64 = 1_500_000_000_000_000_000;
const MIB: f64 = 1024.0 * 1024.0;

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

/// A `/proc/self/status` figure in MiB (VmRSS: now, VmHWM: peak).
fn status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
}

/// A whole-number `/proc/self/status` field, such as `Threads:`.
fn status_field(field: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// RSS now, and RSS after glibc returned its free pages to the system
/// (`malloc_trim`), which is closer to the memory actually in use.
fn rss_pair() -> (f64, f64) {
    let raw = status_mib("VmRSS:");
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim has no preconditions.
        unsafe {
            malloc_trim(0);
        }
    }
    (raw, status_mib("VmRSS:"))
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = (sorted.len() as f64 * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// CPU seconds used so far: by this process, and by the whole machine
/// (busy time of all cores, from /proc/stat), to see whether anything else
/// was running during a phase.
fn cpu_seconds() -> (f64, f64) {
    let tick = 100.0; // USER_HZ on Linux
    let own = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the ")" of the command name: utime is the 12th, stime the 13th.
            let rest = s.rsplit_once(')')?.1.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?)
        })
        .unwrap_or(0.0);
    let machine = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let f: Vec<f64> = s
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|n| n.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
            Some(f.iter().take(8).sum::<f64>() - f.get(3)? - f.get(4)?)
        })
        .unwrap_or(0.0);
    (own / tick, machine / tick)
}

/// Prints the CPU used since `from` (a [`cpu_seconds`] reading, with its time).
fn print_cpu(from: ((f64, f64), Instant)) {
    let ((own0, all0), t0) = from;
    let (own, all) = cpu_seconds();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "  CPU: this process {:.1} s, the whole machine {:.1} s, of {:.1} s available ({cores} cores; \
         much more for the machine than for this process means other work ran at the same time)",
        own - own0,
        all - all0,
        t0.elapsed().as_secs_f64() * cores as f64
    );
}

/// Who sends event `i`.
#[derive(Clone, Copy)]
enum Members {
    /// `(i * 7919) % n`: n members, interleaved.
    Spread(u64),
    /// `i / k`: each member sends k messages in a row, then never again.
    Fresh(u64),
}

impl Members {
    fn of(self, i: usize) -> u64 {
        USER_BASE
            + match self {
                Members::Spread(n) => (i as u64 * 7_919) % n,
                Members::Fresh(k) => i as u64 / k,
            }
    }
}

struct Spec {
    name: &'static str,
    events: usize,
    channels: u64,
    members: Members,
    /// Send at this many events/s; `None`: as fast as the harness can.
    pace: Option<f64>,
    /// The fake keeps counters only (see [`FakeDiscord::tap_requests`]).
    lean: bool,
    /// `Some(0)`: every crisis message is answered; `None`: the default.
    crisis_cooldown_minutes: Option<u64>,
    /// After this many events, wait for the replies so far and read RSS.
    checkpoints: Vec<usize>,
    /// `[discord] max_messages_in_flight`; `None`: no cap (nothing shed),
    /// so every expected reply must arrive.
    shed_cap: Option<usize>,
}

/// The replies seen, by event index (message id - MESSAGE_BASE).
struct Tally {
    reply_at: Vec<Option<Instant>>,
    answered: usize,
    /// Replies to a message already answered.
    twice: usize,
    /// Replies to a message the plan does not know.
    unknown: usize,
    alerts: usize,
    /// Bot messages that failed the notice or mention checks (kept in the
    /// fake's log, so `TestBot::shutdown` reports them in full too).
    bad: usize,
}

impl Tally {
    fn new(events: usize) -> Self {
        Tally {
            reply_at: vec![None; events],
            answered: 0,
            twice: 0,
            unknown: 0,
            alerts: 0,
            bad: 0,
        }
    }

    fn observe(&mut self, r: &Recorded) {
        if let Some(id) = replied_to(r) {
            match self
                .reply_at
                .get_mut(id.wrapping_sub(MESSAGE_BASE) as usize)
            {
                Some(slot @ None) => {
                    *slot = Some(r.at);
                    self.answered += 1;
                }
                Some(Some(_)) => self.twice += 1,
                None => self.unknown += 1,
            }
        } else if e2e_support::is_bot_message(r) {
            self.alerts += 1;
        }
    }
}

/// The reply's referenced message id, if it is a reply in an auto-reply channel.
fn replied_to(r: &Recorded) -> Option<u64> {
    if r.method != "POST" || !r.path.starts_with("/channels/") || !r.path.ends_with("/messages") {
        return None;
    }
    fake_discord::parse_id(&r.body["message_reference"]["message_id"])
}

/// Counts the replies in `tally` as they arrive; the fake keeps only the
/// requests that are not bot messages, and bot messages that fail the
/// checks `TestBot::shutdown` makes.
fn tap(bot: &TestBot, tally: Arc<Mutex<Tally>>) {
    let notice = bot.notice();
    let config = bot.config.clone();
    bot.fake.tap_requests(move |r| {
        if !e2e_support::is_bot_message(r) {
            return true;
        }
        let ok = std::panic::catch_unwind(AssertUnwindSafe(|| {
            e2e_support::assert_carries_notice(r, &notice);
            e2e_support::assert_pings_nobody_unexpected(r, &config);
        }))
        .is_ok();
        let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
        t.observe(r);
        if !ok {
            t.bad += 1;
        }
        !ok
    });
}

/// Replies counted so far (from the tap, or from the fake's full log).
fn answered(fake: &FakeDiscord, lean: bool, tally: &Mutex<Tally>, mark: usize) -> usize {
    if lean {
        tally.lock().unwrap_or_else(|e| e.into_inner()).answered
    } else {
        fake.count_requests_after(mark, |r| replied_to(r).is_some())
    }
}

/// Waits until no reply has arrived for 2 s (at most 120 s).
async fn wait_settled(fake: &FakeDiscord, lean: bool, tally: &Mutex<Tally>, mark: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut seen, mut since) = (usize::MAX, Instant::now());
    while Instant::now() < deadline && since.elapsed() < Duration::from_secs(2) {
        let now = answered(fake, lean, tally, mark);
        if now != seen {
            (seen, since) = (now, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `boundary_bot_shed_total` from the bot's `/metrics`.
async fn scrape_shed(addr: std::net::SocketAddr) -> usize {
    let body = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("scrape")
        .text()
        .await
        .unwrap();
    body.lines()
        .find_map(|l| {
            l.strip_prefix("boundary_bot_shed_total ")?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .expect("the shed counter") as usize
}

/// Every crisis group answered exactly once; every other group at most
/// once, and exactly once unless shed (the groups left unanswered are no
/// more than the replies the bot says it shed).
fn check_groups(per_group: &[u32], crisis_group: &HashSet<u32>, shed: usize) {
    let mut unanswered = 0;
    for (g, n) in per_group.iter().enumerate() {
        if crisis_group.contains(&(g as u32)) {
            assert_eq!(*n, 1, "crisis group {g}: {n} replies");
        } else {
            assert!(*n <= 1, "group {g}: {n} replies");
            unanswered += usize::from(*n == 0);
        }
    }
    assert!(
        unanswered <= shed,
        "{unanswered} groups unanswered, {shed} shed"
    );
}

async fn wait_answered(
    fake: &FakeDiscord,
    lean: bool,
    tally: &Mutex<Tally>,
    mark: usize,
    n: usize,
) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while answered(fake, lean, tally, mark) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[allow(clippy::too_many_lines)] // one scenario: plan, send, wait, check, report
async fn run(spec: Spec) {
    let cpu_start = (cpu_seconds(), Instant::now());
    let (rss_start, _) = rss_pair();
    let texts = corpus();
    let channel_ids: Vec<u64> = (0..spec.channels).map(|c| CHANNEL_BASE + c).collect();
    let ids = channel_ids.clone();
    let crisis_cooldown = spec.crisis_cooldown_minutes;
    let shed_cap = spec.shed_cap;
    let metrics = shed_cap.map(|_| {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    });
    let bot = TestBot::start(move |c| {
        c.discord.auto_reply_channels = ids;
        c.discord.channel_replies_per_minute = 1_000_000;
        c.discord.max_messages_in_flight = shed_cap.unwrap_or(usize::MAX);
        c.metrics.listen = metrics;
        if let Some(m) = crisis_cooldown {
            c.discord.crisis_cooldown_minutes = m;
        }
    })
    .await;
    let crisis_per_member = bot.config.discord.crisis_cooldown_minutes > 0;
    let events = spec.events;

    // The plan: who says what where, and which group of messages may get
    // exactly one reply (u32::MAX: none may).
    // The reply policy itself decides what is answered: every message here
    // is unprompted, in an auto-reply channel, from a member who did not
    // opt out, in a server with the default settings.
    let decisions: Vec<Decision> = texts
        .iter()
        .map(|t| {
            let c = bot.engine.classify(t);
            policy::decide(MessageFacts {
                place: Place::AutoReplyChannel,
                tier: CrisisFacts::tier_of(&c),
                outcome: c.outcome,
                pinned_candidate: None,
                in_server: true,
                server: ServerPolicy::default(),
                opted_out: false,
            })
        })
        .collect();
    let text_of = |i: usize| (i * 31) % texts.len();
    let mut group_of: Vec<u32> = vec![u32::MAX; events];
    // Groups with an event among the first k events, and distinct members,
    // at each checkpoint k.
    let mut at_checkpoint: Vec<(usize, usize, usize)> = Vec::new();
    let (mut crisis, mut topical, mut silent) = (0usize, 0usize, 0usize);
    let mut crisis_group: HashSet<u32> = HashSet::new();
    let groups = {
        let mut keys: HashMap<(u64, &'static str, usize), u32> = HashMap::new();
        let mut members: HashSet<u64> = HashSet::new();
        for (i, group) in group_of.iter_mut().enumerate() {
            let user = spec.members.of(i);
            members.insert(user);
            // One reply per (member, topic), per crisis message or with a
            // crisis cooldown per member; nothing for the rest.
            let key = match decisions[text_of(i)] {
                Decision::Reply {
                    limit: Limit::Crisis,
                    ..
                } if crisis_per_member => Some((user, "crisis", 0)),
                Decision::Reply {
                    limit: Limit::Crisis,
                    ..
                } => Some((user, "crisis", i)),
                Decision::Reply {
                    limit:
                        Limit::Channel {
                            gate: Gate::Topic(t),
                            ..
                        },
                    ..
                } => Some((user, t, 0)),
                Decision::Reply { .. } | Decision::Quiet(_) | Decision::AlertOnly(_) => None,
            };
            match key {
                Some(k) => {
                    if k.1 == "crisis" {
                        crisis += 1;
                    } else {
                        topical += 1;
                    }
                    let next = keys.len() as u32;
                    *group = *keys.entry(k).or_insert(next);
                    if k.1 == "crisis" {
                        crisis_group.insert(*group);
                    }
                }
                None => silent += 1,
            }
            if spec.checkpoints.contains(&(i + 1)) {
                at_checkpoint.push((i + 1, keys.len(), members.len()));
            }
        }
        keys.len()
    };

    let tally = Arc::new(Mutex::new(Tally::new(events)));
    if spec.lean {
        tap(&bot, tally.clone());
    }
    let mark = bot.fake.request_mark();
    let mut sent_at: Vec<Instant> = vec![Instant::now(); events];
    let (rss_idle, _) = rss_pair();
    let mut checkpoints = at_checkpoint.iter().peekable();
    let mut readings = Vec::new();
    let started = Instant::now();
    let tick = spec.pace.map(|rate| Duration::from_secs_f64(1.0 / rate));
    for i in 0..events {
        if let Some(tick) = tick {
            tokio::time::sleep_until((started + tick * i as u32).into()).await;
        }
        let d = MessageSpec::guild(&texts[text_of(i)])
            .id(MESSAGE_BASE + i as u64)
            .channel(channel_ids[i % channel_ids.len()])
            .author(payloads::user(spec.members.of(i), "member", false))
            .build();
        if i < 20 {
            fake_discord::validate_dispatch("MESSAGE_CREATE", &d);
        }
        sent_at[i] = Instant::now();
        bot.fake.dispatch_unchecked("MESSAGE_CREATE", d).await;
        if let Some(&&(k, expected, members)) = checkpoints.peek() {
            if k == i + 1 {
                checkpoints.next();
                wait_answered(&bot.fake, spec.lean, &tally, mark, expected).await;
                let (raw, trimmed) = rss_pair();
                readings.push((k, members, raw, trimmed, started.elapsed()));
            }
        }
    }
    let all_sent = started.elapsed();

    // Wait for the expected number of replies, then a quiet spell for strays.
    match shed_cap {
        None => wait_answered(&bot.fake, spec.lean, &tally, mark, groups).await,
        // Some topic replies are shed: wait until the replies stop coming.
        Some(_) => wait_settled(&bot.fake, spec.lean, &tally, mark).await,
    }
    tokio::time::sleep(QUIET * 4).await;
    let (rss_end, rss_end_trimmed) = rss_pair();
    if !spec.lean {
        let mut t = tally.lock().unwrap();
        for r in &bot.fake.requests()[mark..] {
            t.observe(r);
        }
    }
    // Taken out of the mutex: the tap keeps counting into an empty one.
    let t = std::mem::replace(
        &mut *tally.lock().unwrap_or_else(|e| e.into_inner()),
        Tally::new(0),
    );

    // Exactly once, and only what should be answered.
    assert_eq!(t.twice, 0, "replies to messages already answered");
    assert_eq!(t.unknown, 0, "replies to messages never sent");
    assert_eq!(t.bad, 0, "bot messages without the notice or with pings");
    let mut per_group = vec![0u32; groups];
    let mut stray = 0;
    for (i, at) in t.reply_at.iter().enumerate() {
        if at.is_some() {
            match group_of[i] {
                u32::MAX => stray += 1,
                g => per_group[g as usize] += 1,
            }
        }
    }
    assert_eq!(stray, 0, "unsure or chatter messages answered");
    let shed = match metrics {
        Some(addr) => scrape_shed(addr).await,
        None => 0,
    };
    check_groups(&per_group, &crisis_group, shed);
    if shed_cap.is_none() {
        assert_eq!(t.answered, groups, "replies vs expected");
    }

    let mut latency: Vec<Duration> = t
        .reply_at
        .iter()
        .zip(&sent_at)
        .filter_map(|(at, sent)| at.map(|at| at.saturating_duration_since(*sent)))
        .collect();
    latency.sort();
    let last_reply = t
        .reply_at
        .iter()
        .flatten()
        .max()
        .copied()
        .unwrap_or(started);
    let span = last_reply.saturating_duration_since(started);
    let pace = match spec.pace {
        Some(rate) => format!("paced at {rate:.0} events/s"),
        None => "as fast as the harness can".to_string(),
    };
    let members = at_checkpoint
        .last()
        .map(|c| c.2)
        .unwrap_or(match spec.members {
            Members::Spread(n) => n.min(events as u64) as usize,
            Members::Fresh(k) => events.div_ceil(k as usize),
        });
    println!();
    println!(
        "load/{}: {events} MESSAGE_CREATE, {} channels, {members} members, {pace}; fake keeps {} (optimised build: {})",
        spec.name,
        spec.channels,
        if spec.lean { "counters only" } else { "every request" },
        !cfg!(debug_assertions)
    );
    println!(
        "  answered {} of {groups} groups (shed: {shed} unprompted topic replies), each at most once and every crisis group exactly once (crisis messages {crisis}{}, topic messages {topical}, \
         unsure or chatter {silent}, none answered); crisis alerts {}",
        t.answered,
        if crisis_per_member { ", one reply per member" } else { ", every one" },
        t.alerts
    );
    println!(
        "  send {:.2} s ({:.0} events/s sent); all replies after {:.2} s ({:.0} events/s end to end)",
        all_sent.as_secs_f64(),
        events as f64 / all_sent.as_secs_f64(),
        span.as_secs_f64(),
        events as f64 / span.as_secs_f64()
    );
    println!(
        "  event -> reply latency: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(&latency, 0.5)),
        ms(percentile(&latency, 0.9)),
        ms(percentile(&latency, 0.99)),
        ms(latency.last().copied().unwrap_or_default())
    );
    for (k, members, raw, trimmed, at) in &readings {
        println!(
            "  after {k} events ({members} distinct members, {:.1} s, queue drained): RSS {raw:.1} MiB \
             ({trimmed:.1} MiB after malloc_trim)",
            at.as_secs_f64()
        );
    }
    println!(
        "  RSS: {rss_start:.1} MiB at start, {rss_idle:.1} MiB with the bot idle and the plan built, \
         {rss_end:.1} MiB at the end ({rss_end_trimmed:.1} MiB after malloc_trim), peak {:.1} MiB; \
         {} threads at the end (tokio keeps idle blocking threads for 10 s)",
        status_mib("VmHWM:"),
        status_field("Threads:").unwrap_or(0)
    );
    if !spec.lean {
        // The size of one copy of the log (what `requests()` returns; the
        // fake holds one, and the harness makes more while it waits and
        // checks): RSS with a copy held, minus RSS without, both trimmed.
        let (_, without) = rss_pair();
        let log = bot.fake.requests();
        let (_, with) = rss_pair();
        let json: usize = log
            .iter()
            .map(|r| r.body.to_string().len() + r.response.to_string().len())
            .sum();
        println!(
            "  the fake's log: {} requests, {:.1} MiB of JSON (bodies and responses) as text; \
             one copy of it takes {:.1} MiB of RSS",
            log.len(),
            json as f64 / MIB,
            with - without
        );
    }
    print_cpu(cpu_start);
    bot.shutdown().await;
}

/// The bot's per-member state on its own: the cooldown and rate-limit
/// tables, fed `members` distinct members (each asks about a topic in a
/// channel of its own, gets crisis resources and an alert, and the help
/// text in a DM), with RSS read at checkpoints. `per_second`: the members'
/// arrival rate in simulated time (the tables take `now`), so entries expire
/// as they would; `None`: all at once, so only the cap bounds them.
fn tables(members: u64, per_second: Option<u64>, checkpoints: &[u64]) {
    use boundary_bot::config::DiscordConfig;
    use boundary_bot::policy::limiter::{Cooldowns, Gate, MAX_ENTRIES};
    let (rss_start, _) = rss_pair();
    let config = DiscordConfig::default();
    let cooldowns = Cooldowns::new(&config);
    let t0 = Instant::now();
    let topics = ["gifts", "letters", "referral", "friendship"];
    let arrival = match per_second {
        Some(n) => format!("{n} new members per second of simulated time"),
        None => "all at once".to_string(),
    };
    println!();
    println!(
        "load/tables: the cooldown and rate-limit tables alone, {members} distinct members {arrival} \
         (default cooldowns: topic {} min, crisis {} min, help {} min; message memory 15 min; cap {MAX_ENTRIES} per table)",
        config.topic_cooldown_minutes, config.crisis_cooldown_minutes, config.help_cooldown_minutes
    );
    println!("  RSS {rss_start:.1} MiB before");
    for m in 0..members {
        let now = match per_second {
            Some(n) => t0 + Duration::from_secs_f64(m as f64 / n as f64),
            None => Instant::now(),
        };
        let user = USER_BASE + m;
        let topic = topics[(m % 4) as usize];
        let _ = cooldowns.try_channel_reply(4 * m, user, CHANNEL_BASE + m, Gate::Topic(topic), now);
        let _ = cooldowns.try_crisis(4 * m + 1, user, now);
        let _ = cooldowns.try_alert(user, now);
        let _ = cooldowns.try_direct_reply(4 * m + 2, user, Gate::Help, now);
        if checkpoints.contains(&(m + 1)) {
            let s = cooldowns.sizes();
            let (raw, trimmed) = rss_pair();
            println!(
                "  after {:>7} members: RSS {raw:.1} MiB ({trimmed:.1} MiB after malloc_trim); entries: \
                 topic {}, crisis {}, alert {}, help {}, messages {}, channels {}",
                m + 1,
                s.topic,
                s.crisis,
                s.alert,
                s.help,
                s.messages,
                s.channels
            );
        }
    }
}

/// One member posts `messages` messages in `over` in one channel (default limits).
async fn spam_burst(messages: usize, over: Duration) {
    let cpu_start = (cpu_seconds(), Instant::now());
    let texts = corpus();
    let bot = TestBot::start(|c| {
        c.discord.auto_reply_channels = vec![CHANNEL_BASE];
    })
    .await;
    let per_minute = bot.config.discord.channel_replies_per_minute as usize;
    let spammer = USER_BASE + 999_999_999;
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
            .id(MESSAGE_BASE + 900_000_000 + i as u64)
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
        "load/spam: {messages} messages in {:.1} s from one member, {} distinct topics",
        over.as_secs_f64(),
        topics.len()
    );
    println!("  replies: {replies} (at most one per topic cooldown, and the channel limit is {per_minute}/min)");
    print_cpu(cpu_start);
    bot.shutdown().await;
}

/// The traffic of the `full`, `lean` and `paced` phases.
fn ten_thousand(name: &'static str, lean: bool, pace: Option<f64>) -> Spec {
    Spec {
        name,
        events: 10_000,
        channels: 100,
        members: Members::Spread(1_000),
        pace,
        lean,
        crisis_cooldown_minutes: Some(0),
        checkpoints: Vec::new(),
        shed_cap: None,
    }
}

/// The `lean` traffic with the bot's default cap on messages in flight:
/// over it, unprompted topic replies are shed, crisis replies never.
fn flood(events: usize) -> Spec {
    Spec {
        events,
        channels: if events < 1_000 { 10 } else { 100 },
        members: Members::Spread(if events < 1_000 { 50 } else { 1_000 }),
        shed_cap: Some(boundary_bot::config::DiscordConfig::default().max_messages_in_flight),
        ..ten_thousand("flood", true, None)
    }
}

async fn phase(name: &str, benching: bool) {
    match (name, benching) {
        ("flood", _) => run(flood(if benching { 10_000 } else { 300 })).await,
        ("full", true) => run(ten_thousand("full", false, None)).await,
        ("lean", true) => run(ten_thousand("lean", true, None)).await,
        ("paced", true) => run(ten_thousand("paced", true, Some(1_000.0))).await,
        ("users", true) => {
            run(Spec {
                name: "users",
                events: 100_000,
                channels: 100,
                members: Members::Fresh(1),
                pace: Some(1_000.0),
                lean: true,
                crisis_cooldown_minutes: None,
                checkpoints: vec![10_000, 25_000, 50_000, 100_000],
                shed_cap: None,
            })
            .await
        }
        ("tables-flood", true) => tables(
            1_000_000,
            None,
            &[10_000, 25_000, 50_000, 100_000, 200_000, 500_000, 1_000_000],
        ),
        ("tables-expiry", true) => tables(
            5_000_000,
            Some(20),
            &[
                10_000, 50_000, 100_000, 500_000, 1_000_000, 2_000_000, 5_000_000,
            ],
        ),
        ("spam", true) => spam_burst(500, Duration::from_secs(10)).await,

        // The smoke run: the same code paths, small.
        ("full", false) => {
            run(Spec {
                events: 300,
                channels: 10,
                members: Members::Spread(50),
                ..ten_thousand("full", false, None)
            })
            .await
        }
        ("lean", false) => {
            run(Spec {
                events: 300,
                channels: 10,
                members: Members::Spread(50),
                ..ten_thousand("lean", true, None)
            })
            .await
        }
        ("paced", false) => {
            run(Spec {
                events: 200,
                channels: 10,
                members: Members::Spread(50),
                ..ten_thousand("paced", true, Some(1_000.0))
            })
            .await
        }
        ("users", false) => {
            run(Spec {
                name: "users",
                events: 1_000,
                channels: 10,
                members: Members::Fresh(1),
                pace: None,
                lean: true,
                crisis_cooldown_minutes: None,
                checkpoints: vec![100, 250, 500, 1_000],
                shed_cap: None,
            })
            .await
        }
        ("tables-flood", false) => tables(2_000, None, &[1_000, 2_000]),
        ("tables-expiry", false) => tables(2_000, Some(20), &[1_000, 2_000]),
        ("spam", false) => spam_burst(50, Duration::from_millis(500)).await,
        (other, _) => panic!("unknown phase {other}"),
    }
}

const PHASES: [&str; 8] = [
    "full",
    "lean",
    "flood",
    "paced",
    "users",
    "tables-flood",
    "tables-expiry",
    "spam",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|a| a == "--bench");
    let only = args
        .iter()
        .position(|a| a == "--phase")
        .and_then(|i| args.get(i + 1).cloned());
    let started = Instant::now();
    match only {
        // One phase, in this process.
        Some(name) => {
            let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
            runtime.block_on(phase(&name, benching));
        }
        // The benchmark: every phase in a fresh process of its own.
        None if benching => {
            let exe = std::env::current_exe().expect("own path");
            for name in PHASES {
                let status = std::process::Command::new(&exe)
                    .args(["--bench", "--phase", name])
                    .status()
                    .expect("run a phase");
                assert!(status.success(), "phase {name} failed: {status}");
            }
            println!();
            println!(
                "command: cargo bench --bench load; wall time {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        // The smoke run: every phase, small, in this process.
        None => {
            let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
            runtime.block_on(async {
                for name in PHASES {
                    phase(name, false).await;
                }
            });
            println!();
            println!(
                "smoke run: wall time {:.1} s, peak RSS {:.1} MiB",
                started.elapsed().as_secs_f64(),
                status_mib("VmHWM:")
            );
        }
    }
}
