//! The one test suite every [`Store`] backend passes: SQLite always, and
//! PostgreSQL when `BOUNDARY_BOT_POSTGRES_URL` names a server the tests may
//! create databases on (`scripts/test-postgres.sh start DIR` runs a
//! throwaway one). Without it the PostgreSQL half is skipped and says so
//! on the terminal; with `BOUNDARY_BOT_REQUIRE_POSTGRES=1` (CI) a skip is
//! a failure. Backend-specific behaviour (SQLite's WAL, file checks and
//! locking) is tested in each backend's own file.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use super::*;

/// A fresh, empty store, and a way to open the same database again.
struct Fresh {
    store: Box<dyn Store>,
    reopen: Box<dyn Fn() -> Box<dyn Store>>,
    /// Dropped after `store`: removes the database.
    _cleanup: Box<dyn std::any::Any>,
}

fn sqlite() -> Option<Fresh> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.sqlite3");
    let open = move || Box::new(SqliteStore::open(&path).expect("opens")) as Box<dyn Store>;
    Some(Fresh {
        store: open(),
        reopen: Box::new(open),
        _cleanup: Box::new(dir),
    })
}

/// Drops its database when dropped.
pub(super) struct TestDatabase {
    admin_url: String,
    name: String,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = ::postgres::Client::connect(&self.admin_url, ::postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A new, empty database on the test server, and its URL; `None` (and a
/// line on the terminal) without a server. Also for `postgres.rs`'s tests.
pub(super) fn postgres_database() -> Option<(String, TestDatabase)> {
    let Ok(admin_url) = std::env::var("BOUNDARY_BOT_POSTGRES_URL") else {
        if std::env::var("BOUNDARY_BOT_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            panic!("BOUNDARY_BOT_REQUIRE_POSTGRES=1 but BOUNDARY_BOT_POSTGRES_URL is not set");
        }
        static SAID: Once = Once::new();
        SAID.call_once(|| {
            // Straight to the terminal: the test harness captures println!.
            let _ = writeln!(
                std::io::stderr(),
                "\nSKIPPED: the PostgreSQL store tests (set BOUNDARY_BOT_POSTGRES_URL; \
                 scripts/test-postgres.sh starts a throwaway server)"
            );
        });
        return None;
    };
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let name = format!("bb_suite_{}_{n}", std::process::id());
    let mut admin =
        ::postgres::Client::connect(&admin_url, ::postgres::NoTls).expect("admin connection");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create the test database");
    let url = database_url(&admin_url, &name);
    Some((url, TestDatabase { admin_url, name }))
}

fn postgres() -> Option<Fresh> {
    let (url, database) = postgres_database()?;
    let open = move || Box::new(PostgresStore::open(&url).expect("opens")) as Box<dyn Store>;
    Some(Fresh {
        store: open(),
        reopen: Box::new(open),
        _cleanup: Box::new(database),
    })
}

/// `url` with its database name replaced by `name`.
fn database_url(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let server = base.rsplit_once('/').map_or(base, |(s, _)| s);
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

fn pin(channel: u64, topic: &str, message: u64) -> Pin {
    Pin {
        guild_id: 7,
        channel_id: channel,
        topic: topic.into(),
        message_id: message,
        pinned_by: 9,
        pinned_at: 1_700_000_000,
    }
}

fn pins_replace_and_survive_reopening(db: Fresh) {
    let store = db.store;
    assert_eq!(store.put_pin(&pin(1, "gifts", 100)).unwrap(), None);
    let old = store.put_pin(&pin(1, "letters", 101)).unwrap();
    assert_eq!(old, Some(pin(1, "gifts", 100)));
    store.put_pin(&pin(2, "gifts", 102)).unwrap();
    drop(store);
    let store = (db.reopen)();
    assert_eq!(store.pin(1).unwrap(), Some(pin(1, "letters", 101)));
    assert_eq!(store.pins(7).unwrap().len(), 2);
    assert_eq!(store.remove_pin_of_message(1, 100).unwrap(), None);
    assert!(store.pin(1).unwrap().is_some(), "another message: kept");
    assert!(store.remove_pin_of_message(1, 101).unwrap().is_some());
    assert_eq!(store.pin(1).unwrap(), None);
    assert_eq!(store.remove_pin(2).unwrap(), Some(pin(2, "gifts", 102)));
    assert_eq!(store.remove_pin(2).unwrap(), None);
    assert!(store.pins(7).unwrap().is_empty());
}

fn settings_opt_outs_and_counts(db: Fresh) {
    let store = db.store;
    assert_eq!(store.settings(7).unwrap(), GuildSettings::default());
    let s = GuildSettings {
        auto_reply: Some(false),
        topic_cooldown_minutes: Some(10),
        region: Some("UK".into()),
        watch: Some(WatchAction::Off),
    };
    store.put_settings(7, &s).unwrap();
    assert_eq!(store.settings(7).unwrap(), s);
    assert!(store.set_opted_out(42, true).unwrap());
    assert!(!store.set_opted_out(42, true).unwrap(), "already out");
    let now = 1_700_000_000;
    for what in [
        Count::Reply,
        Count::Reply,
        Count::DidYouMean,
        Count::Helpful,
    ] {
        store.count(7, "gifts", what, now).unwrap();
    }
    store
        .count(7, "gifts", Count::NotHelpful, now - 20 * 86_400)
        .unwrap();
    store.count(8, "gifts", Count::Helpful, now).unwrap();
    drop(store);
    let store = (db.reopen)();
    assert_eq!(store.settings(7).unwrap(), s);
    assert!(store.opted_out(42).unwrap());
    assert!(!store.opted_out(43).unwrap());
    let week = store.stats(7, now - 7 * 86_400).unwrap();
    let expected = TopicStats {
        topic: "gifts".into(),
        replies: 2,
        did_you_mean: 1,
        helpful: 1,
        not_helpful: 0,
    };
    assert_eq!(week, vec![expected]);
    let month = store.stats(7, now - 30 * 86_400).unwrap();
    assert_eq!(month[0].not_helpful, 1);
    assert!(store.set_opted_out(42, false).unwrap());
    assert!(!store.set_opted_out(42, false).unwrap(), "already in");
    assert!(!store.opted_out(42).unwrap());
    store.put_pin(&pin(1, "gifts", 100)).unwrap();
    assert_eq!(store.remove_guild(7).unwrap(), 1);
    assert_eq!(store.settings(7).unwrap(), GuildSettings::default());
    assert!(store.stats(7, 0).unwrap().is_empty());
    assert_eq!(store.stats(8, 0).unwrap().len(), 1, "other guilds kept");
}

/// Ids above i64::MAX (Discord's snowflakes fit in 63 bits, but the store
/// must not depend on it) and an empty settings row come back as written.
fn ids_and_unset_settings_round_trip(db: Fresh) {
    let store = db.store;
    let big = Pin {
        guild_id: u64::MAX,
        channel_id: u64::MAX - 1,
        topic: "gifts".into(),
        message_id: 1 << 63,
        pinned_by: 1_200_000_000_000_000_001,
        pinned_at: -5,
    };
    store.put_pin(&big).unwrap();
    assert_eq!(store.pin(big.channel_id).unwrap(), Some(big.clone()));
    assert_eq!(store.pins(u64::MAX).unwrap(), vec![big]);
    store.put_settings(3, &GuildSettings::default()).unwrap();
    assert_eq!(store.settings(3).unwrap(), GuildSettings::default());
    assert!(store.set_opted_out(u64::MAX, true).unwrap());
    assert!(store.opted_out(u64::MAX).unwrap());
}

/// The snapshot the in-memory policy state loads holds every pin, every
/// stored server's settings and every opt-out, in order.
fn the_snapshot_holds_everything_in_order(db: Fresh) {
    let store = db.store;
    assert_eq!(store.snapshot().unwrap(), PolicySnapshot::default());
    for channel in [30, 10, 20] {
        store.put_pin(&pin(channel, "gifts", channel * 10)).unwrap();
    }
    let quiet = GuildSettings {
        auto_reply: Some(false),
        ..GuildSettings::default()
    };
    store.put_settings(9, &quiet).unwrap();
    store.put_settings(4, &GuildSettings::default()).unwrap();
    for user in [5, 3] {
        store.set_opted_out(user, true).unwrap();
    }
    let snapshot = store.snapshot().unwrap();
    let channels: Vec<u64> = snapshot.pins.iter().map(|p| p.channel_id).collect();
    assert_eq!(channels, vec![10, 20, 30]);
    let guilds: Vec<u64> = snapshot.settings.iter().map(|s| s.guild_id).collect();
    assert_eq!(guilds, vec![4, 9]);
    assert_eq!(snapshot.settings[1].settings, quiet);
    assert_eq!(snapshot.opted_out, vec![3, 5]);
}

/// Counts from many threads at once all land (two processes counting
/// feedback for one server do the same on a shared server database).
fn concurrent_counts_all_land(db: Fresh) {
    let store: std::sync::Arc<dyn Store> = db.store.into();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let store = store.clone();
            scope.spawn(move || {
                for _ in 0..25 {
                    store
                        .count(7, "gifts", Count::Helpful, 1_700_000_000)
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(store.stats(7, 0).unwrap()[0].helpful, 100);
}

macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite_backend {
            $(#[test] fn $case() { super::$case(super::sqlite().unwrap()) })*
        }
        mod postgres_backend {
            $(#[test] fn $case() {
                if let Some(db) = super::postgres() { super::$case(db) }
            })*
        }
    };
}

on_both_backends!(
    pins_replace_and_survive_reopening,
    settings_opt_outs_and_counts,
    ids_and_unset_settings_round_trip,
    the_snapshot_holds_everything_in_order,
    concurrent_counts_all_land,
);

#[test]
fn test_database_urls_keep_the_server_and_options() {
    assert_eq!(
        database_url("postgres://bot@127.0.0.1:55432/postgres", "t1"),
        "postgres://bot@127.0.0.1:55432/t1"
    );
    assert_eq!(
        database_url("postgres://u:p@h/db?sslmode=disable", "t2"),
        "postgres://u:p@h/t2?sslmode=disable"
    );
}
