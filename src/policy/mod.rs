//! When, where and how the bot speaks: Discord-free decisions from the
//! facts a handler gathers. The handlers perform what is decided.
//!
//! **Member messages** ([`decide`]): DMs, @mentions, auto-reply channels and
//! channels pinned to a topic with `/pin`.
//!
//! | where              | crisis tier        | topic          | unsure           | nothing                 |
//! |--------------------|--------------------|----------------|------------------|-------------------------|
//! | DM                 | see below          | yes            | "did you mean"   | help, once per cooldown |
//! | @mention           | see below          | topic cooldown | "did you mean"   | help, once per cooldown |
//! | auto-reply channel | see below          | topic cooldown | silent           | silent                  |
//! | pinned channel     | see below          | topic cooldown | the pinned topic if among the candidates, else silent | silent |
//!
//! Unprompted replies (auto-reply and pinned channels) are skipped for
//! members who opted out and in servers whose moderators turned
//! auto-replies off; crisis replies never are. In server channels every
//! reply also counts against the channel's rate limit; crisis replies are
//! exempt from it and from the topic cooldowns, and have their own short
//! per-member cooldown ([`limiter`]). Every message gets at most one reply.
//!
//! **Crisis tiers** ([`decide_crisis`], also for `/ask` and the context menu):
//!
//! | tier            | where the member asked (DM, `/ask`, context menu, @mention) | unprompted (auto-reply or pinned channel) |
//! |-----------------|-------------------------------------------------------------|-------------------------------------------|
//! | crisis          | crisis lines; alert in a server unless the ask was private    | crisis lines in the channel; alert         |
//! | possible-crisis | gentler crisis lines; "possible" alert as for crisis         | by `/settings watch`: `alert` (default) posts nothing in the channel and alerts; `reply` replies and alerts; `off` does neither |
//!
//! Direct messages and private `/ask` answers never alert: they are
//! private. The "possible" alert follows `/settings watch` everywhere
//! (`off` sends none); a crisis alert always goes when one is configured.
//!
//! Both tables are unit tests below.

pub mod expiring;
pub mod limiter;

use std::time::Duration;

use limiter::Gate;

use crate::classify::{Classification, CrisisTier, Outcome, TopicId};
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

impl AlertLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Crisis => "crisis",
            AlertLevel::Possible => "possible",
        }
    }
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

/// What the message handler knows about one member message, all of it
/// from memory (see [`crate::store::CachedStore`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageFacts {
    pub place: Place,
    /// The tier that matters for the reply ([`CrisisFacts::tier_of`]).
    pub tier: CrisisTier,
    pub outcome: Outcome,
    /// The channel's pinned topic, when it is among the message's
    /// candidates ("did you mean" list).
    pub pinned_candidate: Option<TopicId>,
    /// The message was written in a server (not a DM).
    pub in_server: bool,
    /// The server's `/settings`; the defaults when unset.
    pub server: ServerPolicy,
    /// The member used `/optout`.
    pub opted_out: bool,
}

/// The parts of a server's `/settings` the reply policy reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerPolicy {
    /// Unprompted replies are on (the default).
    pub auto_replies_off: bool,
    pub topic_cooldown: Option<Duration>,
    pub watch: WatchAction,
}

/// What to do with a member message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send nothing and alert nobody.
    Quiet(Quiet),
    /// Send `answer` if `limit` lets it through, then `alert` the
    /// moderators (whether or not the reply went).
    Reply {
        answer: Answer,
        limit: Limit,
        alert: Option<AlertLevel>,
    },
    /// Post nothing where the message is; alert the moderators.
    AlertOnly(AlertLevel),
}

/// Which reply a [`Decision::Reply`] sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The reply the engine composed for the classification.
    Composed,
    /// The pinned topic's guidance, for an unsure message in its channel.
    PinnedTopic(TopicId),
}

/// The cooldown or rate limit a reply must pass ([`limiter::Cooldowns::admit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The member's crisis cooldown only.
    Crisis,
    /// A DM: one reply per message, help once per help cooldown.
    Direct(Gate),
    /// A server channel: the member's cooldown for `gate`, then the
    /// channel's rate limit; `topic_cooldown` is the server's own.
    Channel {
        gate: Gate,
        topic_cooldown: Option<Duration>,
    },
}

/// Why a message gets nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quiet {
    AutoRepliesOff,
    OptedOut,
    /// Unprompted and not confident enough to speak.
    NotConfident,
    /// A watch-tier message where nobody asked, with `/settings watch off`.
    WatchOff,
}

