//! `[discord] shards` against the fake: a process IDENTIFYs with its own
//! shard of the total, and only the process that runs shard 0 (which also
//! gets every DM) registers the slash commands.
//!
//! The fake runs one gateway session at a time, so two shards at once in
//! one test (and the multi-process test the issue on scale asks for) are
//! not covered here yet.

use std::sync::Arc;

use crate::e2e_support::*;
use crate::fake_discord::payloads::{self, InteractionSpec};
use crate::fake_discord::FakeDiscord;
use boundary_bot::discord::{self, build_client, Token};
use boundary_bot::shards::{ShardRange, Shards};
use boundary_bot::Engine;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_process_identifies_with_its_shard_and_only_shard_zero_registers_commands() {
    for (first, registers) in [(1, false), (0, true)] {
        let shards = Shards::Range(ShardRange {
            total: 2,
            first,
            last: first,
        });
        let fake = FakeDiscord::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut config = base_config(&fake);
        config.storage.path = dir.path().join("bot.sqlite3");
        config.discord.shards = shards;
        let engine = Arc::new(Engine::load(&config).unwrap());
        let mut client = build_client(&config, engine, &Token::new(TOKEN))
            .await
            .unwrap();
        let manager = client.shard_manager.clone();
        let task = tokio::spawn(async move { discord::start(&mut client, shards).await });
        fake.wait_ready(WAIT).await;
        let identify = fake.last_identify().expect("identified");
        assert_eq!(identify["shard"], json!([first, 2]), "shard {first}");
        // Events wait for the bot's setup (which registers, or not): once
        // /help is answered, setup is done.
        let help = InteractionSpec::guild("help");
        let answer = interaction_answer(&fake, &help, payloads::slash_command(&help)).await;
        assert!(answer.status < 300, "{}", answer.summary());
        let path = commands_path(config.discord.dev_guild);
        let registered = fake.requests().iter().any(|r| r.is("PUT", &path));
        assert_eq!(
            registered, registers,
            "shard {first} registers: {registers}"
        );
        manager.shutdown_all().await;
        let ended = tokio::time::timeout(WAIT, task).await.expect("stops");
        assert!(ended.expect("task").is_ok());
    }
}
