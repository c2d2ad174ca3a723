//! Smoke tests of the fake Discord (tests/e2e/fake_discord) with a minimal serenity client, built
//! the production way: `HttpBuilder::proxy(api_base).ratelimiter_disabled(true)` and
//! `ClientBuilder::new_with_http`. Nothing here talks to any address but 127.0.0.1.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::fake_discord::payloads::{self, InteractionSpec, MessageSpec};
use crate::fake_discord::{FakeDiscord, Fault};
use serde_json::json;
use serenity::all::{
    ChannelId, ClientBuilder, Command, CommandOptionType, Context, CreateActionRow, CreateButton,
    CreateCommand, CreateCommandOption, CreateEmbed, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage, CreateMessage,
    EditMessage, EventHandler, GatewayIntents, GuildId, Http, HttpBuilder, Interaction, Message,
    Ready, ResumedEvent, ShardManager, UserId,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const TOKEN: &str = "fake.token.value";
const WAIT: Duration = Duration::from_secs(5);

fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

/// What the handler saw, reported to the test.
#[derive(Debug, PartialEq)]
enum Seen {
    Ready(u64),
    Resumed,
    Message(String),
    Command(String),
}

struct Handler {
    seen: mpsc::UnboundedSender<Seen>,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        let _ = self.seen.send(Seen::Ready(ready.user.id.get()));
    }

    async fn resume(&self, _ctx: Context, _: ResumedEvent) {
        let _ = self.seen.send(Seen::Resumed);
    }

    async fn message(&self, ctx: Context, msg: Message) {
        if msg.author.bot {
            return;
        }
        let _ = self.seen.send(Seen::Message(msg.content.clone()));
        if let Some(rest) = msg.content.strip_prefix("!echo ") {
            // `&ctx` (with the cache) runs serenity's cache-based permission check, which uses
            // the bot member and roles from GUILD_CREATE, as in production.
            msg.channel_id
                .say(&ctx, format!("echo: {rest}"))
                .await
                .expect("reply");
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let Interaction::Command(cmd) = interaction else {
            return;
        };
        let _ = self.seen.send(Seen::Command(cmd.data.name.clone()));
        let topic = cmd
            .data
            .options
            .iter()
            .find(|o| o.name == "topic")
            .and_then(|o| o.value.as_str())
            .unwrap_or("-")
            .to_string();
        let reply = CreateInteractionResponseMessage::new()
            .content(format!("pong: {topic}"))
            .ephemeral(true);
        cmd.create_response(&ctx.http, CreateInteractionResponse::Message(reply))
            .await
            .expect("create_response");
        // A follow-up needs the application id, which serenity takes from READY.
        cmd.create_followup(
            &ctx.http,
            CreateInteractionResponseFollowup::new().content("follow-up"),
        )
        .await
        .expect("create_followup");
    }
}

struct Bot {
    shard_manager: Arc<ShardManager>,
    task: JoinHandle<Result<(), serenity::Error>>,
    seen: mpsc::UnboundedReceiver<Seen>,
}

fn http_for(fake: &FakeDiscord) -> Http {
    HttpBuilder::new(TOKEN)
        .proxy(fake.api_base())
        .ratelimiter_disabled(true)
        .build()
}

async fn start_bot(fake: &FakeDiscord) -> Bot {
    crate::fake_discord::init_tracing();
    let (tx, seen) = mpsc::unbounded_channel();
    let mut client = ClientBuilder::new_with_http(http_for(fake), intents())
        .event_handler(Handler { seen: tx })
        .await
        .expect("build client");
    // GET /gateway failing makes serenity fall back to the real gateway: refuse to go on.
    let ws_url = client.ws_url.lock().await.clone();
    assert_eq!(
        ws_url,
        fake.gateway_url(),
        "client must use the fake gateway"
    );
    let shard_manager = client.shard_manager.clone();
    let task = tokio::spawn(async move { client.start().await });
    Bot {
        shard_manager,
        task,
        seen,
    }
}

impl Bot {
    async fn next_seen(&mut self) -> Seen {
        tokio::time::timeout(WAIT, self.seen.recv())
            .await
            .expect("handler event within timeout")
            .expect("handler channel open")
    }

    /// Waits for a specific event, skipping others.
    async fn expect_seen(&mut self, want: Seen) {
        loop {
            if self.next_seen().await == want {
                return;
            }
        }
    }

    async fn shutdown(self, fake: &FakeDiscord) {
        self.shard_manager.shutdown_all().await;
        let result = tokio::time::timeout(WAIT, self.task)
            .await
            .expect("client stops")
            .expect("client task");
        assert!(result.is_ok(), "client ended with {result:?}");
        // The close handshake completed: the client's 1000 close frame reached the fake.
        fake.wait_gateway(|s| s.client_close_codes.contains(&1000), WAIT)
            .await;
        fake.assert_no_harness_errors();
    }
}

async fn connected_bot(fake: &FakeDiscord) -> Bot {
    let mut bot = start_bot(fake).await;
    fake.wait_ready(WAIT).await;
    bot.expect_seen(Seen::Ready(FakeDiscord::BOT_USER_ID)).await;
    fake.dispatch(
        "GUILD_CREATE",
        payloads::guild_create(
            payloads::GUILD_ID,
            payloads::GUILD_OWNER_ID,
            &[(payloads::CHANNEL_ID, "general")],
        ),
    )
    .await;
    bot
}

/// 1. The client connects: GET /gateway, IDENTIFY with its intents, READY reaches the handler.
#[tokio::test(flavor = "multi_thread")]
async fn connect_identify_ready() {
    let fake = FakeDiscord::start().await;
    let mut bot = start_bot(&fake).await;
    fake.wait_ready(WAIT).await;
    bot.expect_seen(Seen::Ready(FakeDiscord::BOT_USER_ID)).await;

    assert_eq!(fake.identify_count(), 1);
    assert_eq!(fake.resume_count(), 0);
    assert_eq!(fake.identify_intents(), Some(intents().bits()));
    let identify = fake.last_identify().expect("identify payload");
    assert_eq!(identify["token"], "<redacted>");
    let gw = fake
        .wait_for_request(|r| r.is("GET", "/gateway"), WAIT)
        .await;
    assert!(gw.has_auth && gw.bot_auth, "token sent as Bot auth");
    assert_eq!(gw.status, 200);

    // Heartbeats are acknowledged (Discord may ask for one with op 1).
    fake.request_heartbeat().await;
    fake.wait_gateway(|s| s.heartbeats >= 1, WAIT).await;
    bot.shutdown(&fake).await;
}

/// A wrong token: REST answers 401 and IDENTIFY is closed with 4004, so the client gives up
/// with an error instead of retrying (and never leaves 127.0.0.1: GET /gateway stays open).
#[tokio::test(flavor = "multi_thread")]
async fn wrong_token_is_rejected() {
    let fake = FakeDiscord::start().await;
    fake.require_token("the.right.token");
    let bot = start_bot(&fake).await;
    let result = tokio::time::timeout(WAIT, bot.task)
        .await
        .expect("client gives up")
        .expect("client task");
    let err = result.expect_err("start fails");
    assert!(
        matches!(
            err,
            serenity::Error::Gateway(serenity::gateway::GatewayError::InvalidAuthentication)
        ),
        "{err:?}"
    );
    assert_eq!(fake.gateway_stats().rejected_identifies, 1);
    assert_eq!(fake.gateway_stats().ready_count, 0);
    let http = http_for(&fake);
    let e = http.get_current_user().await.unwrap_err();
    assert!(e.to_string().contains("401"), "{e}");
}

/// 2. MESSAGE_CREATE in a guild channel → the handler replies → POST /channels/{c}/messages;
///    the same for a DM.
#[tokio::test(flavor = "multi_thread")]
async fn message_create_gets_reply() {
    let fake = FakeDiscord::start().await;
    let mut bot = connected_bot(&fake).await;

    fake.dispatch("MESSAGE_CREATE", MessageSpec::guild("!echo hello").build())
        .await;
    let path = format!("/channels/{}/messages", payloads::CHANNEL_ID);
    let reply = fake.wait_for_request(|r| r.is("POST", &path), WAIT).await;
    assert_eq!(reply.content(), Some("echo: hello"));
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.response["author"]["id"],
        FakeDiscord::BOT_USER_ID.to_string()
    );
    bot.expect_seen(Seen::Message("!echo hello".into())).await;

    // A DM: the reply goes to the DM channel and carries no guild_id.
    fake.dispatch("MESSAGE_CREATE", MessageSpec::dm("!echo psst").build())
        .await;
    let dm_path = format!("/channels/{}/messages", payloads::DM_CHANNEL_ID);
    let dm_reply = fake
        .wait_for_request(|r| r.is("POST", &dm_path), WAIT)
        .await;
    assert_eq!(dm_reply.content(), Some("echo: psst"));
    assert!(dm_reply.response.get("guild_id").is_none());
    bot.shutdown(&fake).await;
}

