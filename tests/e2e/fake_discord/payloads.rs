//! Builders for gateway payloads (`d` of a dispatch) that serenity 0.12.5 accepts.
//!
//! Every builder here is checked by deserialising it with serenity's own model types in
//! `tests/e2e/harness.rs`, and `FakeDiscord::dispatch` checks each frame again before it is
//! sent, so a fixture that serenity would silently turn into `Event::Unknown` fails loudly.
//!
//! Ids are emitted as strings, like Discord does. Id `0` is rejected by serenity: never use it.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Map, Value};

/// A guild the fixtures use when a test does not care which one.
pub const GUILD_ID: u64 = 1_200_000_000_000_000_001;
/// A text channel in [`GUILD_ID`].
pub const CHANNEL_ID: u64 = 1_200_000_000_000_000_002;
/// A DM channel between [`USER_ID`] and the bot.
pub const DM_CHANNEL_ID: u64 = 1_200_000_000_000_000_003;
/// An ordinary human member.
pub const USER_ID: u64 = 1_200_000_000_000_000_004;
/// The owner of [`GUILD_ID`].
pub const GUILD_OWNER_ID: u64 = 1_200_000_000_000_000_005;
/// The id of the slash command in interactions built here (any non-zero id works).
pub const COMMAND_ID: u64 = 1_200_000_000_000_000_006;
/// A fixed RFC 3339 timestamp for fields whose value does not matter.
pub const FIXED_TIMESTAMP: &str = "2024-05-01T12:00:00.000000+00:00";

/// Permission bits (Discord's numbering) handy for `member_permissions`.
pub mod perms {
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const MANAGE_MESSAGES: u64 = 1 << 13;
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
    pub const ADMINISTRATOR: u64 = 1 << 3;
    /// What an ordinary member usually has in a text channel.
    pub const MEMBER: u64 =
        VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS;
    /// An ordinary member plus Manage Messages.
    pub const MODERATOR: u64 = MEMBER | MANAGE_MESSAGES;
    pub const ADD_REACTIONS: u64 = 1 << 6;
    pub const EMBED_LINKS: u64 = 1 << 14;
    pub const ATTACH_FILES: u64 = 1 << 15;
    pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
    /// The `@everyone` role in [`super::guild_create`].
    pub const EVERYONE: u64 = MEMBER | EMBED_LINKS | ATTACH_FILES | ADD_REACTIONS;
    /// The bot's own role in [`super::guild_create`].
    pub const BOT: u64 = EVERYONE | MANAGE_MESSAGES | SEND_MESSAGES_IN_THREADS;
}

/// The id of the bot's own role in a guild built by [`guild_create`].
pub fn bot_role_id(guild_id: u64) -> u64 {
    guild_id + 1_000_000
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1_300_000_000_000_000_000);

/// A fresh, process-unique snowflake for fixtures (messages, interactions…).
pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// The current time as RFC 3339, the way Discord stamps messages.
pub fn now_timestamp() -> String {
    serenity::model::Timestamp::now().to_string()
}

fn id(v: u64) -> Value {
    assert!(v != 0, "snowflake 0 is rejected by serenity");
    Value::String(v.to_string())
}

