//! `boundary-bot run` as a process: the token from the environment or
//! `token_file` (never argv), the helpful error without one, the default
//! command starting the bot when DISCORD_TOKEN is set, and a graceful exit
//! on SIGTERM and SIGINT, against the fake Discord on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::e2e_support::*;
use crate::fake_discord::payloads::{self, MessageSpec};
use crate::fake_discord::FakeDiscord;

const BIN: &str = env!("CARGO_BIN_EXE_boundary-bot");

fn write_config(dir: &Path, fake: Option<&FakeDiscord>, token_file: Option<&Path>) -> PathBuf {
    let mut text = format!("responses_dir = {:?}\n[discord]\n", responses_dir());
    if let Some(fake) = fake {
        text.push_str(&format!(
            "api_base = {:?}\ndev_guild = {}\n",
            fake.api_base(),
            payloads::GUILD_ID
        ));
    }
    if let Some(f) = token_file {
        text.push_str(&format!("token_file = {f:?}\n"));
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `boundary-bot ARGS`, with `DISCORD_TOKEN` set only when `token` is given.
fn spawn_bot(args: &[&str], token: Option<&str>) -> BotProcess {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("DISCORD_TOKEN")
        .env_remove("RUST_LOG");
    if let Some(t) = token {
        cmd.env("DISCORD_TOKEN", t);
    }
    BotProcess::spawn(cmd)
}

/// Connects, answers a DM, and exits 0 on `signal`; logs hold ids, not the
/// token or the message.
async fn serve_until_signal(args: &[&str], token: Option<&str>, fake: &FakeDiscord, signal: &str) {
    let mut proc = spawn_bot(args, token);
    fake.wait_ready(WAIT).await;
    let path = commands_path(Some(payloads::GUILD_ID));
    fake.wait_for_request(|r| r.is("PUT", &path), WAIT).await;
    let text = format!("{} walrus-canary", topic_text(&engine()));
    fake.dispatch("MESSAGE_CREATE", MessageSpec::dm(&text).build())
        .await;
    let dm_path = format!("/channels/{}/messages", payloads::DM_CHANNEL_ID);
    let reply = fake
        .wait_for_request(|r| r.is("POST", &dm_path), WAIT)
        .await;
    assert!(!reply.embeds().is_empty());

    proc.signal(signal);
    let status = proc.wait(WAIT);
    let stderr = proc.stderr();
    assert!(status.success(), "exit {status:?}; stderr:\n{stderr}");
    fake.wait_gateway(|s| s.client_close_codes.contains(&1000), WAIT)
        .await;
    assert!(stderr.contains("connected to Discord"), "{stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
    assert!(stderr.contains(&format!("SIG{}", signal)), "{stderr}");
    assert!(stderr.contains("replied"), "{stderr}");
    assert!(!stderr.contains(TOKEN), "token in logs:\n{stderr}");
    assert!(
        !stderr.contains("canary"),
        "message text in logs:\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn run_uses_discord_token_and_stops_on_sigterm() {
    let fake = FakeDiscord::start().await;
    fake.require_token(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), Some(&fake), None);
    let config = config.to_str().unwrap();
    serve_until_signal(&["run", "--config", config], Some(TOKEN), &fake, "TERM").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn default_command_starts_the_bot_when_a_token_is_set_and_stops_on_sigint() {
    let fake = FakeDiscord::start().await;
    fake.require_token(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), Some(&fake), None);
    let config = config.to_str().unwrap();
    serve_until_signal(&["--config", config], Some(TOKEN), &fake, "INT").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn run_reads_token_file() {
    let fake = FakeDiscord::start().await;
    fake.require_token(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let config = write_config(dir.path(), Some(&fake), Some(&token_file));
    let config = config.to_str().unwrap();
    serve_until_signal(&["run", "--config", config], None, &fake, "TERM").await;
}

#[test]
fn run_without_token_explains_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), None, None);
    let mut proc = spawn_bot(&["run", "--config", config.to_str().unwrap()], None);
    let status = proc.wait(WAIT);
    let stderr = proc.stderr();
    assert!(!status.success());
    assert!(stderr.contains("DISCORD_TOKEN"), "{stderr}");
    assert!(stderr.contains("token_file"), "{stderr}");
    assert!(
        stderr.contains("discord.com/developers/applications"),
        "{stderr}"
    );
}

#[test]
fn token_is_not_accepted_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), None, None);
    let mut proc = spawn_bot(
        &[
            "run",
            "--config",
            config.to_str().unwrap(),
            "--token",
            TOKEN,
        ],
        None,
    );
    let status = proc.wait(WAIT);
    assert!(!status.success());
    let stderr = proc.stderr();
    assert!(stderr.contains("--token"), "{stderr}");
}

#[test]
fn without_a_token_the_default_is_still_the_offline_console() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), None, None);
    let out = Command::new(BIN)
        .args(["--config", config.to_str().unwrap()])
        .env_remove("DISCORD_TOKEN")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// `check` says where the token comes from and whether it is usable, and
/// never prints it: from DISCORD_TOKEN, from a token file (with a warning
/// when others can read it), an empty token file (an error naming the
/// file), and no token at all (fine for the console).
#[test]
fn check_reports_the_token_source_and_never_prints_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let check = |config: &Path, token: Option<&str>| {
        let mut cmd = Command::new(BIN);
        cmd.args(["check", "--config", config.to_str().unwrap()])
            .env_remove("DISCORD_TOKEN");
        if let Some(t) = token {
            cmd.env("DISCORD_TOKEN", t);
        }
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains(TOKEN), "the token was printed: {text}");
        assert!(
            !text.contains("DO-NOT-LOG"),
            "part of the token was printed: {text}"
        );
        (out.status.success(), text)
    };

    let plain = write_config(dir.path(), None, None);
    let (ok, text) = check(&plain, Some(TOKEN));
    assert!(ok, "{text}");
    assert!(
        text.contains("token: set in DISCORD_TOKEN (not shown)"),
        "{text}"
    );
    let (ok, text) = check(&plain, None);
    assert!(ok, "{text}");
    assert!(text.contains("token: none"), "{text}");

    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("Bot {TOKEN}\n")).unwrap();
    let with_file = write_config(dir.path(), None, Some(&token_file));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |m| std::fs::Permissions::from_mode(m);
        std::fs::set_permissions(&token_file, mode(0o644)).unwrap();
        let (ok, text) = check(&with_file, None);
        assert!(ok, "{text}");
        assert!(text.contains("other users can read it"), "{text}");
        std::fs::set_permissions(&token_file, mode(0o600)).unwrap();
    }
    let (ok, text) = check(&with_file, None);
    assert!(ok, "{text}");
    assert!(text.contains("token: read from"), "{text}");
    assert!(!text.contains("warning"), "{text}");

    std::fs::write(&token_file, "  \n").unwrap();
    let (ok, text) = check(&with_file, None);
    assert!(!ok, "an empty token file fails the check");
    assert!(
        text.contains("is empty") && text.contains("token"),
        "{text}"
    );
}
