//! The websocket gateway: hello, IDENTIFY → READY, RESUME → RESUMED, heartbeats, and the
//! commands `FakeDiscord` sends to the connected client.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use super::{payloads, Cmd, Conn, FakeDiscord, Session, Shared};

pub(crate) async fn ws_handler(
    State(shared): State<Arc<Shared>>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| run_connection(shared, socket))
}

/// How a connection ended.
enum Exit {
    /// The peer went away, errored, or finished a close handshake.
    Gone,
    /// `drop_gateway`: drop the socket, then acknowledge.
    Drop(oneshot::Sender<()>),
}

async fn send(socket: &mut WebSocket, frame: &Value) -> bool {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .is_ok()
}

/// Reads until the peer is gone; reading is what flushes tungstenite's automatic close reply.
async fn drain(socket: &mut WebSocket) {
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = socket.recv().await {}
    })
    .await;
}

fn register(shared: &Shared, tx: mpsc::UnboundedSender<Cmd>) -> u64 {
    let mut st = shared.lock();
    st.next_conn_id += 1;
    let id = st.next_conn_id;
    st.stats.connections += 1;
    st.stats.live = false;
    // A newer connection replaces the old one: dropping its sender ends its task.
    if let Some(old) = st.conn.replace(Conn {
        id,
        tx,
        live: false,
    }) {
        st.gateway_log
            .push(format!("conn {id}: replaces conn {}", old.id));
    }
    st.gateway_log.push(format!("conn {id}: connected"));
    drop(st);
    shared.changed();
    id
}

fn unregister(shared: &Shared, id: u64, why: &str) {
    let mut st = shared.lock();
    if st.conn.as_ref().is_some_and(|c| c.id == id) {
        st.conn = None;
        st.stats.live = false;
    }
    st.gateway_log.push(format!("conn {id}: ended ({why})"));
    drop(st);
    shared.changed();
}

fn set_live(shared: &Shared, id: u64) {
    let mut st = shared.lock();
    if let Some(c) = st.conn.as_mut().filter(|c| c.id == id) {
        c.live = true;
        st.stats.live = true;
    }
    drop(st);
    shared.changed();
}

/// Sends a dispatch with the session's next sequence number; commits the number only once the
/// frame is written.
async fn send_dispatch(shared: &Shared, socket: &mut WebSocket, t: &str, d: Value) -> Option<u64> {
    let seq = shared.lock().session.as_ref().map_or(1, |s| s.seq + 1);
    let frame = json!({"op": 0, "s": seq, "t": t, "d": d});
    if !send(socket, &frame).await {
        return None;
    }
    let mut st = shared.lock();
    if let Some(s) = st.session.as_mut() {
        s.seq = seq;
    }
    st.stats.seq = seq;
    drop(st);
    shared.changed();
    Some(seq)
}

async fn run_connection(shared: Arc<Shared>, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let id = register(&shared, tx);
    let hello = json!({"op": 10, "d": {"heartbeat_interval": FakeDiscord::HEARTBEAT_INTERVAL_MS}});
    let exit = if send(&mut socket, &hello).await {
        serve(&shared, id, &mut socket, &mut rx).await
    } else {
        Exit::Gone
    };
    match exit {
        Exit::Gone => {
            unregister(&shared, id, "closed");
            drop(socket);
        }
        Exit::Drop(ack) => {
            unregister(&shared, id, "dropped by test");
            drop(socket);
            let _ = ack.send(());
        }
    }
    // Commands still queued are dropped here; their senders retry on the next connection.
    drop(rx);
}

async fn serve(
    shared: &Arc<Shared>,
    id: u64,
    socket: &mut WebSocket,
    rx: &mut mpsc::UnboundedReceiver<Cmd>,
) -> Exit {
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) => {
                    if !on_client_frame(shared, id, socket, text.as_str()).await {
                        return Exit::Gone;
                    }
                }
                Some(Ok(Message::Binary(b))) => {
                    shared.log_gateway(format!("conn {id}: <- binary frame ({} bytes), ignored", b.len()));
                }
                Some(Ok(Message::Close(frame))) => {
                    let code = frame.as_ref().map(|f| f.code);
                    {
                        let mut st = shared.lock();
                        st.gateway_log.push(format!("conn {id}: <- close {code:?}"));
                        if let Some(c) = code {
                            st.stats.client_close_codes.push(c);
                        }
                        if let Some(c) = st.conn.as_mut().filter(|c| c.id == id) {
                            c.live = false;
                            st.stats.live = false;
                        }
                    }
                    shared.changed();
                    drain(socket).await;
                    return Exit::Gone;
                }
                Some(Ok(_)) => {} // ping/pong: answered by tungstenite
                Some(Err(_)) | None => return Exit::Gone,
            },
            cmd = rx.recv() => match cmd {
                None => return Exit::Gone, // replaced by a newer connection, or FakeDiscord dropped
                Some(Cmd::Dispatch { t, d, ack }) => {
                    match send_dispatch(shared, socket, &t, d).await {
                        Some(seq) => {
                            shared.log_gateway(format!("conn {id}: -> {t} s={seq}"));
                            let _ = ack.send(seq);
                        }
                        None => return Exit::Gone,
                    }
                }
                Some(Cmd::Frame { frame, ack }) => {
                    shared.log_gateway(format!("conn {id}: -> op {}", frame["op"]));
                    if !send(socket, &frame).await {
                        return Exit::Gone;
                    }
                    let _ = ack.send(());
                }
                Some(Cmd::Drop { ack }) => return Exit::Drop(ack),
                Some(Cmd::Close { code, reason, ack }) => {
                    shared.log_gateway(format!("conn {id}: -> close {code}"));
                    let frame = CloseFrame { code, reason: reason.into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    let _ = ack.send(());
                    drain(socket).await;
                    return Exit::Gone;
                }
            },
        }
    }
}

