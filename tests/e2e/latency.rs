//! Back-to-back events through the fake Discord on 127.0.0.1 are each
//! answered exactly once: MESSAGE_CREATE (a DM about a topic) → one
//! POST /channels/{c}/messages, INTERACTION_CREATE (`/ask`) → one
//! POST /interactions/{id}/{token}/callback.
//!
//! No timing is asserted here. The latency of these paths is measured by
//! the benchmark `benches/e2e_latency.rs`: `cargo bench --bench e2e_latency`.

use crate::e2e_support::*;
use crate::fake_discord::payloads::{self, InteractionSpec, MessageSpec};

const EVENTS: usize = 20;

#[tokio::test(flavor = "multi_thread")]
async fn back_to_back_events_are_each_answered_once() {
    let bot = TestBot::start(|_| {}).await;
    let text = topic_text(&bot.engine);
    let dm_path = format!("/channels/{}/messages", payloads::DM_CHANNEL_ID);
    let is_dm_reply = |r: &crate::fake_discord::Recorded| r.is("POST", &dm_path);

    // MESSAGE_CREATE → POST /channels/{c}/messages, one event at a time.
    let start = bot.fake.request_mark();
    let mut marks = Vec::with_capacity(EVENTS + 1);
    for _ in 0..EVENTS {
        let mark = bot.fake.request_mark();
        marks.push(mark);
        bot.message(MessageSpec::dm(text)).await;
        bot.fake
            .wait_for_request_after(mark, is_dm_reply, WAIT)
            .await;
    }
    // INTERACTION_CREATE (/ask) → POST /interactions/{id}/{token}/callback.
    let mut callbacks = Vec::with_capacity(EVENTS);
    for _ in 0..EVENTS {
        let spec = InteractionSpec::guild("ask").option(payloads::opt_string("question", text));
        bot.fake
            .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
            .await;
        bot.callback(spec.id, &spec.token).await;
        callbacks.push(format!("/interactions/{}/{}/callback", spec.id, spec.token));
    }

    // Let late or duplicate replies arrive, then count.
    tokio::time::sleep(QUIET).await;
    let requests = bot.fake.requests();
    // Each DM's window (up to the next DM) holds exactly one reply.
    marks.push(requests.len());
    for (i, w) in marks.windows(2).enumerate() {
        let n = requests[w[0]..w[1]]
            .iter()
            .filter(|r| is_dm_reply(r))
            .count();
        assert_eq!(n, 1, "DM #{i}: {n} replies, expected exactly 1");
    }
    let dm_replies = requests[start..].iter().filter(|r| is_dm_reply(r)).count();
    assert_eq!(dm_replies, EVENTS, "replies to {EVENTS} DMs");
    for (i, path) in callbacks.iter().enumerate() {
        let n = requests.iter().filter(|r| r.is("POST", path)).count();
        assert_eq!(n, 1, "/ask #{i}: {n} callbacks, expected exactly 1");
    }
    let all_callbacks = requests
        .iter()
        .filter(|r| r.is_under("POST", "/interactions/"))
        .count();
    assert_eq!(all_callbacks, EVENTS, "callbacks to {EVENTS} /ask commands");
    bot.shutdown().await;
}
