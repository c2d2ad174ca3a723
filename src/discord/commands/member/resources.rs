//! `/resources [public:<bool>]`

use crate::discord::{render, respond, Context, Error};
use crate::reply;

/// Crisis and support lines, always available.
#[poise::command(slash_command)]
pub async fn resources(
    ctx: Context<'_>,
    #[description = "Post them in the channel for everyone (default: only you see them)"]
    public: Option<bool>,
) -> Result<(), Error> {
    let ephemeral = !public.unwrap_or(false);
    let engine = ctx.data().engine();
    let reply = reply::resources(engine.library(), engine.region_hints(Default::default()));
    respond::send_pages(ctx, render::command_replies(&reply, ephemeral)).await?;
    super::super::log_answer(ctx, "resources", "-", ephemeral);
    Ok(())
}
