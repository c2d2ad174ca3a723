//! End to end, faults and hostile input (issue 5): the real bot against the
//! fake Discord on 127.0.0.1 while REST answers 429/500/502 or hangs, while
//! the gateway closes, drops, invalidates the session or refuses the
//! intents, and while forged interactions arrive. Every assertion counts
//! recorded requests or reads the database; nothing measures elapsed time.

use std::sync::Arc;
use std::time::Duration;

use crate::e2e_support::*;
use crate::fake_discord::payloads::{self, perms, ComponentSpec, InteractionSpec, MessageSpec};
use crate::fake_discord::{FakeDiscord, Fault, Recorded};
use boundary_bot::discord::{self, Token};
use boundary_bot::reply;
use boundary_bot::store::{GuildSettings, SqliteStore, Store};
use serde_json::json;

/// DM channels of members created per check, so that no cooldown applies.
const DM_BASE: u64 = 1_200_000_000_000_000_100;
const USER_BASE: u64 = 1_200_000_000_000_000_200;
/// A guild the bot has never seen (no GUILD_CREATE, not the dev guild).
const STRANGE_GUILD: u64 = 1_200_000_000_000_000_300;
const STRANGE_CHANNEL: u64 = 1_200_000_000_000_000_301;
/// Re-IDENTIFY after op 9 takes serenity about 5 s.
const REIDENTIFY_WAIT: Duration = Duration::from_secs(15);

fn messages_path(channel: u64) -> String {
    format!("/channels/{channel}/messages")
}

/// A DM from member `n` in their own DM channel.
fn dm_from(n: u64, text: &str) -> MessageSpec {
    MessageSpec::dm(text)
        .channel(DM_BASE + n)
        .author(payloads::user(USER_BASE + n, &format!("member{n}"), false))
}

/// Member `n` DMs a topic question and gets a successful answer.
async fn dm_is_answered(bot: &TestBot, n: u64) -> Recorded {
    let text = topic_text(&bot.engine);
    let mark = bot.fake.request_mark();
    bot.message(dm_from(n, text)).await;
    let path = messages_path(DM_BASE + n);
    let r = bot
        .fake
        .wait_for_request_after(mark, |r| r.is("POST", &path) && r.status == 200, WAIT)
        .await;
    assert_renders(&r, &bot.expected(text));
    r
}

/// `/topic gifts` is answered with a successful callback.
async fn topic_command_is_answered(bot: &TestBot) {
    let spec = InteractionSpec::guild("topic").option(payloads::opt_string("name", "gifts"));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    let path = format!("/interactions/{}/{}/callback", spec.id, spec.token);
    bot.fake
        .wait_for_request(|r| r.is("POST", &path) && r.status < 300, WAIT)
        .await;
}

fn faults() -> Vec<(u16, Fault)> {
    let status = |code: u16, message: &str| Fault::Status {
        code,
        body: json!({"code": 0, "message": message}),
        times: 1,
    };
    vec![
        (
            429,
            Fault::RateLimited {
                retry_after_secs: 0.3,
                times: 1,
            },
        ),
        (500, status(500, "Internal Server Error")),
        (502, status(502, "Bad Gateway")),
    ]
}

// ----- REST faults -------------------------------------------------------------------------

/// A message send answered 429 (with retry_after), 500 or 502: the bot
/// stays up, answers the next events, and makes at most two attempts at the
/// failed send (no retry storm).
#[tokio::test(flavor = "multi_thread")]
async fn failed_message_sends_are_bounded_and_the_bot_keeps_answering() {
    let bot = TestBot::start(|_| {}).await;
    let text = topic_text(&bot.engine);
    for (n, (code, fault)) in faults().into_iter().enumerate() {
        let n = n as u64 * 2;
        let path = messages_path(DM_BASE + n);
        bot.fake.set_rest_fault("POST", &path, fault);
        let mark = bot.fake.request_mark();
        bot.message(dm_from(n, text)).await;
        bot.fake
            .wait_for_request_after(mark, |r| r.is("POST", &path) && r.status == code, WAIT)
            .await;
        // A later event elsewhere is answered.
        dm_is_answered(&bot, n + 1).await;
        let attempts = bot.count_after(mark, |r| r.is("POST", &path)).await;
        assert!(
            (1..=2).contains(&attempts),
            "{code}: {attempts} attempts at one reply"
        );
    }
    bot.fake.clear_rest_faults();
    // And the members whose replies failed are answered next time.
    dm_is_answered(&bot, 10).await;
    bot.shutdown().await;
}

