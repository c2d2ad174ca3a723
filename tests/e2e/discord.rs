//! End to end: the real bot (built by `discord::build_client`, as `run` does)
//! against the fake Discord on 127.0.0.1. Every test asserts on the REST
//! bodies the bot sent, and `TestBot::shutdown` checks that every message
//! the bot sent carries the referral notice and pings nobody it should not.

use std::collections::BTreeSet;

use crate::e2e_support::*;
use crate::fake_discord::payloads::{self, perms, ComponentSpec, InteractionSpec, MessageSpec};
use crate::fake_discord::FakeDiscord;
use boundary_bot::classify::Outcome;
use boundary_bot::regions::RegionHints;
use boundary_bot::reply::{self, Surface};
use serde_json::json;
use serenity::all::GatewayIntents;

fn non_privileged() -> u64 {
    (GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES)
        .bits()
}

// ----- start-up ------------------------------------------------------------------

/// Start-up: IDENTIFY without privileged intents, commands registered to the
/// dev guild (all of them, with their options), nothing registered globally.
#[tokio::test(flavor = "multi_thread")]
async fn startup_registers_commands_in_dev_guild_without_privileged_intents() {
    let bot = TestBot::start(|_| {}).await;
    assert_eq!(bot.fake.identify_intents(), Some(non_privileged()));
    assert_eq!(bot.fake.last_identify().unwrap()["token"], "<redacted>");

    let put = bot
        .fake
        .wait_for_request(
            |r| r.is("PUT", &commands_path(Some(payloads::GUILD_ID))),
            WAIT,
        )
        .await;
    assert!(put.bot_auth);
    let commands = put.body.as_array().expect("command list");
    let names: BTreeSet<&str> = commands
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = [
        "ask",
        "topic",
        "topics",
        "resources",
        "help",
        "Get boundary guidance",
        "optout",
        "optin",
        "pin",
        "unpin",
        "pins",
        "stats",
        "settings",
        "reload",
    ]
    .into();
    assert_eq!(names, expected);
    let by_name = |n: &str| commands.iter().find(|c| c["name"] == n).unwrap().clone();
    assert_eq!(
        by_name("Get boundary guidance")["type"],
        3,
        "message context menu"
    );
    let ask = by_name("ask");
    assert_eq!(
        ask["type"].as_u64().unwrap_or(1),
        1,
        "chat input (the default)"
    );
    assert_eq!(ask["options"][0]["name"], "question");
    assert_eq!(ask["options"][0]["type"], 3);
    assert_eq!(ask["options"][0]["required"], true);
    assert_eq!(ask["options"][1]["name"], "public");
    assert_eq!(ask["options"][1]["type"], 5);
    assert_ne!(ask["options"][1]["required"], true);
    let topic = by_name("topic");
    assert_eq!(topic["options"][0]["name"], "name");
    assert_eq!(topic["options"][0]["autocomplete"], true);
    assert_eq!(
        bot.fake.registered_commands(Some(payloads::GUILD_ID)).len(),
        14
    );

    bot.fake
        .expect_no_request(|r| r.is("PUT", &commands_path(None)), QUIET)
        .await;
    assert!(bot.fake.registered_commands(None).is_empty());
    bot.shutdown().await;
}

/// Without `dev_guild` the commands are registered globally; configuring
/// auto-reply channels adds (only) MESSAGE_CONTENT.
#[tokio::test(flavor = "multi_thread")]
async fn global_registration_and_message_content_only_with_auto_replies() {
    let bot = TestBot::start(|c| {
        c.discord.dev_guild = None;
        c.discord.auto_reply_channels = vec![AUTO_CHANNEL];
    })
    .await;
    assert_eq!(bot.fake.registered_commands(None).len(), 14);
    assert_eq!(
        bot.fake.identify_intents(),
        Some(non_privileged() | GatewayIntents::MESSAGE_CONTENT.bits())
    );
    bot.shutdown().await;
}

/// An unreachable `api_base` is an error at start-up: the bot never falls
/// back to Discord's own gateway behind the proxy's back.
#[tokio::test(flavor = "multi_thread")]
async fn unreachable_api_base_fails_instead_of_falling_back() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = boundary_bot::config::Config {
        responses_dir: responses_dir(),
        ..Default::default()
    };
    config.discord.api_base = Some(format!("http://127.0.0.1:{port}"));
    let db_dir = tempfile::tempdir().unwrap();
    config.storage.path = db_dir.path().join("boundary-bot.sqlite3");
    let engine = std::sync::Arc::new(engine());
    let err = boundary_bot::discord::build_client(
        &config,
        engine,
        &boundary_bot::discord::Token::new(TOKEN),
    )
    .await
    .err()
    .expect("build_client fails");
    let text = format!("{err:#}");
    assert!(text.contains("api_base"), "{text}");
    assert!(!text.contains(TOKEN));
}

// ----- slash commands --------------------------------------------------------------

