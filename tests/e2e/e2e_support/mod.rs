//! The real bot (built by `boundary_bot::discord::build_client`, exactly as
//! `boundary-bot run` builds it) connected to the fake Discord in
//! `tests/e2e/fake_discord`. A module of the end-to-end test binary
//! (`tests/e2e/main.rs`), beside `fake_discord` at the crate root; other
//! targets include both with `#[path]`.

pub mod postgres;
pub mod process;
pub use postgres::test_database;
pub use process::BotProcess;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use boundary_bot::classify::Outcome;
use boundary_bot::config::Config;
use boundary_bot::discord::{build_client, Token};
use boundary_bot::reply::{self, Reply, Surface};
use boundary_bot::Engine;
use serde_json::{json, Value};
use serenity::all::ShardManager;
use tokio::task::JoinHandle;

use crate::fake_discord::payloads::{self, InteractionSpec, MessageSpec};
use crate::fake_discord::{FakeDiscord, Recorded};

pub const TOKEN: &str = "e2e.fake-token.DO-NOT-LOG-7f3a9c";
pub const WAIT: Duration = Duration::from_secs(5);
/// How long "no reply" is awaited after a barrier reply arrived.
pub const QUIET: Duration = Duration::from_millis(250);
/// A configured auto-reply channel in [`payloads::GUILD_ID`].
pub const AUTO_CHANNEL: u64 = 1_200_000_000_000_000_010;
/// The crisis alert channel.
pub const ALERT_CHANNEL: u64 = 1_200_000_000_000_000_011;
/// A moderator role.
pub const MOD_ROLE: u64 = 1_200_000_000_000_000_012;
/// Another member.
pub const OTHER_USER: u64 = 1_200_000_000_000_000_013;
/// Another member's DM channel with the bot.
pub const OTHER_DM_CHANNEL: u64 = 1_200_000_000_000_000_014;

pub fn responses_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("responses")
}

/// The config the tests start from: the fake as API base, commands in the
/// dev guild, alerts on, no auto-reply channels (so no MESSAGE_CONTENT),
/// and the database in the system's temp dir.
pub fn base_config(fake: &FakeDiscord) -> Config {
    let mut config = Config {
        responses_dir: responses_dir(),
        ..Config::default()
    };
    config.classifier.model_dir = no_model_dir();
    config.discord.api_base = Some(fake.api_base());
    config.discord.dev_guild = Some(payloads::GUILD_ID);
    config.discord.crisis_alert_channel = Some(ALERT_CHANNEL);
    // Never the default ./boundary-bot.sqlite3 in the repository; TestBot
    // puts it in a temp dir of its own.
    config.storage.path = std::env::temp_dir().join(format!(
        "boundary-bot-e2e-{}-{}.sqlite3",
        std::process::id(),
        fake.addr().port()
    ));
    config
}

/// The end-to-end suites run the first stage and its learned weights (the
/// configuration of a fresh clone), whether or not the semantic stage's
/// model is installed, so that the texts they pick classify the same way in
/// the bot under test; `classify_eval` measures the semantic stage.
pub fn no_model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("no-model-in-e2e")
}

pub fn engine() -> Engine {
    let mut config = Config {
        responses_dir: responses_dir(),
        ..Config::default()
    };
    config.classifier.model_dir = no_model_dir();
    Engine::load(&config).expect("responses/ loads")
}

// ----- message texts, checked against the classifier -----------------------

const TOPIC_TEXTS: &[&str] = &[
    "Is it okay to give my therapist a small gift for the holidays?",
    "can I be friends with my therapist after we finish?",
    "I have feelings for my therapist",
    "my counselor hugged me, is that ok?",
    "should I write a letter to my therapist",
    "can i ask my T to write an ESA letter for my cat?",
];
const UNSURE_TEXTS: &[&str] = &[
    "can my school counselor tell my teachers about my adhd",
    "my social worker is referring me to a psychologist for an autism assessment. do i have to stop seeing her?",
    "my T emailed my session summary to the wrong sarah and apologised. what now?",
    "Went to my first AA meeting last night and who's sitting in the circle? My therapist.",
];
const CRISIS_TEXTS: &[&str] = &[
    "I want to kill myself tonight",
    "i just want to unalive myself rn",
];
const CHATTER_TEXTS: &[&str] = &["hi", "hello there!", "good morning everyone"];

