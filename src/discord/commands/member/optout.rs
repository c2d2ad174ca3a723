//! `/optout` and `/optin`: a member stops or restarts the bot's unprompted
//! replies to their own messages (auto-reply and pinned channels). `/ask`,
//! @mentions, DMs and the context menu still work, and crisis replies are
//! never suppressed. Only the member's id is stored.

use tracing::info;

use crate::discord::{respond, Context, Error, Notice};

pub const OPTED_OUT: &str = "Done: I won't reply to your messages unprompted any more. `/ask`, \
mentioning me and direct messages still work, and if a message of yours sounds like a crisis I \
will still share crisis resources. `/optin` turns replies back on.";
pub const OPTED_IN: &str = "Done: I may reply to your messages in auto-reply channels again. \
`/optout` turns that off.";

/// Stop the bot replying to your messages unprompted.
#[poise::command(slash_command)]
pub async fn optout(ctx: Context<'_>) -> Result<(), Error> {
    set(ctx, true).await
}

/// Let the bot reply to your messages unprompted again.
#[poise::command(slash_command)]
pub async fn optin(ctx: Context<'_>) -> Result<(), Error> {
    set(ctx, false).await
}

async fn set(ctx: Context<'_>, out: bool) -> Result<(), Error> {
    let user = ctx.author().id;
    let user_id = user.get();
    let doing = if out {
        "save the opt-out"
    } else {
        "save the opt-in"
    };
    let saved = ctx.data().db(move |s| s.set_opted_out(user_id, out)).await;
    let changed = saved.map_err(Notice::failed_to("Not saved", doing))?;
    info!(user = %user, opted_out = out, changed, "opt-out set");
    let (title, text) = if out {
        ("Opted out", OPTED_OUT)
    } else {
        ("Opted in", OPTED_IN)
    };
    Ok(respond::note(ctx, title, text).await?)
}
