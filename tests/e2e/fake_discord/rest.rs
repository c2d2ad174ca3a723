//! The REST side: records every request, applies injected faults, and answers the routes
//! serenity and poise use with JSON serenity accepts.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::gateway::bot_user;
use super::{parse_id, payloads, FakeDiscord, Fault, Recorded, Shared, State as FakeState};

const API_PREFIX: &str = "/api/v10";

/// What the fake answers; `extra_headers` only for 429s.
struct Reply {
    status: u16,
    body: Value,
    extra_headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body,
            extra_headers: Vec::new(),
        }
    }

    fn ok(body: Value) -> Reply {
        Reply::json(200, body)
    }

    fn no_content() -> Reply {
        Reply::json(204, Value::Null)
    }

    fn not_found() -> Reply {
        Reply::json(404, json!({"code": 0, "message": "404: Not Found"}))
    }

    fn discord_error(status: u16, code: u32, message: &str) -> Reply {
        Reply::json(status, json!({"code": code, "message": message}))
    }

    fn into_response(self) -> Response {
        let mut b = Response::builder().status(StatusCode::from_u16(self.status).unwrap());
        for (k, v) in &self.extra_headers {
            b = b.header(*k, v);
        }
        if self.status == 204 || self.body.is_null() {
            b.body(Body::empty()).unwrap()
        } else {
            b.header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(self.body.to_string()))
                .unwrap()
        }
    }
}

enum Decision {
    Reply(Reply),
    Delay(std::time::Duration),
    Normal,
}

fn apply_faults(st: &mut FakeState, method: &str, path: &str) -> Decision {
    let pos = st
        .faults
        .iter()
        .position(|f| (f.method == "*" || f.method == method) && path.starts_with(&f.path_prefix));
    let Some(pos) = pos else {
        return Decision::Normal;
    };
    let rule = &mut st.faults[pos];
    let (decision, exhausted) = match &mut rule.fault {
        Fault::Delay(d) => (Decision::Delay(*d), false),
        Fault::Status { code, body, times } => {
            *times = times.saturating_sub(1);
            (
                Decision::Reply(Reply::json(*code, body.clone())),
                *times == 0,
            )
        }
        Fault::RateLimited {
            retry_after_secs,
            times,
        } => {
            *times = times.saturating_sub(1);
            let secs = *retry_after_secs;
            let reply = Reply {
                status: 429,
                body: json!({
                    "message": "You are being rate limited.",
                    "retry_after": secs,
                    "global": false,
                    "code": 0,
                }),
                extra_headers: vec![
                    ("retry-after", format!("{}", secs.ceil() as u64)),
                    ("x-ratelimit-limit", "5".to_string()),
                    ("x-ratelimit-remaining", "0".to_string()),
                    ("x-ratelimit-reset-after", format!("{secs}")),
                    ("x-ratelimit-bucket", "fake-bucket".to_string()),
                    ("x-ratelimit-scope", "user".to_string()),
                    ("x-ratelimit-global", "false".to_string()),
                ],
            };
            (Decision::Reply(reply), *times == 0)
        }
    };
    if exhausted {
        st.faults.remove(pos);
    }
    decision
}