/// A user object. `bot` marks bot accounts.
pub fn user(user_id: u64, name: &str, bot: bool) -> Value {
    json!({
        "id": id(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": null,
        "bot": bot,
        "public_flags": 0,
    })
}

/// The default human member used by fixtures.
pub fn default_user() -> Value {
    user(USER_ID, "alice", false)
}

fn member(user: Option<&Value>, roles: &[u64], permissions: Option<u64>) -> Value {
    let mut m = json!({
        "roles": roles.iter().map(|r| id(*r)).collect::<Vec<_>>(),
        "joined_at": FIXED_TIMESTAMP,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
    });
    if let Some(u) = user {
        m["user"] = u.clone();
    }
    if let Some(p) = permissions {
        m["permissions"] = Value::String(p.to_string());
    }
    m
}

fn role(role_id: u64, name: &str, permissions: u64, position: u64) -> Value {
    json!({
        "id": id(role_id),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": permissions.to_string(),
        "managed": false,
        "mentionable": false,
        "flags": 0,
    })
}

/// A guild text channel object (type 0). `guild_id` is included (REST and CHANNEL_* events
/// carry it; inside GUILD_CREATE it is redundant but harmless).
pub fn text_channel(channel_id: u64, guild_id: u64, name: &str) -> Value {
    json!({
        "id": id(channel_id),
        "type": 0,
        "guild_id": id(guild_id),
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "topic": null,
        "nsfw": false,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "parent_id": null,
    })
}

/// A DM channel object (type 1) with one recipient.
pub fn dm_channel(channel_id: u64, recipient: &Value) -> Value {
    json!({
        "id": id(channel_id),
        "type": 1,
        "last_message_id": null,
        "recipients": [recipient.clone()],
    })
}

/// GUILD_CREATE `d`: an available guild with text channels `(id, name)`, an `@everyone` role
/// (id = guild id, [`perms::EVERYONE`]), the bot's role ([`bot_role_id`], [`perms::BOT`]) and
/// the bot's own member (like Discord sends; it makes serenity's cache-based permission checks
/// run as in production). Add more with [`with_role`] and [`with_member`].
pub fn guild_create(guild_id: u64, owner_id: u64, channels: &[(u64, &str)]) -> Value {
    let channels: Vec<Value> = channels
        .iter()
        .enumerate()
        .map(|(i, (cid, name))| {
            let mut c = text_channel(*cid, guild_id, name);
            c["position"] = json!(i);
            c
        })
        .collect();
    json!({
        "id": id(guild_id),
        "name": format!("guild-{guild_id}"),
        "icon": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": id(owner_id),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [
            role(guild_id, "@everyone", perms::EVERYONE, 0),
            role(bot_role_id(guild_id), super::FakeDiscord::BOT_NAME, perms::BOT, 1),
        ],
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "joined_at": FIXED_TIMESTAMP,
        "large": false,
        "unavailable": false,
        "member_count": 2,
        "voice_states": [],
        "members": [member(
            Some(&user(super::FakeDiscord::BOT_USER_ID, super::FakeDiscord::BOT_NAME, true)),
            &[bot_role_id(guild_id)],
            None,
        )],
        "channels": channels,
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
    })
}

/// Adds a role to a [`guild_create`] payload.
pub fn with_role(guild: &mut Value, role_id: u64, name: &str, permissions: u64) {
    let roles = guild["roles"].as_array_mut().expect("guild roles");
    let position = roles.len() as u64;
    roles.push(role(role_id, name, permissions, position));
}

/// Adds a member (a user object plus role ids) to a [`guild_create`] payload.
pub fn with_member(guild: &mut Value, user: Value, roles: &[u64]) {
    let members = guild["members"].as_array_mut().expect("guild members");
    members.push(member(Some(&user), roles, None));
    guild["member_count"] = json!(members.len() + 1);
}

/// GUILD_DELETE `d`. `unavailable: true` means an outage; `false` means the bot was removed.
pub fn guild_delete(guild_id: u64, unavailable: bool) -> Value {
    json!({"id": id(guild_id), "unavailable": unavailable})
}

/// CHANNEL_DELETE `d` for a guild text channel.
pub fn channel_delete(channel_id: u64, guild_id: u64, name: &str) -> Value {
    text_channel(channel_id, guild_id, name)
}

/// MESSAGE_DELETE `d`.
pub fn message_delete(message_id: u64, channel_id: u64, guild_id: Option<u64>) -> Value {
    let mut d = json!({"id": id(message_id), "channel_id": id(channel_id)});
    if let Some(g) = guild_id {
        d["guild_id"] = id(g);
    }
    d
}

/// CHANNEL_PINS_UPDATE `d`. `last_pin_timestamp: None` means no pins are left.
pub fn channel_pins_update(
    channel_id: u64,
    guild_id: Option<u64>,
    last_pin_timestamp: Option<&str>,
) -> Value {
    let mut d = json!({"channel_id": id(channel_id), "last_pin_timestamp": last_pin_timestamp});
    if let Some(g) = guild_id {
        d["guild_id"] = id(g);
    }
    d
}

