//! When the bot speaks about crisis: Discord-free decisions from the facts
//! a handler gathers. The handlers perform what is decided.
//!
//! | tier            | where the member asked (DM, `/ask`, context menu, @mention) | unprompted (auto-reply or pinned channel) |
//! |-----------------|-------------------------------------------------------------|-------------------------------------------|
//! | crisis          | crisis lines; alert in a server unless the ask was private    | crisis lines in the channel; alert         |
//! | possible-crisis | gentler crisis lines; "possible" alert as for crisis         | by `/settings watch`: `alert` (default) posts nothing in the channel and alerts; `reply` replies and alerts; `off` does neither |
//!
//! Direct messages and private `/ask` answers never alert: they are
//! private. The "possible" alert follows `/settings watch` everywhere
//! (`off` sends none); a crisis alert always goes when one is configured.

use crate::classify::{Classification, CrisisTier, Outcome};
use crate::store::WatchAction;

/// Where the bot met a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Direct,
    Mention,
    AutoReplyChannel,
    /// A channel pinned to a topic with `/pin`.
    PinnedChannel,
    /// `/ask`; `public` when the member chose to post the answer.
    Ask {
        public: bool,
    },
    /// The message context menu, clicked by anyone on anyone's message.
    ContextMenu,
}

impl Place {
    pub fn as_str(self) -> &'static str {
        match self {
            Place::Direct => "dm",
            Place::Mention => "mention",
            Place::AutoReplyChannel => "auto-reply channel",
            Place::PinnedChannel => "pinned channel",
            Place::Ask { .. } => "/ask",
            Place::ContextMenu => "context menu",
        }
    }

    /// The bot speaks without being asked.
    pub fn unprompted(self) -> bool {
        matches!(self, Place::AutoReplyChannel | Place::PinnedChannel)
    }

    /// Nobody but the member sees the exchange.
    fn private(self) -> bool {
        matches!(self, Place::Direct | Place::Ask { public: false })
    }
}

/// How sure the classifier is, for the moderators' alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertLevel {
    Crisis,
    /// The watch tier: it may be a crisis, or about someone else's.
    Possible,
}

/// What a handler needs to know to decide about a crisis-tier message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrisisFacts {
    pub tier: CrisisTier,
    pub place: Place,
    /// The message was written in a server (not a DM).
    pub in_server: bool,
    /// The server's `/settings watch` (the default when unset).
    pub watch: WatchAction,
}

impl CrisisFacts {
    /// The tier that matters for the reply: crisis wins over any topic.
    pub fn tier_of(classification: &Classification) -> CrisisTier {
        if classification.outcome == Outcome::Crisis {
            CrisisTier::Crisis
        } else {
            classification.crisis_tier
        }
    }
}

/// What to do with a crisis-tier message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrisisDecision {
    /// Send the composed reply (the crisis lines, or the gentler ones).
    pub reply: bool,
    /// Alert the moderators, at this level.
    pub alert: Option<AlertLevel>,
}

/// The decision for a crisis or watch-tier message; `None` for a calm one
/// (the ordinary reply rules apply).
pub fn decide_crisis(facts: CrisisFacts) -> Option<CrisisDecision> {
    let alert_here = facts.in_server && !facts.place.private();
    match facts.tier {
        CrisisTier::Calm => None,
        CrisisTier::Crisis => Some(CrisisDecision {
            reply: true,
            alert: alert_here.then_some(AlertLevel::Crisis),
        }),
        CrisisTier::Possible => {
            let watch_alert =
                (alert_here && facts.watch != WatchAction::Off).then_some(AlertLevel::Possible);
            let reply = !facts.place.unprompted() || facts.watch == WatchAction::Reply;
            Some(CrisisDecision {
                reply,
                alert: watch_alert,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASKED: [Place; 5] = [
        Place::Direct,
        Place::Mention,
        Place::Ask { public: false },
        Place::Ask { public: true },
        Place::ContextMenu,
    ];
    const UNPROMPTED: [Place; 2] = [Place::AutoReplyChannel, Place::PinnedChannel];

    fn facts(tier: CrisisTier, place: Place, watch: WatchAction) -> CrisisFacts {
        CrisisFacts {
            tier,
            place,
            in_server: place != Place::Direct,
            watch,
        }
    }

    #[test]
    fn crisis_always_replies_and_alerts_unless_private() {
        for place in ASKED.into_iter().chain(UNPROMPTED) {
            for watch in [WatchAction::Alert, WatchAction::Off, WatchAction::Reply] {
                let d = decide_crisis(facts(CrisisTier::Crisis, place, watch)).unwrap();
                assert!(d.reply, "{place:?}");
                let private = matches!(place, Place::Direct | Place::Ask { public: false });
                assert_eq!(d.alert.is_none(), private, "{place:?}");
            }
        }
    }

    #[test]
    fn the_watch_tier_answers_where_asked_and_stays_quiet_where_not() {
        let possible = |place, watch| decide_crisis(facts(CrisisTier::Possible, place, watch));
        for place in ASKED {
            assert!(
                possible(place, WatchAction::Alert).unwrap().reply,
                "{place:?}"
            );
            assert!(
                possible(place, WatchAction::Off).unwrap().reply,
                "{place:?}"
            );
        }
        for place in UNPROMPTED {
            let quiet = possible(place, WatchAction::Alert).unwrap();
            assert_eq!(
                quiet,
                CrisisDecision {
                    reply: false,
                    alert: Some(AlertLevel::Possible)
                }
            );
            let off = possible(place, WatchAction::Off).unwrap();
            assert_eq!(
                off,
                CrisisDecision {
                    reply: false,
                    alert: None
                }
            );
            assert!(possible(place, WatchAction::Reply).unwrap().reply);
        }
        assert_eq!(
            possible(Place::Direct, WatchAction::Alert).unwrap().alert,
            None
        );
        assert!(
            decide_crisis(facts(CrisisTier::Calm, Place::Direct, WatchAction::Alert)).is_none()
        );
    }
}