/// Extracts `payload_json` and file names from a multipart/form-data body.
fn parse_multipart(content_type: &str, body: &[u8]) -> (Value, Vec<String>) {
    let Some(boundary) = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
    else {
        return (Value::Null, Vec::new());
    };
    let boundary = boundary.trim_matches('"');
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    let mut payload = Value::Null;
    let mut files = Vec::new();
    for part in text.split(delimiter.as_str()) {
        let part = part.trim_start_matches("\r\n");
        let Some((head, content)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .unwrap_or_default();
        let attr = |name: &str| {
            disposition.split(';').find_map(|p| {
                p.trim()
                    .strip_prefix(&format!("{name}="))
                    .map(|v| v.trim_matches('"').to_string())
            })
        };
        if let Some(filename) = attr("filename") {
            files.push(filename);
        } else if attr("name").as_deref() == Some("payload_json") {
            payload = serde_json::from_str(content).unwrap_or(Value::String(content.to_string()));
        }
    }
    (payload, files)
}

pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let full_path = uri.path().to_string();
    let path = full_path
        .strip_prefix(API_PREFIX)
        .map(str::to_string)
        .unwrap_or_else(|| full_path.clone());
    let method = method.as_str().to_ascii_uppercase();
    let header_str = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let auth = header_str(header::AUTHORIZATION);
    let content_type = header_str(header::CONTENT_TYPE);
    let (body_json, files) = match &content_type {
        Some(ct) if ct.starts_with("multipart/") => parse_multipart(ct, &body),
        _ if body.is_empty() => (Value::Null, Vec::new()),
        _ => (
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned())),
            Vec::new(),
        ),
    };

    let (reply, delay) = {
        let mut st = shared.lock();
        let token_ok = st.required_token.as_deref().is_none_or(|want| {
            auth.as_deref().map(|a| a.strip_prefix("Bot ").unwrap_or(a)) == Some(want)
        });
        let decision = if !full_path.starts_with(API_PREFIX) {
            Decision::Reply(Reply::not_found())
        } else if !(token_ok || (method == "GET" && path == "/gateway")) {
            Decision::Reply(Reply::json(
                401,
                json!({"code": 0, "message": "401: Unauthorized"}),
            ))
        } else {
            apply_faults(&mut st, &method, &path)
        };
        let (reply, delay) = match decision {
            Decision::Reply(r) => (r, None),
            Decision::Delay(d) => (
                route(&shared, &mut st, &method, &path, &body_json, &files),
                Some(d),
            ),
            Decision::Normal => (
                route(&shared, &mut st, &method, &path, &body_json, &files),
                None,
            ),
        };
        let index = st.requests.len();
        let recorded = Recorded {
            index,
            method,
            path,
            query: uri.query().map(str::to_string),
            has_auth: auth.is_some(),
            bot_auth: auth.as_deref().is_some_and(|a| a.starts_with("Bot ")),
            body: body_json,
            files,
            status: reply.status,
            response: reply.body.clone(),
            at: std::time::Instant::now(),
        };
        let keep = st.tap.as_mut().is_none_or(|tap| tap(&recorded));
        if keep {
            st.requests.push(recorded);
        }
        (reply, delay)
    };
    shared.changed();
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    reply.into_response()
}

fn seg_id(s: &str) -> Option<u64> {
    s.parse().ok()
}

