//! Two `boundary-bot run` processes, shards 0 and 1 of 2, on one
//! PostgreSQL database. Each connects to a fake Discord of its own, and
//! the test routes every guild's events to the fake of the process that
//! runs the guild's shard (`shards::shard_of`), as Discord's gateway does;
//! the fake serves one gateway session, so the routing is the test's.
//!
//! Shown: an opt-out through one process is respected by the other; a pin
//! made through one process is honoured after it was killed and a new
//! process took its shard; killing one process leaves the other answering
//! its shard; the reply counts of both processes of a shard add up in
//! `/stats`; only shard 0's process registers the commands.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::e2e_support::*;
use crate::fake_discord::payloads::{self, perms, InteractionSpec, MessageSpec};
use crate::fake_discord::{FakeDiscord, Recorded};
use boundary_bot::shards::shard_of;

const BIN: &str = env!("CARGO_BIN_EXE_boundary-bot");
/// On shard 0 of 2 (the fake's default guild, `payloads::GUILD_ID`, is on 1).
const GUILD_A: u64 = payloads::GUILD_ID + (1 << 22);
const CHANNEL_A: u64 = 1_200_000_000_000_000_081;
const PIN_CHANNEL_B: u64 = 1_200_000_000_000_000_082;
const OPTED_OUT: u64 = 1_200_000_000_000_000_083;
const MEMBER: u64 = 1_200_000_000_000_000_084;

