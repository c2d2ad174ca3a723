//! `boundary-bot run` as a real process against the fake Discord on
//! 127.0.0.1, with its SQLite file in a temp dir:
//!
//! * killed with SIGKILL (no graceful stop) right after a `/pin`, a new
//!   process on the same file still honours the pin, the settings, the
//!   opt-out and the feedback counts;
//! * after that traffic no table (and no byte of the database files) holds
//!   message text;
//! * an unwritable or damaged database path is a clear error at start-up,
//!   and the file is left untouched;
//! * SIGHUP reloads the content; a broken file keeps the old content live.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::e2e_support::*;
use crate::fake_discord::payloads::{self, perms, ComponentSpec, InteractionSpec, MessageSpec};
use crate::fake_discord::{FakeDiscord, Recorded};
use boundary_bot::content::TOPIC_IDS;

const BIN: &str = env!("CARGO_BIN_EXE_boundary-bot");
const CANARY: &str = "walrus-canary";

/// `boundary-bot run --config CONFIG` with the test token.
fn spawn_bot(config: &Path) -> BotProcess {
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--config", config.to_str().unwrap()])
        .env("DISCORD_TOKEN", TOKEN)
        .env("RUST_LOG", "info");
    BotProcess::spawn(cmd)
}

fn write_config(dir: &Path, fake: &FakeDiscord, responses: &Path, db: &str) -> PathBuf {
    let text = format!(
        "responses_dir = {responses:?}\n\
         [discord]\n\
         api_base = {:?}\n\
         dev_guild = {}\n\
         auto_reply_channels = [{AUTO_CHANNEL}]\n\
         [storage]\n\
         path = {db:?}\n",
        fake.api_base(),
        payloads::GUILD_ID,
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Waits for the `n`th READY and the command registration after `mark`,
/// then announces the guild.
async fn connected(fake: &FakeDiscord, n: usize, mark: usize) {
    fake.wait_gateway(|s| s.ready_count >= n && s.live, WAIT)
        .await;
    let path = commands_path(Some(payloads::GUILD_ID));
    fake.wait_for_request_after(mark, |r| r.is("PUT", &path), WAIT)
        .await;
    fake.dispatch("GUILD_CREATE", guild()).await;
}

/// A slash command; returns the callback, or the follow-up after a defer.
async fn command(fake: &FakeDiscord, spec: &InteractionSpec) -> Recorded {
    interaction_answer(fake, spec, payloads::slash_command(spec)).await
}

async fn post_in(fake: &FakeDiscord, mark: usize, channel: u64) -> Recorded {
    let path = format!("/channels/{channel}/messages");
    fake.wait_for_request_after(mark, |r| r.is("POST", &path), WAIT)
        .await
}

/// Every text value in every table of the database.
fn all_text_values(db: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(tables.len() >= 4, "{tables:?}");
    let mut out = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                if let rusqlite::types::ValueRef::Text(t) = row.get_ref(i).unwrap() {
                    out.push((table.clone(), String::from_utf8_lossy(t).into_owned()));
                }
            }
        }
    }
    out
}