/// An interaction's first response answered 429, 500 or 502: the bot
/// tries exactly once more, inside Discord's 3-second window, so the member
/// still gets the real answer; the next command is answered too.
#[tokio::test(flavor = "multi_thread")]
async fn refused_interaction_callbacks_are_retried_once_within_the_window() {
    let bot = TestBot::start(|_| {}).await;
    let library = bot.engine.library();
    let expected = reply::guidance(library, library.topic("gifts").unwrap());
    for (code, fault) in faults() {
        let spec = InteractionSpec::guild("topic").option(payloads::opt_string("name", "gifts"));
        let own = |r: &Recorded| {
            r.is_under("POST", &format!("/interactions/{}/", spec.id))
                || r.is_under(
                    "POST",
                    &format!("/webhooks/{}/{}", FakeDiscord::APPLICATION_ID, spec.token),
                )
        };
        bot.fake
            .set_rest_fault("POST", &format!("/interactions/{}/", spec.id), fault);
        let mark = bot.fake.request_mark();
        bot.fake
            .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
            .await;
        let refused = bot
            .fake
            .wait_for_request_after(mark, |r| own(r) && r.status == code, WAIT)
            .await;
        let answered = bot
            .fake
            .wait_for_request_after(mark, |r| own(r) && r.status < 300, WAIT)
            .await;
        assert_renders(&answered, &expected);
        let gap = answered.at.saturating_duration_since(refused.at);
        assert!(
            gap < Duration::from_millis(2_500),
            "{code}: retried after {gap:?}, past Discord's 3 s window"
        );
        topic_command_is_answered(&bot).await;
        assert_eq!(
            bot.count_after(mark, own).await,
            2,
            "{code}: one refused response and one retry, nothing more"
        );
    }
    bot.shutdown().await;
}

/// Refused twice (the fault outlasts the retry): two attempts, no
/// apology storm, and the bot keeps answering.
#[tokio::test(flavor = "multi_thread")]
async fn a_callback_refused_twice_is_given_up_after_two_attempts() {
    let bot = TestBot::start(|_| {}).await;
    for code in [429, 502] {
        let spec = InteractionSpec::guild("topic").option(payloads::opt_string("name", "gifts"));
        let path = format!("/interactions/{}/", spec.id);
        let fault = match code {
            429 => Fault::RateLimited {
                retry_after_secs: 0.3,
                times: 5,
            },
            _ => Fault::Status {
                code,
                body: json!({"code": 0, "message": "Bad Gateway"}),
                times: 5,
            },
        };
        bot.fake.set_rest_fault("POST", &path, fault);
        let mark = bot.fake.request_mark();
        bot.fake
            .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
            .await;
        bot.fake
            .wait_for_requests_after(mark, 2, |r| r.is_under("POST", &path), WAIT)
            .await;
        topic_command_is_answered(&bot).await;
        let webhook = format!("/webhooks/{}/{}", FakeDiscord::APPLICATION_ID, spec.token);
        let attempts = bot
            .count_after(mark, |r| {
                r.is_under("POST", &path) || r.is_under("POST", &webhook)
            })
            .await;
        assert_eq!(attempts, 2, "{code}: two attempts, then given up");
        bot.fake.clear_rest_faults();
    }
    dm_is_answered(&bot, 40).await;
    bot.shutdown().await;
}