/// Handles one text frame from the client. Returns false if the socket failed.
async fn on_client_frame(
    shared: &Arc<Shared>,
    id: u64,
    socket: &mut WebSocket,
    text: &str,
) -> bool {
    let frame: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            shared.log_gateway(format!("conn {id}: <- unparsable frame ({e}): {text}"));
            return true;
        }
    };
    let op = frame["op"].as_u64();
    let d = &frame["d"];
    match op {
        Some(1) => {
            shared.lock().stats.heartbeats += 1;
            shared.changed();
            send(socket, &json!({"op": 11})).await
        }
        Some(2) => identify(shared, id, socket, d).await,
        Some(6) => resume(shared, id, socket, d).await,
        other => {
            shared.log_gateway(format!("conn {id}: <- op {other:?} (ignored)"));
            true
        }
    }
}

async fn identify(shared: &Arc<Shared>, id: u64, socket: &mut WebSocket, d: &Value) -> bool {
    let intents = d["intents"].as_u64();
    let token_ok = {
        let st = shared.lock();
        let sent = d["token"]
            .as_str()
            .map(|t| t.strip_prefix("Bot ").unwrap_or(t));
        st.required_token
            .as_deref()
            .is_none_or(|want| sent == Some(want))
    };
    if !token_ok {
        {
            let mut st = shared.lock();
            st.stats.rejected_identifies += 1;
            st.gateway_log.push(format!(
                "conn {id}: <- IDENTIFY with a wrong token -> close 4004"
            ));
        }
        shared.changed();
        let frame = CloseFrame {
            code: 4004,
            reason: "Authentication failed.".into(),
        };
        let _ = socket.send(Message::Close(Some(frame))).await;
        drain(socket).await;
        return false;
    }
    let session_id = {
        let mut st = shared.lock();
        st.stats.identify_count += 1;
        st.stats.intents = intents;
        let mut redacted = d.clone();
        let has_token = d["token"].as_str().is_some_and(|t| !t.is_empty());
        if has_token {
            redacted["token"] = json!("<redacted>");
        }
        st.last_identify = Some(redacted);
        let n = st.stats.identify_count;
        let sid = format!("fake-session-{n}");
        st.session = Some(Session {
            id: sid.clone(),
            seq: 0,
        });
        st.stats.session_id = Some(sid.clone());
        st.gateway_log.push(format!(
            "conn {id}: <- IDENTIFY intents={intents:?} token={}",
            if has_token { "present" } else { "MISSING" }
        ));
        sid
    };
    shared.changed();
    let ready = ready_payload(&session_id, &shared.ws_url());
    match send_dispatch(shared, socket, "READY", ready).await {
        Some(seq) => {
            shared.log_gateway(format!("conn {id}: -> READY s={seq}"));
            shared.lock().stats.ready_count += 1;
            set_live(shared, id);
            true
        }
        None => false,
    }
}

async fn resume(shared: &Arc<Shared>, id: u64, socket: &mut WebSocket, d: &Value) -> bool {
    let sid = d["session_id"].as_str().unwrap_or_default().to_string();
    let client_seq = d["seq"].as_u64();
    let known = {
        let st = shared.lock();
        st.session.as_ref().is_some_and(|s| s.id == sid)
    };
    shared.log_gateway(format!(
        "conn {id}: <- RESUME session={sid} seq={client_seq:?} known={known}"
    ));
    if !known {
        shared.log_gateway(format!("conn {id}: -> op 9 (false)"));
        return send(socket, &json!({"op": 9, "d": false})).await;
    }
    shared.lock().stats.resume_count += 1;
    shared.changed();
    match send_dispatch(shared, socket, "RESUMED", json!({})).await {
        Some(seq) => {
            shared.log_gateway(format!("conn {id}: -> RESUMED s={seq}"));
            set_live(shared, id);
            true
        }
        None => false,
    }
}

/// READY `d` (see the notes for the keys serenity insists on).
pub(crate) fn ready_payload(session_id: &str, ws_url: &str) -> Value {
    json!({
        "v": 10,
        "user": bot_user(),
        "guilds": [],
        "session_id": session_id,
        "resume_gateway_url": ws_url,
        "shard": [0, 1],
        "application": {"id": FakeDiscord::APPLICATION_ID.to_string(), "flags": 0},
    })
}

/// The bot's user object.
pub(crate) fn bot_user() -> Value {
    let mut u = payloads::user(FakeDiscord::BOT_USER_ID, FakeDiscord::BOT_NAME, true);
    u["verified"] = json!(true);
    u["mfa_enabled"] = json!(false);
    u["flags"] = json!(0);
    u
}
