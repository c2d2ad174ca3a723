//! `/ask question:<text> [public:<bool>]`

use crate::classify::Outcome;
use crate::discord::alert::{self, AlertSource};
use crate::discord::{render, Context, Error};

/// Ask about a therapy boundary. Only you see the answer unless you choose public.
///
/// A crisis answer is always private. When it was asked with `public:true`
/// in a server, the moderators are alerted (without the question).
#[poise::command(slash_command)]
pub async fn ask(
    ctx: Context<'_>,
    #[description = "Your question, in your own words"]
    #[max_length = 2000]
    question: String,
    #[description = "Post the answer in the channel for everyone (default: only you see it)"]
    public: Option<bool>,
) -> Result<(), Error> {
    let data = ctx.data();
    let (classification, reply) = data.answer(&question).await;
    let crisis = classification.outcome == Outcome::Crisis;
    let public = public.unwrap_or(false);
    let ephemeral = crisis || !public;
    super::send(ctx, render::command_replies(&reply, ephemeral)).await?;
    super::count_reply(ctx, classification.topic()).await;
    super::log_answer(
        ctx,
        classification.label(),
        classification.topic().unwrap_or("-"),
        ephemeral,
    );
    if crisis && public {
        if let Some(guild_id) = ctx.guild_id() {
            let source = AlertSource {
                guild_id,
                channel_id: ctx.channel_id(),
                user_id: ctx.author().id,
                link: format!(
                    "https://discord.com/channels/{guild_id}/{}",
                    ctx.channel_id()
                ),
                via: "/ask",
            };
            alert::send(&ctx.serenity_context().http, data, source).await;
        }
    }
    Ok(())
}