/// Message kinds (`type`) that tests commonly need.
pub mod kind {
    pub const DEFAULT: u8 = 0;
    pub const USER_JOIN: u8 = 7;
    pub const REPLY: u8 = 19;
}

/// Everything MESSAGE_CREATE needs. Start from `MessageSpec::guild("text")`,
/// `MessageSpec::dm("text")` or `Default` and adjust with the chained setters or fields.
#[derive(Clone, Debug)]
pub struct MessageSpec {
    pub id: u64,
    pub channel_id: u64,
    /// `Some` for a guild message (adds `guild_id` and a `member`), `None` for a DM.
    pub guild_id: Option<u64>,
    /// A user object (see [`user`]).
    pub author: Value,
    pub content: String,
    /// Users mentioned (user objects; in a guild each gets a `member` stub like Discord sends).
    pub mentions: Vec<Value>,
    pub mention_roles: Vec<u64>,
    pub mention_everyone: bool,
    /// `Some` for a message sent through a webhook (no `member` then).
    pub webhook_id: Option<u64>,
    /// Message type (see [`kind`]).
    pub kind: u8,
    pub pinned: bool,
    /// Roles of the author's `member` in a guild.
    pub member_roles: Vec<u64>,
    /// When set, the message is a reply to this message (a full message object).
    pub referenced_message: Option<Value>,
    pub embeds: Vec<Value>,
    pub attachments: Vec<Value>,
    pub timestamp: String,
    pub edited_timestamp: Option<String>,
}

impl Default for MessageSpec {
    fn default() -> Self {
        MessageSpec {
            id: next_id(),
            channel_id: CHANNEL_ID,
            guild_id: Some(GUILD_ID),
            author: default_user(),
            content: String::new(),
            mentions: Vec::new(),
            mention_roles: Vec::new(),
            mention_everyone: false,
            webhook_id: None,
            kind: kind::DEFAULT,
            pinned: false,
            member_roles: Vec::new(),
            referenced_message: None,
            embeds: Vec::new(),
            attachments: Vec::new(),
            timestamp: now_timestamp(),
            edited_timestamp: None,
        }
    }
}

impl MessageSpec {
    /// A message from [`default_user`] in [`CHANNEL_ID`] of [`GUILD_ID`].
    pub fn guild(content: &str) -> Self {
        MessageSpec {
            content: content.to_string(),
            ..Default::default()
        }
    }

    /// A DM from [`default_user`] in [`DM_CHANNEL_ID`].
    pub fn dm(content: &str) -> Self {
        MessageSpec {
            content: content.to_string(),
            channel_id: DM_CHANNEL_ID,
            guild_id: None,
            ..Default::default()
        }
    }

    pub fn id(mut self, id: u64) -> Self {
        self.id = id;
        self
    }

    pub fn channel(mut self, channel_id: u64) -> Self {
        self.channel_id = channel_id;
        self
    }

    pub fn author(mut self, author: Value) -> Self {
        self.author = author;
        self
    }

    /// Mentions `user` (and adds `<@id>` to the content, as a client would).
    pub fn mentioning(mut self, user: Value) -> Self {
        let uid = user["id"].as_str().unwrap_or_default().to_string();
        if !self.content.contains(&format!("<@{uid}>")) {
            self.content = format!("<@{uid}> {}", self.content);
        }
        self.mentions.push(user);
        self
    }

    /// Mentions the bot user of the fake Discord.
    pub fn mentioning_bot(self) -> Self {
        self.mentioning(user(
            super::FakeDiscord::BOT_USER_ID,
            super::FakeDiscord::BOT_NAME,
            true,
        ))
    }

    pub fn everyone(mut self) -> Self {
        self.mention_everyone = true;
        self
    }

    pub fn webhook(mut self, webhook_id: u64) -> Self {
        self.webhook_id = Some(webhook_id);
        self
    }

    pub fn kind(mut self, kind: u8) -> Self {
        self.kind = kind;
        self
    }

