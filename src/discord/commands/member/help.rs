//! `/help`

use crate::discord::{render, respond, Context, Error};
use crate::reply::{self, Surface};

/// What this bot does, how to use it, and what it stores (and does not).
#[poise::command(slash_command)]
pub async fn help(ctx: Context<'_>) -> Result<(), Error> {
    let engine = ctx.data().engine();
    let reply = reply::help(engine.library(), Surface::Discord);
    respond::send_pages(ctx, render::command_replies(&reply, true)).await?;
    super::super::log_answer(ctx, "help", "-", true);
    Ok(())
}