/// Pin, settings, opt-out and counts survive a SIGKILL right after `/pin`;
/// no table holds message text afterwards.
#[allow(clippy::too_many_lines)] // a scenario that reads better whole
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_bot_restarts_with_its_pins_settings_opt_outs_and_counts() {
    let fake = FakeDiscord::start().await;
    fake.require_token(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &fake, &responses_dir(), "state.sqlite3");
    let db = dir.path().join("state.sqlite3");
    let engine = engine();
    let mut sent_texts: Vec<String> = Vec::new();

    let mut first = spawn_bot(&config);
    connected(&fake, 1, 0).await;

    // Traffic: a question by mention (with a canary), feedback on the reply.
    let question = format!("{} {CANARY}", topic_text(&engine));
    let topic = engine.classify(&question).topic().expect("still a topic");
    let mark = fake.request_mark();
    fake.dispatch(
        "MESSAGE_CREATE",
        MessageSpec::guild(&question)
            .mentioning_bot()
            .author(payloads::user(OTHER_USER, "bea", false))
            .build(),
    )
    .await;
    let reply = post_in(&fake, mark, payloads::CHANNEL_ID).await;
    sent_texts.push(question.clone());
    let helpful = button_ids(&reply)[0].clone();
    assert_eq!(helpful, format!("fb:helpful:{topic}"));
    let press = ComponentSpec::button(&helpful, reply.response.clone());
    let path = format!(
        "/interactions/{}/{}/callback",
        press.interaction.id, press.interaction.token
    );
    fake.dispatch("INTERACTION_CREATE", payloads::component(&press))
        .await;
    fake.wait_for_request(|r| r.is("POST", &path), WAIT).await;
    // A crisis message (never stored against the member).
    let crisis = crisis_text(&engine);
    let mark = fake.request_mark();
    fake.dispatch(
        "MESSAGE_CREATE",
        MessageSpec::guild(crisis)
            .channel(AUTO_CHANNEL)
            .author(payloads::user(OTHER_USER + 9, "fin", false))
            .build(),
    )
    .await;
    post_in(&fake, mark, AUTO_CHANNEL).await;
    sent_texts.push(crisis.to_string());

    // Settings, an opt-out, and last a pin; then SIGKILL at once.
    let settings = InteractionSpec::guild("settings")
        .permissions(perms::MODERATOR)
        .option(payloads::opt_subcommand(
            "cooldown",
            vec![payloads::opt_int("minutes", 9)],
        ));
    assert!(command(&fake, &settings)
        .await
        .visible_text()
        .contains("9 minutes"));
    assert!(command(&fake, &InteractionSpec::guild("optout"))
        .await
        .visible_text()
        .contains("won't reply"));
    let unsure = unsure_text(&engine);
    let leaning = engine.classify(unsure).candidates[0].topic;
    let pin = InteractionSpec::guild("pin")
        .permissions(perms::MODERATOR)
        .option(payloads::opt_string("topic", leaning));
    let done = command(&fake, &pin).await;
    assert!(done.visible_text().contains("Pinned"), "{}", done.summary());
    first.child.kill().expect("SIGKILL");
    let status = first.wait(WAIT);
    assert!(!status.success(), "killed, not stopped: {status:?}");
    assert!(!first.stderr().contains("shutting down"));

    // A new process on the same file.
    let mark = fake.request_mark();
    let mut second = spawn_bot(&config);
    connected(&fake, 2, mark).await;

    // The pin is honoured: an unsure message gets the pinned topic.
    let mark = fake.request_mark();
    fake.dispatch(
        "MESSAGE_CREATE",
        MessageSpec::guild(unsure)
            .author(payloads::user(OTHER_USER + 5, "gus", false))
            .build(),
    )
    .await;
    let r = post_in(&fake, mark, payloads::CHANNEL_ID).await;
    sent_texts.push(unsure.to_string());
    let library = engine.library();
    assert_renders(
        &r,
        &boundary_bot::reply::guidance(library, library.topic(leaning).unwrap()),
    );
    // The opt-out is honoured: no unprompted reply to that member.
    let mark = fake.request_mark();
    let own = format!("{} {CANARY}", topic_text(&engine));
    fake.dispatch(
        "MESSAGE_CREATE",
        MessageSpec::guild(&own).channel(AUTO_CHANNEL).build(),
    )
    .await;
    sent_texts.push(own);
    // Chatter in the pinned channel: nothing (and never stored).
    let chatter = format!("hi {CANARY}");
    fake.dispatch(
        "MESSAGE_CREATE",
        MessageSpec::guild(&chatter)
            .author(payloads::user(OTHER_USER + 6, "hal", false))
            .build(),
    )
    .await;
    sent_texts.push(chatter);
    tokio::time::sleep(QUIET).await;
    let auto = format!("/channels/{AUTO_CHANNEL}/messages");
    let general = format!("/channels/{}/messages", payloads::CHANNEL_ID);
    assert!(!fake
        .requests()
        .iter()
        .any(|r| r.index >= mark && (r.is("POST", &auto) || r.is("POST", &general))));
    // The settings and the counts are still there.
    let show = InteractionSpec::guild("settings")
        .permissions(perms::MODERATOR)
        .option(payloads::opt_subcommand("show", vec![]));
    assert!(command(&fake, &show)
        .await
        .visible_text()
        .contains("Topic cooldown: 9 minutes"));
    let stats = command(
        &fake,
        &InteractionSpec::guild("stats").permissions(perms::MODERATOR),
    )
    .await;
    let title = &library.topic(topic).unwrap().title;
    assert!(
        stats
            .visible_text()
            .contains(&format!("**{title}**: 1 replies, 1 helpful")),
        "{}",
        stats.visible_text()
    );

    second.signal("TERM");
    assert!(second.wait(WAIT).success(), "{}", second.stderr());
    for p in [&first, &second] {
        assert!(!p.stderr().contains(CANARY), "message text in logs");
        assert!(!p.stderr().contains(TOKEN), "token in logs");
    }

    // No table holds message content: every text value is a topic id.
    let values = all_text_values(&db);
    assert!(!values.is_empty());
    for (table, value) in &values {
        assert!(
            TOPIC_IDS.contains(&value.as_str()),
            "{table} holds text that is not a topic id: {value:?}"
        );
    }
    // Nor does any byte of the database files.
    for file in std::fs::read_dir(dir.path()).unwrap() {
        let file = file.unwrap().path();
        if !file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("state.sqlite3")
        {
            continue;
        }
        let bytes = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(
            !bytes.contains(CANARY),
            "{} holds message text",
            file.display()
        );
        for text in &sent_texts {
            assert!(
                !bytes.contains(text.as_str()),
                "{} holds {text:?}",
                file.display()
            );
        }
    }
    fake.assert_no_harness_errors();
}