/// `/ask` is ephemeral by default and renders the core's reply; `public:true`
/// posts it to the channel.
#[tokio::test(flavor = "multi_thread")]
async fn ask_is_ephemeral_unless_public() {
    let bot = TestBot::start(|_| {}).await;
    let text = topic_text(&bot.engine);

    let spec = InteractionSpec::guild("ask").option(payloads::opt_string("question", text));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    let r = bot.callback(spec.id, &spec.token).await;
    assert_eq!(r.body["type"], 4);
    assert_eq!(flags(&r) & EPHEMERAL, EPHEMERAL);
    assert_renders(&r, &bot.expected(text));

    let spec = InteractionSpec::guild("ask")
        .option(payloads::opt_string("question", text))
        .option(payloads::opt_bool("public", true));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    let r = bot.callback(spec.id, &spec.token).await;
    assert_eq!(flags(&r) & EPHEMERAL, 0, "public");
    assert_renders(&r, &bot.expected(text));

    // Unsure: "did you mean" with a button per suggestion, still ephemeral.
    let unsure = unsure_text(&bot.engine);
    let spec = InteractionSpec::guild("ask").option(payloads::opt_string("question", unsure));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    let r = bot.callback(spec.id, &spec.token).await;
    assert_eq!(flags(&r) & EPHEMERAL, EPHEMERAL);
    let expected = bot.expected(unsure);
    assert_renders(&r, &expected);
    let want: Vec<String> = expected
        .suggestions()
        .iter()
        .map(|s| format!("topic:{}", s.topic))
        .collect();
    assert_eq!(button_ids(&r), want);

    // In a DM too.
    let spec = InteractionSpec::dm("ask").option(payloads::opt_string("question", text));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    let r = bot.callback(spec.id, &spec.token).await;
    assert_renders(&r, &bot.expected(text));
    bot.shutdown().await;
}

/// `/ask` with a crisis question: crisis resources, always ephemeral; no
/// alert for a private question, an alert (without the text) for a public one.
#[tokio::test(flavor = "multi_thread")]
async fn ask_crisis_is_private_and_alerts_only_when_public() {
    let bot = TestBot::start(|_| {}).await;
    let text = crisis_text(&bot.engine);
    let crisis = reply::crisis(bot.engine.library(), us_locale());

    let mark = bot.fake.request_mark();
    let spec = InteractionSpec::guild("ask").option(payloads::opt_string("question", text));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    let r = bot.callback(spec.id, &spec.token).await;
    assert_renders(&r, &crisis);
    assert_eq!(flags(&r) & EPHEMERAL, EPHEMERAL);
    bot.no_post_in(mark, ALERT_CHANNEL).await;

    let spec = InteractionSpec::guild("ask")
        .option(payloads::opt_string("question", text))
        .option(payloads::opt_bool("public", true));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    let r = bot.callback(spec.id, &spec.token).await;
    assert_eq!(
        flags(&r) & EPHEMERAL,
        EPHEMERAL,
        "crisis answers stay private"
    );
    let alert = bot.post_in(mark, ALERT_CHANNEL).await;
    assert!(!alert.body.to_string().contains(text));
    assert!(alert
        .content()
        .unwrap()
        .contains(&format!("<@{}>", payloads::USER_ID)));
    bot.shutdown().await;
}

/// `/topic` by id and by title, autocomplete on titles, and a polite
/// ephemeral error for an unknown topic.
#[tokio::test(flavor = "multi_thread")]
async fn topic_command_autocomplete_and_unknown_topic() {
    let bot = TestBot::start(|_| {}).await;
    let library = bot.engine.library();
    let gifts = library.topic("gifts").expect("gifts topic");
    let expected = reply::guidance(library, gifts);

    for value in [gifts.id.as_str(), gifts.title.as_str()] {
        let spec = InteractionSpec::guild("topic").option(payloads::opt_string("name", value));
        bot.fake
            .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
            .await;
        let r = bot.callback(spec.id, &spec.token).await;
        assert_eq!(flags(&r) & EPHEMERAL, EPHEMERAL);
        assert_renders(&r, &expected);
    }

    // public:true
    let spec = InteractionSpec::guild("topic")
        .option(payloads::opt_string("name", "gifts"))
        .option(payloads::opt_bool("public", true));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    let r = bot.callback(spec.id, &spec.token).await;
    assert_eq!(flags(&r) & EPHEMERAL, 0);

    // Autocomplete: titles as names, ids as values.
    let partial = &gifts.title[..3].to_lowercase();
    let spec = InteractionSpec::guild("topic").option(payloads::opt_focused("name", partial));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::autocomplete(&spec))
        .await;
    let r = bot.callback(spec.id, &spec.token).await;
    assert_eq!(r.body["type"], 8, "autocomplete result");
    let choices = r.body["data"]["choices"].as_array().expect("choices");
    assert!(choices.len() <= 25);
    assert!(
        choices
            .iter()
            .any(|c| c["name"] == gifts.title.as_str() && c["value"] == "gifts"),
        "{choices:?}"
    );
    for c in choices {
        assert!(
            c["name"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains(partial.as_str()),
            "{c}"
        );
    }
    let spec = InteractionSpec::guild("topic").option(payloads::opt_focused("name", ""));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::autocomplete(&spec))
        .await;
    let r = bot.callback(spec.id, &spec.token).await;
    assert_eq!(
        r.body["data"]["choices"].as_array().unwrap().len(),
        library.topics.len().min(25)
    );

    // Unknown topic: ephemeral note and the topic list (with the notice).
    let spec = InteractionSpec::guild("topic")
        .option(payloads::opt_string("name", "no-such-topic"))
        .option(payloads::opt_bool("public", true));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    let r = bot.callback(spec.id, &spec.token).await;
    assert_eq!(flags(&r) & EPHEMERAL, EPHEMERAL);
    assert!(r.content().unwrap().starts_with("Sorry"), "{}", r.summary());
    assert!(
        !r.body.to_string().contains("no-such-topic"),
        "input not echoed"
    );
    assert_renders(&r, &reply::topic_list(library, Surface::Discord));
    bot.shutdown().await;
}

