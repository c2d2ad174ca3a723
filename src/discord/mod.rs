//! The Discord adapter: a thin layer over [`Engine`] built on poise 0.7 and
//! serenity 0.12.
//!
//! It translates Discord events into core calls and core replies into
//! Discord messages: handlers gather the facts, the core's
//! [`crate::policy`] decides *whether* and *where* to speak, the core's
//! [`Engine`] *what* to say, and the handlers perform it.
//!
//! * `client`: [`build_client`] builds the client exactly as `boundary-bot
//!   run` does; the end-to-end tests use it against a fake Discord.
//! * `data`: [`Data`], what every handler shares. `token`: [`Token`].
//!   `run`: [`run`] and its signals. `errors`: `on_error`, close codes.
//! * [`commands`]: `/ask`, `/topic`, `/topics`, `/resources`, `/help`, the
//!   "Get boundary guidance" message context menu, and the moderator
//!   commands `/pin`, `/unpin`, `/pins`, `/stats`, `/settings`, `/reload`,
//!   plus `/optout` and `/optin` for members.
//! * [`events`]: DMs, @mentions, auto-reply and pinned channels, button
//!   presses (did you mean, feedback), and pin/channel/guild lifecycle.
//! * [`checks`]: [`PermissionLevel`] and the poise checks (who is a
//!   moderator or operator, checked in the bot as well as by Discord's
//!   `default_member_permissions`); [`Notice`]: a command's polite "no",
//!   rendered once by `on_error`.
//! * [`render`]: `Reply` → embeds, with `allowed_mentions` on every message.
//! * [`respond`]: interaction responses, with one bounded retry on 429/5xx.
//! * [`health`]: `/metrics` and `/health` for `[metrics] listen`.
//! * [`alert`], [`logging`]; cooldowns and rate limits are the core's
//!   [`crate::policy::limiter`].

pub mod alert;
pub mod checks;
mod client;
pub mod commands;
mod data;
mod errors;
pub mod events;
pub mod health;
pub mod logging;
mod notice;
pub mod render;
pub mod respond;
mod run;
mod token;

pub use checks::PermissionLevel;
pub use client::{build_client, build_client_with, intents, open_store};
pub use data::{Asker, Data, FeedbackPress};
pub use errors::gateway_end_error;
pub use notice::{Notice, GUILD_ONLY, NOT_AN_OPERATOR, NOT_A_MODERATOR};
pub use run::{reload_on_hangup, run, run_blocking, shutdown_on_signal, start};
pub use token::{loose_permissions, token_status, Token, NO_TOKEN_HELP, TOKEN_ENV};

pub type Error = anyhow::Error;
pub type Context<'a> = poise::Context<'a, Data, Error>;
pub type FrameworkContext<'a> = poise::FrameworkContext<'a, Data, Error>;