/// Channels and members of the write burst.
const BURST_CHANNEL_BASE: u64 = 1_200_000_000_000_100_000;
const BURST_USER_BASE: u64 = 1_200_000_000_000_200_000;

/// SIGKILL in the middle of a burst of `/pin` and feedback writes: after a
/// restart the file passes `PRAGMA integrity_check`, every write the bot
/// acknowledged to Discord (a "Pinned" follow-up, a "Thank you" callback)
/// is in it, and every pin record points at a message the bot really
/// posted. Acknowledgements are counted from the fake's recorded requests.
#[allow(clippy::too_many_lines)] // a scenario that reads better whole
#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_a_burst_of_writes_loses_no_acknowledged_write() {
    const PINS: u64 = 24;
    const PRESSES: u64 = 240;
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &fake, &responses_dir(), "state.sqlite3");
    let db = dir.path().join("state.sqlite3");
    let engine = engine();
    let mut first = spawn_bot(&config);
    connected(&fake, 1, 0).await;

    // A reply whose "Helpful" button the members press.
    let question = topic_text(&engine);
    let topic = engine.classify(question).topic().unwrap();
    let mark = fake.request_mark();
    fake.dispatch(
        "MESSAGE_CREATE",
        MessageSpec::guild(question).mentioning_bot().build(),
    )
    .await;
    let reply = post_in(&fake, mark, payloads::CHANNEL_ID).await;
    let helpful = button_ids(&reply)[0].clone();

    // Interleaved: a /pin in its own channel, then ten presses by distinct
    // members; SIGKILL once a quarter of the writes were acknowledged.
    let is_pin_ack = |r: &Recorded| {
        r.method == "POST"
            && r.path
                .starts_with(&format!("/webhooks/{}/", FakeDiscord::APPLICATION_ID))
            && r.visible_text().contains("Pinned **")
    };
    let is_press_ack = |r: &Recorded| {
        r.method == "POST"
            && r.path.starts_with("/interactions/")
            && r.visible_text().contains("Thank you!")
    };
    let acks = |fake: &FakeDiscord| {
        let requests = fake.requests();
        let pins = requests.iter().filter(|r| is_pin_ack(r)).count() as u64;
        let presses = requests.iter().filter(|r| is_press_ack(r)).count() as u64;
        (pins, presses)
    };
    let total = PINS + PRESSES;
    let mut pin_channel = std::collections::HashMap::new();
    let mut killed = false;
    let (mut pins_sent, mut presses_sent) = (0, 0);
    while pins_sent < PINS || presses_sent < PRESSES {
        if pins_sent < PINS {
            let channel = BURST_CHANNEL_BASE + pins_sent;
            let spec = InteractionSpec::guild("pin")
                .permissions(perms::MODERATOR)
                .channel(channel)
                .option(payloads::opt_string(
                    "topic",
                    TOPIC_IDS[pins_sent as usize % TOPIC_IDS.len()],
                ));
            pin_channel.insert(
                spec.token.clone(),
                (channel, spec.options[0]["value"].clone()),
            );
            fake.dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
                .await;
            pins_sent += 1;
        }
        for _ in 0..10 {
            if presses_sent == PRESSES {
                break;
            }
            let mut press = ComponentSpec::button(&helpful, reply.response.clone());
            press.interaction = press
                .interaction
                .clone()
                .user(BURST_USER_BASE + presses_sent, "member");
            fake.dispatch("INTERACTION_CREATE", payloads::component(&press))
                .await;
            presses_sent += 1;
        }
        let (p, f) = acks(&fake);
        if (p + f) * 4 >= total {
            first.child.kill().expect("SIGKILL");
            killed = true;
            break;
        }
    }
    if !killed {
        // The burst was sent before a quarter was done: kill as soon as it is.
        let deadline = std::time::Instant::now() + WAIT;
        while {
            let (p, f) = acks(&fake);
            (p + f) * 4 < total
        } {
            assert!(std::time::Instant::now() < deadline, "the bot stalled");
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        first.child.kill().expect("SIGKILL");
    }
    let status = first.wait(WAIT);
    assert!(!status.success(), "killed, not stopped: {status:?}");
    let (pin_acks, press_acks) = acks(&fake);
    assert!(
        pin_acks + press_acks < total,
        "killed mid-burst: {pin_acks} + {press_acks} of {total} writes acknowledged"
    );

    // A new process opens the same file (its start-up runs quick_check).
    let mark = fake.request_mark();
    let mut second = spawn_bot(&config);
    connected(&fake, 2, mark).await;
    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");

    // Every acknowledged pin is recorded, with its topic.
    let pins: std::collections::HashMap<u64, (String, u64)> = conn
        .prepare("SELECT channel_id, topic, message_id FROM pins")
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                (r.get(1)?, r.get::<_, i64>(2)? as u64),
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for r in fake.requests().iter().filter(|r| is_pin_ack(r)) {
        let token = r.path.rsplit('/').next().unwrap();
        let (channel, topic) = &pin_channel[token];
        let recorded = pins.get(channel).unwrap_or_else(|| {
            panic!("acknowledged pin of channel {channel} is missing after the restart")
        });
        assert_eq!(&recorded.0, topic.as_str().unwrap());
    }
    // Every pin record points at a message the bot posted in that channel.
    for (channel, (_, message)) in &pins {
        let m = fake
            .message(*message)
            .unwrap_or_else(|| panic!("pin record of {channel} names an unknown message"));
        assert_eq!(
            crate::fake_discord::parse_id(&m["channel_id"]),
            Some(*channel)
        );
    }
    // Every acknowledged press is counted (at most every press sent).
    let helpful_count: i64 = conn
        .query_row(
            "SELECT COALESCE(SUM(helpful), 0) FROM feedback_counts WHERE guild_id = ?1 AND topic = ?2",
            rusqlite::params![payloads::GUILD_ID as i64, topic],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        (press_acks as i64..=presses_sent as i64).contains(&helpful_count),
        "{press_acks} presses acknowledged, {presses_sent} sent, {helpful_count} counted"
    );
    assert!(pins.len() as u64 >= pin_acks && pins.len() as u64 <= pins_sent);

    // The restarted bot works on that file.
    let stats = command(
        &fake,
        &InteractionSpec::guild("stats").permissions(perms::MODERATOR),
    )
    .await;
    let title = &engine.library().topic(topic).unwrap().title;
    let shown = stats.visible_text();
    let line = shown
        .lines()
        .find(|l| l.contains(&format!("**{title}**: ")))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(
        line.contains(&format!(" {helpful_count} helpful")),
        "{line}"
    );
    second.signal("TERM");
    assert!(second.wait(WAIT).success(), "{}", second.stderr());
    eprintln!(
        "burst: {pins_sent} pins and {presses_sent} presses sent; at SIGKILL {pin_acks} pins and \
         {press_acks} presses acknowledged; after restart {} pins and {helpful_count} presses stored",
        pins.len()
    );
}

