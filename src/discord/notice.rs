//! [`Notice`]: what a member or moderator is told when a command does not
//! do what was asked: refused by a check, asked for something that does
//! not exist, or stopped by the database.
//!
//! Commands return a notice with `?` (it converts into the framework's
//! error); `on_error` logs it (ids and reason only) and renders it once as
//! an ephemeral note with the referral notice. Every notice says that
//! nothing was changed.

use super::checks::PermissionLevel;
use crate::store::{StoreError, StoreErrorKind};

pub const NOT_A_MODERATOR: &str = "Sorry, only moderators can do that here: members with the \
Manage Messages permission or a moderator role. Nothing was changed.";

pub const NOT_AN_OPERATOR: &str = "Sorry, only the bot's owner or an administrator of its home \
server can reload its content. Nothing was changed.";

pub const GUILD_ONLY: &str = "This works in a server channel, not in direct messages.";

/// A command's polite "no". Its `Display` is for logs: it never holds
/// what the member typed.
#[derive(Debug, thiserror::Error)]
pub enum Notice {
    /// The invoker lacks the level the command needs.
    #[error("refused: needs the {0:?} level")]
    NotPermitted(PermissionLevel),
    /// A server-only command was used in a direct message.
    #[error("refused: server channels only")]
    GuildOnly,
    /// The request cannot be done as asked (an unknown topic, a number out
    /// of range); `text` says what to do instead.
    #[error("not done: {title}")]
    Unchanged { title: &'static str, text: String },
    /// The database failed while the command tried `doing` ("save the pin").
    #[error("could not {doing}")]
    NotDone {
        title: &'static str,
        doing: &'static str,
        /// A sentence on what was undone, if anything.
        undone: Option<&'static str>,
        #[source]
        error: StoreError,
    },
}

impl Notice {
    /// A notice for a request that cannot be done as asked.
    pub fn unchanged(title: &'static str, text: impl Into<String>) -> Self {
        Self::Unchanged {
            title,
            text: text.into(),
        }
    }

    /// For `map_err`: the database failed while `doing`.
    pub fn failed_to(title: &'static str, doing: &'static str) -> impl FnOnce(StoreError) -> Self {
        move |error| Self::NotDone {
            title,
            doing,
            undone: None,
            error,
        }
    }

    /// Adds what was undone to a [`Notice::NotDone`].
    pub fn undone(self, what: &'static str) -> Self {
        match self {
            Self::NotDone {
                title,
                doing,
                error,
                ..
            } => Self::NotDone {
                title,
                doing,
                undone: Some(what),
                error,
            },
            other => other,
        }
    }

    /// Whether this is a refusal (a check failed) rather than a failure.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::NotPermitted(_) | Self::GuildOnly)
    }

    /// The note's title.
    pub fn title(&self) -> &'static str {
        match self {
            Self::NotPermitted(PermissionLevel::Moderator) => "Moderators only",
            Self::NotPermitted(PermissionLevel::Operator) => "Not allowed",
            Self::GuildOnly => "Server channels only",
            Self::Unchanged { title, .. } | Self::NotDone { title, .. } => title,
        }
    }

    /// The note's text.
    pub fn text(&self) -> String {
        match self {
            Self::NotPermitted(PermissionLevel::Moderator) => NOT_A_MODERATOR.to_string(),
            Self::NotPermitted(PermissionLevel::Operator) => NOT_AN_OPERATOR.to_string(),
            Self::GuildOnly => GUILD_ONLY.to_string(),
            Self::Unchanged { text, .. } => text.clone(),
            Self::NotDone {
                doing,
                undone,
                error,
                ..
            } => {
                let mut text = store_failure(doing, error);
                if let Some(undone) = undone {
                    text.push_str(&format!(" ({undone})"));
                }
                text
            }
        }
    }
}

/// Nothing was changed, and what to do next: wait a minute when the
/// database was busy, else tell the operator.
fn store_failure(doing: &str, e: &StoreError) -> String {
    match e.kind() {
        StoreErrorKind::Busy => format!(
            "I couldn't {doing}: my database is busy just now. Nothing was changed; please try \
             again in a minute."
        ),
        _ => format!(
            "I couldn't {doing} (a database error). Nothing was changed; please tell the bot's \
             operator."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn every_notice_says_nothing_was_changed_or_where_it_works() {
        let busy = StoreError::busy(Duration::from_millis(5), std::fmt::Error);
        let notices = [
            Notice::NotPermitted(PermissionLevel::Moderator),
            Notice::NotPermitted(PermissionLevel::Operator),
            Notice::unchanged("Settings", "Please give 0 to 1440. Nothing was changed."),
            Notice::failed_to("Could not pin", "save the pin")(busy).undone("I took it down."),
            Notice::failed_to("Feedback", "read the counts")(StoreError::failed("disk")),
        ];
        for n in &notices {
            assert!(
                n.text().contains("Nothing was changed"),
                "{n}: {}",
                n.text()
            );
            assert!(!n.title().is_empty());
        }
        assert!(notices[3].text().contains("busy just now"));
        assert!(notices[3].text().ends_with("(I took it down.)"));
        assert!(notices[4].text().contains("tell the bot's operator"));
        assert!(Notice::GuildOnly.text().contains("server channel"));
        assert!(notices[0].is_refusal() && !notices[4].is_refusal());
    }

    #[test]
    fn a_notice_survives_the_framework_error_type() {
        let e: anyhow::Error = Notice::GuildOnly.into();
        assert!(matches!(
            e.downcast_ref::<Notice>(),
            Some(Notice::GuildOnly)
        ));
    }
}
