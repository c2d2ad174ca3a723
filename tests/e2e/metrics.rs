//! `[metrics] listen`: `/metrics` counts what the bot did (events, replies
//! by place and outcome, crisis replies, latency) and `/health` says the
//! shard is connected; neither holds any message text.

use std::net::SocketAddr;

use crate::e2e_support::*;
use crate::fake_discord::payloads::{self, MessageSpec};
use boundary_bot::metrics::Metrics;

/// A loopback address nothing listens on just now.
fn free_address() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap()
}

/// The value of the sample line starting with `series`, if any.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_and_health_are_served_and_hold_no_message_text() {
    let listen = free_address();
    let bot = TestBot::start(|c| c.metrics.listen = Some(listen)).await;
    let topic = topic_texts(&bot.engine)[0];
    let crisis = crisis_text(&bot.engine);
    for text in [topic, crisis] {
        let mark = bot.fake.request_mark();
        bot.message(MessageSpec::dm(text)).await;
        bot.post_in(mark, payloads::DM_CHANNEL_ID).await;
    }

    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("http://{listen}{path}")).send();
    // The counters move once the bot has seen Discord's answer to its
    // POST, a moment after the fake recorded it: scrape until both DM
    // replies and their latencies are counted.
    let deadline = std::time::Instant::now() + WAIT;
    let body = loop {
        let metrics = get("/metrics").await.expect("scrape");
        assert_eq!(metrics.status(), 200);
        let body = metrics.text().await.unwrap();
        let replies = sample(
            &body,
            "boundary_bot_replies_total{place=\"dm\",outcome=\"sent\"}",
        );
        let timed = sample(&body, "boundary_bot_reply_seconds_count");
        let both = replies == Some(2.0) && timed == Some(2.0);
        if both || std::time::Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let count = |series: &str| sample(&body, series).unwrap_or_else(|| panic!("{series}:\n{body}"));
    assert!(count("boundary_bot_events_total{event=\"message\"}") >= 2.0);
    assert_eq!(
        count("boundary_bot_replies_total{place=\"dm\",outcome=\"sent\"}"),
        2.0
    );
    assert_eq!(count("boundary_bot_crisis_replies_total"), 1.0);
    assert_eq!(count("boundary_bot_reply_seconds_count"), 2.0);
    assert_eq!(count("boundary_bot_shed_total"), 0.0);

    // No word of either message that the exposition's own vocabulary
    // lacks shows up in a scrape.
    let vocabulary = Metrics::new().render().to_lowercase();
    let scraped = body.to_lowercase();
    for text in [topic, crisis] {
        for word in text.to_lowercase().split(|c: char| !c.is_alphanumeric()) {
            if word.len() >= 4 && !vocabulary.contains(word) {
                assert!(
                    !scraped.contains(word),
                    "{word:?} from a message is in /metrics"
                );
            }
        }
    }

    let health = get("/health").await.expect("health");
    assert_eq!(health.status(), 200);
    let said = health.text().await.unwrap();
    assert_eq!(said, "ok: 1 of 1 shards connected\n");
    assert!(!said.contains(topic) && !said.contains(crisis));
    bot.shutdown().await;
}

/// Over `max_messages_in_flight` (0 here: every message is over it), an
/// unprompted topic reply is shed and counted, while a crisis message in
/// the same channel, a DM and a mention are still answered.
#[tokio::test(flavor = "multi_thread")]
async fn over_the_cap_only_unprompted_topic_replies_are_shed() {
    let listen = free_address();
    let bot = TestBot::start(|c| {
        c.metrics.listen = Some(listen);
        c.discord.auto_reply_channels = vec![AUTO_CHANNEL];
        c.discord.max_messages_in_flight = 0;
    })
    .await;
    let topic = topic_texts(&bot.engine)[0];
    let crisis = crisis_text(&bot.engine);
    let member = |id: u64| payloads::user(id, "member", false);

    let mark = bot.fake.request_mark();
    bot.message(
        MessageSpec::guild(topic)
            .channel(AUTO_CHANNEL)
            .author(member(11)),
    )
    .await;
    bot.no_post_in(mark, AUTO_CHANNEL).await;
    let mark = bot.fake.request_mark();
    bot.message(
        MessageSpec::guild(crisis)
            .channel(AUTO_CHANNEL)
            .author(member(12)),
    )
    .await;
    bot.post_in(mark, AUTO_CHANNEL).await;
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::dm(topic)).await;
    bot.post_in(mark, payloads::DM_CHANNEL_ID).await;
    let mark = bot.fake.request_mark();
    bot.message(
        MessageSpec::guild(topic)
            .mentioning_bot()
            .author(member(13)),
    )
    .await;
    bot.post_in(mark, payloads::CHANNEL_ID).await;

    let body = reqwest::get(format!("http://{listen}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(&body, "boundary_bot_shed_total"),
        Some(1.0),
        "{body}"
    );
    let shed = "boundary_bot_replies_total{place=\"auto-reply channel\",outcome=\"shed\"}";
    assert_eq!(sample(&body, shed), Some(1.0), "{body}");
    bot.shutdown().await;
}