fn pick(
    engine: &Engine,
    texts: &[&'static str],
    what: &str,
    ok: impl Fn(Outcome) -> bool,
) -> Vec<&'static str> {
    let found: Vec<&str> = texts
        .iter()
        .copied()
        .filter(|t| ok(engine.classify(t).outcome))
        .collect();
    assert!(
        !found.is_empty(),
        "no {what} text classifies as expected any more; update tests/e2e/e2e_support: {:?}",
        texts
            .iter()
            .map(|t| (t, engine.classify(t).outcome))
            .collect::<Vec<_>>()
    );
    found
}

/// Texts that classify confidently as a topic, with distinct topics.
pub fn topic_texts(engine: &Engine) -> Vec<&'static str> {
    let mut seen = Vec::new();
    pick(engine, TOPIC_TEXTS, "topic", |o| {
        matches!(o, Outcome::Topic(_))
    })
    .into_iter()
    .filter(|t| {
        let topic = engine.classify(t).topic();
        if seen.contains(&topic) {
            false
        } else {
            seen.push(topic);
            true
        }
    })
    .collect()
}

pub fn topic_text(engine: &Engine) -> &'static str {
    topic_texts(engine)[0]
}

pub fn unsure_text(engine: &Engine) -> &'static str {
    pick(engine, UNSURE_TEXTS, "unsure", |o| o == Outcome::Unsure)[0]
}

pub fn crisis_text(engine: &Engine) -> &'static str {
    pick(engine, CRISIS_TEXTS, "crisis", |o| o == Outcome::Crisis)[0]
}

pub fn chatter_texts(engine: &Engine) -> Vec<&'static str> {
    pick(engine, CHATTER_TEXTS, "chatter", |o| o == Outcome::Nothing)
}

// ----- the bot ---------------------------------------------------------------

pub struct TestBot {
    pub fake: FakeDiscord,
    pub engine: Arc<Engine>,
    pub config: Config,
    pub shard_manager: Arc<ShardManager>,
    task: JoinHandle<Result<(), serenity::Error>>,
    /// Holds the database (`[storage] path`) unless a test points it
    /// elsewhere; kept for its `Drop`, which removes it with the bot.
    _db_dir: tempfile::TempDir,
}

/// The guild the tests use: `general` (not configured), the auto-reply
/// channel and the alert channel.
pub fn guild() -> Value {
    payloads::guild_create(
        payloads::GUILD_ID,
        payloads::GUILD_OWNER_ID,
        &[
            (payloads::CHANNEL_ID, "general"),
            (AUTO_CHANNEL, "ask-here"),
            (ALERT_CHANNEL, "mod-alerts"),
        ],
    )
}

pub fn commands_path(guild: Option<u64>) -> String {
    match guild {
        Some(g) => format!(
            "/applications/{}/guilds/{g}/commands",
            FakeDiscord::APPLICATION_ID
        ),
        None => format!("/applications/{}/commands", FakeDiscord::APPLICATION_ID),
    }
}

impl TestBot {
    /// Starts a fake Discord and the bot with [`base_config`] adjusted by
    /// `tweak`; returns once READY was handled, the commands are registered
    /// and the guild is known.
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> TestBot {
        Self::start_with(tweak, |_| None).await
    }

    /// [`start`](Self::start) with a store of the test's choosing (built
    /// from the final config), e.g. one whose writes fail.
    pub async fn start_with(
        tweak: impl FnOnce(&mut Config),
        store: impl FnOnce(&Config) -> Option<Arc<dyn boundary_bot::store::Store>>,
    ) -> TestBot {
        crate::fake_discord::init_tracing();
        let fake = FakeDiscord::start().await;
        let mut config = base_config(&fake);
        let db_dir = tempfile::tempdir().expect("temp dir");
        config.storage.path = db_dir.path().join("boundary-bot.sqlite3");
        tweak(&mut config);
        let engine = Arc::new(Engine::load(&config).expect("engine"));
        let mut client = match store(&config) {
            None => build_client(&config, engine.clone(), &Token::new(TOKEN)).await,
            Some(store) => {
                let live = Arc::new(boundary_bot::live::LiveEngine::new(engine.clone(), &config));
                boundary_bot::discord::build_client_with(&config, live, store, &Token::new(TOKEN))
                    .await
            }
        }
        .expect("build client");
        // GET /gateway failing makes serenity fall back to the real gateway.
        assert_eq!(*client.ws_url.lock().await, fake.gateway_url());
        let shard_manager = client.shard_manager.clone();
        let task = tokio::spawn(async move { client.start().await });
        fake.wait_ready(WAIT).await;
        let path = commands_path(config.discord.dev_guild);
        fake.wait_for_request(|r| r.is("PUT", &path), WAIT).await;
        fake.dispatch("GUILD_CREATE", guild()).await;
        TestBot {
            fake,
            engine,
            config,
            shard_manager,
            task,
            _db_dir: db_dir,
        }
    }