/// An unwritable database path and a damaged file are clear errors at
/// start-up, before connecting; the damaged file is left untouched.
#[tokio::test(flavor = "multi_thread")]
async fn an_unwritable_or_damaged_database_is_a_clear_error() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();

    // The folder of the path is a plain file: nothing can be created there.
    std::fs::write(dir.path().join("not-a-folder"), "x").unwrap();
    let config = write_config(
        dir.path(),
        &fake,
        &responses_dir(),
        "not-a-folder/state.sqlite3",
    );
    let mut p = spawn_bot(&config);
    let status = p.wait(WAIT);
    let stderr = p.stderr();
    assert!(!status.success());
    assert!(stderr.contains("cannot open the database"), "{stderr}");
    assert!(stderr.contains("[storage] path"), "{stderr}");
    assert!(stderr.contains("not-a-folder"), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join("not-a-folder")).unwrap(),
        b"x"
    );

    // A file that is not a database: refused, and not overwritten.
    let garbage = b"moderator notes, not a database\n".repeat(64);
    std::fs::write(dir.path().join("notes.sqlite3"), &garbage).unwrap();
    let config = write_config(dir.path(), &fake, &responses_dir(), "notes.sqlite3");
    let mut p = spawn_bot(&config);
    let status = p.wait(WAIT);
    let stderr = p.stderr();
    assert!(!status.success());
    assert!(stderr.contains("not a healthy SQLite database"), "{stderr}");
    assert!(stderr.contains("left untouched"), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join("notes.sqlite3")).unwrap(),
        garbage
    );
    assert!(!dir.path().join("notes.sqlite3-wal").exists());

    // Neither got as far as connecting.
    assert_eq!(fake.identify_count(), 0);
    assert!(!fake.requests().iter().any(|r| r.is("GET", "/gateway")));
}

