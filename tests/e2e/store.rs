//! End to end: moderator pins, persistent state, feedback, opt-out and
//! reload, with the real bot against the fake Discord on 127.0.0.1 and a
//! real SQLite file per test. `TestBot::shutdown` checks that every message
//! the bot sent carries the referral notice and pings nobody.

use std::path::Path;
use std::sync::Arc;

use crate::e2e_support::*;
use crate::fake_discord::payloads::{self, perms, ComponentSpec, InteractionSpec, MessageSpec};
use crate::fake_discord::{FakeDiscord, Recorded};
use boundary_bot::classify::Outcome;
use boundary_bot::reply;
use boundary_bot::store::{Guarded, GuildSettings, SqliteStore, Store, StoreError};

use serde_json::{json, Value};

// ----- helpers ------------------------------------------------------------------------

fn moderator(name: &str) -> InteractionSpec {
    InteractionSpec::guild(name).permissions(perms::MODERATOR)
}

fn pin_spec(topic: &str, channel: u64) -> InteractionSpec {
    moderator("pin")
        .channel(channel)
        .option(payloads::opt_string("topic", topic))
}

/// Pins as seen in the database file (a second connection; WAL allows it).
fn db_pins(path: &Path) -> Vec<(u64, String, u64)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT channel_id, topic, message_id FROM pins ORDER BY channel_id")
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)? as u64,
            r.get(1)?,
            r.get::<_, i64>(2)? as u64,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn db_path(bot: &TestBot) -> std::path::PathBuf {
    bot.config.storage.path.clone()
}

/// The id of the message a POST created.
fn created_id(r: &Recorded) -> u64 {
    crate::fake_discord::parse_id(&r.response["id"]).expect("message id")
}

/// A pinned channel with the topic an unsure text leans to, and that text.
fn unsure_and_its_topic(bot: &TestBot) -> (&'static str, &'static str) {
    let text = unsure_text(&bot.engine);
    let c = bot.engine.classify(text);
    assert_eq!(c.outcome, Outcome::Unsure);
    (text, c.candidates[0].topic)
}

fn guidance(bot: &TestBot, topic: &str) -> reply::Reply {
    let library = bot.engine.library();
    reply::guidance(library, library.topic(topic).unwrap())
}

// ----- pin, unpin, re-pin ----------------------------------------------------------------

