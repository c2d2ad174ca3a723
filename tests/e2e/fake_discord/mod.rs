//! A fake Discord on 127.0.0.1 (REST under `/api/v10` and a websocket gateway at `/gateway`)
//! for driving a real serenity/poise client in end-to-end tests.
//!
//! A module of the end-to-end test binary (`tests/e2e/main.rs`); other targets include it with
//! `#[path = "…/tests/e2e/fake_discord/mod.rs"] mod fake_discord;`. See
//! `/work/shared/notes/discord-offline-testing.md` for how the client must be built (proxy +
//! `ratelimiter_disabled(true)` + `ClientBuilder::new_with_http`).
//!
//! Typical use (see `tests/e2e/harness.rs` for complete, working examples):
//!
//! ```ignore
//! let fake = FakeDiscord::start().await;
//! // config: [discord] api_base = fake.api_base(); the bot builds its Http with
//! // HttpBuilder::new(token).proxy(api_base).ratelimiter_disabled(true)
//! fake.wait_ready(Duration::from_secs(5)).await;
//! fake.dispatch("GUILD_CREATE", payloads::guild_create(GUILD_ID, OWNER, &[(CHANNEL_ID, "general")])).await;
//! let spec = InteractionSpec::guild("ask").option(payloads::opt_string("topic", "gifts"));
//! fake.dispatch("INTERACTION_CREATE", payloads::slash_command(&spec)).await;
//! let r = fake.wait_for_request(|r| r.is_under("POST", "/interactions/"), Duration::from_secs(5)).await;
//! assert!(r.visible_text().contains("…"));
//! shard_manager.shutdown_all().await;
//! ```
//!
//! Design notes:
//! * Every REST request is recorded (also 404s and injected faults); the lists are matched by
//!   predicate with a timeout, never by arrival order (serenity handles each event in its own
//!   task).
//! * `dispatch` validates the whole frame with serenity's own model types before it sends it,
//!   because serenity silently turns a malformed known event into `Event::Unknown`.
//! * One gateway client at a time; a newer connection replaces the older one. Dispatches wait
//!   until a session is live (READY or RESUMED sent), so `drop_gateway(); dispatch(..)` is safe.

mod gateway;
pub mod payloads;
mod rest;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// How long `dispatch`, `drop_gateway`, … wait for a live gateway session.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// One REST request as the fake received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Position in the request log (0-based); compare with [`FakeDiscord::request_mark`].
    pub index: usize,
    /// Upper case: "GET", "POST", …
    pub method: String,
    /// Path without the `/api/v10` prefix, e.g. `/channels/1/messages`.
    pub path: String,
    /// Raw query string without `?`, if any.
    pub query: Option<String>,
    /// An `Authorization` header was present (its value is never stored).
    pub has_auth: bool,
    /// The `Authorization` header had the `Bot ` scheme.
    pub bot_auth: bool,
    /// JSON body; for multipart the `payload_json` part; `Null` when empty; a JSON string with
    /// the raw text when the body is not JSON.
    pub body: Value,
    /// File names of multipart file parts.
    pub files: Vec<String>,
    /// The status the fake answered with.
    pub status: u16,
    /// The JSON the fake answered with (`Null` for 204).
    pub response: Value,
    /// When the fake received the request (for latency measurements).
    pub at: std::time::Instant,
}