/// `/topics`, `/resources` and `/help`, in a guild and in a DM.
#[tokio::test(flavor = "multi_thread")]
async fn topics_resources_and_help_commands() {
    let bot = TestBot::start(|_| {}).await;
    let library = bot.engine.library();
    let cases = [
        ("topics", reply::topic_list(library, Surface::Discord)),
        ("resources", reply::resources(library, Default::default())),
        ("help", reply::help(library, Surface::Discord)),
    ];
    for (name, expected) in &cases {
        for spec in [InteractionSpec::guild(name), InteractionSpec::dm(name)] {
            bot.fake
                .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
                .await;
            let r = bot.callback(spec.id, &spec.token).await;
            assert_eq!(r.body["type"], 4);
            assert_eq!(flags(&r) & EPHEMERAL, EPHEMERAL, "/{name}");
            assert_renders(&r, expected);
        }
    }
    // The help text includes the privacy promise.
    assert!(cases[2].1.body().contains("Privacy"));
    bot.shutdown().await;
}

// ----- context menu ----------------------------------------------------------------

/// "Get boundary guidance" on someone's message: ephemeral guidance for the
/// clicker; on a crisis message, crisis resources and a moderator alert
/// about the author that does not copy the text.
#[tokio::test(flavor = "multi_thread")]
async fn context_menu_guidance_and_crisis_alert() {
    let bot = TestBot::start(|_| {}).await;
    let text = topic_text(&bot.engine);
    let target = MessageSpec::guild(text)
        .author(payloads::user(OTHER_USER, "bea", false))
        .build();
    let r = bot.context_menu(&target).await;
    assert_eq!(flags(&r) & EPHEMERAL, EPHEMERAL);
    assert_renders(&r, &bot.expected(text));

    let mark = bot.fake.request_mark();
    let crisis = crisis_text(&bot.engine);
    let target = MessageSpec::guild(crisis)
        .author(payloads::user(OTHER_USER, "bea", false))
        .build();
    let r = bot.context_menu(&target).await;
    assert_eq!(flags(&r) & EPHEMERAL, EPHEMERAL);
    assert_renders(&r, &reply::crisis(bot.engine.library(), us_locale()));
    let alert = bot.post_in(mark, ALERT_CHANNEL).await;
    let content = alert.content().unwrap();
    assert!(content.contains(&format!("<@{OTHER_USER}>")), "{content}");
    assert!(content.contains(&format!(
        "https://discord.com/channels/{}/{}/{}",
        payloads::GUILD_ID,
        payloads::CHANNEL_ID,
        target["id"].as_str().unwrap()
    )));
    assert!(!alert.body.to_string().contains(crisis), "no message text");
    bot.shutdown().await;
}

// ----- direct messages ----------------------------------------------------------------

/// A DM about a topic gets the guidance (not a reply reference, nothing pings).
#[tokio::test(flavor = "multi_thread")]
async fn dm_topic_gets_guidance() {
    let bot = TestBot::start(|_| {}).await;
    let texts = topic_texts(&bot.engine);
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::dm(texts[0])).await;
    let r = bot.post_in(mark, payloads::DM_CHANNEL_ID).await;
    assert_renders(&r, &bot.expected(texts[0]));
    assert!(r.body["message_reference"].is_null());
    // Feedback buttons, and no "Delete" (a DM, not a public reply).
    let topic = bot.engine.classify(texts[0]).topic().unwrap();
    assert_eq!(
        button_ids(&r),
        vec![
            format!("fb:helpful:{topic}"),
            format!("fb:not-asked:{topic}")
        ]
    );

    // The same topic again in a DM: answered again (topic cooldowns are for
    // unprompted replies in channels).
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::dm(texts[0])).await;
    let r = bot.post_in(mark, payloads::DM_CHANNEL_ID).await;
    assert_renders(&r, &bot.expected(texts[0]));
    bot.shutdown().await;
}

/// Unsure → "did you mean" with buttons → a press → the topic's guidance.
/// A forged button id gets a polite ephemeral error.
#[tokio::test(flavor = "multi_thread")]
async fn dm_unsure_did_you_mean_button_press_topic_reply() {
    let bot = TestBot::start(|_| {}).await;
    let text = unsure_text(&bot.engine);
    let expected = bot.expected(text);
    assert!(!expected.suggestions().is_empty());

    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::dm(text)).await;
    let r = bot.post_in(mark, payloads::DM_CHANNEL_ID).await;
    assert_renders(&r, &expected);
    let ids = button_ids(&r);
    let want: Vec<String> = expected
        .suggestions()
        .iter()
        .map(|s| format!("topic:{}", s.topic))
        .collect();
    assert_eq!(ids, want);

    // Press the first button on the message the bot sent.
    let topic_id = expected.suggestions()[0].topic;
    let mut press = ComponentSpec::button(&ids[0], r.response.clone());
    press.interaction = InteractionSpec::dm("");
    let (pid, ptoken) = (press.interaction.id, press.interaction.token.clone());
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::component(&press))
        .await;
    let cb = bot.callback(pid, &ptoken).await;
    assert_eq!(cb.body["type"], 4);
    let library = bot.engine.library();
    assert_renders(
        &cb,
        &reply::guidance(library, library.topic(topic_id).unwrap()),
    );
    assert_eq!(flags(&cb) & EPHEMERAL, 0, "in a DM the guidance stays");

    // A forged id.
    let mut forged = ComponentSpec::button("topic:../../admin", r.response.clone());
    forged.interaction = InteractionSpec::dm("");
    let (fid, ftoken) = (forged.interaction.id, forged.interaction.token.clone());
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::component(&forged))
        .await;
    let cb = bot.callback(fid, &ftoken).await;
    assert_eq!(flags(&cb) & EPHEMERAL, EPHEMERAL);
    assert!(cb.content().unwrap().starts_with("Sorry"));
    assert!(!cb.body.to_string().contains("admin"));
    assert_renders(&cb, &reply::topic_list(library, Surface::Discord));
    bot.shutdown().await;
}