/// `/pin` posts the guidance with the notice, pins it and records it;
/// re-pinning replaces the record and unpins the old message; `/pins` lists
/// it with a channel link; `/unpin` unpins and says what was removed.
/// The commands are registered with `default_member_permissions`.
#[allow(clippy::too_many_lines)] // a scenario that reads better whole
#[tokio::test(flavor = "multi_thread")]
async fn pin_unpin_and_repin_with_the_rest_calls() {
    let bot = TestBot::start(|_| {}).await;
    let registered = bot.fake.registered_commands(Some(payloads::GUILD_ID));
    for name in ["pin", "unpin", "pins", "stats", "settings"] {
        let c = registered.iter().find(|c| c["name"] == name).unwrap();
        assert_eq!(
            c["default_member_permissions"],
            json!(perms::MANAGE_MESSAGES.to_string()),
            "{name}"
        );
    }
    let reload = registered.iter().find(|c| c["name"] == "reload").unwrap();
    assert_eq!(
        reload["default_member_permissions"],
        json!(perms::ADMINISTRATOR.to_string())
    );
    let channel_posts = format!("/channels/{AUTO_CHANNEL}/messages");

    // Pin "gifts" in the auto channel (named by the channel option).
    let mark = bot.fake.request_mark();
    let mut spec = moderator("pin")
        .option(payloads::opt_string("topic", "gifts"))
        .option(payloads::opt_channel("channel", AUTO_CHANNEL));
    spec.resolved = json!({"channels": {AUTO_CHANNEL.to_string(): {
        "id": AUTO_CHANNEL.to_string(), "type": 0, "name": "ask-here",
        "permissions": perms::EVERYONE.to_string()}}});
    let done = bot.command(&spec).await;
    assert!(is_ephemeral(&done));
    assert!(
        done.visible_text().contains("Pinned **"),
        "{}",
        done.summary()
    );
    let post = bot.post_in(mark, AUTO_CHANNEL).await;
    assert_renders(&post, &guidance(&bot, "gifts"));
    let first = created_id(&post);
    let pin_path = format!("/channels/{AUTO_CHANNEL}/pins/{first}");
    bot.fake
        .wait_for_request_after(mark, |r| r.is("PUT", &pin_path), WAIT)
        .await;
    assert_eq!(bot.fake.message(first).unwrap()["pinned"], true);
    assert_eq!(
        db_pins(&db_path(&bot)),
        vec![(AUTO_CHANNEL, "gifts".to_string(), first)]
    );

    // Re-pin the same channel with another topic: new message pinned, the
    // old one unpinned, one record.
    let mark = bot.fake.request_mark();
    let done = bot.command(&pin_spec("letters", AUTO_CHANNEL)).await;
    assert!(
        done.visible_text().contains("replaces"),
        "{}",
        done.summary()
    );
    let post = bot.post_in(mark, AUTO_CHANNEL).await;
    assert_renders(&post, &guidance(&bot, "letters"));
    let second = created_id(&post);
    let new_pin = format!("/channels/{AUTO_CHANNEL}/pins/{second}");
    bot.fake
        .wait_for_request_after(mark, |r| r.is("PUT", &new_pin), WAIT)
        .await;
    bot.fake
        .wait_for_request_after(mark, |r| r.is("DELETE", &pin_path), WAIT)
        .await;
    assert_eq!(bot.fake.message(first).unwrap()["pinned"], false);
    assert_eq!(
        db_pins(&db_path(&bot)),
        vec![(AUTO_CHANNEL, "letters".to_string(), second)]
    );

    // /pins lists it with a channel link.
    let list = bot.command(&moderator("pins")).await;
    let text = list.visible_text();
    assert!(text.contains(&format!("<#{AUTO_CHANNEL}>")), "{text}");
    assert!(text.contains("`letters`"), "{text}");

    // /unpin: the message unpinned, the record gone, and it says what.
    let mark = bot.fake.request_mark();
    let done = bot.command(&moderator("unpin").channel(AUTO_CHANNEL)).await;
    let title = bot.engine.library().topic("letters").unwrap().title.clone();
    assert!(
        done.visible_text()
            .contains(&format!("Unpinned **{title}**")),
        "{}",
        done.summary()
    );
    bot.fake
        .wait_for_request_after(mark, |r| r.is("DELETE", &new_pin), WAIT)
        .await;
    assert!(db_pins(&db_path(&bot)).is_empty());
    // Nothing else was posted in the channel by /unpin.
    assert_eq!(
        bot.count_after(mark, |r| r.is("POST", &channel_posts))
            .await,
        0
    );

    // /unpin again: nothing to unpin, nothing changes.
    let mark = bot.fake.request_mark();
    let done = bot.command(&moderator("unpin").channel(AUTO_CHANNEL)).await;
    assert!(done.visible_text().contains("No topic is pinned"));
    assert_eq!(
        bot.count_after(mark, |r| r.is_under("DELETE", "/channels/"))
            .await,
        0
    );
    bot.shutdown().await;
}

// ----- refusals ----------------------------------------------------------------------------

/// A member without Manage Messages gets a polite ephemeral refusal and
/// nothing changes, even though Discord delivered the command (an owner can
/// override `default_member_permissions`). A role in `moderator_roles` is
/// enough; a refused Delete button and /reload from a non-operator too.
#[tokio::test(flavor = "multi_thread")]
async fn members_without_rights_are_refused_and_nothing_changes() {
    let bot = TestBot::start(|c| c.discord.moderator_roles = vec![MOD_ROLE]).await;
    let mark = bot.fake.request_mark();
    for (name, options) in [
        ("pin", vec![payloads::opt_string("topic", "gifts")]),
        ("unpin", vec![]),
        ("pins", vec![]),
        ("stats", vec![]),
        (
            "settings",
            vec![payloads::opt_subcommand(
                "auto-reply",
                vec![payloads::opt_int("state", 1)],
            )],
        ),
        (
            "settings",
            vec![payloads::opt_subcommand(
                "cooldown",
                vec![payloads::opt_int("minutes", 1)],
            )],
        ),
        ("settings", vec![payloads::opt_subcommand("show", vec![])]),
    ] {
        let mut spec = InteractionSpec::guild(name).permissions(perms::MEMBER);
        spec.options = options;
        let r = bot.command(&spec).await;
        assert_eq!(r.body["type"], 4, "answered at once: {}", r.summary());
        assert!(is_ephemeral(&r));
        assert!(
            r.visible_text().contains("only moderators"),
            "{name}: {}",
            r.summary()
        );
    }
    // A moderator command sent from a direct message: told where it works.
    for name in ["pins", "stats"] {
        let dm = bot
            .command(&InteractionSpec::guild(name).in_guild(None))
            .await;
        assert!(is_ephemeral(&dm), "{name} in a DM: {}", dm.summary());
        assert!(
            dm.visible_text().contains("works in a server channel"),
            "{name} in a DM: {}",
            dm.summary()
        );
    }
    let reload = bot
        .command(&InteractionSpec::guild("reload").permissions(perms::MEMBER))
        .await;
    assert!(reload.visible_text().contains("only the bot's owner"));
    // Manage Messages is not enough for /reload: it needs an administrator
    // of the home server (or the application's owner).
    let reload = bot
        .command(&InteractionSpec::guild("reload").permissions(perms::MODERATOR))
        .await;
    assert!(reload.visible_text().contains("only the bot's owner"));
    // Nothing was posted, pinned or stored.
    let changed = bot
        .count_after(mark, |r| {
            r.is_under("POST", "/channels/") || r.is_under("PUT", "/channels/")
        })
        .await;
    assert_eq!(changed, 0);
    assert!(db_pins(&db_path(&bot)).is_empty());
    let store = SqliteStore::open(&db_path(&bot)).unwrap();
    assert_eq!(
        store.settings(payloads::GUILD_ID).unwrap(),
        GuildSettings::default()
    );

    // A member with a moderator role (no Manage Messages) may pin.
    let mut spec = pin_spec("gifts", payloads::CHANNEL_ID).permissions(perms::MEMBER);
    spec.member_roles = vec![MOD_ROLE];
    let done = bot.command(&spec).await;
    assert!(done.visible_text().contains("Pinned"), "{}", done.summary());
    assert_eq!(db_pins(&db_path(&bot)).len(), 1);
    bot.shutdown().await;
}