impl Quiet {
    pub fn as_str(self) -> &'static str {
        match self {
            Quiet::AutoRepliesOff => "auto-replies off",
            Quiet::OptedOut => "opted out",
            Quiet::NotConfident => "not confident",
            Quiet::WatchOff => "watch tier off",
        }
    }
}

/// The decision for one member message: the tables in the module doc.
/// Whether a reply may be shed when the bot has too much work in flight:
/// only an unprompted topic reply (auto-reply and pinned channels). Crisis
/// replies, and anything a member asked for (DMs, mentions), never are.
pub fn sheddable(place: Place, limit: Limit) -> bool {
    let unprompted = matches!(place, Place::AutoReplyChannel | Place::PinnedChannel);
    let topic = matches!(
        limit,
        Limit::Channel {
            gate: Gate::Topic(_),
            ..
        }
    );
    unprompted && topic
}

pub fn decide(facts: MessageFacts) -> Decision {
    if facts.tier != CrisisTier::Calm {
        return decide_crisis_message(facts);
    }
    if facts.place.unprompted() {
        if facts.server.auto_replies_off {
            return Decision::Quiet(Quiet::AutoRepliesOff);
        }
        if facts.opted_out {
            return Decision::Quiet(Quiet::OptedOut);
        }
    }
    let (answer, outcome) = match (facts.place, facts.outcome, facts.pinned_candidate) {
        (Place::PinnedChannel, Outcome::Unsure, Some(t)) => {
            (Answer::PinnedTopic(t), Outcome::Topic(t))
        }
        (_, outcome, _) => (Answer::Composed, outcome),
    };
    let confident = matches!(outcome, Outcome::Topic(_) | Outcome::Crisis);
    if facts.place.unprompted() && !confident {
        return Decision::Quiet(Quiet::NotConfident);
    }
    let gate = gate(outcome);
    let limit = match facts.place {
        Place::Direct => Limit::Direct(gate),
        _ => Limit::Channel {
            gate,
            topic_cooldown: facts.server.topic_cooldown,
        },
    };
    Decision::Reply {
        answer,
        limit,
        alert: None,
    }
}

fn decide_crisis_message(facts: MessageFacts) -> Decision {
    let crisis = CrisisFacts {
        tier: facts.tier,
        place: facts.place,
        in_server: facts.in_server,
        watch: facts.server.watch,
    };
    match decide_crisis(crisis) {
        Some(CrisisDecision { reply: true, alert }) => Decision::Reply {
            answer: Answer::Composed,
            limit: Limit::Crisis,
            alert,
        },
        Some(CrisisDecision {
            reply: false,
            alert: Some(level),
        }) => Decision::AlertOnly(level),
        _ => Decision::Quiet(Quiet::WatchOff),
    }
}

