//! `/ask question:<text> [public:<bool>]`

use crate::classify::CrisisTier;
use crate::discord::alert::{self, AlertSource};
use crate::discord::{render, respond, Asker, Context, Error};
use crate::policy::{decide_crisis, CrisisFacts, Place};

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
    let guild = ctx.guild_id().map(|g| g.get());
    let asker = Asker {
        locale: ctx.locale(),
        guild,
    };
    let (classification, reply) = data.answer(&question, asker).await;
    let tier = CrisisFacts::tier_of(&classification);
    let public = public.unwrap_or(false);
    // Crisis lines, gentle or not, are always private.
    let ephemeral = tier != CrisisTier::Calm || !public;
    respond::send_pages(ctx, render::command_replies(&reply, ephemeral)).await?;
    super::super::count_reply(ctx, classification.topic()).await;
    super::super::log_answer(
        ctx,
        classification.label(),
        classification.topic().unwrap_or("-"),
        ephemeral,
    );
    let facts = CrisisFacts {
        tier,
        place: Place::Ask { public },
        in_server: guild.is_some(),
        watch: data.watch_action(guild),
    };
    let alert = decide_crisis(facts).and_then(|d| d.alert);
    if let (Some(level), Some(guild_id)) = (alert, ctx.guild_id()) {
        let source = AlertSource {
            guild_id,
            channel_id: ctx.channel_id(),
            user_id: ctx.author().id,
            link: format!(
                "https://discord.com/channels/{guild_id}/{}",
                ctx.channel_id()
            ),
            via: "/ask",
            level,
            replied: true,
        };
        alert::send(&ctx.serenity_context().http, data, source).await;
    }
    Ok(())
}