    pub fn reply_to(mut self, message: Value) -> Self {
        self.referenced_message = Some(message);
        self.kind = kind::REPLY;
        self
    }

    pub fn build(&self) -> Value {
        message_create(self)
    }
}

/// MESSAGE_CREATE `d` (also a valid full message object, e.g. for `resolved.messages`).
pub fn message_create(spec: &MessageSpec) -> Value {
    let mut m = json!({
        "id": id(spec.id),
        "channel_id": id(spec.channel_id),
        "author": spec.author,
        "content": spec.content,
        "timestamp": spec.timestamp,
        "edited_timestamp": spec.edited_timestamp,
        "tts": false,
        "mention_everyone": spec.mention_everyone,
        "mentions": [],
        "mention_roles": spec.mention_roles.iter().map(|r| id(*r)).collect::<Vec<_>>(),
        "attachments": spec.attachments,
        "embeds": spec.embeds,
        "pinned": spec.pinned,
        "type": spec.kind,
        "flags": 0,
        "components": [],
    });
    let mentions: Vec<Value> = spec
        .mentions
        .iter()
        .map(|u| {
            let mut u = u.clone();
            if spec.guild_id.is_some() {
                u["member"] = member(None, &[], None);
            }
            u
        })
        .collect();
    m["mentions"] = Value::Array(mentions);
    if let Some(g) = spec.guild_id {
        m["guild_id"] = id(g);
        if spec.webhook_id.is_none() {
            m["member"] = member(None, &spec.member_roles, None);
        }
    }
    if let Some(w) = spec.webhook_id {
        m["webhook_id"] = id(w);
    }
    if let Some(r) = &spec.referenced_message {
        let mut reference = json!({
            "type": 0,
            "message_id": r["id"].clone(),
            "channel_id": r["channel_id"].clone(),
        });
        if let Some(g) = spec.guild_id {
            reference["guild_id"] = id(g);
        }
        m["message_reference"] = reference;
        m["referenced_message"] = r.clone();
    }
    m
}

/// Everything an application-command interaction (INTERACTION_CREATE type 2 or 4) needs.
/// Guild invocations carry `member` (with `permissions` = `member_permissions`), DMs carry `user`.
#[derive(Clone, Debug)]
pub struct InteractionSpec {
    pub id: u64,
    /// The interaction token (the fake accepts any string in the callback URL).
    pub token: String,
    pub command_id: u64,
    pub name: String,
    /// Top-level options (see [`opt_string`] and friends).
    pub options: Vec<Value>,
    /// `data.resolved` (users, members, roles, channels, messages…); `{}` if none.
    pub resolved: Value,
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    pub user_id: u64,
    pub user_name: String,
    /// Effective permissions of the invoker in the channel (guild only).
    pub member_permissions: Option<u64>,
    pub member_roles: Vec<u64>,
    /// The bot's permissions in the channel.
    pub app_permissions: u64,
    pub locale: String,
}

impl Default for InteractionSpec {
    fn default() -> Self {
        let id = next_id();
        InteractionSpec {
            id,
            token: format!("itoken-{id}"),
            command_id: COMMAND_ID,
            name: String::new(),
            options: Vec::new(),
            resolved: json!({}),
            guild_id: Some(GUILD_ID),
            channel_id: CHANNEL_ID,
            user_id: USER_ID,
            user_name: "alice".to_string(),
            member_permissions: Some(perms::MEMBER),
            member_roles: Vec::new(),
            app_permissions: perms::MEMBER | perms::MANAGE_MESSAGES,
            locale: "en-US".to_string(),
        }
    }
}

impl InteractionSpec {
    /// `/name` in [`CHANNEL_ID`] of [`GUILD_ID`] by [`USER_ID`] with ordinary member rights.
    pub fn guild(name: &str) -> Self {
        InteractionSpec {
            name: name.to_string(),
            ..Default::default()
        }
    }

    /// `/name` in the DM channel [`DM_CHANNEL_ID`] by [`USER_ID`].
    pub fn dm(name: &str) -> Self {
        InteractionSpec {
            name: name.to_string(),
            guild_id: None,
            channel_id: DM_CHANNEL_ID,
            member_permissions: None,
            ..Default::default()
        }
    }