// ----- a pinned channel ------------------------------------------------------------------

/// In a pinned channel: an unsure message leaning to the pinned topic gets
/// its guidance; a message clearly about another topic gets that topic;
/// chatter gets nothing; crisis gets the crisis reply. Public replies carry
/// "Delete" for the member replied to.
#[tokio::test(flavor = "multi_thread")]
async fn a_pinned_channel_favours_its_topic() {
    let bot = TestBot::start(|c| c.discord.message_content = true).await;
    let (unsure, leaning) = unsure_and_its_topic(&bot);
    bot.command(&pin_spec(leaning, payloads::CHANNEL_ID)).await;

    // Favoured: below the threshold, yet answered with the pinned topic.
    let mark = bot.fake.request_mark();
    let m = bot.message(MessageSpec::guild(unsure)).await;
    let r = bot.post_in(mark, payloads::CHANNEL_ID).await;
    assert_renders(&r, &guidance(&bot, leaning));
    assert_eq!(r.body["message_reference"]["message_id"], m["id"]);
    assert_eq!(
        button_ids(&r),
        vec![
            format!("fb:helpful:{leaning}"),
            format!("fb:not-asked:{leaning}"),
            format!("fb:delete:{leaning}:{}", payloads::USER_ID),
        ]
    );

    // Clearly another topic: that topic.
    let other = topic_texts(&bot.engine)
        .into_iter()
        .find(|t| bot.engine.classify(t).topic() != Some(leaning))
        .unwrap();
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(other).author(payloads::user(OTHER_USER, "bea", false)))
        .await;
    let r = bot.post_in(mark, payloads::CHANNEL_ID).await;
    assert_renders(&r, &bot.expected(other));

    // Chatter: nothing.
    let mark = bot.fake.request_mark();
    for text in chatter_texts(&bot.engine) {
        bot.message(MessageSpec::guild(text).author(payloads::user(OTHER_USER + 1, "cai", false)))
            .await;
    }
    bot.no_post_in(mark, payloads::CHANNEL_ID).await;

    // Crisis: always.
    let mark = bot.fake.request_mark();
    bot.message(
        MessageSpec::guild(crisis_text(&bot.engine)).author(payloads::user(
            OTHER_USER + 2,
            "dee",
            false,
        )),
    )
    .await;
    let r = bot.post_in(mark, payloads::CHANNEL_ID).await;
    assert_renders(&r, &reply::crisis(bot.engine.library(), Default::default()));

    // The same unsure text in a channel that is not pinned: silence.
    let mark = bot.fake.request_mark();
    bot.message(
        MessageSpec::guild(unsure)
            .channel(AUTO_CHANNEL)
            .author(payloads::user(OTHER_USER + 3, "eli", false)),
    )
    .await;
    bot.no_post_in(mark, AUTO_CHANNEL).await;
    bot.shutdown().await;
}

// ----- feedback and /stats -----------------------------------------------------------

