//! Logging for `boundary-bot run`: `tracing` to stderr, filtered by
//! `RUST_LOG` (default `info`).
//!
//! Log lines carry ids, outcomes and topic ids, never message content and
//! never the token. The bot's own code only logs those. Libraries need a
//! guard, whatever `RUST_LOG` says:
//!
//! * serenity's `#[instrument]` spans record their arguments, which include
//!   whole gateway events (member messages) and REST requests. Spans of
//!   other crates are therefore never recorded.
//! * tungstenite logs every websocket frame at `trace` (message text, and
//!   the token inside IDENTIFY); it is capped at `debug`.
//! * serenity logs an unparsable gateway payload verbatim at `warn` and
//!   unknown events at `debug`; those modules are capped.

use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::filter::{filter_fn, EnvFilter, FilterExt};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The filter when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info";

/// `(target prefix, most verbose level allowed)`, checked after `RUST_LOG`.
const CAPS: &[(&str, Level)] = &[
    ("tungstenite", Level::DEBUG),
    ("tokio_tungstenite", Level::DEBUG),
    ("serenity::gateway::ws", Level::ERROR),
    ("serenity::client::dispatch", Level::INFO),
    ("hyper", Level::DEBUG),
    ("reqwest", Level::DEBUG),
    ("h2", Level::DEBUG),
];

/// Whether a span or event may be recorded at all (see the module docs).
pub fn privacy_allows(meta: &Metadata<'_>) -> bool {
    let target = meta.target();
    if meta.is_span() {
        return target.starts_with("boundary_bot");
    }
    for (prefix, max) in CAPS {
        if target.starts_with(prefix) {
            return meta.level() <= max;
        }
    }
    true
}

/// `RUST_LOG`, or [`DEFAULT_FILTER`] when unset or invalid.
pub fn env_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER))
}

/// The formatting layer with `filter` and the privacy guard, writing to
/// `writer`.
pub fn layer<S, W>(filter: EnvFilter, writer: W) -> impl Layer<S> + Send + Sync
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false)
        .with_target(true)
        .with_filter(filter.and(filter_fn(privacy_allows)))
}

/// Installs the global subscriber (and the `log` bridge) writing to
/// `writer`. Fails if one is already installed.
pub fn init_with<W>(filter: EnvFilter, writer: W) -> anyhow::Result<()>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::registry()
        .with(layer(filter, writer))
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}

/// What `boundary-bot run` uses: `RUST_LOG` (default `info`) to stderr.
pub fn init() -> anyhow::Result<()> {
    init_with(env_filter(), std::io::stderr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_apply_by_target_prefix() {
        use tracing::callsite::Identifier;
        use tracing::field::FieldSet;
        use tracing::metadata::Kind;
        struct Cs;
        impl tracing::callsite::Callsite for Cs {
            fn set_interest(&self, _: tracing::subscriber::Interest) {}
            fn metadata(&self) -> &Metadata<'_> {
                unreachable!("the test never asks this callsite for its metadata")
            }
        }
        static CS: Cs = Cs;
        let meta = |target: &'static str, level: Level, kind: Kind| {
            Metadata::new(
                "x",
                target,
                level,
                None,
                None,
                None,
                FieldSet::new(&[], Identifier(&CS)),
                kind,
            )
        };
        assert!(!privacy_allows(&meta(
            "tungstenite::protocol",
            Level::TRACE,
            Kind::EVENT
        )));
        assert!(privacy_allows(&meta(
            "tungstenite::protocol",
            Level::DEBUG,
            Kind::EVENT
        )));
        assert!(!privacy_allows(&meta(
            "serenity::gateway::ws",
            Level::WARN,
            Kind::EVENT
        )));
        assert!(privacy_allows(&meta(
            "serenity::gateway::shard",
            Level::TRACE,
            Kind::EVENT
        )));
        assert!(!privacy_allows(&meta(
            "serenity::gateway::shard",
            Level::INFO,
            Kind::SPAN
        )));
        assert!(privacy_allows(&meta(
            "boundary_bot::discord",
            Level::INFO,
            Kind::SPAN
        )));
    }
}