/// 3. A dropped TCP connection makes the client RESUME on the same session; events after that
///    still reach the handler. A close frame 4000, op 9 (resumable) and op 7 resume too.
#[tokio::test(flavor = "multi_thread")]
async fn drop_and_close_resume() {
    let fake = FakeDiscord::start().await;
    let mut bot = connected_bot(&fake).await;
    let before = fake.gateway_stats();

    fake.drop_gateway().await;
    fake.wait_gateway(|s| s.resume_count == 1 && s.live, WAIT)
        .await;
    bot.expect_seen(Seen::Resumed).await;
    fake.dispatch(
        "MESSAGE_CREATE",
        MessageSpec::guild("!echo after drop").build(),
    )
    .await;
    fake.wait_for_request(|r| r.content() == Some("echo: after drop"), WAIT)
        .await;

    fake.close_gateway(4000).await;
    let after = fake
        .wait_gateway(|s| s.resume_count == 2 && s.live, WAIT)
        .await;
    fake.dispatch(
        "MESSAGE_CREATE",
        MessageSpec::guild("!echo after close").build(),
    )
    .await;
    fake.wait_for_request(|r| r.content() == Some("echo: after close"), WAIT)
        .await;

    // op 9 (resumable) and op 7 also end in a RESUME on a new connection.
    fake.invalid_session(true).await;
    fake.wait_gateway(|s| s.resume_count == 3 && s.live, WAIT)
        .await;
    fake.request_reconnect().await;
    let last = fake
        .wait_gateway(|s| s.resume_count == 4 && s.live, WAIT)
        .await;
    fake.dispatch(
        "MESSAGE_CREATE",
        MessageSpec::guild("!echo at last").build(),
    )
    .await;
    fake.wait_for_request(|r| r.content() == Some("echo: at last"), WAIT)
        .await;

    assert_eq!(fake.identify_count(), 1, "resumed, not re-identified");
    assert_eq!(after.session_id, before.session_id);
    assert_eq!(after.connections, 3);
    assert_eq!(last.connections, 5);
    bot.shutdown(&fake).await;
}