/// Feedback buttons update the counts (once per member and button);
/// forged ids get a polite ephemeral error and change nothing; "Delete"
/// works for the member replied to and not for others; `/stats` shows the
/// counts and the "did you mean" share.
#[allow(clippy::too_many_lines)] // a scenario that reads better whole
#[tokio::test(flavor = "multi_thread")]
async fn feedback_buttons_update_counts_and_stats_show_them() {
    let bot = TestBot::start(|c| c.discord.auto_reply_channels = vec![AUTO_CHANNEL]).await;
    let text = topic_text(&bot.engine);
    let topic = bot.engine.classify(text).topic().unwrap();

    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(text).channel(AUTO_CHANNEL))
        .await;
    let r = bot.post_in(mark, AUTO_CHANNEL).await;
    let ids = button_ids(&r);
    assert_eq!(ids.len(), 3, "{ids:?}");
    let press = |id: &str, user: u64, permissions: u64| {
        let mut p = ComponentSpec::button(id, r.response.clone());
        p.interaction = p
            .interaction
            .clone()
            .user(user, "someone")
            .permissions(permissions);
        p.interaction.channel_id = AUTO_CHANNEL;
        p
    };

    // Helpful, twice by the same member (counted once), and by another.
    let cb = press_button(&bot, press(&ids[0], payloads::USER_ID, perms::MEMBER)).await;
    assert!(is_ephemeral(&cb));
    assert!(cb.visible_text().contains("Thank you"));
    let cb = press_button(&bot, press(&ids[0], payloads::USER_ID, perms::MEMBER)).await;
    assert!(cb.visible_text().contains("already"));
    press_button(&bot, press(&ids[0], OTHER_USER, perms::MEMBER)).await;
    press_button(&bot, press(&ids[1], OTHER_USER, perms::MEMBER)).await;

    // Forged: an unknown kind, a bad topic, and a well-formed id that is not
    // on this message.
    for forged in [
        "fb:boost:gifts".to_string(),
        "fb:helpful:../../admin".to_string(),
        format!(
            "fb:helpful:{}",
            if topic == "letters" {
                "gifts"
            } else {
                "letters"
            }
        ),
        format!("fb:delete:{topic}:{OTHER_USER}"),
    ] {
        let cb = press_button(&bot, press(&forged, OTHER_USER, perms::MEMBER)).await;
        assert!(is_ephemeral(&cb));
        assert!(
            cb.visible_text().starts_with("Unknown button"),
            "{}",
            cb.summary()
        );
        assert!(!cb.body.to_string().contains("admin"));
    }

    // "Did you mean" press: counts a reply reached through it.
    let unsure = unsure_text(&bot.engine);
    let mark = bot.fake.request_mark();
    bot.message(
        MessageSpec::guild(unsure)
            .mentioning_bot()
            .author(payloads::user(OTHER_USER, "bea", false)),
    )
    .await;
    let dym = bot.post_in(mark, payloads::CHANNEL_ID).await;
    let dym_id = button_ids(&dym)[0].clone();
    let dym_topic = dym_id.strip_prefix("topic:").unwrap().to_string();
    let p = ComponentSpec::button(&dym_id, dym.response.clone());
    press_button(&bot, p).await;

    let store = SqliteStore::open(&db_path(&bot)).unwrap();
    let stats = store.stats(payloads::GUILD_ID, 0).unwrap();
    let of = |t: &str| {
        stats
            .iter()
            .find(|s| s.topic == t)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        (of(topic).replies, of(topic).helpful, of(topic).not_helpful),
        (1, 2, 1)
    );
    assert!(of(&dym_topic).did_you_mean >= 1);

    // /stats shows it.
    let s = bot.command(&moderator("stats")).await;
    let shown = s.visible_text();
    let title = &bot.engine.library().topic(topic).unwrap().title;
    assert!(
        shown.contains(&format!(
            "**{title}**: 1 replies, 2 helpful, 1 not what they asked, 0% via \"did you mean\""
        )),
        "{shown}"
    );
    assert!(shown.contains("last 7 days | last 30 days"), "{shown}");
    assert!(shown.contains("100% via \"did you mean\""), "{shown}");

    // Delete: refused for another member, done for the member replied to.
    let path = format!("/channels/{AUTO_CHANNEL}/messages/{}", created_id(&r));
    let mark = bot.fake.request_mark();
    let cb = press_button(&bot, press(&ids[2], OTHER_USER, perms::MEMBER)).await;
    assert!(cb.visible_text().contains("only the member"));
    assert_eq!(bot.count_after(mark, |r| r.is("DELETE", &path)).await, 0);
    let cb = press_button(&bot, press(&ids[2], payloads::USER_ID, perms::MEMBER)).await;
    assert!(cb.visible_text().contains("Deleted"));
    bot.fake
        .wait_for_request_after(mark, |r| r.is("DELETE", &path), WAIT)
        .await;
    bot.shutdown().await;
}

async fn press_button(bot: &TestBot, p: ComponentSpec) -> Recorded {
    let (id, token) = (p.interaction.id, p.interaction.token.clone());
    bot.fake
        .dispatch("INTERACTION_CREATE", payloads::component(&p))
        .await;
    bot.callback(id, &token).await
}

// ----- opt-out ---------------------------------------------------------------------------