#[allow(clippy::too_many_lines)] // one match over every route the fake serves
fn route(
    shared: &Shared,
    st: &mut FakeState,
    method: &str,
    path: &str,
    body: &Value,
    files: &[String],
) -> Reply {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segs.as_slice()) {
        ("GET", ["gateway"]) => Reply::ok(json!({"url": shared.ws_url()})),
        ("GET", ["gateway", "bot"]) => Reply::ok(json!({
            "url": shared.ws_url(),
            "shards": 1,
            "session_start_limit": {
                "total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1
            },
        })),
        ("GET", ["oauth2", "applications", "@me"]) | ("GET", ["applications", "@me"]) => {
            Reply::ok(application_info())
        }
        ("GET", ["users", "@me"]) => Reply::ok(bot_user()),
        ("GET", ["users", uid]) => match seg_id(uid) {
            Some(u) => Reply::ok(payloads::user(u, &format!("user-{u}"), false)),
            None => Reply::not_found(),
        },
        ("POST", ["users", "@me", "channels"]) => {
            let Some(recipient) = parse_id(&body["recipient_id"]) else {
                return Reply::discord_error(400, 50035, "Invalid Form Body");
            };
            let next = payloads::next_id();
            let cid = *st.dm_channels.entry(recipient).or_insert(next);
            let channel = payloads::dm_channel(
                cid,
                &payloads::user(recipient, &format!("user-{recipient}"), false),
            );
            st.channels.insert(cid, channel.clone());
            Reply::ok(channel)
        }
        // ---- application commands ----
        ("PUT", ["applications", _app, "commands"]) => {
            let cmds = echo_commands(st, body, None);
            st.global_commands = cmds.clone();
            Reply::ok(Value::Array(cmds))
        }
        ("GET", ["applications", _app, "commands"]) => {
            Reply::ok(Value::Array(st.global_commands.clone()))
        }
        ("POST", ["applications", _app, "commands"]) => {
            let cmds = echo_commands(st, &json!([body]), None);
            Reply::json(201, cmds[0].clone())
        }
        ("PUT", ["applications", _app, "guilds", g, "commands"]) => {
            let g = seg_id(g);
            let cmds = echo_commands(st, body, g);
            if let Some(g) = g {
                st.guild_commands.insert(g, cmds.clone());
            }
            Reply::ok(Value::Array(cmds))
        }
        ("GET", ["applications", _app, "guilds", g, "commands"]) => Reply::ok(Value::Array(
            seg_id(g)
                .and_then(|g| st.guild_commands.get(&g).cloned())
                .unwrap_or_default(),
        )),
        // ---- guilds (from dispatched GUILD_CREATE) ----
        ("GET", ["guilds", g]) => match seg_id(g).and_then(|g| st.guilds.get(&g)) {
            Some(guild) => {
                let mut guild = guild.clone();
                if let Some(o) = guild.as_object_mut() {
                    for key in [
                        "members",
                        "channels",
                        "threads",
                        "presences",
                        "voice_states",
                    ] {
                        o.remove(key);
                    }
                }
                Reply::ok(guild)
            }
            None => Reply::discord_error(404, 10004, "Unknown Guild"),
        },
        ("GET", ["guilds", g, "roles"]) => match seg_id(g).and_then(|g| st.guilds.get(&g)) {
            Some(guild) => Reply::ok(guild["roles"].clone()),
            None => Reply::discord_error(404, 10004, "Unknown Guild"),
        },
        ("GET", ["guilds", g, "channels"]) => match seg_id(g) {
            Some(gid) if st.guilds.contains_key(&gid) => {
                let mut channels: Vec<Value> = st
                    .channels
                    .values()
                    .filter(|c| parse_id(&c["guild_id"]) == Some(gid))
                    .cloned()
                    .collect();
                channels.sort_by_key(|c| c["position"].as_u64());
                Reply::ok(Value::Array(channels))
            }
            _ => Reply::discord_error(404, 10004, "Unknown Guild"),
        },
        ("GET", ["guilds", g, "members", u]) => {
            let (Some(gid), Some(uid)) = (seg_id(g), seg_id(u)) else {
                return Reply::not_found();
            };
            let Some(guild) = st.guilds.get(&gid) else {
                return Reply::discord_error(404, 10004, "Unknown Guild");
            };
            // A member listed in GUILD_CREATE, else a member without roles.
            let found = guild["members"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|m| parse_id(&m["user"]["id"]) == Some(uid))
                .cloned();
            let mut member = found.unwrap_or_else(|| {
                json!({
                    "user": payloads::user(uid, &format!("user-{uid}"), false),
                    "roles": [],
                    "joined_at": payloads::FIXED_TIMESTAMP,
                    "deaf": false,
                    "mute": false,
                    "flags": 0,
                })
            });
            member["guild_id"] = json!(gid.to_string());
            Reply::ok(member)
        }
        // ---- channels & messages ----
        ("GET", ["channels", c]) => match seg_id(c) {
            Some(cid) => Reply::ok(channel_for(st, cid)),
            None => Reply::not_found(),
        },
        ("POST", ["channels", c, "messages"]) => {
            let Some(cid) = seg_id(c) else {
                return Reply::not_found();
            };
            let guild_id = channel_guild(st, cid);
            let msg = new_message(st, cid, guild_id, body, files, false);
            Reply::ok(msg)
        }
        ("GET", ["channels", c, "messages"]) => {
            let cid = json!(c);
            let mut msgs: Vec<Value> = st
                .messages
                .values()
                .filter(|m| m["channel_id"] == cid)
                .cloned()
                .collect();
            msgs.sort_by_key(|m| std::cmp::Reverse(parse_id(&m["id"])));
            msgs.truncate(50);
            Reply::ok(Value::Array(msgs))
        }
        ("GET", ["channels", _c, "messages", m]) => {
            match seg_id(m).and_then(|m| st.messages.get(&m).cloned()) {
                Some(msg) => Reply::ok(msg),
                None => Reply::discord_error(404, 10008, "Unknown Message"),
            }
        }
        ("PATCH", ["channels", c, "messages", m]) => {
            let (Some(cid), Some(mid)) = (seg_id(c), seg_id(m)) else {
                return Reply::not_found();
            };
            let msg = edit_message(st, cid, mid, body, files);
            Reply::ok(msg)
        }
        ("DELETE", ["channels", _c, "messages", m]) => {
            if let Some(mid) = seg_id(m) {
                st.messages.remove(&mid);
            }
            Reply::no_content()
        }
        ("PUT", ["channels", _c, "pins", m]) | ("PUT", ["channels", _c, "messages", "pins", m]) => {
            set_pinned(st, m, true);
            Reply::no_content()
        }
        ("DELETE", ["channels", _c, "pins", m])
        | ("DELETE", ["channels", _c, "messages", "pins", m]) => {
            set_pinned(st, m, false);
            Reply::no_content()
        }
        ("GET", ["channels", c, "pins"]) => {
            let cid = c.to_string();
            let mut pins: Vec<Value> = st
                .messages
                .values()
                .filter(|m| m["pinned"] == json!(true) && m["channel_id"] == json!(cid))
                .cloned()
                .collect();
            pins.sort_by_key(|m| std::cmp::Reverse(parse_id(&m["id"])));
            Reply::ok(Value::Array(pins))
        }
        ("POST", ["channels", _c, "typing"]) => Reply::no_content(),
        ("PUT", ["channels", _c, "messages", _m, "reactions", _, "@me"])
        | ("DELETE", ["channels", _c, "messages", _m, "reactions", ..]) => Reply::no_content(),
        // ---- interactions ----
        ("POST", ["interactions", _id, token, "callback"]) => {
            interaction_callback(st, token, body, files);
            Reply::no_content()
        }
        ("POST", ["webhooks", _app, token]) => {
            let (cid, gid) = interaction_channel(st, token);
            let msg = new_message(st, cid, gid, body, files, true);
            Reply::ok(msg)
        }
        ("GET", ["webhooks", _app, token, "messages", "@original"]) => {
            match st.originals.get(*token).cloned() {
                Some(m) => Reply::ok(m),
                None => Reply::discord_error(404, 10008, "Unknown Message"),
            }
        }
        ("PATCH", ["webhooks", _app, token, "messages", "@original"]) => {
            let existing = st.originals.get(*token).cloned();
            let msg = match existing {
                Some(m) => {
                    let cid = parse_id(&m["channel_id"]).unwrap_or(payloads::CHANNEL_ID);
                    let mid = parse_id(&m["id"]).unwrap_or_else(payloads::next_id);
                    edit_message(st, cid, mid, body, files)
                }
                None => {
                    let (cid, gid) = interaction_channel(st, token);
                    new_message(st, cid, gid, body, files, true)
                }
            };
            st.originals.insert(token.to_string(), msg.clone());
            Reply::ok(msg)
        }
        ("GET", ["webhooks", _app, _token, "messages", m]) => {
            match seg_id(m).and_then(|m| st.messages.get(&m).cloned()) {
                Some(msg) => Reply::ok(msg),
                None => Reply::discord_error(404, 10008, "Unknown Message"),
            }
        }
        ("PATCH", ["webhooks", _app, token, "messages", m]) => {
            let Some(mid) = seg_id(m) else {
                return Reply::not_found();
            };
            let cid = st
                .messages
                .get(&mid)
                .and_then(|m| parse_id(&m["channel_id"]))
                .unwrap_or_else(|| interaction_channel(st, token).0);
            Reply::ok(edit_message(st, cid, mid, body, files))
        }
        ("DELETE", ["webhooks", _app, token, "messages", m]) => {
            if *m == "@original" {
                st.originals.remove(*token);
            } else if let Some(mid) = seg_id(m) {
                st.messages.remove(&mid);
            }
            Reply::no_content()
        }
        _ => Reply::not_found(),
    }
}