    pub fn option(mut self, option: Value) -> Self {
        self.options.push(option);
        self
    }

    pub fn permissions(mut self, permissions: u64) -> Self {
        self.member_permissions = Some(permissions);
        self
    }

    pub fn user(mut self, user_id: u64, name: &str) -> Self {
        self.user_id = user_id;
        self.user_name = name.to_string();
        self
    }

    pub fn channel(mut self, channel_id: u64) -> Self {
        self.channel_id = channel_id;
        self
    }

    pub fn in_guild(mut self, guild_id: Option<u64>) -> Self {
        self.guild_id = guild_id;
        self
    }

    /// The user object of the invoker.
    pub fn invoker(&self) -> Value {
        user(self.user_id, &self.user_name, false)
    }
}

fn interaction_base(spec: &InteractionSpec, kind: u8, data: Value) -> Value {
    let invoker = spec.invoker();
    let mut d = json!({
        "id": id(spec.id),
        "application_id": id(super::FakeDiscord::APPLICATION_ID),
        "type": kind,
        "data": data,
        "channel_id": id(spec.channel_id),
        "token": spec.token,
        "version": 1,
        "app_permissions": spec.app_permissions.to_string(),
        "locale": spec.locale,
        "entitlements": [],
        // Guild-installed bot; "0" means "invoked outside a guild" (serenity maps it to None).
        "authorizing_integration_owners": {"0": spec.guild_id.unwrap_or(0).to_string()},
        "attachment_size_limit": 10_485_760,
    });
    match spec.guild_id {
        Some(g) => {
            d["guild_id"] = id(g);
            d["guild_locale"] = json!("en-US");
            d["member"] = member(Some(&invoker), &spec.member_roles, spec.member_permissions);
            d["context"] = json!(0);
            d["channel"] = json!({"id": id(spec.channel_id), "type": 0, "name": "general",
                                  "guild_id": id(g), "permissions": spec.member_permissions.unwrap_or(perms::MEMBER).to_string()});
        }
        None => {
            d["user"] = invoker.clone();
            d["context"] = json!(1);
            d["channel"] = json!({"id": id(spec.channel_id), "type": 1, "recipients": [invoker]});
        }
    }
    d
}

fn command_data(spec: &InteractionSpec, command_type: u8) -> Value {
    let mut data = json!({
        "id": id(spec.command_id),
        "name": spec.name,
        "type": command_type,
    });
    if !spec.options.is_empty() {
        data["options"] = Value::Array(spec.options.clone());
    }
    if spec.resolved.as_object().is_some_and(|o| !o.is_empty()) {
        data["resolved"] = spec.resolved.clone();
    }
    if let Some(g) = spec.guild_id {
        data["guild_id"] = id(g);
    }
    data
}

/// INTERACTION_CREATE `d` for a slash (chat input) command.
pub fn slash_command(spec: &InteractionSpec) -> Value {
    interaction_base(spec, 2, command_data(spec, 1))
}

/// INTERACTION_CREATE `d` for autocomplete (type 4). Mark the option being typed with
/// [`opt_focused`].
pub fn autocomplete(spec: &InteractionSpec) -> Value {
    interaction_base(spec, 4, command_data(spec, 1))
}

/// INTERACTION_CREATE `d` for a message context-menu command (type 2, `data.type` 3) on
/// `target_message` (a full message object, e.g. from [`message_create`]). Discord includes
/// the target's content even without the MESSAGE_CONTENT intent.
pub fn message_context_menu(spec: &InteractionSpec, target_message: &Value) -> Value {
    let mut data = command_data(spec, 3);
    let target_id = target_message["id"].clone();
    let key = target_id.as_str().expect("target message id").to_string();
    let mut messages = Map::new();
    messages.insert(key, target_message.clone());
    data["target_id"] = target_id;
    data["resolved"] = json!({"messages": messages});
    interaction_base(spec, 2, data)
}