/// `/optout` stops unprompted replies to the member (not crisis, not /ask,
/// not mentions); `/optin` restarts them.
#[tokio::test(flavor = "multi_thread")]
async fn opt_out_and_back_in() {
    let bot = TestBot::start(|c| {
        c.discord.auto_reply_channels = vec![AUTO_CHANNEL];
        c.discord.topic_cooldown_minutes = 0;
    })
    .await;
    let texts = topic_texts(&bot.engine);
    let r = bot.command(&InteractionSpec::guild("optout")).await;
    assert!(is_ephemeral(&r));
    assert!(r.visible_text().contains("won't reply"));

    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(texts[0]).channel(AUTO_CHANNEL))
        .await;
    bot.no_post_in(mark, AUTO_CHANNEL).await;

    // A mention is a question: answered.
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(texts[1]).mentioning_bot())
        .await;
    bot.post_in(mark, payloads::CHANNEL_ID).await;
    // /ask works.
    let spec = InteractionSpec::guild("ask").option(payloads::opt_string("question", texts[0]));
    let r = bot.command(&spec).await;
    assert_renders(&r, &bot.expected(texts[0]));
    // Crisis is never suppressed.
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(crisis_text(&bot.engine)).channel(AUTO_CHANNEL))
        .await;
    let r = bot.post_in(mark, AUTO_CHANNEL).await;
    assert_renders(&r, &reply::crisis(bot.engine.library(), Default::default()));

    bot.command(&InteractionSpec::guild("optin")).await;
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(texts[0]).channel(AUTO_CHANNEL))
        .await;
    let r = bot.post_in(mark, AUTO_CHANNEL).await;
    assert_renders(&r, &bot.expected(texts[0]));
    bot.shutdown().await;
}

/// `/settings auto-reply off` silences unprompted topic replies in the
/// guild (crisis still answered); `/settings cooldown` is shown and stored.
#[tokio::test(flavor = "multi_thread")]
async fn settings_auto_reply_off_and_cooldown() {
    let bot = TestBot::start(|c| c.discord.auto_reply_channels = vec![AUTO_CHANNEL]).await;
    let text = topic_text(&bot.engine);
    let off = moderator("settings").option(payloads::opt_subcommand(
        "auto-reply",
        vec![payloads::opt_int("state", 1)],
    ));
    let r = bot.command(&off).await;
    assert!(
        r.visible_text().contains("Auto-replies: off"),
        "{}",
        r.summary()
    );
    let cd = moderator("settings").option(payloads::opt_subcommand(
        "cooldown",
        vec![payloads::opt_int("minutes", 7)],
    ));
    let r = bot.command(&cd).await;
    assert!(r.visible_text().contains("7 minutes"), "{}", r.summary());

    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(text).channel(AUTO_CHANNEL))
        .await;
    bot.no_post_in(mark, AUTO_CHANNEL).await;
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(crisis_text(&bot.engine)).channel(AUTO_CHANNEL))
        .await;
    bot.post_in(mark, AUTO_CHANNEL).await;

    let store = SqliteStore::open(&db_path(&bot)).unwrap();
    assert_eq!(
        store.settings(payloads::GUILD_ID).unwrap(),
        GuildSettings {
            auto_reply: Some(false),
            topic_cooldown_minutes: Some(7),
            ..Default::default()
        }
    );
    bot.shutdown().await;
}

// ----- lifecycle --------------------------------------------------------------------------