fn application_info() -> Value {
    json!({
        "id": FakeDiscord::APPLICATION_ID.to_string(),
        "name": FakeDiscord::BOT_NAME,
        "icon": null,
        "description": "fake application",
        "summary": "",
        "bot_public": false,
        "bot_require_code_grant": false,
        "verify_key": "0000000000000000000000000000000000000000000000000000000000000000",
        "owner": payloads::user(FakeDiscord::APP_OWNER_ID, "app-owner", false),
        "team": null,
        "flags": 0,
        "bot": bot_user(),
    })
}

fn channel_for(st: &FakeState, cid: u64) -> Value {
    if let Some(c) = st.channels.get(&cid) {
        return c.clone();
    }
    if cid == payloads::DM_CHANNEL_ID {
        return payloads::dm_channel(cid, &payloads::default_user());
    }
    let gid = st.last_guild_id.unwrap_or(payloads::GUILD_ID);
    payloads::text_channel(cid, gid, &format!("channel-{cid}"))
}

fn channel_guild(st: &FakeState, cid: u64) -> Option<u64> {
    match st.channels.get(&cid) {
        Some(c) => parse_id(&c["guild_id"]),
        None if cid == payloads::DM_CHANNEL_ID => None,
        None => st.last_guild_id.or(Some(payloads::GUILD_ID)),
    }
}