/// A button press whose response is rate-limited is answered on the retry
/// and counted once.
#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_button_response_is_retried_and_counted_once() {
    let bot = TestBot::start(|_| {}).await;
    let reply = dm_is_answered(&bot, 50).await;
    let helpful = button_ids(&reply)[0].clone();
    let topic = helpful.rsplit(':').next().unwrap().to_string();
    let mut press = ComponentSpec::button(&helpful, reply.response.clone());
    // The reply was a DM: so is the press.
    press.interaction.guild_id = None;
    press.interaction.member_permissions = None;
    let path = format!("/interactions/{}/", press.interaction.id);
    bot.fake.set_rest_fault(
        "POST",
        &path,
        Fault::RateLimited {
            retry_after_secs: 0.3,
            times: 1,
        },
    );
    let mark = bot.fake.request_mark();
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::component(&press))
        .await;
    let answered = bot
        .fake
        .wait_for_request_after(mark, |r| r.is_under("POST", &path) && r.status < 300, WAIT)
        .await;
    assert!(
        answered.visible_text().contains("Thank you!"),
        "{}",
        answered.summary()
    );
    assert_eq!(
        bot.count_after(mark, |r| r.is_under("POST", &path)).await,
        2
    );
    let store = SqliteStore::open(&bot.config.storage.path).unwrap();
    let stats = store.stats(0, 0).unwrap();
    let helpful_count: u64 = stats
        .iter()
        .filter(|s| s.topic == topic)
        .map(|s| s.helpful)
        .sum();
    assert_eq!(helpful_count, 1, "counted once");
    bot.shutdown().await;
}

/// A REST call that hangs (the fake holds the response for longer than the
/// test) does not block other events: other DMs and commands are answered
/// meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn a_hanging_rest_call_does_not_block_other_events() {
    let bot = TestBot::start(|_| {}).await;
    let hung = messages_path(DM_BASE);
    bot.fake
        .set_rest_fault("POST", &hung, Fault::Delay(Duration::from_secs(60)));
    let mark = bot.fake.request_mark();
    bot.message(dm_from(0, topic_text(&bot.engine))).await;
    // The fake records the request when it arrives, then holds the answer.
    bot.fake
        .wait_for_request_after(mark, |r| r.is("POST", &hung), WAIT)
        .await;
    for n in 1..=3 {
        dm_is_answered(&bot, n).await;
    }
    topic_command_is_answered(&bot).await;
    let attempts = bot.count_after(mark, |r| r.is("POST", &hung)).await;
    assert_eq!(attempts, 1, "the hung send is not repeated meanwhile");
    bot.fake.clear_rest_faults();
    bot.shutdown().await;
}

/// A REST call past `request_timeout_seconds` is abandoned: a `/pin` whose
/// channel post hangs tells the moderator it could not post (instead of
/// never answering), records nothing, and the bot goes on answering.
#[tokio::test(flavor = "multi_thread")]
async fn a_rest_call_past_the_timeout_is_abandoned_and_reported() {
    let bot = TestBot::start(|c| c.discord.request_timeout_seconds = 1).await;
    let hung = messages_path(payloads::CHANNEL_ID);
    bot.fake
        .set_rest_fault("POST", &hung, Fault::Delay(Duration::from_secs(60)));
    let spec = InteractionSpec::guild("pin")
        .permissions(perms::MODERATOR)
        .option(payloads::opt_string("topic", "gifts"));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    let followup = format!("/webhooks/{}/{}", FakeDiscord::APPLICATION_ID, spec.token);
    let told = bot
        .fake
        .wait_for_request(|r| r.is("POST", &followup), WAIT)
        .await;
    assert!(
        told.visible_text().contains("couldn't post the guidance"),
        "{}",
        told.summary()
    );
    let attempts = bot.count_after(0, |r| r.is("POST", &hung)).await;
    assert_eq!(attempts, 1, "abandoned, not retried");
    dm_is_answered(&bot, 30).await;
    bot.fake.clear_rest_faults();
    let store = SqliteStore::open(&bot.config.storage.path).unwrap();
    assert!(store.pins(payloads::GUILD_ID).unwrap().is_empty());
    bot.shutdown().await;
}

// ----- gateway -----------------------------------------------------------------------------