/// INTERACTION_CREATE `d` for a user context-menu command (type 2, `data.type` 2).
pub fn user_context_menu(spec: &InteractionSpec, target_user: &Value) -> Value {
    let mut data = command_data(spec, 2);
    let target_id = target_user["id"].clone();
    let key = target_id.as_str().expect("target user id").to_string();
    let mut users = Map::new();
    users.insert(key, target_user.clone());
    data["target_id"] = target_id;
    data["resolved"] = json!({"users": users});
    interaction_base(spec, 2, data)
}

/// A button press or select (INTERACTION_CREATE type 3) on `message`.
#[derive(Clone, Debug)]
pub struct ComponentSpec {
    pub custom_id: String,
    /// 2 = button, 3 = string select.
    pub component_type: u8,
    /// Selected values for selects.
    pub values: Vec<String>,
    /// The message carrying the component (a full message object; usually the bot's message,
    /// e.g. the `response` of a recorded POST /channels/{c}/messages).
    pub message: Value,
    /// Who pressed it, where and with which rights (`name` and `options` are ignored).
    pub interaction: InteractionSpec,
}

impl ComponentSpec {
    pub fn button(custom_id: &str, message: Value) -> Self {
        let mut interaction = InteractionSpec::default();
        if let Some(ch) = message["channel_id"].as_str().and_then(|s| s.parse().ok()) {
            interaction.channel_id = ch;
        }
        interaction.guild_id = message["guild_id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .or(interaction.guild_id);
        ComponentSpec {
            custom_id: custom_id.to_string(),
            component_type: 2,
            values: Vec::new(),
            message,
            interaction,
        }
    }
}

/// INTERACTION_CREATE `d` for a message component (type 3).
pub fn component(spec: &ComponentSpec) -> Value {
    let mut data = json!({
        "custom_id": spec.custom_id,
        "component_type": spec.component_type,
    });
    if spec.component_type != 2 {
        data["values"] = json!(spec.values);
    }
    let mut d = interaction_base(&spec.interaction, 3, data);
    d["message"] = spec.message.clone();
    d
}

/// INTERACTION_CREATE `d` for a modal submit (type 5): `fields` are `(custom_id, value)` of
/// the text inputs, one per action row.
pub fn modal_submit(custom_id: &str, fields: &[(&str, &str)], spec: &InteractionSpec) -> Value {
    let rows: Vec<Value> = fields
        .iter()
        .map(|(id, value)| {
            json!({"type": 1, "components": [{"type": 4, "custom_id": id, "value": value}]})
        })
        .collect();
    interaction_base(spec, 5, json!({"custom_id": custom_id, "components": rows}))
}

fn option(name: &str, kind: u8, value: Value) -> Value {
    json!({"name": name, "type": kind, "value": value})
}

/// A string option (type 3).
pub fn opt_string(name: &str, value: &str) -> Value {
    option(name, 3, json!(value))
}

/// An integer option (type 4).
pub fn opt_int(name: &str, value: i64) -> Value {
    option(name, 4, json!(value))
}

/// A boolean option (type 5).
pub fn opt_bool(name: &str, value: bool) -> Value {
    option(name, 5, json!(value))
}

/// A user option (type 6). Put the user into `resolved.users` yourself (see [`resolved_users`]).
pub fn opt_user(name: &str, user_id: u64) -> Value {
    option(name, 6, json!(user_id.to_string()))
}

/// A channel option (type 7).
pub fn opt_channel(name: &str, channel_id: u64) -> Value {
    option(name, 7, json!(channel_id.to_string()))
}

/// The option the user is typing in (autocomplete), a string option with `focused: true`.
pub fn opt_focused(name: &str, partial: &str) -> Value {
    json!({"name": name, "type": 3, "value": partial, "focused": true})
}

/// A subcommand (type 1) with its options.
pub fn opt_subcommand(name: &str, options: Vec<Value>) -> Value {
    json!({"name": name, "type": 1, "options": options})
}

/// `resolved` with `users` (user objects).
pub fn resolved_users(users: &[Value]) -> Value {
    let mut map = Map::new();
    for u in users {
        map.insert(u["id"].as_str().expect("user id").to_string(), u.clone());
    }
    json!({"users": map})
}