fn interaction_channel(st: &FakeState, token: &str) -> (u64, Option<u64>) {
    match st.interactions.get(token) {
        Some(i) => (i.channel_id, i.guild_id),
        None => (payloads::CHANNEL_ID, Some(payloads::GUILD_ID)),
    }
}

fn set_pinned(st: &mut FakeState, m: &str, pinned: bool) {
    if let Some(msg) = seg_id(m).and_then(|m| st.messages.get_mut(&m)) {
        msg["pinned"] = json!(pinned);
    }
}

/// Validates a reply with serenity's type; a failure is a harness bug and is reported loudly.
fn validate<T: serde::de::DeserializeOwned>(st: &mut FakeState, what: &str, v: &Value) {
    if let Err(e) = serde_json::from_value::<T>(v.clone()) {
        eprintln!("fake_discord HARNESS ERROR: {what} reply rejected by serenity: {e}\n{v}");
        st.harness_errors
            .push(format!("{what} reply rejected by serenity: {e}: {v}"));
    }
}

fn echo_commands(st: &mut FakeState, body: &Value, guild_id: Option<u64>) -> Vec<Value> {
    let existing: Vec<Value> = match guild_id {
        None => st.global_commands.clone(),
        Some(g) => st.guild_commands.get(&g).cloned().unwrap_or_default(),
    };
    let mut out = Vec::new();
    for c in body.as_array().into_iter().flatten() {
        let mut c = c.clone();
        let name = c["name"].as_str().unwrap_or_default().to_string();
        let kind = c["type"].as_u64().unwrap_or(1);
        let id = existing
            .iter()
            .find(|e| e["name"] == json!(name) && e["type"].as_u64() == Some(kind))
            .and_then(|e| parse_id(&e["id"]))
            .unwrap_or_else(payloads::next_id);
        let obj = c.as_object_mut().expect("command object");
        obj.insert("id".into(), json!(id.to_string()));
        obj.insert("type".into(), json!(kind));
        obj.insert(
            "application_id".into(),
            json!(FakeDiscord::APPLICATION_ID.to_string()),
        );
        obj.insert("version".into(), json!(payloads::next_id().to_string()));
        obj.entry("description").or_insert(json!(""));
        if let Some(g) = guild_id {
            obj.insert("guild_id".into(), json!(g.to_string()));
        }
        validate::<serenity::model::application::Command>(st, "command", &c);
        out.push(c);
    }
    out
}