    /// What the core would say to `text`.
    pub fn expected(&self, text: &str) -> Reply {
        self.engine.answer(text, Surface::Discord).1
    }

    pub fn notice(&self) -> String {
        reply::help(self.engine.library(), Surface::Discord)
            .footer()
            .to_string()
    }

    /// Dispatches a MESSAGE_CREATE and returns the payload sent.
    pub async fn message(&self, spec: MessageSpec) -> Value {
        let m = spec.build();
        self.fake.dispatch("MESSAGE_CREATE", m.clone()).await;
        m
    }

    /// Waits for the bot's message in `channel` (since `mark`).
    pub async fn post_in(&self, mark: usize, channel: u64) -> Recorded {
        let path = format!("/channels/{channel}/messages");
        self.fake
            .wait_for_request_after(mark, |r| r.is("POST", &path), WAIT)
            .await
    }

    /// Waits for the interaction callback of interaction `id`.
    pub async fn callback(&self, id: u64, token: &str) -> Recorded {
        let path = format!("/interactions/{id}/{token}/callback");
        self.fake
            .wait_for_request(|r| r.is("POST", &path), WAIT)
            .await
    }

    /// A slash command's answer as the member saw it ([`interaction_answer`]).
    pub async fn command(&self, spec: &InteractionSpec) -> Recorded {
        interaction_answer(&self.fake, spec, payloads::slash_command(spec)).await
    }

    /// Clicks "Get boundary guidance" on `target` (a message payload) as
    /// [`payloads::USER_ID`]; returns the interaction callback.
    pub async fn context_menu(&self, target: &Value) -> Recorded {
        let spec = crate::fake_discord::payloads::InteractionSpec::guild("Get boundary guidance");
        self.fake
            .dispatch(
                "INTERACTION_CREATE",
                payloads::message_context_menu(&spec, target),
            )
            .await;
        self.callback(spec.id, &spec.token).await
    }

    /// Asserts that no message is posted in `channel` (since `mark`).
    pub async fn no_post_in(&self, mark: usize, channel: u64) {
        let path = format!("/channels/{channel}/messages");
        self.fake
            .expect_no_request_after(mark, |r| r.is("POST", &path), QUIET)
            .await;
    }

    /// Waits [`QUIET`], then counts the requests since `mark` matching `pred`.
    pub async fn count_after(&self, mark: usize, pred: impl Fn(&Recorded) -> bool) -> usize {
        tokio::time::sleep(QUIET).await;
        self.fake
            .requests()
            .iter()
            .filter(|r| r.index >= mark && pred(r))
            .count()
    }

    /// Checks every message the bot sent, then stops it cleanly.
    pub async fn shutdown(self) {
        let notice = self.notice();
        for r in self.fake.requests() {
            if is_bot_message(&r) {
                assert_carries_notice(&r, &notice);
                assert_pings_nobody_unexpected(&r, &self.config);
            }
        }
        self.shard_manager.shutdown_all().await;
        let result = tokio::time::timeout(WAIT, self.task)
            .await
            .expect("client stops")
            .expect("client task");
        assert!(result.is_ok(), "client ended with {result:?}");
        self.fake
            .wait_gateway(|s| s.client_close_codes.contains(&1000), WAIT)
            .await;
        self.fake.assert_no_harness_errors();
    }
}

/// A request that makes a message appear in Discord.
pub fn is_bot_message(r: &Recorded) -> bool {
    (r.method == "POST" && r.path.starts_with("/channels/") && r.path.ends_with("/messages"))
        || (r.method == "POST" && r.path.starts_with("/webhooks/"))
        || (r.is_under("POST", "/interactions/") && r.body["type"] == json!(4))
}

/// Every embed's footer is the referral notice, and there is an embed.
pub fn assert_carries_notice(r: &Recorded, notice: &str) {
    let embeds = r.embeds();
    assert!(
        !embeds.is_empty(),
        "bot message without embed: {}",
        r.summary()
    );
    for e in &embeds {
        assert_eq!(
            e["footer"]["text"].as_str(),
            Some(notice),
            "embed without the referral notice: {}",
            r.summary()
        );
    }
}

