//! `/topics`

use crate::discord::{render, respond, Context, Error};
use crate::reply::{self, Surface};

/// List every topic with a one-line summary.
#[poise::command(slash_command)]
pub async fn topics(ctx: Context<'_>) -> Result<(), Error> {
    let engine = ctx.data().engine();
    let reply = reply::topic_list(engine.library(), Surface::Discord);
    respond::send_pages(ctx, render::command_replies(&reply, true)).await?;
    super::super::log_answer(ctx, "topics", "-", true);
    Ok(())
}