/// MESSAGE_DELETE of the pinned message, CHANNEL_PINS_UPDATE after a person
/// unpinned it (and not when it is still pinned), CHANNEL_DELETE, and
/// GUILD_DELETE (removed, not an outage) each clean up the records.
#[allow(clippy::too_many_lines)] // a scenario that reads better whole
#[tokio::test(flavor = "multi_thread")]
async fn deletion_events_clean_up_records() {
    let bot = TestBot::start(|_| {}).await;
    let db = db_path(&bot);
    let pinned_message = |channel: u64| {
        db_pins(&db)
            .into_iter()
            .find(|p| p.0 == channel)
            .map(|p| p.2)
    };
    let settle = || tokio::time::sleep(QUIET);

    // MESSAGE_DELETE of another message: kept; of the pinned one: removed.
    bot.command(&pin_spec("gifts", payloads::CHANNEL_ID)).await;
    let m = pinned_message(payloads::CHANNEL_ID).unwrap();
    bot.fake
        .dispatch(
            "MESSAGE_DELETE",
            payloads::message_delete(
                payloads::next_id(),
                payloads::CHANNEL_ID,
                Some(payloads::GUILD_ID),
            ),
        )
        .await;
    settle().await;
    assert_eq!(pinned_message(payloads::CHANNEL_ID), Some(m));
    bot.fake
        .dispatch(
            "MESSAGE_DELETE",
            payloads::message_delete(m, payloads::CHANNEL_ID, Some(payloads::GUILD_ID)),
        )
        .await;
    settle().await;
    assert_eq!(pinned_message(payloads::CHANNEL_ID), None);

    // CHANNEL_PINS_UPDATE while still pinned: kept; after a person unpinned
    // it: the bot checks the pins and removes the record.
    bot.command(&pin_spec("gifts", payloads::CHANNEL_ID)).await;
    let m = pinned_message(payloads::CHANNEL_ID).unwrap();
    let pins_path = format!("/channels/{}/pins", payloads::CHANNEL_ID);
    let mark = bot.fake.request_mark();
    let update = payloads::channel_pins_update(
        payloads::CHANNEL_ID,
        Some(payloads::GUILD_ID),
        Some(payloads::FIXED_TIMESTAMP),
    );
    bot.fake
        .dispatch("CHANNEL_PINS_UPDATE", update.clone())
        .await;
    bot.fake
        .wait_for_request_after(mark, |r| r.is("GET", &pins_path), WAIT)
        .await;
    settle().await;
    assert_eq!(pinned_message(payloads::CHANNEL_ID), Some(m));
    let mut message: Value = bot.fake.message(m).unwrap();
    message["pinned"] = json!(false);
    bot.fake.put_message(message);
    let mark = bot.fake.request_mark();
    bot.fake
        .dispatch(
            "CHANNEL_PINS_UPDATE",
            payloads::channel_pins_update(payloads::CHANNEL_ID, Some(payloads::GUILD_ID), None),
        )
        .await;
    bot.fake
        .wait_for_request_after(mark, |r| r.is("GET", &pins_path), WAIT)
        .await;
    settle().await;
    assert_eq!(pinned_message(payloads::CHANNEL_ID), None);

    // CHANNEL_DELETE.
    bot.command(&pin_spec("gifts", AUTO_CHANNEL)).await;
    bot.command(&pin_spec("letters", payloads::CHANNEL_ID))
        .await;
    assert_eq!(db_pins(&db).len(), 2);
    bot.fake
        .dispatch(
            "CHANNEL_DELETE",
            payloads::channel_delete(AUTO_CHANNEL, payloads::GUILD_ID, "ask-here"),
        )
        .await;
    settle().await;
    assert_eq!(pinned_message(AUTO_CHANNEL), None);
    assert!(pinned_message(payloads::CHANNEL_ID).is_some());

    // GUILD_DELETE: an outage keeps everything; removal clears the guild.
    let store = SqliteStore::open(&db).unwrap();
    store
        .put_settings(
            payloads::GUILD_ID,
            &GuildSettings {
                auto_reply: Some(false),
                topic_cooldown_minutes: None,
                ..Default::default()
            },
        )
        .unwrap();
    bot.fake
        .dispatch(
            "GUILD_DELETE",
            payloads::guild_delete(payloads::GUILD_ID, true),
        )
        .await;
    settle().await;
    assert_eq!(db_pins(&db).len(), 1);
    bot.fake
        .dispatch(
            "GUILD_DELETE",
            payloads::guild_delete(payloads::GUILD_ID, false),
        )
        .await;
    settle().await;
    assert!(db_pins(&db).is_empty());
    assert_eq!(
        store.settings(payloads::GUILD_ID).unwrap(),
        GuildSettings::default()
    );
    bot.shutdown().await;
}

// ----- failed writes ----------------------------------------------------------------------

/// A failed write: the moderator is told, and the posted message is
/// unpinned and deleted again, so no half state is left.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_write_is_reported_and_undone() {
    let bot = TestBot::start_with(
        |_| {},
        |c| {
            // Pin writes fail (a full disk, say); everything else works.
            let s = SqliteStore::open(&c.storage.path).unwrap();
            let failing_pins = Guarded::new(s, |method| match method {
                "put_pin" => Err(StoreError::failed("disk I/O error")),
                _ => Ok(()),
            });
            Some(Arc::new(failing_pins) as Arc<dyn Store>)
        },
    )
    .await;
    let mark = bot.fake.request_mark();
    let done = bot.command(&pin_spec("gifts", payloads::CHANNEL_ID)).await;
    assert!(
        done.visible_text().contains("couldn't save the pin"),
        "{}",
        done.summary()
    );
    assert!(
        !done.visible_text().contains("disk I/O"),
        "no internals shown"
    );
    let post = bot.post_in(mark, payloads::CHANNEL_ID).await;
    let m = created_id(&post);
    let pin = format!("/channels/{}/pins/{m}", payloads::CHANNEL_ID);
    let message = format!("/channels/{}/messages/{m}", payloads::CHANNEL_ID);
    for (method, path) in [("PUT", &pin), ("DELETE", &pin), ("DELETE", &message)] {
        bot.fake
            .wait_for_request_after(mark, |r| r.is(method, path), WAIT)
            .await;
    }
    assert!(bot.fake.message(m).is_none(), "the message is gone");
    assert!(db_pins(&db_path(&bot)).is_empty());
    bot.shutdown().await;
}

