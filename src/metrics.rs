//! [`Metrics`]: counters of what the bot does, and never of what anyone
//! wrote: events by kind, replies by place and outcome, crisis replies,
//! moderator alerts, shed work, Discord REST errors, and how long a member
//! message takes from arrival to reply. The adapter serves them as
//! Prometheus text on `[metrics] listen`.
//!
//! Every label value is one of a fixed set of names chosen in the code
//! (a place, an outcome, an event kind): none comes from a message, a
//! member or a server, so the label sets stay small and no content can
//! reach a scrape.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    /// The gateway event's kind, e.g. `message`, `interaction_create`.
    pub event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReplyLabels {
    /// Where: `dm`, `mention`, `auto-reply channel`, `pinned channel`, or a command.
    pub place: &'static str,
    /// `sent`, `suppressed` (a cooldown or rate limit), `failed` (Discord refused).
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    /// `crisis` or `possible`.
    pub level: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RestErrorLabels {
    /// `rate-limited`, `server-error`, `transport` or `other`.
    pub kind: &'static str,
}

/// The bot's counters; cheap to update from any task.
pub struct Metrics {
    registry: Registry,
    pub events: Family<EventLabels, Counter>,
    pub replies: Family<ReplyLabels, Counter>,
    pub crisis_replies: Counter,
    pub alerts: Family<AlertLabels, Counter>,
    pub shed: Counter,
    pub rest_errors: Family<RestErrorLabels, Counter>,
    /// Seconds from a member message's arrival to the bot's reply.
    pub reply_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("boundary_bot");
        let events = Family::<EventLabels, Counter>::default();
        let replies = Family::<ReplyLabels, Counter>::default();
        let crisis_replies = Counter::default();
        let alerts = Family::<AlertLabels, Counter>::default();
        let shed = Counter::default();
        let rest_errors = Family::<RestErrorLabels, Counter>::default();
        // 5 ms to about 20 s.
        let buckets = prometheus_client::metrics::histogram::exponential_buckets(0.005, 2.0, 12);
        let reply_seconds = Histogram::new(buckets);
        registry.register("events", "Gateway events received, by kind", events.clone());
        registry.register(
            "replies",
            "Replies to members, by place and outcome",
            replies.clone(),
        );
        registry.register(
            "crisis_replies",
            "Crisis replies sent",
            crisis_replies.clone(),
        );
        registry.register(
            "alerts",
            "Moderator alerts posted, by level",
            alerts.clone(),
        );
        registry.register(
            "shed",
            "Unprompted topic replies dropped under load",
            shed.clone(),
        );
        registry.register(
            "rest_errors",
            "Discord REST calls that failed, by kind",
            rest_errors.clone(),
        );
        registry.register(
            "reply_seconds",
            "Seconds from a member message's arrival to the reply",
            reply_seconds.clone(),
        );
        Self {
            registry,
            events,
            replies,
            crisis_replies,
            alerts,
            shed,
            rest_errors,
            reply_seconds,
        }
    }

    /// Counts one failed Discord REST call of `kind`.
    pub fn rest_failure(&self, kind: &'static str) {
        self.rest_errors
            .get_or_create(&RestErrorLabels { kind })
            .inc();
    }

    /// Counts one reply.
    pub fn reply(&self, place: &'static str, outcome: &'static str) {
        self.replies
            .get_or_create(&ReplyLabels { place, outcome })
            .inc();
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_with_their_labels() {
        let m = Metrics::new();
        m.events
            .get_or_create(&EventLabels { event: "message" })
            .inc();
        m.reply("dm", "sent");
        m.reply("dm", "sent");
        m.crisis_replies.inc();
        m.reply_seconds.observe(0.02);
        let text = m.render();
        assert!(
            text.contains("boundary_bot_events_total{event=\"message\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("boundary_bot_replies_total{place=\"dm\",outcome=\"sent\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("boundary_bot_crisis_replies_total 1"),
            "{text}"
        );
        assert!(
            text.contains("boundary_bot_reply_seconds_count 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