/// 4. A malformed MESSAGE_CREATE (no `author`) makes `dispatch` panic before anything is sent.
#[tokio::test(flavor = "multi_thread")]
async fn malformed_dispatch_panics() {
    let fake = Arc::new(FakeDiscord::start().await);
    let mut bot = connected_bot(&fake).await;
    let seq_before = fake.gateway_stats().seq;

    let mut bad = MessageSpec::guild("!echo never").build();
    bad.as_object_mut().unwrap().remove("author");
    let f = fake.clone();
    let err = tokio::spawn(async move { f.dispatch("MESSAGE_CREATE", bad).await })
        .await
        .expect_err("dispatch must panic");
    let msg = err.into_panic();
    let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("Event::Unknown"), "panic message: {msg}");
    assert!(
        msg.contains("author"),
        "panic names the missing field: {msg}"
    );
    assert_eq!(fake.gateway_stats().seq, seq_before, "nothing was sent");

    // The session is unaffected.
    fake.dispatch("MESSAGE_CREATE", MessageSpec::guild("!echo fine").build())
        .await;
    fake.wait_for_request(|r| r.content() == Some("echo: fine"), WAIT)
        .await;
    fake.expect_no_request_after(
        0,
        |r| r.content() == Some("echo: never"),
        Duration::from_millis(100),
    )
    .await;
    bot.expect_seen(Seen::Message("!echo fine".into())).await;
    match Arc::try_unwrap(fake) {
        Ok(fake) => bot.shutdown(&fake).await,
        Err(_) => panic!("fake still shared"),
    }
}