fn write_config(dir: &Path, fake: &FakeDiscord, url: &str, shard: u32) -> PathBuf {
    let text = format!(
        "responses_dir = {:?}\n\
         [classifier]\nmodel_dir = {:?}\n\
         [discord]\napi_base = {:?}\ndev_guild = {GUILD_A}\n\
         auto_reply_channels = [{CHANNEL_A}, {AUTO_CHANNEL}]\n\
         shards = {{ total = 2, range = [{shard}, {shard}] }}\n\
         [storage]\nurl = {url:?}\n",
        responses_dir(),
        no_model_dir(),
        fake.api_base(),
    );
    let path = dir.join(format!("shard-{shard}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts the process for `shard` and waits until it is connected (and,
/// for shard 0, has registered the commands); announces its guild.
async fn start(
    fake: &FakeDiscord,
    config: &Path,
    shard: u32,
    guild: serde_json::Value,
) -> BotProcess {
    let mark = fake.request_mark();
    let ready_before = fake.gateway_stats().ready_count;
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--config", config.to_str().unwrap()])
        .env("DISCORD_TOKEN", TOKEN)
        .env("RUST_LOG", "info");
    let process = BotProcess::spawn(cmd);
    fake.wait_gateway(|s| s.ready_count > ready_before && s.live, WAIT)
        .await;
    assert_eq!(
        fake.last_identify().unwrap()["shard"],
        serde_json::json!([shard, 2])
    );
    if shard == 0 {
        let path = commands_path(Some(GUILD_A));
        fake.wait_for_request_after(mark, |r| r.is("PUT", &path), WAIT)
            .await;
    }
    process
        .wait_log(
            "policy state in memory (following other processes' changes: true)",
            WAIT,
        )
        .await;
    fake.dispatch("GUILD_CREATE", guild).await;
    process
}

async fn post_in(fake: &FakeDiscord, mark: usize, channel: u64) -> Recorded {
    let path = format!("/channels/{channel}/messages");
    fake.wait_for_request_after(mark, |r| r.is("POST", &path), WAIT)
        .await
}

async fn no_post_in(fake: &FakeDiscord, mark: usize, channel: u64) {
    tokio::time::sleep(QUIET * 2).await;
    let path = format!("/channels/{channel}/messages");
    let posted = fake.requests()[mark..].iter().any(|r| r.is("POST", &path));
    assert!(!posted, "a reply in {channel}");
}

/// A member's message in `channel` of `guild`, dispatched on that guild's shard.
async fn say(fakes: &[FakeDiscord; 2], guild: u64, channel: u64, author: u64, text: &str) -> usize {
    let fake = &fakes[shard_of(Some(guild), 2) as usize];
    let mark = fake.request_mark();
    let mut spec = MessageSpec::guild(text)
        .channel(channel)
        .author(payloads::user(author, "member", false));
    spec.guild_id = Some(guild);
    fake.dispatch("MESSAGE_CREATE", spec.build()).await;
    mark
}

async fn command(fake: &FakeDiscord, spec: &InteractionSpec) -> String {
    interaction_answer(fake, spec, payloads::slash_command(spec))
        .await
        .visible_text()
}

#[allow(clippy::too_many_lines)] // a scenario that reads better whole
#[tokio::test(flavor = "multi_thread")]
async fn two_processes_on_two_shards_share_one_database() {
    let Some((url, _database)) = test_database("the two-process, two-shard test") else {
        return;
    };
    assert_eq!(
        (
            shard_of(Some(GUILD_A), 2),
            shard_of(Some(payloads::GUILD_ID), 2)
        ),
        (0, 1)
    );
    let fakes = [FakeDiscord::start().await, FakeDiscord::start().await];
    let dir = tempfile::tempdir().unwrap();
    let configs = [0, 1].map(|s| write_config(dir.path(), &fakes[s as usize], &url, s));
    let guild_a =
        payloads::guild_create(GUILD_A, payloads::GUILD_OWNER_ID, &[(CHANNEL_A, "general")]);
    let first = start(&fakes[0], &configs[0], 0, guild_a).await;
    let mut second = start(&fakes[1], &configs[1], 1, guild()).await;
    let engine = engine();
    let topic = topic_text(&engine);

    // An opt-out through shard 0's process (a command in guild A) is
    // respected by shard 1's process (an auto-reply channel in guild B).
    let optout = InteractionSpec::guild("optout")
        .in_guild(Some(GUILD_A))
        .channel(CHANNEL_A)
        .user(OPTED_OUT, "cal");
    assert!(command(&fakes[0], &optout).await.contains("Done"));
    tokio::time::sleep(QUIET).await;
    let mark = say(&fakes, payloads::GUILD_ID, AUTO_CHANNEL, OPTED_OUT, topic).await;
    no_post_in(&fakes[1], mark, AUTO_CHANNEL).await;
    let mark = say(&fakes, payloads::GUILD_ID, AUTO_CHANNEL, MEMBER, topic).await;
    post_in(&fakes[1], mark, AUTO_CHANNEL).await;

    // A pin through shard 1's process, which is then killed.
    let pin = InteractionSpec::guild("pin")
        .permissions(perms::MODERATOR)
        .channel(PIN_CHANNEL_B)
        .option(payloads::opt_string("topic", "gifts"));
    assert!(command(&fakes[1], &pin).await.contains("Pinned"));
    second.child.kill().expect("SIGKILL");
    assert!(!second.wait(WAIT).success());

    // Shard 0's process still answers its shard.
    let mark = say(&fakes, GUILD_A, CHANNEL_A, MEMBER, topic).await;
    post_in(&fakes[0], mark, CHANNEL_A).await;

    // A new process takes shard 1: it honours the pin the killed one made.
    let _third = start(&fakes[1], &configs[1], 1, guild()).await;
    let mark = say(&fakes, payloads::GUILD_ID, PIN_CHANNEL_B, MEMBER + 1, topic).await;
    post_in(&fakes[1], mark, PIN_CHANNEL_B).await;
    tokio::time::sleep(QUIET).await;

    // Guild B's /stats counts the replies of both of shard 1's processes.
    let answered = engine.classify(topic).topic().expect("a topic question");
    let title = &engine.library().topic(answered).unwrap().title;
    let stats = InteractionSpec::guild("stats").permissions(perms::MODERATOR);
    let shown = command(&fakes[1], &stats).await;
    let line = shown
        .lines()
        .find(|l| l.contains(title.as_str()))
        .unwrap_or_default();
    assert!(line.contains(": 2 replies"), "{shown}");
    // Only shard 0's process registered the commands.
    let path = commands_path(Some(GUILD_A));
    assert!(fakes[0].requests().iter().any(|r| r.is("PUT", &path)));
    assert!(!fakes[1]
        .requests()
        .iter()
        .any(|r| r.path.contains("/commands")));
    drop(first);
}