impl Recorded {
    /// `method` (case-insensitive) and exact `path` (without `/api/v10`) match.
    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && self.path == path
    }

    /// `method` matches and the path starts with `prefix`.
    pub fn is_under(&self, method: &str, prefix: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && self.path.starts_with(prefix)
    }

    /// The message text sent: `body.content` (messages, webhooks) or `body.data.content`
    /// (interaction callbacks).
    pub fn content(&self) -> Option<&str> {
        self.body["content"]
            .as_str()
            .or_else(|| self.body["data"]["content"].as_str())
    }

    /// The embeds sent (`body.embeds` or `body.data.embeds`), empty if none.
    pub fn embeds(&self) -> Vec<Value> {
        self.body["embeds"]
            .as_array()
            .or_else(|| self.body["data"]["embeds"].as_array())
            .cloned()
            .unwrap_or_default()
    }

    /// Everything a human would read in the message: content, embed titles, descriptions,
    /// field names/values and footers, joined by newlines.
    pub fn visible_text(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = self.content() {
            parts.push(c.to_string());
        }
        for e in self.embeds() {
            for key in ["title", "description"] {
                if let Some(s) = e[key].as_str() {
                    parts.push(s.to_string());
                }
            }
            for f in e["fields"].as_array().into_iter().flatten() {
                for key in ["name", "value"] {
                    if let Some(s) = f[key].as_str() {
                        parts.push(s.to_string());
                    }
                }
            }
            if let Some(s) = e["footer"]["text"].as_str() {
                parts.push(s.to_string());
            }
        }
        parts.join("\n")
    }

    /// One line for failure dumps.
    pub fn summary(&self) -> String {
        let q = self
            .query
            .as_deref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        let mut body = self.body.to_string();
        if body.len() > 400 {
            let mut cut = 400;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
            body.push('…');
        }
        format!(
            "#{} {} {}{} -> {} auth={} body={}",
            self.index, self.method, self.path, q, self.status, self.has_auth, body
        )
    }
}

/// A REST fault to inject with [`FakeDiscord::set_rest_fault`].
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with `code` and `body` (e.g. `json!({"code": 50013, "message": "Missing
    /// Permissions"})`) for the next `times` matching requests.
    Status {
        code: u16,
        body: Value,
        times: usize,
    },
    /// Answer normally, but only after this delay, until cleared.
    Delay(Duration),
    /// Answer 429 with Discord's rate-limit body and headers for the next `times` requests.
    RateLimited { retry_after_secs: f64, times: usize },
}

#[derive(Clone, Debug)]
pub(crate) struct FaultRule {
    method: String,
    path_prefix: String,
    fault: Fault,
}

/// Counters of the gateway side.
#[derive(Clone, Debug, Default)]
pub struct GatewayStats {
    /// Websocket connections accepted so far.
    pub connections: usize,
    pub identify_count: usize,
    pub resume_count: usize,
    /// READY dispatches sent.
    pub ready_count: usize,
    /// A client is connected and its session is live (READY or RESUMED sent).
    pub live: bool,
    /// Last sequence number sent.
    pub seq: u64,
    pub session_id: Option<String>,
    /// Intents of the last IDENTIFY.
    pub intents: Option<u64>,
    /// Close codes the client sent (e.g. 1000 on shutdown).
    pub client_close_codes: Vec<u16>,
    /// Heartbeats (op 1) received and acknowledged.
    pub heartbeats: usize,
    /// IDENTIFYs refused because of a wrong token (see `require_token`).
    pub rejected_identifies: usize,
}

pub(crate) enum Cmd {
    Dispatch {
        t: String,
        d: Value,
        ack: oneshot::Sender<u64>,
    },
    /// A non-dispatch frame (op 7, op 9 …).
    Frame {
        frame: Value,
        ack: oneshot::Sender<()>,
    },
    /// Close the TCP connection without a close frame.
    Drop { ack: oneshot::Sender<()> },
    /// Send a close frame and finish the handshake.
    Close {
        code: u16,
        reason: String,
        ack: oneshot::Sender<()>,
    },
}

pub(crate) struct Conn {
    pub(crate) id: u64,
    pub(crate) tx: mpsc::UnboundedSender<Cmd>,
    pub(crate) live: bool,
}

pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) seq: u64,
}

