//! The end-to-end suites: the real bot (in-process, or the `boundary-bot`
//! binary as a child process) against the fake Discord on 127.0.0.1.
//!
//! They are one test binary, one module per suite, so that the fake
//! (`fake_discord`) and the bot harness (`e2e_support`) compile once rather
//! than once per suite. Run one suite with e.g. `cargo test --test e2e store::`.
//!
//! `tests/e2e_logs.rs` stays a binary of its own: it installs the global
//! tracing subscriber (at trace level, capturing everything logged in the
//! process), which must not see, or be fought over by, the other suites.
//! It and the benchmarks `benches/e2e_latency.rs` and `benches/load.rs`
//! include the helpers below with `#[path]`.
//!
//! The suites share the process, so none may change process-global state:
//! no test sets environment variables or the current directory (children
//! get theirs through `Command`), every fake binds its own port on
//! 127.0.0.1:0 and every bot gets its own temp dir. Two things are global
//! and harmless: `fake_discord::init_tracing` installs a subscriber only
//! when `RUST_LOG` is set, with `try_init` (the first one wins), and
//! `faults::disallowed_intents_end_run_with_an_actionable_error` runs
//! `discord::run` in-process, which installs tokio's SIGINT, SIGTERM and
//! SIGHUP handlers for the rest of the run. No test signals its own
//! process (only children, which start with default dispositions), but
//! once that test has run, Ctrl-C no longer stops this binary at once.

#[path = "../copy_tree/mod.rs"]
mod copy_tree;
mod e2e_support;
mod fake_discord;

mod cli;
mod discord;
mod faults;
mod harness;
mod latency;
mod metrics;
mod postgres;
mod restart;
mod scale;
mod shards;
mod store;