/// 4b. The same check as a plain `should_panic` test, without a client.
#[test]
#[should_panic(expected = "Event::Unknown")]
fn validate_rejects_message_without_author() {
    let mut bad = MessageSpec::guild("x").build();
    bad.as_object_mut().unwrap().remove("author");
    crate::fake_discord::validate_dispatch("MESSAGE_CREATE", &bad);
}

/// 5. A slash command → `create_response` → POST /interactions/{id}/{token}/callback with the
///    body; the follow-up goes to POST /webhooks/{application}/{token}.
#[tokio::test(flavor = "multi_thread")]
async fn slash_command_response_and_followup() {
    let fake = FakeDiscord::start().await;
    let mut bot = connected_bot(&fake).await;

    let spec = InteractionSpec::guild("ask").option(payloads::opt_string("topic", "gifts"));
    fake.dispatch("INTERACTION_CREATE", payloads::slash_command(&spec))
        .await;
    let callback_path = format!("/interactions/{}/{}/callback", spec.id, spec.token);
    let callback = fake
        .wait_for_request(|r| r.is("POST", &callback_path), WAIT)
        .await;
    assert_eq!(callback.status, 204);
    assert_eq!(callback.body["type"], 4);
    assert_eq!(callback.content(), Some("pong: gifts"));
    assert_eq!(callback.body["data"]["flags"], 64, "ephemeral");

    let followup_path = format!("/webhooks/{}/{}", FakeDiscord::APPLICATION_ID, spec.token);
    let followup = fake
        .wait_for_request(|r| r.is("POST", &followup_path), WAIT)
        .await;
    assert_eq!(followup.content(), Some("follow-up"));
    assert_eq!(
        followup.response["channel_id"],
        payloads::CHANNEL_ID.to_string()
    );
    bot.expect_seen(Seen::Command("ask".into())).await;
    bot.shutdown(&fake).await;
}