/// Per-interaction facts learnt from dispatched INTERACTION_CREATE events, so that webhook
/// replies can be given the right channel.
#[derive(Clone, Debug)]
pub(crate) struct InteractionInfo {
    pub(crate) channel_id: u64,
    pub(crate) guild_id: Option<u64>,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) requests: Vec<Recorded>,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) harness_errors: Vec<String>,
    pub(crate) gateway_log: Vec<String>,
    pub(crate) stats: GatewayStats,
    pub(crate) conn: Option<Conn>,
    pub(crate) next_conn_id: u64,
    pub(crate) session: Option<Session>,
    pub(crate) last_identify: Option<Value>,
    /// Messages known to the fake: created through REST or dispatched in MESSAGE_CREATE.
    pub(crate) messages: HashMap<u64, Value>,
    /// Channels known to the fake: from GUILD_CREATE dispatches and DMs opened through REST.
    pub(crate) channels: HashMap<u64, Value>,
    /// DM channel id per recipient.
    pub(crate) dm_channels: HashMap<u64, u64>,
    pub(crate) interactions: HashMap<String, InteractionInfo>,
    /// Original interaction responses by token.
    pub(crate) originals: HashMap<String, Value>,
    pub(crate) global_commands: Vec<Value>,
    pub(crate) guild_commands: HashMap<u64, Vec<Value>>,
    pub(crate) last_guild_id: Option<u64>,
    /// GUILD_CREATE payloads dispatched, by guild id.
    pub(crate) guilds: HashMap<u64, Value>,
    /// When set, REST (except GET /gateway, which Discord serves unauthenticated) answers 401
    /// and IDENTIFY is closed with 4004 unless the token is this one.
    pub(crate) required_token: Option<String>,
    /// Set by [`FakeDiscord::tap_requests`] (long load runs): requests go to it and are recorded
    /// only if it says so. `None` (the default) records everything.
    pub(crate) tap: Option<RequestTap>,
}

/// See [`FakeDiscord::tap_requests`].
pub(crate) type RequestTap = Box<dyn FnMut(&Recorded) -> bool + Send>;

pub(crate) struct Shared {
    pub(crate) addr: SocketAddr,
    state: Mutex<State>,
    notify: watch::Sender<u64>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wake everybody waiting for a state change.
    pub(crate) fn changed(&self) {
        self.notify.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub(crate) fn ws_url(&self) -> String {
        format!("ws://{}/gateway", self.addr)
    }

    pub(crate) fn log_gateway(&self, line: String) {
        let mut st = self.lock();
        // With a tap (long load runs) the per-frame lines would grow with the traffic.
        if st.tap.is_none() {
            st.gateway_log.push(line);
        }
    }
}

/// The fake Discord. Dropping it stops the server and drops the gateway connection.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.server.abort();
        // Dropping the sender ends the connection task, which closes the socket.
        self.shared.lock().conn = None;
    }
}

impl FakeDiscord {
    /// The bot's user id (READY.user, GET /users/@me, author of the bot's messages).
    pub const BOT_USER_ID: u64 = 1_100_000_000_000_000_001;
    /// The application id (READY.application.id). Deliberately differs from the bot user id so
    /// that mixing them up fails.
    pub const APPLICATION_ID: u64 = 1_100_000_000_000_000_002;
    /// The owner of the application (GET /oauth2/applications/@me).
    pub const APP_OWNER_ID: u64 = 1_100_000_000_000_000_003;
    pub const BOT_NAME: &'static str = "boundary-bot-test";
    pub const HEARTBEAT_INTERVAL_MS: u64 = 41_250;

