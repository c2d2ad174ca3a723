//! `/stats` (moderators): per topic over the last 7 and 30 days, the
//! replies, the "Helpful" and "Not what I asked" counts, and the share of
//! replies reached through "did you mean". Topics with many "not what I
//! asked" or a high "did you mean" share are the ones to improve.

use std::collections::BTreeMap;

use crate::discord::{checks, respond, Context, Error, Notice};
use crate::store::{self, TopicStats};

/// The text of `/stats`: one line per topic with any count.
pub fn render(
    week: &[TopicStats],
    month: &[TopicStats],
    title_of: impl Fn(&str) -> String,
) -> String {
    let mut topics: BTreeMap<&str, (TopicStats, TopicStats)> = BTreeMap::new();
    for s in month {
        topics.entry(&s.topic).or_default().1 = s.clone();
    }
    for s in week {
        topics.entry(&s.topic).or_default().0 = s.clone();
    }
    if topics.is_empty() {
        return "No replies or feedback yet in this server.".to_string();
    }
    let period = |s: &TopicStats| {
        let share = (s.did_you_mean * 100 + s.replies / 2)
            .checked_div(s.replies)
            .unwrap_or(0);
        format!(
            "{} replies, {} helpful, {} not what they asked, {share}% via \"did you mean\"",
            s.replies, s.helpful, s.not_helpful
        )
    };
    let mut lines = vec!["Per topic: last 7 days | last 30 days.".to_string()];
    for (topic, (w, m)) in topics {
        lines.push(format!(
            "- **{}**: {} | {}",
            title_of(topic),
            period(&w),
            period(&m)
        ));
    }
    lines.join("\n")
}

/// Replies and feedback per topic over the last 7 and 30 days.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_MESSAGES",
    check = "checks::moderator"
)]
pub async fn stats(ctx: Context<'_>) -> Result<(), Error> {
    let guild = checks::guild(ctx)?.get();
    let now = store::now();
    let read = ctx
        .data()
        .db(move |s| {
            Ok((
                s.stats(guild, now - 6 * 86_400)?,
                s.stats(guild, now - 29 * 86_400)?,
            ))
        })
        .await;
    let (week, month) = read.map_err(Notice::failed_to("Feedback", "read the counts"))?;
    let engine = ctx.data().engine();
    let text = render(&week, &month, |id| {
        engine
            .library()
            .topic(id)
            .map_or(id.to_string(), |t| t.title.clone())
    });
    Ok(respond::note(ctx, "Feedback", &text).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_lines_show_both_periods_and_the_did_you_mean_share() {
        let s = |replies, dym, helpful, not_helpful| TopicStats {
            topic: "gifts".into(),
            replies,
            did_you_mean: dym,
            helpful,
            not_helpful,
        };
        let text = render(&[s(2, 1, 1, 0)], &[s(4, 1, 2, 1)], |t| t.to_uppercase());
        assert!(text.contains("**GIFTS**: 2 replies, 1 helpful, 0 not what they asked, 50% via \"did you mean\" | 4 replies, 2 helpful, 1 not what they asked, 25%"), "{text}");
        assert!(render(&[], &[], |t| t.into()).starts_with("No replies"));
    }
}