/// A crisis DM gets the crisis reply and no moderator alert (DMs are
/// private); a repeat within the crisis cooldown is not answered again.
#[tokio::test(flavor = "multi_thread")]
async fn dm_crisis_gets_resources_without_alert() {
    let bot = TestBot::start(|_| {}).await;
    let text = crisis_text(&bot.engine);
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::dm(text)).await;
    let r = bot.post_in(mark, payloads::DM_CHANNEL_ID).await;
    assert_renders(&r, &reply::crisis(bot.engine.library(), Default::default()));
    bot.no_post_in(mark, ALERT_CHANNEL).await;

    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::dm(text)).await;
    bot.no_post_in(mark, payloads::DM_CHANNEL_ID).await;
    bot.shutdown().await;
}

/// Greetings get the help reply, once per help cooldown.
#[tokio::test(flavor = "multi_thread")]
async fn dm_chatter_gets_help_once() {
    let bot = TestBot::start(|_| {}).await;
    let chatter = chatter_texts(&bot.engine);
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::dm(chatter[0])).await;
    let r = bot.post_in(mark, payloads::DM_CHANNEL_ID).await;
    assert_renders(&r, &reply::help(bot.engine.library(), Surface::Discord));

    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::dm(chatter[chatter.len() - 1]))
        .await;
    // A topic question from the same member is still answered.
    let topic = topic_text(&bot.engine);
    bot.message(MessageSpec::dm(topic)).await;
    let r = bot.post_in(mark, payloads::DM_CHANNEL_ID).await;
    assert_renders(&r, &bot.expected(topic));
    let help_title = reply::help(bot.engine.library(), Surface::Discord)
        .title()
        .to_string();
    let helps = bot
        .count_after(mark, |r| {
            r.is_under("POST", "/channels/")
                && r.embeds().iter().any(|e| e["title"] == help_title.as_str())
        })
        .await;
    assert_eq!(helps, 0, "help once per help cooldown");
    bot.shutdown().await;
}

// ----- guild channels --------------------------------------------------------------

/// A confident topic in a configured channel gets a reply to that message;
/// the same in an unconfigured channel gets nothing.
#[tokio::test(flavor = "multi_thread")]
async fn auto_reply_only_in_configured_channels() {
    let bot = TestBot::start(|c| c.discord.auto_reply_channels = vec![AUTO_CHANNEL]).await;
    let text = topic_text(&bot.engine);

    let mark = bot.fake.request_mark();
    // general is not configured (another member, so that no cooldown hides a reply).
    bot.message(MessageSpec::guild(text).author(payloads::user(OTHER_USER, "bea", false)))
        .await;
    let m = bot
        .message(MessageSpec::guild(text).channel(AUTO_CHANNEL))
        .await;
    let r = bot.post_in(mark, AUTO_CHANNEL).await;
    assert_renders(&r, &bot.expected(text));
    assert_eq!(r.body["message_reference"]["message_id"], m["id"]);
    assert_eq!(allowed_mentions(&r)["replied_user"], true);
    bot.no_post_in(mark, payloads::CHANNEL_ID).await;

    // Unsure and chatter stay silent in an auto-reply channel.
    let mark = bot.fake.request_mark();
    bot.message(
        MessageSpec::guild(unsure_text(&bot.engine))
            .channel(AUTO_CHANNEL)
            .author(payloads::user(OTHER_USER, "bea", false)),
    )
    .await;
    bot.message(
        MessageSpec::guild(chatter_texts(&bot.engine)[0])
            .channel(AUTO_CHANNEL)
            .author(payloads::user(OTHER_USER, "bea", false)),
    )
    .await;
    bot.no_post_in(mark, AUTO_CHANNEL).await;
    bot.shutdown().await;
}

/// The per-member, per-topic cooldown; other members and topics are not
/// affected; the per-channel rate limit; crisis bypasses both.
#[tokio::test(flavor = "multi_thread")]
async fn topic_cooldown_and_channel_rate_limit() {
    let bot = TestBot::start(|c| {
        c.discord.auto_reply_channels = vec![AUTO_CHANNEL];
        c.discord.channel_replies_per_minute = 3;
    })
    .await;
    let texts = topic_texts(&bot.engine);
    assert!(texts.len() >= 2, "need two topics: {texts:?}");
    let path = format!("/channels/{AUTO_CHANNEL}/messages");

    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(texts[0]).channel(AUTO_CHANNEL))
        .await;
    bot.post_in(mark, AUTO_CHANNEL).await;

    // Same member, same topic: suppressed. Another topic: answered.
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(texts[0]).channel(AUTO_CHANNEL))
        .await;
    bot.message(MessageSpec::guild(texts[1]).channel(AUTO_CHANNEL))
        .await;
    let r = bot.post_in(mark, AUTO_CHANNEL).await;
    assert_renders(&r, &bot.expected(texts[1]));
    let replies = bot.count_after(mark, |r| r.is("POST", &path)).await;
    assert_eq!(replies, 1, "the repeat of the same topic was suppressed");

    // Another member, same topic: answered (3rd reply this minute).
    let mark = bot.fake.request_mark();
    bot.message(
        MessageSpec::guild(texts[0])
            .channel(AUTO_CHANNEL)
            .author(payloads::user(OTHER_USER, "bea", false)),
    )
    .await;
    bot.post_in(mark, AUTO_CHANNEL).await;

    // The channel has had 3 replies this minute: a 4th topic reply waits…
    let mark = bot.fake.request_mark();
    let third = texts.get(2).copied().unwrap_or(texts[1]);
    bot.message(
        MessageSpec::guild(third)
            .channel(AUTO_CHANNEL)
            .author(payloads::user(OTHER_USER + 100, "cai", false)),
    )
    .await;
    bot.no_post_in(mark, AUTO_CHANNEL).await;

    // …but crisis is never suppressed, even for a member on topic cooldown.
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(crisis_text(&bot.engine)).channel(AUTO_CHANNEL))
        .await;
    let r = bot.post_in(mark, AUTO_CHANNEL).await;
    assert_renders(&r, &reply::crisis(bot.engine.library(), Default::default()));
    bot.shutdown().await;
}