    /// Binds 127.0.0.1:0 and serves REST under `/api/v10` and the gateway at `/gateway`.
    pub async fn start() -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let (notify, _) = watch::channel(0u64);
        let shared = Arc::new(Shared {
            addr,
            state: Mutex::new(State::default()),
            notify,
        });
        let app = axum::Router::new()
            .route("/gateway", axum::routing::get(gateway::ws_handler))
            .fallback(rest::handle)
            .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("fake_discord: server error: {e}");
            }
        });
        FakeDiscord { shared, server }
    }

    /// `http://127.0.0.1:PORT`: what the bot gets as its API base (`HttpBuilder::proxy`).
    pub fn api_base(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// `ws://127.0.0.1:PORT/gateway`: what GET /gateway advertises.
    pub fn gateway_url(&self) -> String {
        self.shared.ws_url()
    }

    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    // ----- waiting -------------------------------------------------------------------------

    /// Waits until `check` returns `Some` (re-checked on every state change) or the timeout.
    async fn wait_until<R>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&State) -> Option<R>,
    ) -> Option<R> {
        let mut rx = self.shared.notify.subscribe();
        let deadline = Instant::now() + timeout;
        loop {
            rx.borrow_and_update();
            if let Some(r) = check(&self.shared.lock()) {
                return Some(r);
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return check(&self.shared.lock()),
            }
        }
    }

    fn dump(&self) -> String {
        let st = self.shared.lock();
        let mut out = String::new();
        out.push_str(&format!(
            "recorded REST requests ({}):\n",
            st.requests.len()
        ));
        for r in &st.requests {
            out.push_str("  ");
            out.push_str(&r.summary());
            out.push('\n');
        }
        out.push_str(&format!("gateway: {:?}\ngateway log:\n", st.stats));
        for l in &st.gateway_log {
            out.push_str("  ");
            out.push_str(l);
            out.push('\n');
        }
        if !st.harness_errors.is_empty() {
            out.push_str(&format!("HARNESS ERRORS: {:#?}\n", st.harness_errors));
        }
        out
    }

    /// Panics if the fake produced a reply that serenity could not parse (a harness bug).
    pub fn assert_no_harness_errors(&self) {
        let errs = self.shared.lock().harness_errors.clone();
        assert!(errs.is_empty(), "fake_discord harness errors: {errs:#?}");
    }

    // ----- gateway -------------------------------------------------------------------------

    /// Waits until a client IDENTIFYed, got READY, and its session is live.
    pub async fn wait_ready(&self, timeout: Duration) {
        if self
            .wait_until(timeout, |s| {
                (s.stats.ready_count >= 1 && s.stats.live).then_some(())
            })
            .await
            .is_none()
        {
            panic!(
                "fake_discord: no READY session within {timeout:?}\n{}",
                self.dump()
            );
        }
    }

    /// Waits until `pred` holds for the gateway counters; returns them.
    pub async fn wait_gateway(
        &self,
        pred: impl Fn(&GatewayStats) -> bool,
        timeout: Duration,
    ) -> GatewayStats {
        match self
            .wait_until(timeout, |s| pred(&s.stats).then(|| s.stats.clone()))
            .await
        {
            Some(s) => s,
            None => panic!(
                "fake_discord: gateway condition not met within {timeout:?}\n{}",
                self.dump()
            ),
        }
    }

    pub fn gateway_stats(&self) -> GatewayStats {
        self.shared.lock().stats.clone()
    }

    pub fn identify_count(&self) -> usize {
        self.shared.lock().stats.identify_count
    }

    pub fn resume_count(&self) -> usize {
        self.shared.lock().stats.resume_count
    }

    /// Intents from the last IDENTIFY.
    pub fn identify_intents(&self) -> Option<u64> {
        self.shared.lock().stats.intents
    }

    /// The last IDENTIFY `d`, with the token replaced by `"<redacted>"`.
    pub fn last_identify(&self) -> Option<Value> {
        self.shared.lock().last_identify.clone()
    }

    /// Waits for a live session and returns its command sender.
    async fn live_conn(&self, what: &str, deadline: Instant) -> mpsc::UnboundedSender<Cmd> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        match self
            .wait_until(timeout, |s| {
                s.conn.as_ref().filter(|c| c.live).map(|c| c.tx.clone())
            })
            .await
        {
            Some(tx) => tx,
            None => panic!(
                "fake_discord: {what}: no live gateway session within {timeout:?}\n{}",
                self.dump()
            ),
        }
    }

    /// Marks the live connection as not live (so dispatches wait for the next session) and
    /// returns its sender.
    async fn take_live_conn(&self, what: &str) -> mpsc::UnboundedSender<Cmd> {
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        loop {
            let tx = self.live_conn(what, deadline).await;
            let mut st = self.shared.lock();
            if let Some(c) = st
                .conn
                .as_mut()
                .filter(|c| c.live && c.tx.same_channel(&tx))
            {
                c.live = false;
                st.stats.live = false;
                drop(st);
                self.shared.changed();
                return tx;
            }
        }
    }

    /// Sends the dispatch `t` with payload `d` (op 0, next sequence number) to the connected
    /// client, waiting up to [`DEFAULT_TIMEOUT`] for a live session. Before sending, the frame is
    /// deserialised with serenity's `GatewayEvent`; this panics if serenity would reject it or
    /// see it as `Event::Unknown`. Returns the sequence number used.
    pub async fn dispatch(&self, t: &str, d: Value) -> u64 {
        validate_dispatch(t, &d);
        self.note_dispatch(t, &d);
        self.dispatch_unchecked(t, d).await
    }

    /// Like [`dispatch`](Self::dispatch) without validation (for deliberately unknown events).
    pub async fn dispatch_unchecked(&self, t: &str, d: Value) -> u64 {
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        loop {
            let tx = self.live_conn(&format!("dispatch {t}"), deadline).await;
            let (ack, ack_rx) = oneshot::channel();
            let cmd = Cmd::Dispatch {
                t: t.to_string(),
                d: d.clone(),
                ack,
            };
            if tx.send(cmd).is_ok() {
                match tokio::time::timeout_at(deadline, ack_rx).await {
                    Ok(Ok(seq)) => return seq,
                    Ok(Err(_)) => {} // that connection went away: wait for the next one
                    Err(_) => panic!(
                        "fake_discord: dispatch {t}: not sent within {DEFAULT_TIMEOUT:?}\n{}",
                        self.dump()
                    ),
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Learns channels, messages and interaction tokens from what is dispatched, so REST replies
    /// about them are consistent.
    fn note_dispatch(&self, t: &str, d: &Value) {
        let mut st = self.shared.lock();
        match t {
            "GUILD_CREATE" => {
                let gid = parse_id(&d["id"]);
                st.last_guild_id = gid;
                if let Some(g) = gid {
                    st.guilds.insert(g, d.clone());
                }
                for c in d["channels"].as_array().into_iter().flatten() {
                    if let Some(cid) = parse_id(&c["id"]) {
                        let mut c = c.clone();
                        if let Some(g) = gid {
                            c["guild_id"] = json!(g.to_string());
                        }
                        st.channels.insert(cid, c);
                    }
                }
            }
            "CHANNEL_CREATE" | "CHANNEL_UPDATE" => {
                if let Some(cid) = parse_id(&d["id"]) {
                    st.channels.insert(cid, d.clone());
                }
            }
            "GUILD_DELETE" => {
                if let Some(g) = parse_id(&d["id"]) {
                    st.guilds.remove(&g);
                }
            }
            "CHANNEL_DELETE" => {
                if let Some(cid) = parse_id(&d["id"]) {
                    st.channels.remove(&cid);
                }
            }
            "MESSAGE_CREATE" => {
                if let Some(mid) = parse_id(&d["id"]) {
                    st.messages.insert(mid, d.clone());
                }
                // A message without guild_id is a DM: remember the channel as one.
                if let (None, Some(cid)) = (parse_id(&d["guild_id"]), parse_id(&d["channel_id"])) {
                    st.channels
                        .entry(cid)
                        .or_insert_with(|| payloads::dm_channel(cid, &d["author"]));
                }
            }
            "MESSAGE_DELETE" => {
                if let Some(mid) = parse_id(&d["id"]) {
                    st.messages.remove(&mid);
                }
            }
            "INTERACTION_CREATE" => {
                if let (Some(token), Some(channel_id)) =
                    (d["token"].as_str(), parse_id(&d["channel_id"]))
                {
                    let info = InteractionInfo {
                        channel_id,
                        guild_id: parse_id(&d["guild_id"]),
                    };
                    if info.guild_id.is_none() && d["user"].is_object() {
                        st.channels
                            .entry(channel_id)
                            .or_insert_with(|| payloads::dm_channel(channel_id, &d["user"]));
                    }
                    st.interactions.insert(token.to_string(), info);
                }
            }
            _ => {}
        }
    }

    async fn send_to_live(&self, what: &str, make: impl FnOnce(oneshot::Sender<()>) -> Cmd) {
        let tx = self.take_live_conn(what).await;
        let (ack, ack_rx) = oneshot::channel();
        if tx.send(make(ack)).is_err() {
            return; // already gone: same effect
        }
        let _ = tokio::time::timeout(DEFAULT_TIMEOUT, ack_rx).await;
    }

    /// Abruptly closes the gateway TCP connection (no close frame), like a network drop. The
    /// client then RESUMEs. Waits for a live session first.
    pub async fn drop_gateway(&self) {
        self.send_to_live("drop_gateway", |ack| Cmd::Drop { ack })
            .await;
    }

    /// Sends a close frame with `code` (e.g. 4000 → client resumes; 4004/4013/4014 → client
    /// gives up) and completes the close handshake.
    pub async fn close_gateway(&self, code: u16) {
        self.send_to_live("close_gateway", |ack| Cmd::Close {
            code,
            reason: format!("fake_discord close {code}"),
            ack,
        })
        .await;
    }

    /// Sends op 9 INVALID_SESSION. `resumable: true` → the client RESUMEs on a new connection;
    /// `false` → it IDENTIFYs again (serenity waits ~5 s between shard boots for that).
    pub async fn invalid_session(&self, resumable: bool) {
        if !resumable {
            self.shared.lock().session = None;
        }
        self.send_to_live("invalid_session", |ack| Cmd::Frame {
            frame: json!({"op": 9, "d": resumable}),
            ack,
        })
        .await;
    }

    /// Sends op 1 (Discord asking for an immediate heartbeat); the client answers with a
    /// heartbeat, which the fake acknowledges (counted in `GatewayStats::heartbeats`).
    pub async fn request_heartbeat(&self) {
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        let tx = self.live_conn("request_heartbeat", deadline).await;
        let (ack, ack_rx) = oneshot::channel();
        let frame = json!({"op": 1, "d": null});
        if tx.send(Cmd::Frame { frame, ack }).is_ok() {
            let _ = tokio::time::timeout_at(deadline, ack_rx).await;
        }
    }

    /// From now on, accept only `token` (without the `Bot ` prefix): other REST requests get
    /// 401 and an IDENTIFY with another token is closed with 4004 (serenity then gives up with
    /// `GatewayError::InvalidAuthentication`). GET /gateway stays open, as on Discord; this
    /// matters because serenity silently falls back to the real gateway when it fails.
    pub fn require_token(&self, token: &str) {
        self.shared.lock().required_token = Some(token.to_string());
    }

    /// Sends op 7 RECONNECT: the client reconnects and RESUMEs.
    pub async fn request_reconnect(&self) {
        self.send_to_live("request_reconnect", |ack| Cmd::Frame {
            frame: json!({"op": 7, "d": null}),
            ack,
        })
        .await;
    }

    // ----- REST ----------------------------------------------------------------------------

    /// Opt-in, for long load runs, so that the fake's memory does not grow with the traffic
    /// (by default every request, every message and every gateway frame is kept). From now on
    /// each REST request is handed to `tap` as it is answered, under the fake's lock, and is
    /// recorded in [`requests`](Self::requests) only if `tap` returns true (`index` then counts
    /// recorded requests only). Messages created or edited through REST are no longer stored (a
    /// later GET of a new one answers 404), and the gateway log gets no more per-frame lines
    /// (dispatches, ops, READY); connection lines are still written.
    #[allow(dead_code)] // only benches/load.rs (its lean phases) taps; no test does
    pub fn tap_requests(&self, tap: impl FnMut(&Recorded) -> bool + Send + 'static) {
        self.shared.lock().tap = Some(Box::new(tap));
    }

    /// Every REST request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// How many requests recorded since `mark` match `pred`, counted in place (no copy of the
    /// log, which [`requests`](Self::requests) makes).
    #[allow(dead_code)] // only benches/load.rs counts in place; the tests copy the log
    pub fn count_requests_after(&self, mark: usize, pred: impl Fn(&Recorded) -> bool) -> usize {
        self.shared
            .lock()
            .requests
            .iter()
            .skip(mark)
            .filter(|r| pred(r))
            .count()
    }

    /// The number of requests recorded so far; pass it to the `*_after` waiters to look only at
    /// later requests.
    pub fn request_mark(&self) -> usize {
        self.shared.lock().requests.len()
    }

    /// The first recorded request (any time since start) matching `pred`; panics with a dump of
    /// all requests on timeout.
    pub async fn wait_for_request(
        &self,
        pred: impl Fn(&Recorded) -> bool,
        timeout: Duration,
    ) -> Recorded {
        self.wait_for_request_after(0, pred, timeout).await
    }

    /// Like [`wait_for_request`](Self::wait_for_request) but only requests with
    /// `index >= mark`.
    pub async fn wait_for_request_after(
        &self,
        mark: usize,
        pred: impl Fn(&Recorded) -> bool,
        timeout: Duration,
    ) -> Recorded {
        let found = self
            .wait_until(timeout, |s| {
                s.requests.iter().skip(mark).find(|r| pred(r)).cloned()
            })
            .await;
        self.assert_no_harness_errors();
        match found {
            Some(r) => r,
            None => panic!(
                "fake_discord: no matching REST request (index >= {mark}) within {timeout:?}\n{}",
                self.dump()
            ),
        }
    }

    /// Waits until at least `n` requests (since `mark`) match; returns them.
    pub async fn wait_for_requests_after(
        &self,
        mark: usize,
        n: usize,
        pred: impl Fn(&Recorded) -> bool,
        timeout: Duration,
    ) -> Vec<Recorded> {
        let found = self
            .wait_until(timeout, |s| {
                let v: Vec<Recorded> = s
                    .requests
                    .iter()
                    .skip(mark)
                    .filter(|r| pred(r))
                    .cloned()
                    .collect();
                (v.len() >= n).then_some(v)
            })
            .await;
        self.assert_no_harness_errors();
        match found {
            Some(v) => v,
            None => panic!(
                "fake_discord: fewer than {n} matching REST requests (index >= {mark}) within \
                 {timeout:?}\n{}",
                self.dump()
            ),
        }
    }

    /// Asserts that no request matching `pred` arrives from now on within `wait` (returns as
    /// soon as one does, by panicking).
    pub async fn expect_no_request(&self, pred: impl Fn(&Recorded) -> bool, wait: Duration) {
        let mark = self.request_mark();
        self.expect_no_request_after(mark, pred, wait).await;
    }

    /// Asserts that no request with `index >= mark` matches `pred` within `wait`.
    pub async fn expect_no_request_after(
        &self,
        mark: usize,
        pred: impl Fn(&Recorded) -> bool,
        wait: Duration,
    ) {
        if let Some(r) = self
            .wait_until(wait, |s| {
                s.requests.iter().skip(mark).find(|r| pred(r)).cloned()
            })
            .await
        {
            panic!(
                "fake_discord: unexpected REST request {}\n{}",
                r.summary(),
                self.dump()
            );
        }
        self.assert_no_harness_errors();
    }

    /// Injects `fault` for requests whose method is `method` (case-insensitive, `"*"` for any)
    /// and whose path (without `/api/v10`) starts with `path_prefix`. Rules are checked in the
    /// order they were set; a `Status`/`RateLimited` rule with `times` left 0 is removed.
    /// Do not fault GET /gateway while a client starts: serenity then silently falls back to
    /// the real `wss://gateway.discord.gg`.
    pub fn set_rest_fault(&self, method: &str, path_prefix: &str, fault: Fault) {
        self.shared.lock().faults.push(FaultRule {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.to_string(),
            fault,
        });
    }

    pub fn clear_rest_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Makes a message known to the fake (GET /channels/{c}/messages/{m} returns it).
    pub fn put_message(&self, message: Value) {
        let id = parse_id(&message["id"]).expect("message id");
        self.shared.lock().messages.insert(id, message);
    }

    /// Makes a guild (a [`payloads::guild_create`] payload) known to REST without dispatching
    /// it: GET /guilds/{g}, its roles, members, channels.
    pub fn put_guild(&self, guild: Value) {
        validate_dispatch("GUILD_CREATE", &guild);
        self.note_dispatch("GUILD_CREATE", &guild);
    }

    /// A message the fake knows (created through REST or dispatched).
    pub fn message(&self, id: u64) -> Option<Value> {
        self.shared.lock().messages.get(&id).cloned()
    }

    /// The commands last registered with PUT: `None` for global, `Some(guild)` for a guild.
    pub fn registered_commands(&self, guild_id: Option<u64>) -> Vec<Value> {
        let st = self.shared.lock();
        match guild_id {
            None => st.global_commands.clone(),
            Some(g) => st.guild_commands.get(&g).cloned().unwrap_or_default(),
        }
    }
}

/// Installs a `tracing` subscriber that prints to the test output when `RUST_LOG` is set
/// (e.g. `RUST_LOG=serenity=debug,boundary_bot=debug`). Safe to call from every test.
pub fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .with_ansi(false)
            .try_init();
    }
}

/// Parses a snowflake given as a JSON string or number.
pub fn parse_id(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// Panics unless serenity deserialises `{"op":0,"s":1,"t":t,"d":d}` into a known `Event`.
pub fn validate_dispatch(t: &str, d: &Value) {
    use serenity::model::event::{Event, GatewayEvent};
    let frame = json!({"op": 0, "s": 1, "t": t, "d": d});
    let pretty = || serde_json::to_string_pretty(d).unwrap_or_default();
    match serde_json::from_value::<GatewayEvent>(frame) {
        Ok(GatewayEvent::Dispatch(_, Event::Unknown(_))) => panic!(
            "fake_discord: serenity would see dispatch {t} as Event::Unknown (the handler would \
             never run): {}\nd = {}",
            diagnose(t, d),
            pretty()
        ),
        Ok(GatewayEvent::Dispatch(..)) => {}
        Ok(other) => panic!("fake_discord: dispatch {t} parsed as {other:?}"),
        Err(e) => panic!(
            "fake_discord: serenity rejects dispatch {t}: {e}\nd = {}",
            pretty()
        ),
    }
}

/// Deserialises `d` into the model type of `t` to get serde's precise error (serenity's
/// untagged `Event::Unknown` fallback hides it).
fn diagnose(t: &str, d: &Value) -> String {
    use serenity::model::prelude::*;
    fn check<T: serde::de::DeserializeOwned>(d: &Value) -> String {
        match serde_json::from_value::<T>(d.clone()) {
            Ok(_) => format!(
                "`d` parses as {} on its own; check the event name",
                std::any::type_name::<T>()
            ),
            Err(e) => format!("as {}: {e}", std::any::type_name::<T>()),
        }
    }
    match t {
        "READY" => check::<Ready>(d),
        "RESUMED" => check::<ResumedEvent>(d),
        "MESSAGE_CREATE" => check::<Message>(d),
        "MESSAGE_UPDATE" => check::<MessageUpdateEvent>(d),
        "MESSAGE_DELETE" => check::<MessageDeleteEvent>(d),
        "INTERACTION_CREATE" => check::<Interaction>(d),
        "GUILD_CREATE" => check::<Guild>(d),
        "GUILD_DELETE" => check::<UnavailableGuild>(d),
        "CHANNEL_CREATE" | "CHANNEL_UPDATE" | "CHANNEL_DELETE" => check::<GuildChannel>(d),
        "CHANNEL_PINS_UPDATE" => check::<ChannelPinsUpdateEvent>(d),
        "GUILD_MEMBER_ADD" => check::<Member>(d),
        _ => "unknown event name, or no specific diagnosis for this event".to_string(),
    }
}