/// Builds the bot's message from a create/execute body and stores it.
fn new_message(
    st: &mut FakeState,
    channel_id: u64,
    guild_id: Option<u64>,
    body: &Value,
    files: &[String],
    from_webhook: bool,
) -> Value {
    let id = payloads::next_id();
    let mut m = json!({
        "id": id.to_string(),
        "channel_id": channel_id.to_string(),
        "author": bot_user(),
        "content": body["content"].as_str().unwrap_or_default(),
        "timestamp": payloads::now_timestamp(),
        "edited_timestamp": null,
        "tts": body["tts"].as_bool().unwrap_or(false),
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments(files),
        "embeds": body["embeds"].as_array().cloned().unwrap_or_default(),
        "components": body["components"].as_array().cloned().unwrap_or_default(),
        "pinned": false,
        "type": 0,
        "flags": body["flags"].as_u64().unwrap_or(0),
    });
    if let Some(g) = guild_id {
        m["guild_id"] = json!(g.to_string());
    }
    if from_webhook {
        m["webhook_id"] = json!(FakeDiscord::APPLICATION_ID.to_string());
        m["application_id"] = json!(FakeDiscord::APPLICATION_ID.to_string());
    }
    if let Some(reference) = body["message_reference"].as_object() {
        let mut r = Value::Object(reference.clone());
        r["channel_id"] = r
            .get("channel_id")
            .cloned()
            .unwrap_or(json!(channel_id.to_string()));
        m["message_reference"] = r;
        m["type"] = json!(payloads::kind::REPLY);
        m["referenced_message"] = parse_id(&reference["message_id"].clone())
            .and_then(|rid| st.messages.get(&rid).cloned())
            .unwrap_or(Value::Null);
    }
    finish_message(st, id, m)
}

fn edit_message(
    st: &mut FakeState,
    channel_id: u64,
    id: u64,
    body: &Value,
    files: &[String],
) -> Value {
    let mut m = match st.messages.get(&id) {
        Some(m) => m.clone(),
        None => {
            // Unknown to the fake: synthesise the bot's message.
            let mut fresh = new_message(st, channel_id, None, &json!({}), &[], false);
            let tmp_id = parse_id(&fresh["id"]).unwrap();
            st.messages.remove(&tmp_id);
            fresh["id"] = json!(id.to_string());
            fresh
        }
    };
    for key in ["content", "embeds", "components", "flags"] {
        if let Some(v) = body.get(key) {
            if !v.is_null() {
                m[key] = v.clone();
            }
        }
    }
    if !files.is_empty() {
        m["attachments"] = attachments(files);
    }
    m["edited_timestamp"] = json!(payloads::now_timestamp());
    finish_message(st, id, m)
}

fn finish_message(st: &mut FakeState, id: u64, m: Value) -> Value {
    validate::<serenity::model::channel::Message>(st, "message", &m);
    // With a tap (long load runs) the store would grow with every reply.
    if st.tap.is_none() {
        st.messages.insert(id, m.clone());
    }
    m
}

fn attachments(files: &[String]) -> Value {
    Value::Array(
        files
            .iter()
            .map(|f| {
                let id = payloads::next_id();
                json!({
                    "id": id.to_string(),
                    "filename": f,
                    "size": 0,
                    "url": format!("http://127.0.0.1/attachments/{id}/{f}"),
                    "proxy_url": format!("http://127.0.0.1/attachments/{id}/{f}"),
                })
            })
            .collect(),
    )
}

/// Stores the original response of message-type callbacks (4 = reply, 5 = deferred reply,
/// 7 = update message) so GET/PATCH @original work.
fn interaction_callback(st: &mut FakeState, token: &str, body: &Value, files: &[String]) {
    let kind = body["type"].as_u64().unwrap_or(0);
    if matches!(kind, 4 | 5) {
        let (cid, gid) = interaction_channel(st, token);
        let data = if kind == 4 {
            body["data"].clone()
        } else {
            Value::Object(Map::new())
        };
        let mut msg = new_message(st, cid, gid, &data, files, true);
        if kind == 5 {
            msg["flags"] = json!(data["flags"].as_u64().unwrap_or(0) | (1 << 7));
            // LOADING
        }
        st.originals.insert(token.to_string(), msg);
    }
}