/// Bots, webhooks, system messages and the bot itself are ignored, also
/// when they mention the bot.
#[tokio::test(flavor = "multi_thread")]
async fn bots_webhooks_system_messages_and_self_are_ignored() {
    let bot = TestBot::start(|c| c.discord.auto_reply_channels = vec![AUTO_CHANNEL]).await;
    let text = topic_text(&bot.engine);
    let mark = bot.fake.request_mark();
    let specs = [
        MessageSpec::guild(text)
            .channel(AUTO_CHANNEL)
            .author(payloads::user(OTHER_USER, "otherbot", true)),
        MessageSpec::guild(text)
            .channel(AUTO_CHANNEL)
            .author(payloads::user(OTHER_USER, "otherbot", true))
            .mentioning_bot(),
        MessageSpec::guild(text).channel(AUTO_CHANNEL).webhook(42),
        MessageSpec::guild(text)
            .channel(AUTO_CHANNEL)
            .kind(payloads::kind::USER_JOIN),
        MessageSpec::guild(text)
            .channel(AUTO_CHANNEL)
            .author(payloads::user(
                FakeDiscord::BOT_USER_ID,
                FakeDiscord::BOT_NAME,
                true,
            )),
        MessageSpec::dm(text).author(payloads::user(OTHER_USER, "otherbot", true)),
    ];
    for spec in specs {
        bot.message(spec).await;
    }
    // Barrier: a human's message is answered, and nothing else was.
    let m = bot
        .message(MessageSpec::guild(text).channel(AUTO_CHANNEL))
        .await;
    let r = bot.post_in(mark, AUTO_CHANNEL).await;
    assert_eq!(r.body["message_reference"]["message_id"], m["id"]);
    bot.fake
        .expect_no_request_after(
            mark,
            |r| {
                r.is_under("POST", "/channels/")
                    && r.body["message_reference"]["message_id"] != m["id"]
            },
            QUIET,
        )
        .await;
    bot.shutdown().await;
}

/// A mention in any channel is answered (also without MESSAGE_CONTENT: the
/// bot sees mentions); a message containing @everyone gets a reply whose
/// allowed_mentions allow nothing but the replied-to member.
#[tokio::test(flavor = "multi_thread")]
async fn mention_with_everyone_pings_nobody() {
    let bot = TestBot::start(|_| {}).await;
    assert_eq!(bot.fake.identify_intents(), Some(non_privileged()));
    let text = format!("@everyone @here {}", topic_text(&bot.engine));
    let mark = bot.fake.request_mark();
    let m = bot
        .message(MessageSpec::guild(&text).mentioning_bot().everyone())
        .await;
    let r = bot.post_in(mark, payloads::CHANNEL_ID).await;
    assert_eq!(r.body["message_reference"]["message_id"], m["id"]);
    assert_eq!(
        allowed_mentions(&r),
        json!({"parse": [], "users": [], "roles": [], "replied_user": true})
    );
    assert!(!r.visible_text().contains("@everyone"));
    assert!(!r.visible_text().contains("@here"));
    assert_renders(&r, &bot.expected(topic_text(&bot.engine)));

    // A mention with an unsure question gets "did you mean" with buttons;
    // pressing one in a guild shows the guidance to the presser only.
    let mark = bot.fake.request_mark();
    let unsure = unsure_text(&bot.engine);
    bot.message(
        MessageSpec::guild(unsure)
            .mentioning_bot()
            .author(payloads::user(OTHER_USER, "bea", false)),
    )
    .await;
    let r = bot.post_in(mark, payloads::CHANNEL_ID).await;
    let ids = button_ids(&r);
    assert!(!ids.is_empty());
    let press = ComponentSpec::button(&ids[0], r.response.clone());
    let (pid, ptoken) = (press.interaction.id, press.interaction.token.clone());
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::component(&press))
        .await;
    let cb = bot.callback(pid, &ptoken).await;
    assert_eq!(flags(&cb) & EPHEMERAL, EPHEMERAL);
    let topic_id = ids[0].strip_prefix("topic:").unwrap();
    let library = bot.engine.library();
    assert_renders(
        &cb,
        &reply::guidance(library, library.topic(topic_id).unwrap()),
    );
    bot.shutdown().await;
}