/// The member cooldown a calm reply is subject to.
fn gate(outcome: Outcome) -> Gate {
    match outcome {
        Outcome::Topic(t) => Gate::Topic(t),
        Outcome::Nothing => Gate::Help,
        Outcome::Unsure | Outcome::Crisis => Gate::Plain,
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

    const GIFTS: TopicId = "gifts";
    const LETTERS: TopicId = "letters";

    fn message(place: Place, outcome: Outcome) -> MessageFacts {
        MessageFacts {
            place,
            tier: CrisisTier::Calm,
            outcome,
            pinned_candidate: None,
            in_server: place != Place::Direct,
            server: ServerPolicy::default(),
            opted_out: false,
        }
    }

    fn channel(gate: Gate) -> Limit {
        Limit::Channel {
            gate,
            topic_cooldown: None,
        }
    }

    fn reply(limit: Limit) -> Decision {
        Decision::Reply {
            answer: Answer::Composed,
            limit,
            alert: None,
        }
    }

    /// The member-message table of the module doc, row by row.
    #[test]
    fn the_message_table() {
        use Outcome::{Nothing, Topic, Unsure};
        let quiet = Decision::Quiet(Quiet::NotConfident);
        let rows: [(Place, [Decision; 3]); 4] = [
            (
                Place::Direct,
                [
                    reply(Limit::Direct(Gate::Topic(GIFTS))),
                    reply(Limit::Direct(Gate::Plain)),
                    reply(Limit::Direct(Gate::Help)),
                ],
            ),
            (
                Place::Mention,
                [
                    reply(channel(Gate::Topic(GIFTS))),
                    reply(channel(Gate::Plain)),
                    reply(channel(Gate::Help)),
                ],
            ),
            (
                Place::AutoReplyChannel,
                [reply(channel(Gate::Topic(GIFTS))), quiet, quiet],
            ),
            (
                Place::PinnedChannel,
                [reply(channel(Gate::Topic(GIFTS))), quiet, quiet],
            ),
        ];
        for (place, expected) in rows {
            for (outcome, want) in [Topic(GIFTS), Unsure, Nothing].into_iter().zip(expected) {
                assert_eq!(
                    decide(message(place, outcome)),
                    want,
                    "{place:?} {outcome:?}"
                );
            }
        }
    }

    #[test]
    fn a_pinned_channel_favours_its_topic_over_unsure_only() {
        let mut facts = message(Place::PinnedChannel, Outcome::Unsure);
        facts.pinned_candidate = Some(LETTERS);
        assert_eq!(
            decide(facts),
            Decision::Reply {
                answer: Answer::PinnedTopic(LETTERS),
                limit: channel(Gate::Topic(LETTERS)),
                alert: None
            }
        );
        facts.outcome = Outcome::Topic(GIFTS);
        assert_eq!(decide(facts), reply(channel(Gate::Topic(GIFTS))));
        facts.place = Place::AutoReplyChannel;
        facts.outcome = Outcome::Unsure;
        assert_eq!(decide(facts), Decision::Quiet(Quiet::NotConfident));
    }

    #[test]
    fn opt_outs_and_settings_silence_unprompted_replies_only() {
        for place in [
            Place::Direct,
            Place::Mention,
            Place::AutoReplyChannel,
            Place::PinnedChannel,
        ] {
            let mut facts = message(place, Outcome::Topic(GIFTS));
            facts.opted_out = true;
            let out = decide(facts);
            facts.opted_out = false;
            facts.server.auto_replies_off = true;
            let off = decide(facts);
            if place.unprompted() {
                assert_eq!(out, Decision::Quiet(Quiet::OptedOut));
                assert_eq!(off, Decision::Quiet(Quiet::AutoRepliesOff));
            } else {
                assert!(matches!(out, Decision::Reply { .. }), "{place:?}");
                assert!(matches!(off, Decision::Reply { .. }), "{place:?}");
            }
        }
        let mut facts = message(Place::Mention, Outcome::Topic(GIFTS));
        facts.server.topic_cooldown = Some(Duration::from_secs(60));
        assert_eq!(
            decide(facts),
            reply(Limit::Channel {
                gate: Gate::Topic(GIFTS),
                topic_cooldown: Some(Duration::from_secs(60))
            })
        );
    }

    /// Crisis beats every topic, every setting and every opt-out; the watch
    /// tier follows the crisis table.
    #[test]
    fn crisis_tiers_follow_the_crisis_table_whatever_else_holds() {
        for place in [
            Place::Direct,
            Place::Mention,
            Place::AutoReplyChannel,
            Place::PinnedChannel,
        ] {
            for outcome in [Outcome::Crisis, Outcome::Topic(GIFTS), Outcome::Nothing] {
                let mut facts = message(place, outcome);
                facts.tier = CrisisTier::Crisis;
                facts.opted_out = true;
                facts.server.auto_replies_off = true;
                let alert = (place != Place::Direct).then_some(AlertLevel::Crisis);
                assert_eq!(
                    decide(facts),
                    Decision::Reply {
                        answer: Answer::Composed,
                        limit: Limit::Crisis,
                        alert
                    },
                    "{place:?} {outcome:?}"
                );
                facts.tier = CrisisTier::Possible;
                let possible = decide(facts);
                if place.unprompted() {
                    assert_eq!(possible, Decision::AlertOnly(AlertLevel::Possible));
                    facts.server.watch = WatchAction::Off;
                    assert_eq!(decide(facts), Decision::Quiet(Quiet::WatchOff));
                } else {
                    assert!(matches!(
                        possible,
                        Decision::Reply {
                            limit: Limit::Crisis,
                            ..
                        }
                    ));
                }
            }
        }
    }

    #[test]
    fn only_unprompted_topic_replies_are_sheddable() {
        let topic = Limit::Channel {
            gate: Gate::Topic("gifts"),
            topic_cooldown: None,
        };
        let help = Limit::Channel {
            gate: Gate::Help,
            topic_cooldown: None,
        };
        for place in [Place::AutoReplyChannel, Place::PinnedChannel] {
            assert!(sheddable(place, topic), "{place:?}");
            assert!(!sheddable(place, Limit::Crisis), "crisis in {place:?}");
            assert!(!sheddable(place, help));
        }
        for place in [
            Place::Direct,
            Place::Mention,
            Place::Ask { public: true },
            Place::ContextMenu,
        ] {
            assert!(!sheddable(place, topic), "{place:?} was asked");
            assert!(!sheddable(place, Limit::Direct(Gate::Topic("gifts"))));
        }
    }
}