/// SIGHUP reloads `responses/`; a broken file keeps the old content live.
#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_and_a_broken_file_keeps_the_old_content() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let responses = dir.path().join("responses");
    crate::copy_tree::copy_tree(&responses_dir(), &responses);
    let config = write_config(dir.path(), &fake, &responses, "state.sqlite3");
    let mut p = spawn_bot(&config);
    connected(&fake, 1, 0).await;
    let engine = engine();
    let text = topic_text(&engine);
    let topic = engine.classify(text).topic().unwrap();
    let old_title = engine.library().topic(topic).unwrap().title.clone();

    let file = responses.join(format!("{topic}.toml"));
    let good = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("colour = \"red\"\n{good}")).unwrap();
    p.signal("HUP");
    p.wait_log("reload failed; the old content stays live", WAIT)
        .await;
    let title_now = dm_title(&fake, text).await;
    assert_eq!(title_now, old_title);

    let new_title = write_retitled(&file, &good, &old_title);
    p.signal("HUP");
    p.wait_log("content reloaded", WAIT).await;
    assert_eq!(dm_title(&fake, text).await, new_title);

    p.signal("TERM");
    assert!(p.wait(WAIT).success(), "{}", p.stderr());
}

/// Sends a DM and returns the title of the bot's reply.
async fn dm_title(fake: &FakeDiscord, text: &str) -> String {
    let dm = format!("/channels/{}/messages", payloads::DM_CHANNEL_ID);
    let mark = fake.request_mark();
    fake.dispatch("MESSAGE_CREATE", MessageSpec::dm(text).build())
        .await;
    let r = fake
        .wait_for_request_after(mark, |r| r.is("POST", &dm), WAIT)
        .await;
    r.embeds()[0]["title"].as_str().unwrap().to_string()
}