/// Another process holds the database's write lock: each write retries
/// for the store's busy timeout, then the member or moderator is told
/// politely that the database is busy and nothing changed (a `/pin` takes
/// its message down again). Other events are answered meanwhile, the file
/// stays consistent, and once the lock is free the same commands work.
#[tokio::test(flavor = "multi_thread")]
async fn a_locked_database_gets_a_polite_busy_answer_and_changes_nothing() {
    let bot = TestBot::start(|c| c.discord.auto_reply_channels = vec![AUTO_CHANNEL]).await;
    let db = db_path(&bot);
    let locker = rusqlite::Connection::open(&db).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let busy = |r: &Recorded| {
        let text = r.visible_text();
        assert!(
            text.contains("database is busy") && text.contains("Nothing was changed"),
            "{}",
            r.summary()
        );
        assert!(is_ephemeral(r), "{}", r.summary());
        assert!(!text.contains("locked by another"), "no internals shown");
    };

    busy(&bot.command(&InteractionSpec::guild("optout")).await);
    let settings = || {
        moderator("settings").option(payloads::opt_subcommand(
            "cooldown",
            vec![payloads::opt_int("minutes", 9)],
        ))
    };
    busy(&bot.command(&settings()).await);
    let mark = bot.fake.request_mark();
    let done = bot.command(&pin_spec("gifts", payloads::CHANNEL_ID)).await;
    busy(&done);
    let m = created_id(&bot.post_in(mark, payloads::CHANNEL_ID).await);
    let message = format!("/channels/{}/messages/{m}", payloads::CHANNEL_ID);
    bot.fake
        .wait_for_request_after(mark, |r| r.is("DELETE", &message), WAIT)
        .await;

    // Meanwhile members are answered: reads work while another connection
    // writes (WAL), and a waiting write never holds up other events.
    let text = topic_text(&bot.engine);
    let mark = bot.fake.request_mark();
    bot.message(
        MessageSpec::dm(text)
            .channel(OTHER_DM_CHANNEL)
            .author(payloads::user(OTHER_USER, "bea", false)),
    )
    .await;
    let r = bot.post_in(mark, OTHER_DM_CHANNEL).await;
    assert_renders(&r, &bot.expected(text));
    // "Helpful" on it: thanked, but not counted, so not remembered either.
    let helpful = button_ids(&r)[0].clone();
    let press = || {
        let mut p = ComponentSpec::button(&helpful, r.response.clone());
        p.interaction.guild_id = None;
        p.interaction.member_permissions = None;
        p
    };
    let cb = press_button(&bot, press()).await;
    assert!(cb.visible_text().contains("Thank you!"), "{}", cb.summary());
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(crisis_text(&bot.engine)).channel(AUTO_CHANNEL))
        .await;
    let r = bot.post_in(mark, AUTO_CHANNEL).await;
    assert_renders(&r, &reply::crisis(bot.engine.library(), Default::default()));

    locker.execute_batch("ROLLBACK").unwrap();
    let check: String = locker
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert!(db_pins(&db).is_empty(), "no pin recorded");
    let store = SqliteStore::open(&db).unwrap();
    assert!(!store.opted_out(payloads::USER_ID).unwrap());
    assert_eq!(
        store.settings(payloads::GUILD_ID).unwrap(),
        GuildSettings::default()
    );

    // The lock is gone: the same commands work.
    let r = bot.command(&InteractionSpec::guild("optout")).await;
    assert!(r.visible_text().contains("won't reply"), "{}", r.summary());
    assert!(bot
        .command(&settings())
        .await
        .visible_text()
        .contains("9 minutes"));
    assert!(store.opted_out(payloads::USER_ID).unwrap());
    // The member's second press counts (the failed one was forgotten).
    let cb = press_button(&bot, press()).await;
    assert!(cb.visible_text().contains("Thank you!"), "{}", cb.summary());
    let helpful_count: u64 = store.stats(0, 0).unwrap().iter().map(|s| s.helpful).sum();
    assert_eq!(helpful_count, 1);
    bot.shutdown().await;
}

// ----- reload ------------------------------------------------------------------------------

fn copy_responses(to: &Path) {
    crate::copy_tree::copy_tree(&responses_dir(), to);
}