/// A crisis message in a guild channel: the crisis reply at once, and an
/// alert naming channel, member (no ping) and jump link, without the text.
/// With `crisis_alert_ping_role`, exactly that role may ping.
#[tokio::test(flavor = "multi_thread")]
async fn crisis_alert_carries_no_message_text() {
    for ping_role in [None, Some(MOD_ROLE)] {
        let bot = TestBot::start(|c| {
            c.discord.auto_reply_channels = vec![AUTO_CHANNEL];
            c.discord.crisis_alert_ping_role = ping_role;
        })
        .await;
        let text = format!("{} zebra-canary-41", crisis_text(&bot.engine));
        let mark = bot.fake.request_mark();
        let m = bot
            .message(MessageSpec::guild(&text).channel(AUTO_CHANNEL))
            .await;
        let r = bot.post_in(mark, AUTO_CHANNEL).await;
        assert_renders(&r, &reply::crisis(bot.engine.library(), Default::default()));
        assert_eq!(r.body["message_reference"]["message_id"], m["id"]);

        let alert = bot.post_in(mark, ALERT_CHANNEL).await;
        let content = alert.content().unwrap().to_string();
        let link = format!(
            "https://discord.com/channels/{}/{AUTO_CHANNEL}/{}",
            payloads::GUILD_ID,
            m["id"].as_str().unwrap()
        );
        assert!(content.contains(&link), "{content}");
        assert!(content.contains(&format!("<#{AUTO_CHANNEL}>")), "{content}");
        assert!(
            content.contains(&format!("<@{}>", payloads::USER_ID)),
            "{content}"
        );
        let body = alert.body.to_string();
        assert!(
            !body.contains("zebra-canary"),
            "alert copies no text: {body}"
        );
        assert!(!body.contains(crisis_text(&bot.engine)), "{body}");
        let am = allowed_mentions(&alert);
        assert_eq!(am["users"], json!([]), "the member is not pinged");
        assert_eq!(am["parse"], json!([]));
        match ping_role {
            None => {
                assert_eq!(am["roles"], json!([]));
                assert!(!content.contains("<@&"));
            }
            Some(role) => {
                assert_eq!(am["roles"], json!([role.to_string()]));
                assert!(content.starts_with(&format!("<@&{role}>")), "{content}");
            }
        }
        // The alert carries the resources (rendered from a Reply).
        assert_eq!(
            alert.embeds()[0]["title"].as_str(),
            Some(reply::resources(bot.engine.library(), Default::default()).title())
        );

        // A repeat within the crisis cooldown: no second reply, no second alert.
        let mark = bot.fake.request_mark();
        bot.message(MessageSpec::guild(&text).channel(AUTO_CHANNEL))
            .await;
        bot.no_post_in(mark, AUTO_CHANNEL).await;
        bot.no_post_in(mark, ALERT_CHANNEL).await;
        bot.shutdown().await;
    }
}

/// Without `crisis_alert_channel` a crisis is still answered, with no alert.
#[tokio::test(flavor = "multi_thread")]
async fn crisis_without_alert_channel() {
    let bot = TestBot::start(|c| c.discord.crisis_alert_channel = None).await;
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(crisis_text(&bot.engine)).mentioning_bot())
        .await;
    bot.post_in(mark, payloads::CHANNEL_ID).await;
    bot.no_post_in(mark, ALERT_CHANNEL).await;
    bot.shutdown().await;
}

// ----- gateway -------------------------------------------------------------------------

/// After the gateway connection drops, the bot RESUMEs the same session and
/// keeps answering; a MESSAGE_CREATE replayed after the resume is not
/// answered twice.
#[tokio::test(flavor = "multi_thread")]
async fn resume_after_gateway_drop() {
    let bot = TestBot::start(|_| {}).await;
    let before = bot.fake.gateway_stats();
    let text = topic_text(&bot.engine);
    let mark = bot.fake.request_mark();
    let m = bot.message(MessageSpec::dm(text)).await;
    bot.post_in(mark, payloads::DM_CHANNEL_ID).await;

    bot.fake.drop_gateway().await;
    let after = bot
        .fake
        .wait_gateway(|s| s.resume_count == 1 && s.live, WAIT)
        .await;
    assert_eq!(bot.fake.identify_count(), 1, "resumed, not re-identified");
    assert_eq!(after.session_id, before.session_id);

    // The same event replayed: at most one reply per message.
    let mark = bot.fake.request_mark();
    bot.fake.dispatch("MESSAGE_CREATE", m).await;
    // A new message is answered.
    let other = topic_texts(&bot.engine);
    let next = other.get(1).copied().unwrap_or(text);
    bot.message(MessageSpec::dm(next)).await;
    let r = bot.post_in(mark, payloads::DM_CHANNEL_ID).await;
    assert_renders(&r, &bot.expected(next));
    let path = format!("/channels/{}/messages", payloads::DM_CHANNEL_ID);
    let count = bot.count_after(mark, |r| r.is("POST", &path)).await;
    assert_eq!(count, 1, "the replayed message was not answered again");
    bot.shutdown().await;
}

// ----- no echo ---------------------------------------------------------------------------

