//! Two bots (each with its own fake Discord, as two processes would be)
//! on one PostgreSQL database: a pin made through one is honoured by the
//! other, an opt-out through one is respected by the other, and feedback
//! counts from both add up in `/stats`. Needs `BOUNDARY_BOT_POSTGRES_URL`
//! (see `scripts/test-postgres.sh`); without it the test says it skipped,
//! and with `BOUNDARY_BOT_REQUIRE_POSTGRES=1` a skip fails.
//!
//! Both bots run shard 0 of 1 against their own fake: the fake serves one
//! gateway session at a time, so shard routing is not part of this test.

use std::time::Duration;

use crate::e2e_support::*;
use crate::fake_discord::payloads::{self, perms, InteractionSpec, MessageSpec};

const PINNED_CHANNEL: u64 = 1_200_000_000_000_000_061;
const OPTED_OUT_MEMBER: u64 = 1_200_000_000_000_000_071;
const OTHER_MEMBER: u64 = 1_200_000_000_000_000_072;

/// Both bots watch `AUTO_CHANNEL`; `/pin` goes to `PINNED_CHANNEL`.
async fn bot_on(url: &str) -> TestBot {
    let url = url.to_string();
    TestBot::start(move |c| {
        c.storage.url = Some(url);
        c.discord.auto_reply_channels = vec![AUTO_CHANNEL];
    })
    .await
}

/// Lets a change made through one bot reach the other's memory (a
/// PostgreSQL notification: milliseconds).
async fn settle_feed() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_bots_share_pins_opt_outs_and_counts_through_postgres() {
    let Some((url, _database)) = test_database("the two-bots-on-PostgreSQL test") else {
        return;
    };
    let (one, other) = (bot_on(&url).await, bot_on(&url).await);
    let topic = topic_text(&one.engine);
    let member = |id: u64| payloads::user(id, "member", false);

    // An opt-out through one bot: the other does not auto-reply to them,
    // and still replies to someone else.
    let optout = InteractionSpec::guild("optout").user(OPTED_OUT_MEMBER, "cal");
    assert!(one.command(&optout).await.visible_text().contains("Done"));
    settle_feed().await;
    let mark = other.fake.request_mark();
    let quiet = MessageSpec::guild(topic)
        .channel(AUTO_CHANNEL)
        .author(member(OPTED_OUT_MEMBER));
    other.message(quiet).await;
    other.no_post_in(mark, AUTO_CHANNEL).await;
    let mark = other.fake.request_mark();
    let asked = MessageSpec::guild(topic)
        .channel(AUTO_CHANNEL)
        .author(member(OTHER_MEMBER));
    other.message(asked).await;
    other.post_in(mark, AUTO_CHANNEL).await;

    // A pin through one bot: the other answers in that channel, which is
    // neither an auto-reply channel nor a mention.
    let pin = InteractionSpec::guild("pin")
        .permissions(perms::MODERATOR)
        .channel(PINNED_CHANNEL)
        .option(payloads::opt_string("topic", "gifts"));
    assert!(one.command(&pin).await.visible_text().contains("Pinned"));
    settle_feed().await;
    let mark = other.fake.request_mark();
    let gifts = MessageSpec::guild(topic)
        .channel(PINNED_CHANNEL)
        .author(member(OTHER_MEMBER + 1));
    other.message(gifts).await;
    other.post_in(mark, PINNED_CHANNEL).await;

    // One reply through the first bot as well: /stats on either counts both.
    let mark = one.fake.request_mark();
    let asked = MessageSpec::guild(topic)
        .channel(AUTO_CHANNEL)
        .author(member(OTHER_MEMBER + 2));
    one.message(asked).await;
    one.post_in(mark, AUTO_CHANNEL).await;
    tokio::time::sleep(QUIET).await;
    let answered = one
        .engine
        .classify(topic)
        .topic()
        .expect("a topic question");
    let title = &one.engine.library().topic(answered).unwrap().title;
    let stats = InteractionSpec::guild("stats").permissions(perms::MODERATOR);
    let replies = |text: String| {
        text.lines()
            .find(|l| l.contains(title.as_str()))
            .and_then(|l| l.split("**: ").nth(1))
            .and_then(|l| l.split(' ').next())
            .and_then(|n| n.parse::<u32>().ok())
    };
    // Three replies on that topic: two through `other`, one through `one`.
    for bot in [&one, &other] {
        let shown = bot.command(&stats).await.visible_text();
        assert_eq!(replies(shown.clone()), Some(3), "{shown}");
    }
    one.shutdown().await;
    other.shutdown().await;
}