/// `/reload` with a broken file shows the error and keeps the old content
/// live; once fixed, the new content is served. Only the owner (or an
/// administrator of the home guild) may reload.
#[tokio::test(flavor = "multi_thread")]
async fn reload_with_a_broken_file_keeps_the_old_content() {
    let content = tempfile::tempdir().unwrap();
    let responses = content.path().join("responses");
    copy_responses(&responses);
    let bot = TestBot::start(|c| c.responses_dir = responses.clone()).await;
    bot.fake
        .wait_for_request(|r| r.is_under("GET", "/oauth2/applications/@me"), WAIT)
        .await;
    let text = topic_text(&bot.engine);
    let topic = bot.engine.classify(text).topic().unwrap();
    let owner = || InteractionSpec::dm("reload").user(FakeDiscord::APP_OWNER_ID, "app-owner");

    // Break gifts.toml (or whichever file holds the topic): an unknown key.
    let file = responses.join(format!("{topic}.toml"));
    let good = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("colour = \"red\"\n{good}")).unwrap();
    let r = bot.command(&owner()).await;
    let shown = r.visible_text();
    assert!(shown.contains("old content stays live"), "{shown}");
    assert!(shown.contains(&format!("{topic}.toml")), "{shown}");
    // The old content is still served.
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::dm(text)).await;
    let reply = bot.post_in(mark, payloads::DM_CHANNEL_ID).await;
    assert_renders(&reply, &bot.expected(text));

    // Fixed, with a new title: reloaded and served.
    let old_title = bot.engine.library().topic(topic).unwrap().title.clone();
    let new_title = write_retitled(&file, &good, &old_title);
    assert!(std::fs::read_to_string(&file).unwrap().contains(&new_title));
    let r = bot.command(&owner()).await;
    assert!(
        r.visible_text().contains("Reloaded: 17 topics"),
        "{}",
        r.summary()
    );
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::dm(text).id(payloads::next_id()))
        .await;
    let reply = bot.post_in(mark, payloads::DM_CHANNEL_ID).await;
    assert_eq!(reply.embeds()[0]["title"], json!(new_title));

    // An administrator of the home guild may reload too; of another guild not.
    let admin = InteractionSpec::guild("reload").permissions(perms::ADMINISTRATOR | perms::MEMBER);
    assert!(bot
        .command(&admin)
        .await
        .visible_text()
        .contains("Reloaded"));
    let elsewhere = InteractionSpec::guild("reload")
        .permissions(perms::ADMINISTRATOR | perms::MEMBER)
        .in_guild(Some(payloads::GUILD_ID + 77));
    assert!(bot
        .command(&elsewhere)
        .await
        .visible_text()
        .contains("only the bot's owner"));
    bot.shutdown().await;
}

// ----- no database reads per message -------------------------------------------------------

const OPTED_OUT_USER: u64 = 1_200_000_000_000_000_041;
const OTHER_MEMBERS: u64 = 1_200_000_000_000_000_050;

/// Messages in an auto-reply channel and a pinned channel, from a member
/// who opted out and from others, make no database call: pins, settings
/// and opt-outs are read from memory. The only call is the feedback count
/// of each topic reply sent.
#[tokio::test(flavor = "multi_thread")]
async fn messages_in_watched_channels_make_no_database_reads() {
    let calls = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::new()));
    let counted = calls.clone();
    let bot = TestBot::start_with(
        |c| c.discord.auto_reply_channels = vec![AUTO_CHANNEL],
        move |c| {
            // Counts the calls reaching SQLite, by method.
            let inner = SqliteStore::open(&c.storage.path).unwrap();
            let counting = Guarded::new(inner, move |method| {
                *counted.lock().unwrap().entry(method).or_default() += 1;
                Ok(())
            });
            Some(Arc::new(counting) as Arc<dyn Store>)
        },
    )
    .await;
    bot.command(&pin_spec("gifts", payloads::CHANNEL_ID)).await;
    bot.command(&InteractionSpec::guild("optout").user(OPTED_OUT_USER, "cal"))
        .await;
    let before = calls.lock().unwrap().clone();
    assert_eq!(before.get("snapshot"), Some(&1), "one load at start-up");

    let engine = bot.engine.clone();
    let topic = topic_text(&engine);
    for (i, text) in chatter_texts(&engine).iter().enumerate().take(10) {
        for channel in [AUTO_CHANNEL, payloads::CHANNEL_ID] {
            let author = payloads::user(OTHER_MEMBERS + i as u64, "member", false);
            bot.message(MessageSpec::guild(text).channel(channel).author(author))
                .await;
        }
    }
    let unsure = unsure_text(&engine);
    bot.message(MessageSpec::guild(unsure).channel(AUTO_CHANNEL))
        .await;
    let opted_out = payloads::user(OPTED_OUT_USER, "cal", false);
    bot.message(
        MessageSpec::guild(topic)
            .channel(AUTO_CHANNEL)
            .author(opted_out),
    )
    .await;
    let mark = bot.fake.request_mark();
    bot.message(MessageSpec::guild(topic).channel(AUTO_CHANNEL))
        .await;
    bot.post_in(mark, AUTO_CHANNEL).await;
    tokio::time::sleep(QUIET).await;

    let after = calls.lock().unwrap().clone();
    let mut added: Vec<(&str, usize)> = after
        .iter()
        .map(|(k, v)| (*k, v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    added.sort();
    assert_eq!(added, vec![("count", 1)], "only the topic reply's count");
    bot.shutdown().await;
}