/// No member text is ever echoed back: every message and command below
/// carries a canary word (in auto-reply and pinned channels, mentions,
/// DMs, `/ask` public and private, the context menu, a "did you mean"
/// press, crisis with its alert, mention and markdown injection, an
/// unknown topic id), and no request the bot sent, public or private,
/// holds a canary or the member's text. Replies come from `responses/` only.
#[allow(clippy::too_many_lines)] // a scenario that reads better whole
#[tokio::test(flavor = "multi_thread")]
async fn member_text_is_never_echoed_back() {
    let bot = TestBot::start(|c| c.discord.auto_reply_channels = vec![AUTO_CHANNEL]).await;
    let engine = bot.engine.clone();
    let topics = topic_texts(&engine);
    let mut n = 0;
    let mut canary = |text: &str| {
        n += 1;
        format!("{text} ibex{n}canary")
    };
    let member = |k: u64| payloads::user(OTHER_USER + 100 + k, &format!("m{k}"), false);
    let mut said: Vec<String> = Vec::new();

    // Messages: auto-reply channel (topic, crisis), mentions (topic, unsure,
    // injection), a DM.
    let auto_topic = canary(topics[0]);
    let auto_crisis = canary(crisis_text(&engine));
    let mention_topic = canary(topics[1]);
    let mention_unsure = canary(unsure_text(&engine));
    let injection = canary(&format!(
        "@everyone @here <@&{MOD_ROLE}> **{}** ```{}``` [link](https://example.com)",
        topics[2], topics[2]
    ));
    let dm_topic = canary(topics[3 % topics.len()]);
    let mark = bot.fake.request_mark();
    for (k, (text, spec)) in [
        (
            &auto_topic,
            MessageSpec::guild(&auto_topic).channel(AUTO_CHANNEL),
        ),
        (
            &auto_crisis,
            MessageSpec::guild(&auto_crisis).channel(AUTO_CHANNEL),
        ),
        (
            &mention_topic,
            MessageSpec::guild(&mention_topic).mentioning_bot(),
        ),
        (
            &mention_unsure,
            MessageSpec::guild(&mention_unsure).mentioning_bot(),
        ),
        (&injection, MessageSpec::guild(&injection).mentioning_bot()),
    ]
    .into_iter()
    .enumerate()
    {
        bot.message(spec.author(member(k as u64))).await;
        said.push(text.clone());
    }
    bot.message(
        MessageSpec::dm(&dm_topic)
            .channel(OTHER_DM_CHANNEL)
            .author(member(9)),
    )
    .await;
    said.push(dm_topic.clone());
    let auto = format!("/channels/{AUTO_CHANNEL}/messages");
    let general = format!("/channels/{}/messages", payloads::CHANNEL_ID);
    bot.fake
        .wait_for_requests_after(mark, 2, |r| r.is("POST", &auto), WAIT)
        .await;
    let in_general = bot
        .fake
        .wait_for_requests_after(mark, 3, |r| r.is("POST", &general), WAIT)
        .await;
    bot.post_in(mark, ALERT_CHANNEL).await;
    bot.post_in(mark, OTHER_DM_CHANNEL).await;

    // A "did you mean" press on the unsure mention's answer.
    let dym = in_general
        .iter()
        .find(|r| button_ids(r).iter().any(|id| id.starts_with("topic:")))
        .expect("a did-you-mean answer");
    let id = button_ids(dym)
        .into_iter()
        .find(|id| id.starts_with("topic:"))
        .unwrap();
    let press = ComponentSpec::button(&id, dym.response.clone());
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::component(&press))
        .await;
    bot.callback(press.interaction.id, &press.interaction.token)
        .await;

    // Commands: /ask public and private, a public crisis /ask, the context
    // menu, and an unknown topic id.
    for (question, public) in [
        (canary(topics[0]), true),
        (canary(topics[1]), false),
        (canary(crisis_text(&engine)), true),
    ] {
        let spec = InteractionSpec::guild("ask")
            .option(payloads::opt_string("question", &question))
            .option(payloads::opt_bool("public", public));
        bot.fake
            .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
            .await;
        bot.callback(spec.id, &spec.token).await;
        said.push(question);
    }
    let target_text = canary(topics[1]);
    let target = MessageSpec::guild(&target_text).author(member(7)).build();
    bot.context_menu(&target).await;
    said.push(target_text);
    let unknown = canary("no-such-topic");
    let spec = InteractionSpec::guild("topic").option(payloads::opt_string("name", &unknown));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    bot.callback(spec.id, &spec.token).await;
    said.push(unknown);
    tokio::time::sleep(QUIET).await;

    let sent: Vec<_> = bot
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET" && !r.body.is_null())
        .collect();
    assert!(sent.len() >= 12, "{} requests", sent.len());
    for r in &sent {
        let body = r.body.to_string();
        assert!(!body.contains("canary"), "echoed: {}", r.summary());
        for text in &said {
            assert!(!body.contains(text.as_str()), "echoed: {}", r.summary());
        }
    }
    bot.shutdown().await;
}

// ----- the watch tier, by place --------------------------------------------------------

const THIRD_USER: u64 = 1_200_000_000_000_000_031;
const FOURTH_USER: u64 = 1_200_000_000_000_000_032;

/// The fake sends interactions with the `en-US` locale.
fn us_locale() -> RegionHints<'static> {
    RegionHints {
        locale: Some("en-US"),
        ..Default::default()
    }
}

/// Someone else's suicide, told as past: the watch tier in every build.
const POSSIBLE: &str = "my brother killed himself two years ago and the anniversary is this week";

fn assert_possible(engine: &boundary_bot::Engine) {
    let c = engine.classify(POSSIBLE);
    assert_eq!(
        c.crisis_tier,
        boundary_bot::classify::CrisisTier::Possible,
        "{c:?}"
    );
    assert_ne!(c.outcome, Outcome::Crisis);
}

