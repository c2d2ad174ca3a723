//! The logs of a whole session, captured in-process at `trace` level with
//! the bot's own logging setup (`discord::logging`, as `run` uses it), hold
//! no message content and no token: not on the happy paths, not when REST
//! calls fail, and not when the token is rejected.
//!
//! This is its own test binary because it installs the global subscriber.

// The end-to-end helpers (modules of tests/e2e/main.rs), of which this
// binary uses a part.
#[allow(dead_code, unused_imports)]
#[path = "e2e/e2e_support/mod.rs"]
mod e2e_support;
#[allow(dead_code)]
#[path = "e2e/fake_discord/mod.rs"]
mod fake_discord;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use boundary_bot::discord::{self, logging, Token};
use e2e_support::*;
use fake_discord::payloads::{self, ComponentSpec, InteractionSpec, MessageSpec};
use fake_discord::{FakeDiscord, Fault};
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// A log sink shared with the test.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

const WRONG_TOKEN: &str = "wrong.token-value.NEVER-LOGGED-55e1";

#[allow(clippy::too_many_lines)] // one session whose logs are read whole
#[tokio::test(flavor = "multi_thread")]
async fn logs_hold_no_message_content_and_no_token() {
    let capture = Capture::default();
    logging::init_with(EnvFilter::new("trace"), capture.clone()).expect("install subscriber");

    let bot = TestBot::start(|c| {
        c.discord.auto_reply_channels = vec![AUTO_CHANNEL];
        c.discord.request_timeout_seconds = 1;
    })
    .await;
    let engine = bot.engine.clone();
    // Every text the bot sees carries a canary word that must never be logged.
    let canary = |n: usize, text: &str| format!("{text} quokka{n}canary");
    let topic = canary(1, topic_text(&engine));
    let unsure = canary(2, unsure_text(&engine));
    let crisis = canary(3, crisis_text(&engine));
    let chatter = canary(4, "hi");

    // DMs: topic, unsure, crisis, chatter.
    let mark = bot.fake.request_mark();
    for text in [&topic, &unsure, &crisis, &chatter] {
        bot.message(MessageSpec::dm(text)).await;
    }
    bot.fake
        .wait_for_requests_after(
            mark,
            3,
            |r| {
                r.is(
                    "POST",
                    &format!("/channels/{}/messages", payloads::DM_CHANNEL_ID),
                )
            },
            WAIT,
        )
        .await;

    // Guild: auto-reply channel, a mention, a crisis with an alert.
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(&topic).channel(AUTO_CHANNEL))
        .await;
    bot.message(
        MessageSpec::guild(&unsure)
            .mentioning_bot()
            .author(payloads::user(OTHER_USER, "bea", false)),
    )
    .await;
    let crisis_msg = MessageSpec::guild(&crisis)
        .channel(AUTO_CHANNEL)
        .author(payloads::user(OTHER_USER + 1, "cai", false));
    bot.message(crisis_msg).await;
    bot.post_in(mark, ALERT_CHANNEL).await;
    bot.post_in(mark, payloads::CHANNEL_ID).await;

    // Commands: /ask, /topic with an unknown name, autocomplete, context menu,
    // a forged button id.
    let spec = InteractionSpec::guild("ask").option(payloads::opt_string("question", &topic));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    bot.callback(spec.id, &spec.token).await;
    let spec =
        InteractionSpec::guild("topic").option(payloads::opt_string("name", "quokka5canary"));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    bot.callback(spec.id, &spec.token).await;
    let spec =
        InteractionSpec::guild("topic").option(payloads::opt_focused("name", "quokka6canary"));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::autocomplete(&spec))
        .await;
    bot.callback(spec.id, &spec.token).await;
    let target = MessageSpec::guild(&crisis).build();
    bot.context_menu(&target).await;
    let forged = ComponentSpec::button("topic:quokka7canary", target.clone());
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::component(&forged))
        .await;
    bot.callback(forged.interaction.id, &forged.interaction.token)
        .await;

    // Error paths: a failing channel post and a failing interaction callback.
    let failing_path = format!("/channels/{OTHER_DM_CHANNEL}/messages");
    bot.fake.set_rest_fault(
        "POST",
        &failing_path,
        Fault::Status {
            code: 500,
            body: json!({"code": 0, "message": "Internal Server Error"}),
            times: 1,
        },
    );
    let mark = bot.fake.request_mark();
    bot.message(
        MessageSpec::dm(&canary(8, topic_text(&engine)))
            .channel(OTHER_DM_CHANNEL)
            .author(payloads::user(OTHER_USER + 2, "dee", false)),
    )
    .await;
    bot.fake
        .wait_for_request_after(
            mark,
            |r| r.is("POST", &failing_path) && r.status == 500,
            WAIT,
        )
        .await;
    let spec = InteractionSpec::guild("ask").option(payloads::opt_string(
        "question",
        &canary(9, topic_text(&engine)),
    ));
    bot.fake.set_rest_fault(
        "POST",
        &format!("/interactions/{}/", spec.id),
        Fault::Status {
            code: 403,
            body: json!({"code": 50013, "message": "Missing Permissions"}),
            times: 1,
        },
    );
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    // The failure, then the apology.
    bot.fake
        .wait_for_requests_after(
            mark,
            2,
            |r| r.is_under("POST", &format!("/interactions/{}/", spec.id)),
            WAIT,
        )
        .await;
    // 429 (with retry_after) and 502, each on a channel post and on an
    // interaction callback (which is retried once).
    let faults = [
        (
            429,
            Fault::RateLimited {
                retry_after_secs: 0.3,
                times: 1,
            },
        ),
        (
            502,
            Fault::Status {
                code: 502,
                body: json!({"code": 0, "message": "Bad Gateway"}),
                times: 1,
            },
        ),
    ];
    for (n, (code, fault)) in faults.into_iter().enumerate() {
        let n = n as u64;
        let channel = OTHER_DM_CHANNEL + 50 + n;
        let path = format!("/channels/{channel}/messages");
        bot.fake.set_rest_fault("POST", &path, fault.clone());
        let mark = bot.fake.request_mark();
        bot.message(
            MessageSpec::dm(&canary(10 + 2 * n as usize, topic_text(&engine)))
                .channel(channel)
                .author(payloads::user(OTHER_USER + 3 + n, "eli", false)),
        )
        .await;
        bot.fake
            .wait_for_request_after(mark, |r| r.is("POST", &path) && r.status == code, WAIT)
            .await;
        let spec = InteractionSpec::guild("ask").option(payloads::opt_string(
            "question",
            &canary(11 + 2 * n as usize, topic_text(&engine)),
        ));
        let callback = format!("/interactions/{}/", spec.id);
        bot.fake.set_rest_fault("POST", &callback, fault);
        bot.fake
            .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
            .await;
        bot.fake
            .wait_for_requests_after(mark, 2, |r| r.is_under("POST", &callback), WAIT)
            .await;
    }
    // A REST call past the timeout: a /pin whose post hangs.
    let hung_path = format!("/channels/{}/messages", payloads::CHANNEL_ID);
    bot.fake
        .set_rest_fault("POST", &hung_path, Fault::Delay(Duration::from_secs(30)));
    let spec = InteractionSpec::guild("pin")
        .permissions(payloads::perms::MODERATOR)
        .option(payloads::opt_string("topic", "gifts"));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    let followup = format!("/webhooks/{}/{}", FakeDiscord::APPLICATION_ID, spec.token);
    bot.fake
        .wait_for_request(|r| r.is("POST", &followup), WAIT)
        .await;
    bot.fake.clear_rest_faults();
    // A busy database: /optout while another connection holds the lock.
    let locker = rusqlite::Connection::open(&bot.config.storage.path).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let spec = InteractionSpec::guild("optout");
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    bot.callback(spec.id, &spec.token).await;
    locker.execute_batch("ROLLBACK").unwrap();

    // A dropped gateway and RESUME.
    bot.fake.drop_gateway().await;
    bot.fake
        .wait_gateway(|s| s.resume_count == 1 && s.live, WAIT)
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    bot.shutdown().await;

    // A rejected token, through `discord::run` as `boundary-bot run` calls it.
    let fake = FakeDiscord::start().await;
    fake.require_token("the.right.token");
    let config = base_config(&fake);
    let result = tokio::time::timeout(
        WAIT,
        discord::run(&config, engine.clone(), &Token::new(WRONG_TOKEN)),
    )
    .await
    .expect("run gives up on a rejected token");
    let err = result.expect_err("rejected token is an error");
    assert!(!format!("{err:#} {err:?}").contains(WRONG_TOKEN));

    // Intents refused (close 4014), through `discord::run`.
    let fake = FakeDiscord::start().await;
    let mut config = base_config(&fake);
    let db = tempfile::tempdir().unwrap();
    config.storage.path = db.path().join("boundary-bot.sqlite3");
    config.discord.auto_reply_channels = vec![AUTO_CHANNEL];
    let run = tokio::spawn({
        let engine = engine.clone();
        async move {
            discord::run(&config, engine, &Token::new(TOKEN))
                .await
                .is_err()
        }
    });
    fake.wait_ready(WAIT).await;
    fake.close_gateway(4014).await;
    let failed = tokio::time::timeout(WAIT, run)
        .await
        .expect("run gives up on refused intents")
        .expect("run task");
    assert!(failed, "refused intents end run with an error");

    let logs = capture.text();
    assert!(logs.len() > 1000, "logging works at all:\n{logs}");
    for needle in [
        "replied",
        "command answered",
        "crisis alert posted",
        "button press answered",
        "could not send reply",
        "command failed",
        "gateway session resumed",
        "Discord connection ended",
        "trying once more",
        "could not save the opt-out",
        "database is busy",
        "could not post",
        "4014",
        "topic=",
        "user=",
        "message_id=",
    ] {
        assert!(logs.contains(needle), "expected {needle:?} in the logs");
    }
    let leaks: Vec<&str> = logs
        .lines()
        .filter(|l| {
            l.contains("canary")
                || l.contains(TOKEN)
                || l.contains(WRONG_TOKEN)
                || l.contains("DO-NOT-LOG")
                || l.contains("NEVER-LOGGED")
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "{} log lines leak message content or a token, e.g.:\n{}",
        leaks.len(),
        leaks
            .iter()
            .take(5)
            .map(|l| l.chars().take(600).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
