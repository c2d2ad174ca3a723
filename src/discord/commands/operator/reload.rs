//! `/reload` (the bot's owner, or administrators of the home guild
//! `dev_guild`): reloads `responses/` and the config's content settings
//! without a restart. Everything is validated first; on an error the old
//! content stays live and the error is shown. SIGHUP does the same (see
//! [`crate::discord::reload_on_hangup`]).

use tracing::{error, info};

use crate::discord::{checks, respond, Context, Error, Notice};

/// Reload the bot's content (operators).
#[poise::command(
    slash_command,
    default_member_permissions = "ADMINISTRATOR",
    check = "checks::operator"
)]
pub async fn reload(ctx: Context<'_>) -> Result<(), Error> {
    match ctx.data().live.reload() {
        Ok(done) => {
            info!(user = %ctx.author().id, topics = done.topics, "content reloaded");
            let text = format!(
                "Reloaded: {} topics from `{}`. Changes to the [discord] and [storage] settings \
                 need a restart.",
                done.topics,
                done.responses_dir.display()
            );
            Ok(respond::note(ctx, "Reloaded", &text).await?)
        }
        Err(e) => {
            error!(user = %ctx.author().id, error = %e, "reload failed; the old content stays live");
            let text = format!(
                "The reload failed, so the old content stays live. Fix this and try again:\n`{}`",
                e.to_string().replace('`', "'")
            );
            Err(Notice::unchanged("Reload failed", text).into())
        }
    }
}