/// Close 4000 and an abrupt drop (1006) → RESUME of the same session; op 9
/// (not resumable) → a fresh IDENTIFY. The bot answers after each.
#[tokio::test(flavor = "multi_thread")]
async fn gateway_close_drop_and_invalid_session_recover() {
    let bot = TestBot::start(|_| {}).await;
    let session = bot.fake.gateway_stats().session_id;
    dm_is_answered(&bot, 0).await;

    bot.fake.close_gateway(4000).await;
    bot.fake
        .wait_gateway(|s| s.resume_count == 1 && s.live, WAIT)
        .await;
    assert_eq!(bot.fake.identify_count(), 1, "resumed, not re-identified");
    assert_eq!(bot.fake.gateway_stats().session_id, session);
    dm_is_answered(&bot, 1).await;

    bot.fake.drop_gateway().await;
    bot.fake
        .wait_gateway(|s| s.resume_count == 2 && s.live, WAIT)
        .await;
    assert_eq!(bot.fake.identify_count(), 1, "resumed, not re-identified");
    dm_is_answered(&bot, 2).await;

    bot.fake.invalid_session(false).await;
    let stats = bot
        .fake
        .wait_gateway(|s| s.identify_count == 2 && s.live, REIDENTIFY_WAIT)
        .await;
    assert_ne!(stats.session_id, session, "a new session");
    assert_eq!(stats.resume_count, 2);
    dm_is_answered(&bot, 3).await;
    topic_command_is_answered(&bot).await;
    stop_after_reidentify(bot).await;
}

/// [`TestBot::shutdown`]'s checks, without requiring the clean close 1000:
/// after a re-IDENTIFY, serenity 0.12's shard manager may take the stale
/// confirmation of the restart's own shutdown for the new shard's, and
/// return from `Client::start` before that shard sent its close frame.
async fn stop_after_reidentify(bot: TestBot) {
    let notice = bot.notice();
    for r in bot.fake.requests() {
        if is_bot_message(&r) {
            assert_carries_notice(&r, &notice);
            assert_pings_nobody_unexpected(&r, &bot.config);
        }
    }
    let _ = tokio::time::timeout(WAIT, bot.shard_manager.shutdown_all()).await;
    bot.fake.assert_no_harness_errors();
}

