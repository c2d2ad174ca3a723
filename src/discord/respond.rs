//! Answering interactions when Discord pushes back.
//!
//! Discord drops an interaction that gets no first response within 3 s.
//! When a response is refused with 429 (rate limited: never processed) the
//! bot waits a moment and tries once more, well inside that window; after a
//! 500/502/503/504 it retries the *first* response once (Discord refuses a
//! second acknowledgement, so it can never be shown twice) but not a
//! follow-up, which could be. A request that timed out is not retried: it
//! may have arrived. Never more than two attempts, so a failing Discord
//! sees no retry storm.
//!
//! With `[discord] api_base` serenity's own rate limiter is off and a 429
//! reaches the bot as an error; serenity then also drops the `retry_after`,
//! hence the fixed pauses.

use std::future::Future;
use std::time::Duration;

use poise::CreateReply;
use serenity::all::{
    ComponentInteraction, CreateInteractionResponse, CreateInteractionResponseFollowup, Http,
    HttpError,
};
use tracing::warn;

use super::{render, Context, Error};
use crate::reply;

/// The pause before the second try after a 429. Discord's usual per-route
/// `retry_after` is under a second; the first response must still land
/// inside the 3 s window.
pub const RATE_LIMIT_PAUSE: Duration = Duration::from_millis(1000);
/// The pause before the second try of a first response after a 5xx.
pub const SERVER_ERROR_PAUSE: Duration = Duration::from_millis(250);

/// What kind of trouble a failed REST call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// 429: not processed; safe to send again.
    RateLimited,
    /// 5xx: Discord may or may not have processed it.
    ServerError,
    /// The request timed out or the connection failed.
    Transport,
    /// Anything else (a 4xx, a bug in a payload, …).
    Other,
}

impl Trouble {
    pub fn as_str(self) -> &'static str {
        match self {
            Trouble::RateLimited => "rate-limited",
            Trouble::ServerError => "server-error",
            Trouble::Transport => "transport",
            Trouble::Other => "other",
        }
    }
}

/// Counts a failed REST call in the metrics, by its kind of trouble.
pub fn count_failure(data: &super::Data, e: &serenity::Error) {
    data.metrics.rest_failure(trouble(e).as_str());
}

/// Classifies a serenity error.
pub fn trouble(e: &serenity::Error) -> Trouble {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => match r.status_code.as_u16() {
            429 => Trouble::RateLimited,
            500 | 502 | 503 | 504 => Trouble::ServerError,
            _ => Trouble::Other,
        },
        serenity::Error::Http(HttpError::Request(_)) => Trouble::Transport,
        _ => Trouble::Other,
    }
}

/// Whether the command error `e` is Discord (or the network) failing, so an
/// apology through the same interaction would only fail again.
pub fn is_discord_trouble(e: &Error) -> bool {
    e.downcast_ref::<serenity::Error>()
        .is_some_and(|e| trouble(e) != Trouble::Other)
}

/// Runs `call`; if it met trouble that `retry` allows, waits and runs it
/// once more.
async fn with_one_retry<T, Fut>(
    what: &'static str,
    retry: impl Fn(Trouble) -> Option<Duration>,
    mut call: impl FnMut() -> Fut,
) -> Result<T, serenity::Error>
where
    Fut: Future<Output = Result<T, serenity::Error>>,
{
    match call().await {
        Err(e) => match retry(trouble(&e)) {
            Some(pause) => {
                warn!(what, error = %e, pause_ms = pause.as_millis() as u64, "Discord refused a response; trying once more");
                tokio::time::sleep(pause).await;
                call().await
            }
            None => Err(e),
        },
        ok => ok,
    }
}

/// The pause before a second try, if one is allowed: after a 429 always,
/// after a 5xx only for a first response.
fn retry_pause(first: bool) -> impl Fn(Trouble) -> Option<Duration> {
    move |t| match t {
        Trouble::RateLimited => Some(RATE_LIMIT_PAUSE),
        Trouble::ServerError if first => Some(SERVER_ERROR_PAUSE),
        _ => None,
    }
}

/// Whether a slash command's context has answered its interaction yet.
fn has_responded(ctx: Context<'_>) -> bool {
    match ctx {
        poise::Context::Application(a) => a
            .has_sent_initial_response
            .load(std::sync::atomic::Ordering::SeqCst),
        poise::Context::Prefix(_) => true,
    }
}

/// Sends one page of a command's answer: the first response, or a
/// follow-up once the interaction was answered (or deferred).
pub async fn send(ctx: Context<'_>, reply: CreateReply) -> Result<(), serenity::Error> {
    let first = !has_responded(ctx);
    let sent = with_one_retry("command reply", retry_pause(first), || {
        ctx.send(reply.clone())
    })
    .await;
    if let Err(e) = &sent {
        count_failure(ctx.data(), e);
    }
    sent.map(drop)
}

/// Sends the pages of a command's answer: the first as the interaction
/// response, the rest as follow-ups.
pub async fn send_pages(ctx: Context<'_>, pages: Vec<CreateReply>) -> Result<(), serenity::Error> {
    for page in pages {
        send(ctx, page).await?;
    }
    Ok(())
}

/// Sends a titled note with the referral notice, ephemeral: a command's
/// confirmation, or a [`Notice`](super::Notice).
pub async fn note(ctx: Context<'_>, title: &str, text: &str) -> Result<(), serenity::Error> {
    let engine = ctx.data().engine();
    let note = reply::note(engine.library(), title, text);
    send_pages(ctx, render::command_replies(&note, true)).await
}

/// Defers a command's answer ("thinking…", only the member sees it).
pub async fn defer_ephemeral(ctx: Context<'_>) -> Result<(), serenity::Error> {
    with_one_retry("defer", retry_pause(true), || ctx.defer_ephemeral()).await
}

/// The first response to a button press.
pub async fn component(
    http: &Http,
    press: &ComponentInteraction,
    response: CreateInteractionResponse,
) -> Result<(), serenity::Error> {
    with_one_retry("button response", retry_pause(true), || {
        press.create_response(http, response.clone())
    })
    .await
}

/// A follow-up to a button press.
pub async fn component_followup(
    http: &Http,
    press: &ComponentInteraction,
    followup: CreateInteractionResponseFollowup,
) -> Result<(), serenity::Error> {
    with_one_retry("button follow-up", retry_pause(false), || {
        press.create_followup(http, followup.clone())
    })
    .await
    .map(drop)
}