/// Every payload builder is accepted by serenity as the event it is meant for.
#[allow(clippy::too_many_lines)] // a scenario that reads better whole
#[test]
fn payload_builders_are_valid() {
    use crate::fake_discord::validate_dispatch as ok;
    let target = MessageSpec::guild("target").build();
    ok("MESSAGE_CREATE", &target);
    ok("MESSAGE_CREATE", &MessageSpec::dm("hi").build());
    ok(
        "MESSAGE_CREATE",
        &MessageSpec::guild("hey")
            .mentioning_bot()
            .everyone()
            .reply_to(target.clone())
            .build(),
    );
    ok(
        "MESSAGE_CREATE",
        &MessageSpec::guild("hook").webhook(42).build(),
    );
    ok(
        "GUILD_CREATE",
        &payloads::guild_create(5, 6, &[(7, "a"), (8, "b")]),
    );
    let mut guild = payloads::guild_create(5, 6, &[(7, "a")]);
    payloads::with_role(&mut guild, 11, "mods", payloads::perms::MODERATOR);
    payloads::with_member(&mut guild, payloads::user(12, "mod", false), &[11]);
    ok("GUILD_CREATE", &guild);
    ok("GUILD_DELETE", &payloads::guild_delete(5, false));
    ok("CHANNEL_DELETE", &payloads::channel_delete(7, 5, "a"));
    ok("MESSAGE_DELETE", &payloads::message_delete(9, 7, Some(5)));
    ok("MESSAGE_DELETE", &payloads::message_delete(9, 7, None));
    ok(
        "CHANNEL_PINS_UPDATE",
        &payloads::channel_pins_update(7, Some(5), Some(payloads::FIXED_TIMESTAMP)),
    );
    ok(
        "CHANNEL_PINS_UPDATE",
        &payloads::channel_pins_update(7, None, None),
    );
    let guild = InteractionSpec::guild("ask")
        .permissions(payloads::perms::MODERATOR)
        .option(payloads::opt_string("topic", "x"))
        .option(payloads::opt_int("n", 3))
        .option(payloads::opt_bool("b", true));
    ok("INTERACTION_CREATE", &payloads::slash_command(&guild));
    ok(
        "INTERACTION_CREATE",
        &payloads::slash_command(&InteractionSpec::dm("ask")),
    );
    let mut with_user = InteractionSpec::guild("who").option(payloads::opt_user("u", 77));
    with_user.resolved = payloads::resolved_users(&[payloads::user(77, "bob", false)]);
    ok("INTERACTION_CREATE", &payloads::slash_command(&with_user));
    ok(
        "INTERACTION_CREATE",
        &payloads::slash_command(&InteractionSpec::guild("admin").option(
            payloads::opt_subcommand("add", vec![payloads::opt_string("k", "v")]),
        )),
    );
    ok(
        "INTERACTION_CREATE",
        &payloads::autocomplete(
            &InteractionSpec::guild("ask").option(payloads::opt_focused("topic", "gi")),
        ),
    );
    ok(
        "INTERACTION_CREATE",
        &payloads::message_context_menu(&InteractionSpec::guild("Ask about this"), &target),
    );
    ok(
        "INTERACTION_CREATE",
        &payloads::message_context_menu(
            &InteractionSpec::dm("Ask about this"),
            &MessageSpec::dm("t").build(),
        ),
    );
    ok(
        "INTERACTION_CREATE",
        &payloads::user_context_menu(
            &InteractionSpec::guild("Info"),
            &payloads::user(77, "bob", false),
        ),
    );
    ok(
        "INTERACTION_CREATE",
        &payloads::component(&payloads::ComponentSpec::button("pin:1", target.clone())),
    );
    ok(
        "INTERACTION_CREATE",
        &payloads::modal_submit("ask-modal", &[("q", "text")], &InteractionSpec::guild("")),
    );
    // Parsed values round-trip into serenity's types as expected.
    let parsed: Interaction =
        serde_json::from_value(payloads::slash_command(&guild)).expect("interaction");
    let Interaction::Command(cmd) = parsed else {
        panic!("not a command")
    };
    assert_eq!(cmd.user.id.get(), payloads::USER_ID);
    assert_eq!(cmd.guild_id.map(|g| g.get()), Some(payloads::GUILD_ID));
    let perms = cmd
        .member
        .expect("member")
        .permissions
        .expect("permissions");
    assert!(perms.manage_messages());
}