/// `allowed_mentions` of a message body (`body` or `body.data`).
pub fn allowed_mentions(r: &Recorded) -> Value {
    let direct = &r.body["allowed_mentions"];
    if direct.is_object() {
        direct.clone()
    } else {
        r.body["data"]["allowed_mentions"].clone()
    }
}

/// Nothing may ping except the replied-to member on replies and the
/// configured moderator role on alerts.
pub fn assert_pings_nobody_unexpected(r: &Recorded, config: &Config) {
    let am = allowed_mentions(r);
    assert!(am.is_object(), "no allowed_mentions: {}", r.summary());
    assert_eq!(am["parse"], json!([]), "{}", r.summary());
    assert_eq!(am["users"], json!([]), "{}", r.summary());
    let roles: Vec<u64> = am["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|v| crate::fake_discord::parse_id(v).expect("role id"))
        .collect();
    let alert_path = format!("/channels/{ALERT_CHANNEL}/messages");
    if r.is("POST", &alert_path) {
        let allowed: Vec<u64> = config.discord.crisis_alert_ping_role.into_iter().collect();
        assert_eq!(roles, allowed, "{}", r.summary());
    } else {
        assert!(roles.is_empty(), "{}", r.summary());
    }
    let is_reply = r.body["message_reference"].is_object();
    assert_eq!(
        am["replied_user"].as_bool().unwrap_or(false),
        is_reply,
        "only replies may ping, and only the member replied to: {}",
        r.summary()
    );
}

/// The embed matches the core's reply (title, body, notice).
pub fn assert_renders(r: &Recorded, reply: &Reply) {
    let embeds = r.embeds();
    assert_eq!(embeds.len(), 1, "{}", r.summary());
    let e = &embeds[0];
    assert_eq!(e["title"].as_str(), Some(reply.title()), "{}", r.summary());
    assert_eq!(
        e["description"].as_str(),
        Some(reply.body().trim()),
        "{}",
        r.summary()
    );
    assert_eq!(e["footer"]["text"].as_str(), Some(reply.footer()));
}

/// Flags of an interaction callback.
pub fn flags(r: &Recorded) -> u64 {
    r.body["data"]["flags"].as_u64().unwrap_or(0)
}

pub const EPHEMERAL: u64 = 64;

/// Writes the topic file `file` as `good` with its title `old_title`
/// changed to "<old_title> (reviewed)"; returns the new title.
pub fn write_retitled(file: &std::path::Path, good: &str, old_title: &str) -> String {
    let new_title = format!("{old_title} (reviewed)");
    let retitled = good.replacen(
        &format!("title = {old_title:?}"),
        &format!("title = {new_title:?}"),
        1,
    );
    std::fs::write(file, retitled).expect("write the topic file");
    new_title
}

/// Whether an interaction answer (a callback's `data` or a follow-up's
/// body) is ephemeral.
pub fn is_ephemeral(r: &Recorded) -> bool {
    let f = r.body["flags"]
        .as_u64()
        .or_else(|| r.body["data"]["flags"].as_u64())
        .unwrap_or(0);
    f & EPHEMERAL == EPHEMERAL
}

/// Dispatches an interaction (`payload`, built from `spec`) and returns
/// what the member saw: the callback, or after a deferred callback
/// (type 5) the follow-up.
pub async fn interaction_answer(
    fake: &FakeDiscord,
    spec: &InteractionSpec,
    payload: Value,
) -> Recorded {
    fake.dispatch("INTERACTION_CREATE", payload).await;
    let path = format!("/interactions/{}/{}/callback", spec.id, spec.token);
    let cb = fake.wait_for_request(|r| r.is("POST", &path), WAIT).await;
    if cb.body["type"] == 5 {
        let path = format!("/webhooks/{}/{}", FakeDiscord::APPLICATION_ID, spec.token);
        return fake.wait_for_request(|r| r.is("POST", &path), WAIT).await;
    }
    cb
}

/// The custom ids of the buttons in a message body (`body` or `body.data`).
pub fn button_ids(r: &Recorded) -> Vec<String> {
    let rows = r.body["components"]
        .as_array()
        .or_else(|| r.body["data"]["components"].as_array())
        .cloned()
        .unwrap_or_default();
    rows.iter()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["custom_id"].as_str().map(str::to_string))
        .collect()
}