/// Close 4014 (the MESSAGE_CONTENT intent not enabled in the developer
/// portal): `discord::run`, as `boundary-bot run` calls it, ends with an
/// error that says what to do, after one IDENTIFY (no reconnect loop).
#[tokio::test(flavor = "multi_thread")]
async fn disallowed_intents_end_run_with_an_actionable_error() {
    crate::fake_discord::init_tracing();
    let fake = FakeDiscord::start().await;
    let db = tempfile::tempdir().unwrap();
    let mut config = base_config(&fake);
    config.storage.path = db.path().join("boundary-bot.sqlite3");
    config.discord.auto_reply_channels = vec![AUTO_CHANNEL];
    let engine = Arc::new(engine());
    let run = tokio::spawn(async move {
        discord::run(&config, engine, &Token::new(TOKEN))
            .await
            .map_err(|e| format!("{e:#}"))
    });
    fake.wait_ready(WAIT).await;
    fake.close_gateway(4014).await;
    let result = tokio::time::timeout(WAIT, run)
        .await
        .expect("run gives up on disallowed intents")
        .expect("run task");
    let err = result.expect_err("disallowed intents are an error");
    for needle in [
        "MESSAGE_CONTENT",
        "4014",
        "Privileged Gateway Intents",
        "auto_reply_channels",
        "disable auto-replies",
    ] {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
    assert!(!err.contains(TOKEN));
    // No reconnect loop: one connection, one IDENTIFY, even a moment later.
    fake.expect_no_request(|r| r.is("GET", "/gateway/bot"), QUIET)
        .await;
    let stats = fake.gateway_stats();
    assert_eq!(stats.identify_count, 1, "{stats:?}");
    assert_eq!(stats.connections, 1, "{stats:?}");
    fake.assert_no_harness_errors();
}

// ----- hostile interactions ----------------------------------------------------------------

async fn callback_of(bot: &TestBot, spec: &InteractionSpec, autocomplete: bool) -> Recorded {
    let payload = if autocomplete {
        payloads::autocomplete(spec)
    } else {
        payloads::slash_command(spec)
    };
    interaction_answer(&bot.fake, spec, payload).await
}

/// A 10,000-character autocomplete query (on /topic and /pin) gets a valid,
/// bounded choice list that does not echo it; /pin with an unknown topic id
/// from a moderator is refused politely; commands from a guild the bot has
/// never seen are answered (or refused) politely; a forged member with no
/// permission bits at all cannot change settings. Nothing is pinned, stored
/// or posted in a channel.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_interactions_get_polite_answers_and_change_nothing() {
    let bot = TestBot::start(|_| {}).await;
    let mark = bot.fake.request_mark();
    let huge = "quokka".repeat(10_000 / 6 + 1);
    assert!(huge.chars().count() >= 10_000);

    for (command, option) in [("topic", "name"), ("pin", "topic")] {
        let spec = InteractionSpec::guild(command)
            .permissions(perms::MODERATOR)
            .option(payloads::opt_focused(option, &huge));
        let r = callback_of(&bot, &spec, true).await;
        assert_eq!(r.body["type"], 8, "{command}: {}", r.summary());
        let choices = r.body["data"]["choices"].as_array().expect("choices");
        assert!(choices.len() <= 25);
        for c in choices {
            assert!(c["name"].as_str().unwrap().chars().count() <= 100, "{c}");
            assert!(c["value"].as_str().unwrap().chars().count() <= 100, "{c}");
        }
        assert!(!r.body.to_string().contains("quokkaquokka"), "not echoed");
    }

    // /pin with a topic id that does not exist, by a moderator.
    let spec = InteractionSpec::guild("pin")
        .permissions(perms::MODERATOR)
        .option(payloads::opt_string("topic", "../../no-such-topic"));
    let r = callback_of(&bot, &spec, false).await;
    assert!(is_ephemeral(&r), "{}", r.summary());
    assert!(!r.visible_text().is_empty(), "{}", r.summary());
    assert!(!r.body.to_string().contains("no-such-topic"), "not echoed");

    // A guild the bot was never told about.
    let strange = |name: &str| {
        InteractionSpec::guild(name)
            .in_guild(Some(STRANGE_GUILD))
            .channel(STRANGE_CHANNEL)
    };
    let r = callback_of(
        &bot,
        &strange("topic").option(payloads::opt_string("name", "gifts")),
        false,
    )
    .await;
    assert!(r.status < 300, "{}", r.summary());
    assert!(!r.embeds().is_empty(), "guidance: {}", r.summary());
    for (perms_bits, who) in [(perms::MEMBER, "member"), (0, "no bits at all")] {
        for (name, options) in [
            ("pin", vec![payloads::opt_string("topic", "gifts")]),
            (
                "settings",
                vec![payloads::opt_subcommand(
                    "auto-reply",
                    vec![payloads::opt_int("state", 0)],
                )],
            ),
        ] {
            for mut spec in [strange(name), InteractionSpec::guild(name)] {
                spec.options = options.clone();
                spec.member_permissions = Some(perms_bits);
                let r = callback_of(&bot, &spec, false).await;
                assert!(is_ephemeral(&r), "{name} by {who}: {}", r.summary());
                assert!(
                    r.visible_text().contains("only moderators"),
                    "{name} by {who}: {}",
                    r.summary()
                );
            }
        }
    }

    // Nothing was posted or pinned, nothing stored.
    let changed = bot
        .count_after(mark, |r| {
            r.is_under("POST", "/channels/") || r.is_under("PUT", "/channels/")
        })
        .await;
    assert_eq!(changed, 0);
    let store = SqliteStore::open(&bot.config.storage.path).unwrap();
    for guild in [payloads::GUILD_ID, STRANGE_GUILD] {
        assert!(store.pins(guild).unwrap().is_empty());
        assert_eq!(store.settings(guild).unwrap(), GuildSettings::default());
    }
    bot.shutdown().await;
}