/// The REST replies parse with serenity's own `Http` calls; faults are injected as asked.
#[allow(clippy::too_many_lines)] // a scenario that reads better whole
#[tokio::test(flavor = "multi_thread")]
async fn rest_routes_and_faults() {
    let fake = FakeDiscord::start().await;
    let http = HttpBuilder::new(TOKEN)
        .proxy(fake.api_base())
        .ratelimiter_disabled(true)
        .application_id(FakeDiscord::APPLICATION_ID.into())
        .build();
    let channel = ChannelId::new(payloads::CHANNEL_ID);

    assert_eq!(http.get_gateway().await.unwrap().url, fake.gateway_url());
    assert_eq!(http.get_bot_gateway().await.unwrap().shards, 1);
    let app = http.get_current_application_info().await.unwrap();
    assert_eq!(app.id.get(), FakeDiscord::APPLICATION_ID);
    assert_eq!(app.owner.unwrap().id.get(), FakeDiscord::APP_OWNER_ID);
    assert_eq!(
        http.get_current_user().await.unwrap().id.get(),
        FakeDiscord::BOT_USER_ID
    );

    // Commands: global and guild registration echo ids; re-registering keeps them.
    let commands = vec![
        CreateCommand::new("ask").description("Ask").add_option(
            CreateCommandOption::new(CommandOptionType::String, "topic", "Topic")
                .required(true)
                .set_autocomplete(true),
        ),
        CreateCommand::new("Ask about this").kind(serenity::all::CommandType::Message),
    ];
    let global = Command::set_global_commands(&http, commands.clone())
        .await
        .unwrap();
    assert_eq!(global.len(), 2);
    let again = Command::set_global_commands(&http, commands.clone())
        .await
        .unwrap();
    assert_eq!(global[0].id, again[0].id);
    let guild = GuildId::new(payloads::GUILD_ID)
        .set_commands(&http, commands)
        .await
        .unwrap();
    assert_eq!(guild[1].name, "Ask about this");
    assert_eq!(fake.registered_commands(Some(payloads::GUILD_ID)).len(), 2);

    // Messages with an embed and a button, edit, fetch, pin, unpin, delete.
    let sent = channel
        .send_message(
            &http,
            CreateMessage::new()
                .content("hello")
                .embed(
                    CreateEmbed::new()
                        .title("T")
                        .description("D")
                        .field("f", "v", false),
                )
                .components(vec![CreateActionRow::Buttons(vec![CreateButton::new(
                    "pin:1",
                )
                .label("Pin")])]),
        )
        .await
        .unwrap();
    assert_eq!(sent.content, "hello");
    assert_eq!(sent.embeds[0].title.as_deref(), Some("T"));
    assert_eq!(sent.components.len(), 1);
    assert_eq!(sent.author.id.get(), FakeDiscord::BOT_USER_ID);
    let reply = channel
        .send_message(
            &http,
            CreateMessage::new().content("re").reference_message(&sent),
        )
        .await
        .unwrap();
    assert_eq!(
        reply.referenced_message.as_ref().map(|m| m.id),
        Some(sent.id)
    );
    let edited = channel
        .edit_message(&http, sent.id, EditMessage::new().content("edited"))
        .await
        .unwrap();
    assert_eq!(edited.content, "edited");
    assert!(edited.edited_timestamp.is_some());
    channel.pin(&http, sent.id).await.unwrap();
    let pins = channel.pins(&http).await.unwrap();
    assert_eq!(pins.len(), 1);
    channel.unpin(&http, sent.id).await.unwrap();
    assert_eq!(
        channel.message(&http, sent.id).await.unwrap().content,
        "edited"
    );
    channel.delete_message(&http, sent.id).await.unwrap();
    let pin_path = format!("/channels/{}/pins/{}", payloads::CHANNEL_ID, sent.id);
    let pin = fake
        .wait_for_request(|r| r.is("PUT", &pin_path), WAIT)
        .await;
    assert_eq!(pin.status, 204);

    // DMs and channels.
    let dm = UserId::new(payloads::USER_ID)
        .create_dm_channel(&http)
        .await
        .unwrap();
    assert_eq!(dm.recipient.id.get(), payloads::USER_ID);
    let guild_channel = channel.to_channel(&http).await.unwrap().guild().unwrap();
    assert_eq!(guild_channel.guild_id.get(), payloads::GUILD_ID);

    // Guild data known from a GUILD_CREATE (here seeded without a gateway client).
    let mut g = payloads::guild_create(
        payloads::GUILD_ID,
        payloads::GUILD_OWNER_ID,
        &[(payloads::CHANNEL_ID, "general")],
    );
    payloads::with_role(&mut g, 77, "mods", payloads::perms::MODERATOR);
    payloads::with_member(&mut g, payloads::user(78, "mod", false), &[77]);
    fake.put_guild(g);
    let guild_id = GuildId::new(payloads::GUILD_ID);
    let partial = http.get_guild(guild_id).await.unwrap();
    assert_eq!(partial.owner_id.get(), payloads::GUILD_OWNER_ID);
    assert_eq!(http.get_guild_roles(guild_id).await.unwrap().len(), 3);
    let moderator = http.get_member(guild_id, UserId::new(78)).await.unwrap();
    assert_eq!(moderator.roles.len(), 1);
    let stranger = http.get_member(guild_id, UserId::new(79)).await.unwrap();
    assert!(stranger.roles.is_empty());
    assert_eq!(guild_id.channels(&http).await.unwrap().len(), 1);
    channel.say(&http, "listed").await.unwrap();
    let history = channel
        .messages(&http, serenity::all::GetMessages::new())
        .await
        .unwrap();
    assert!(history.iter().any(|m| m.content == "listed"));

    // Unknown routes: Discord-style 404, still recorded.
    let missing = http.get_guild_regions(GuildId::new(5)).await.unwrap_err();
    assert!(missing.to_string().contains("404: Not Found"), "{missing}");
    fake.wait_for_request(
        |r| r.is("GET", "/guilds/5/regions") && r.status == 404,
        WAIT,
    )
    .await;
    let unknown_guild = http.get_guild(GuildId::new(5)).await.unwrap_err();
    assert!(
        unknown_guild.to_string().contains("Unknown Guild"),
        "{unknown_guild}"
    );

    // Faults.
    let post_path = format!("/channels/{}/messages", payloads::CHANNEL_ID);
    fake.set_rest_fault(
        "POST",
        &post_path,
        Fault::Status {
            code: 403,
            body: json!({"code": 50013, "message": "Missing Permissions"}),
            times: 1,
        },
    );
    let e = channel.say(&http, "x").await.unwrap_err();
    assert!(e.to_string().contains("Missing Permissions"), "{e}");
    channel.say(&http, "fault used up").await.unwrap();
    fake.set_rest_fault(
        "*",
        "/channels/",
        Fault::RateLimited {
            retry_after_secs: 1.5,
            times: 1,
        },
    );
    let e = channel.say(&http, "y").await.unwrap_err();
    assert!(format!("{e:?}").contains("429"), "{e:?}");
    fake.set_rest_fault("POST", &post_path, Fault::Delay(Duration::from_millis(300)));
    let started = Instant::now();
    channel.say(&http, "slow").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    fake.clear_rest_faults();
    let statuses: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.is("POST", &post_path))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![200, 200, 200, 403, 200, 429, 200]);

    // Multipart (a file attached): payload_json and file names are recorded.
    let mark = fake.request_mark();
    let with_file = channel
        .send_message(
            &http,
            CreateMessage::new()
                .content("see file")
                .add_file(serenity::all::CreateAttachment::bytes(&b"hi"[..], "a.txt")),
        )
        .await
        .unwrap();
    assert_eq!(with_file.attachments[0].filename, "a.txt");
    let multipart = fake
        .wait_for_request_after(mark, |r| r.is("POST", &post_path), WAIT)
        .await;
    assert_eq!(multipart.content(), Some("see file"));
    assert_eq!(multipart.files, vec!["a.txt".to_string()]);

    // Nothing arrives unasked.
    fake.expect_no_request(|_| true, Duration::from_millis(100))
        .await;
    fake.assert_no_harness_errors();
}