/// Where the member asked (DM, @mention, `/ask`, the context menu), a
/// watch-tier message gets the crisis lines with the gentler opening, and
/// the notice; a DM alerts nobody, a mention and the context menu send a
/// "possible" alert without the text.
#[tokio::test(flavor = "multi_thread")]
async fn watch_tier_where_asked_gets_gentle_lines() {
    let bot = TestBot::start(|_| {}).await;
    assert_possible(&bot.engine);
    let library = bot.engine.library();
    let gentle = reply::possible_crisis(library, Default::default());

    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::dm(POSSIBLE)).await;
    let r = bot.post_in(mark, payloads::DM_CHANNEL_ID).await;
    assert_renders(&r, &gentle);
    assert!(
        r.body.to_string().contains(library.notice.trim()),
        "the notice"
    );
    bot.no_post_in(mark, ALERT_CHANNEL).await;

    let mark = bot.fake.request_mark();
    bot.message(
        MessageSpec::guild(POSSIBLE)
            .author(payloads::user(OTHER_USER, "bea", false))
            .mentioning_bot(),
    )
    .await;
    let r = bot.post_in(mark, payloads::CHANNEL_ID).await;
    assert_renders(&r, &gentle);
    let alert = bot.post_in(mark, ALERT_CHANNEL).await;
    let content = alert.content().unwrap().to_string();
    assert!(content.contains("Possible crisis"), "{content}");
    assert!(
        !alert.body.to_string().contains("anniversary"),
        "no text in the alert"
    );

    let spec = InteractionSpec::guild("ask").option(payloads::opt_string("question", POSSIBLE));
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    let r = bot.callback(spec.id, &spec.token).await;
    assert_renders(&r, &reply::possible_crisis(library, us_locale()));
    assert_eq!(flags(&r) & EPHEMERAL, EPHEMERAL, "always private");

    let target = MessageSpec::guild(POSSIBLE)
        .author(payloads::user(THIRD_USER, "cal", false))
        .build();
    let mark = bot.fake.request_mark();
    let r = bot.context_menu(&target).await;
    assert_eq!(flags(&r) & EPHEMERAL, EPHEMERAL);
    assert_renders(&r, &reply::possible_crisis(library, us_locale()));
    let alert = bot.post_in(mark, ALERT_CHANNEL).await;
    assert!(alert
        .content()
        .unwrap()
        .contains(&format!("<@{THIRD_USER}>")));
    assert!(
        !alert.body.to_string().contains("anniversary"),
        "no text in the alert"
    );
    bot.shutdown().await;
}

/// Unprompted, in an auto-reply channel: a crisis message gets the lines in
/// the channel, a watch-tier one posts nothing there and sends a quiet
/// "possible" alert (no text); `/settings watch` can turn that off or make
/// it reply.
#[allow(clippy::too_many_lines)] // a scenario that reads better whole
#[tokio::test(flavor = "multi_thread")]
async fn watch_tier_in_a_public_channel_is_quiet() {
    let bot = TestBot::start(|c| c.discord.auto_reply_channels = vec![AUTO_CHANNEL]).await;
    assert_possible(&bot.engine);
    let library = bot.engine.library();

    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(crisis_text(&bot.engine)).channel(AUTO_CHANNEL))
        .await;
    let r = bot.post_in(mark, AUTO_CHANNEL).await;
    assert_renders(&r, &reply::crisis(library, Default::default()));
    bot.post_in(mark, ALERT_CHANNEL).await;

    let mark = bot.fake.request_mark();
    let m = bot
        .message(
            MessageSpec::guild(POSSIBLE)
                .channel(AUTO_CHANNEL)
                .author(payloads::user(OTHER_USER, "bea", false)),
        )
        .await;
    bot.no_post_in(mark, AUTO_CHANNEL).await;
    let alert = bot.post_in(mark, ALERT_CHANNEL).await;
    let content = alert.content().unwrap().to_string();
    assert!(content.contains("Possible crisis"), "{content}");
    assert!(content.contains("did not reply"), "{content}");
    assert!(
        content.contains(m["id"].as_str().unwrap()),
        "the jump link: {content}"
    );
    assert!(
        !alert.body.to_string().contains("anniversary"),
        "no text in the alert"
    );

    use boundary_bot::store::WatchAction;
    // `/settings watch`: the choice's index (alert 0, reply 1, off 2).
    for (action, replies, alerts) in [
        (WatchAction::Off, false, false),
        (WatchAction::Reply, true, true),
    ] {
        let index = ["alert", "reply", "off"]
            .iter()
            .position(|a| *a == action.as_str())
            .unwrap();
        let spec = InteractionSpec::guild("settings")
            .permissions(perms::MODERATOR)
            .option(payloads::opt_subcommand(
                "watch",
                vec![payloads::opt_int("action", index as i64)],
            ));
        let mark = bot.fake.request_mark();
        bot.fake
            .dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
            .await;
        let path = format!("/webhooks/{}/{}", FakeDiscord::APPLICATION_ID, spec.token);
        let said = match bot.callback(spec.id, &spec.token).await {
            cb if cb.body["type"] == 5 => {
                bot.fake
                    .wait_for_request_after(mark, |r| r.is("POST", &path), WAIT)
                    .await
            }
            cb => cb,
        };
        assert!(
            said.visible_text().contains(action.as_str()),
            "{}",
            said.summary()
        );
        let author = if replies { THIRD_USER } else { FOURTH_USER };
        let mark = bot.fake.request_mark();
        bot.message(
            MessageSpec::guild(POSSIBLE)
                .channel(AUTO_CHANNEL)
                .author(payloads::user(author, "dee", false)),
        )
        .await;
        if replies {
            let r = bot.post_in(mark, AUTO_CHANNEL).await;
            assert_renders(&r, &reply::possible_crisis(library, Default::default()));
        } else {
            bot.no_post_in(mark, AUTO_CHANNEL).await;
        }
        if alerts {
            bot.post_in(mark, ALERT_CHANNEL).await;
        } else {
            bot.no_post_in(mark, ALERT_CHANNEL).await;
        }
    }
    bot.shutdown().await;
}
