//! [`Store`] on a PostgreSQL server, for running as several processes
//! ([`crate::config::StorageConfig::url`]). Same tables and semantics as
//! [`super::SqliteStore`]; the shared suite in `store/suite.rs` runs on both.
//!
//! At start-up [`PostgresStore::open`] connects (a clear error names the
//! server, never the password) and runs the migrations in [`MIGRATIONS`]
//! newer than the database's `boundary_bot_schema` version, each in its own
//! transaction, under an advisory lock so that processes starting together
//! migrate once. Discord ids (u64) are stored as BIGINT with the same bit
//! pattern as in SQLite.
//!
//! Every write to the policy state also sends a `NOTIFY` on
//! `boundary_bot_state` in its transaction, and [`Store::follow_changes`]
//! listens on its own connection, so each process's in-memory state
//! ([`super::CachedStore`]) follows the others'.

use std::time::Duration;

use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{NoTls, Row, Transaction};
use r2d2::{Pool, PooledConnection};
use r2d2_postgres::PostgresConnectionManager;

use super::{
    day, ChangeSink, Count, GuildSettings, Pin, PolicySnapshot, ServerSettings, StateChange, Store,
    StoreError, StoreResult, TopicStats, WatchAction, PIN_COLUMNS, SETTINGS_COLUMNS,
};

/// Schema versions, in order; `boundary_bot_schema.version` is the number
/// applied. Never edit a released step: add a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: pins, settings, opt-outs, feedback counts (SQLite's versions 1 and 2).
    "CREATE TABLE pins (
         channel_id BIGINT PRIMARY KEY,
         guild_id   BIGINT NOT NULL,
         topic      TEXT   NOT NULL,
         message_id BIGINT NOT NULL,
         pinned_by  BIGINT NOT NULL,
         pinned_at  BIGINT NOT NULL
     );
     CREATE INDEX pins_by_guild ON pins (guild_id);
     CREATE TABLE guild_settings (
         guild_id               BIGINT PRIMARY KEY,
         auto_reply             BOOLEAN,
         topic_cooldown_minutes BIGINT,
         region                 TEXT,
         watch                  TEXT
     );
     CREATE TABLE opt_outs (
         user_id BIGINT PRIMARY KEY
     );
     CREATE TABLE feedback_counts (
         guild_id     BIGINT NOT NULL,
         topic        TEXT   NOT NULL,
         day          BIGINT NOT NULL,
         replies      BIGINT NOT NULL DEFAULT 0,
         did_you_mean BIGINT NOT NULL DEFAULT 0,
         helpful      BIGINT NOT NULL DEFAULT 0,
         not_helpful  BIGINT NOT NULL DEFAULT 0,
         PRIMARY KEY (guild_id, topic, day)
     );",
];

/// Connections in the pool: the adapter runs at most this many store calls
/// at once (`Data::db`), so more would sit idle.
pub const POOL_SIZE: u32 = 4;
/// How long a call waits for a row lock another process holds before it
/// fails as busy; brief, as for SQLite (a button press must be answered
/// within Discord's 3 s).
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a call waits for a free connection (or to reconnect).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The advisory lock key that serialises migrations across processes.
const MIGRATION_LOCK: i64 = 0x626f_756e_6462_6f74; // "boundbot"

type Manager = PostgresConnectionManager<NoTls>;

/// The PostgreSQL store: a small pool of connections.
pub struct PostgresStore {
    /// Always `Some` until dropped (see the `Drop` impl).
    pool: Option<Pool<Manager>>,
    /// For the change feed's own connection.
    config: postgres::Config,
    /// user@host:port/dbname, for messages (never the password).
    server: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("server", &self.server)
            .finish()
    }
}

fn failed(e: postgres::Error) -> StoreError {
    match e.code() {
        Some(&SqlState::LOCK_NOT_AVAILABLE) => StoreError::busy(LOCK_TIMEOUT, e),
        _ => StoreError::failed(e),
    }
}

fn id(v: u64) -> i64 {
    v as i64
}

fn unid(v: i64) -> u64 {
    v as u64
}

/// user@host:port/dbname of a connection URL, without its password.
fn describe(config: &postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or("?"),
        config.get_dbname().unwrap_or("?")
    )
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/dbname`)
    /// and migrates the database to the latest version.
    pub fn open(url: &str) -> StoreResult<Self> {
        let mut config: postgres::Config = url.parse().map_err(|e| {
            StoreError::open_server(
                "the [storage] url",
                format!("it is not a PostgreSQL URL ({e})"),
                "write it as postgres://user:password@host:5432/dbname",
            )
        })?;
        config.connect_timeout(CONNECT_TIMEOUT);
        let lock_timeout = format!("-c lock_timeout={}ms", LOCK_TIMEOUT.as_millis());
        config.options(&lock_timeout);
        let server = describe(&config);
        let pool = Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(CONNECT_TIMEOUT)
            .build(PostgresConnectionManager::new(config.clone(), NoTls))
            .map_err(|e| {
                StoreError::open_server(
                    &server,
                    format!("cannot connect ({e})"),
                    "check that the server runs, that [storage] url names it, and that the user \
                     may log in",
                )
            })?;
        let store = Self {
            pool: Some(pool),
            config,
            server,
        };
        store.migrate()?;
        Ok(store)
    }

    /// The server and database, without the password.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> StoreResult<i64> {
        let mut conn = self.conn()?;
        let row = conn
            .query_one("SELECT version FROM boundary_bot_schema", &[])
            .map_err(failed)?;
        Ok(i64::from(row.get::<_, i32>(0)))
    }

    /// Applies the migrations the database lacks, each with its version
    /// bump in one transaction, under the migration lock.
    fn migrate(&self) -> StoreResult<()> {
        let open_error = |e: postgres::Error| {
            StoreError::open_server(
                &self.server,
                format!("cannot migrate the schema ({e})"),
                "check that the user may create tables in this database",
            )
        };
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(open_error)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(open_error)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS boundary_bot_schema (version INTEGER NOT NULL);
             INSERT INTO boundary_bot_schema (version)
                 SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM boundary_bot_schema);",
        )
        .map_err(open_error)?;
        let version: i32 = tx
            .query_one("SELECT version FROM boundary_bot_schema", &[])
            .map_err(open_error)?
            .get(0);
        if version as usize > MIGRATIONS.len() {
            return Err(StoreError::open_server(
                &self.server,
                format!(
                    "its schema version {version} is newer than this boundary-bot knows ({})",
                    MIGRATIONS.len()
                ),
                "run the newer boundary-bot, or point [storage] url at another database",
            ));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(sql).map_err(open_error)?;
            tx.execute(
                "UPDATE boundary_bot_schema SET version = $1",
                &[&((i + 1) as i32)],
            )
            .map_err(open_error)?;
        }
        tx.commit().map_err(open_error)
    }

    fn conn(&self) -> StoreResult<PooledConnection<Manager>> {
        let pool = self.pool.as_ref().expect("the pool lives until drop");
        pool.get()
            .map_err(|e| StoreError::failed(format!("no connection to {} ({e})", self.server)))
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, postgres::Error>,
    ) -> StoreResult<T> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(failed)?;
        let value = f(&mut tx).map_err(failed)?;
        tx.commit().map_err(failed)?;
        Ok(value)
    }
}

/// The `NOTIFY` channel of policy-state changes.
const CHANGES: &str = "boundary_bot_state";
/// How often the feed's thread checks that its sink still exists.
const FEED_POLL: Duration = Duration::from_secs(2);

/// Announces `change` to every process listening, when `tx` commits
/// (PostgreSQL delivers notifications on commit, and drops them on
/// rollback).
fn announce(tx: &mut Transaction<'_>, change: StateChange) -> Result<(), postgres::Error> {
    let payload = match change {
        StateChange::Pin { channel_id } => format!("pin:{channel_id}"),
        StateChange::Settings { guild_id } => format!("settings:{guild_id}"),
        StateChange::OptOut { user_id } => format!("optout:{user_id}"),
        StateChange::Guild { guild_id } => format!("guild:{guild_id}"),
        StateChange::Everything => "everything".into(),
    };
    tx.execute("SELECT pg_notify($1, $2)", &[&CHANGES, &payload])?;
    Ok(())
}

/// The change a notification's payload names; `None` for anything else.
fn parse_change(payload: &str) -> Option<StateChange> {
    let (kind, id) = payload.split_once(':').unwrap_or((payload, ""));
    let id = || id.parse::<u64>().ok();
    Some(match kind {
        "pin" => StateChange::Pin { channel_id: id()? },
        "settings" => StateChange::Settings { guild_id: id()? },
        "optout" => StateChange::OptOut { user_id: id()? },
        "guild" => StateChange::Guild { guild_id: id()? },
        "everything" => StateChange::Everything,
        _ => return None,
    })
}

/// Delivers `change`; false once the sink is gone.
fn deliver(sink: &ChangeSink, change: StateChange) -> bool {
    match sink.upgrade() {
        Some(sink) => {
            sink(change);
            true
        }
        None => false,
    }
}

/// The feed's thread: `LISTEN` on its own connection and deliver what
/// arrives; after a lost connection, reconnect and deliver `Everything`.
fn run_feed(config: postgres::Config, sink: ChangeSink, server: String) {
    loop {
        match config.connect(NoTls) {
            Ok(mut client) => match client.batch_execute(&format!("LISTEN {CHANGES}")) {
                // Anything committed before LISTEN took effect is read again.
                Ok(()) if deliver(&sink, StateChange::Everything) => {
                    if !listen(&mut client, &sink) {
                        return;
                    }
                }
                Ok(()) => return,
                Err(e) => tracing::warn!(%server, error = %e, "change feed: LISTEN failed"),
            },
            Err(e) => tracing::warn!(%server, error = %e, "change feed: cannot connect"),
        }
        if sink.strong_count() == 0 {
            return;
        }
        std::thread::sleep(CONNECT_TIMEOUT);
    }
}

/// Delivers notifications until the connection fails (true: reconnect)
/// or the sink is gone (false).
fn listen(client: &mut postgres::Client, sink: &ChangeSink) -> bool {
    loop {
        let next = client.notifications().timeout_iter(FEED_POLL).next();
        match next {
            Ok(Some(note)) => {
                if let Some(change) = parse_change(note.payload()) {
                    if !deliver(sink, change) {
                        return false;
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "change feed: connection lost; reconnecting");
                return true;
            }
            Ok(None) if sink.strong_count() == 0 => return false,
            Ok(None) if client.is_closed() => return true,
            Ok(None) => {}
        }
    }
}

impl Drop for PostgresStore {
    /// Closes the connections on a thread of its own: the blocking driver
    /// runs a small runtime to close them, which panics on a tokio worker
    /// (where the bot drops its store when it stops).
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

fn pin_from_row(r: &Row) -> Pin {
    Pin {
        channel_id: unid(r.get(0)),
        guild_id: unid(r.get(1)),
        topic: r.get(2),
        message_id: unid(r.get(3)),
        pinned_by: unid(r.get(4)),
        pinned_at: r.get(5),
    }
}

fn settings_from_row(r: &Row) -> GuildSettings {
    GuildSettings {
        auto_reply: r.get(0),
        topic_cooldown_minutes: r.get::<_, Option<i64>>(1).map(|m| m as u64),
        region: r.get(2),
        // An unknown value (a newer version's) reads as unset.
        watch: r
            .get::<_, Option<String>>(3)
            .and_then(|w| WatchAction::parse(&w)),
    }
}

/// The pin of `channel_id`, locked for the rest of the transaction.
fn locked_pin(tx: &mut Transaction<'_>, channel_id: u64) -> Result<Option<Pin>, postgres::Error> {
    let sql = format!("SELECT {PIN_COLUMNS} FROM pins WHERE channel_id = $1 FOR UPDATE");
    Ok(tx
        .query_opt(&sql, &[&id(channel_id)])?
        .as_ref()
        .map(pin_from_row))
}

impl Store for PostgresStore {
    fn follow_changes(&self, sink: ChangeSink) -> StoreResult<bool> {
        let (config, server) = (self.config.clone(), self.server.clone());
        std::thread::Builder::new()
            .name("store-changes".into())
            .spawn(move || run_feed(config, sink, server))
            .map_err(StoreError::failed)?;
        Ok(true)
    }

    fn put_pin(&self, pin: &Pin) -> StoreResult<Option<Pin>> {
        self.write(|tx| {
            let old = locked_pin(tx, pin.channel_id)?;
            tx.execute(
                &format!(
                    "INSERT INTO pins ({PIN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (channel_id) DO UPDATE SET guild_id = $2, topic = $3,
                         message_id = $4, pinned_by = $5, pinned_at = $6"
                ),
                &[
                    &id(pin.channel_id),
                    &id(pin.guild_id),
                    &pin.topic,
                    &id(pin.message_id),
                    &id(pin.pinned_by),
                    &pin.pinned_at,
                ],
            )?;
            announce(
                tx,
                StateChange::Pin {
                    channel_id: pin.channel_id,
                },
            )?;
            Ok(old)
        })
    }

    fn pin(&self, channel_id: u64) -> StoreResult<Option<Pin>> {
        let sql = format!("SELECT {PIN_COLUMNS} FROM pins WHERE channel_id = $1");
        let row = self
            .conn()?
            .query_opt(&sql, &[&id(channel_id)])
            .map_err(failed)?;
        Ok(row.as_ref().map(pin_from_row))
    }

    fn remove_pin(&self, channel_id: u64) -> StoreResult<Option<Pin>> {
        self.write(|tx| {
            let old = locked_pin(tx, channel_id)?;
            tx.execute("DELETE FROM pins WHERE channel_id = $1", &[&id(channel_id)])?;
            announce(tx, StateChange::Pin { channel_id })?;
            Ok(old)
        })
    }

    fn remove_pin_of_message(&self, channel_id: u64, message_id: u64) -> StoreResult<Option<Pin>> {
        self.write(|tx| {
            let old = locked_pin(tx, channel_id)?.filter(|p| p.message_id == message_id);
            if old.is_some() {
                tx.execute("DELETE FROM pins WHERE channel_id = $1", &[&id(channel_id)])?;
                announce(tx, StateChange::Pin { channel_id })?;
            }
            Ok(old)
        })
    }

    fn pins(&self, guild_id: u64) -> StoreResult<Vec<Pin>> {
        let sql = format!("SELECT {PIN_COLUMNS} FROM pins WHERE guild_id = $1 ORDER BY channel_id");
        let rows = self.conn()?.query(&sql, &[&id(guild_id)]).map_err(failed)?;
        Ok(rows.iter().map(pin_from_row).collect())
    }

    fn remove_guild(&self, guild_id: u64) -> StoreResult<usize> {
        self.write(|tx| {
            let g = id(guild_id);
            let pins = tx.execute("DELETE FROM pins WHERE guild_id = $1", &[&g])?;
            tx.execute("DELETE FROM guild_settings WHERE guild_id = $1", &[&g])?;
            tx.execute("DELETE FROM feedback_counts WHERE guild_id = $1", &[&g])?;
            announce(tx, StateChange::Guild { guild_id })?;
            Ok(pins as usize)
        })
    }

    fn settings(&self, guild_id: u64) -> StoreResult<GuildSettings> {
        let sql = format!("SELECT {SETTINGS_COLUMNS} FROM guild_settings WHERE guild_id = $1");
        let row = self
            .conn()?
            .query_opt(&sql, &[&id(guild_id)])
            .map_err(failed)?;
        Ok(row.as_ref().map(settings_from_row).unwrap_or_default())
    }

    fn snapshot(&self) -> StoreResult<PolicySnapshot> {
        let mut conn = self.conn()?;
        // One transaction, so the three reads see the same moment.
        let mut tx = conn.transaction().map_err(failed)?;
        let pins = tx
            .query(
                &format!("SELECT {PIN_COLUMNS} FROM pins ORDER BY channel_id"),
                &[],
            )
            .map_err(failed)?;
        let settings = tx
            .query(
                &format!(
                    "SELECT {SETTINGS_COLUMNS}, guild_id FROM guild_settings ORDER BY guild_id"
                ),
                &[],
            )
            .map_err(failed)?;
        let opted_out = tx
            .query("SELECT user_id FROM opt_outs ORDER BY user_id", &[])
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
        Ok(PolicySnapshot {
            pins: pins.iter().map(pin_from_row).collect(),
            settings: settings
                .iter()
                .map(|r| ServerSettings {
                    guild_id: unid(r.get(4)),
                    settings: settings_from_row(r),
                })
                .collect(),
            opted_out: opted_out.iter().map(|r| unid(r.get(0))).collect(),
        })
    }

    fn put_settings(&self, guild_id: u64, settings: &GuildSettings) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO guild_settings
                     (guild_id, auto_reply, topic_cooldown_minutes, region, watch)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (guild_id) DO UPDATE SET auto_reply = $2,
                     topic_cooldown_minutes = $3, region = $4, watch = $5",
                &[
                    &id(guild_id),
                    &settings.auto_reply,
                    &settings.topic_cooldown_minutes.map(|m| m as i64),
                    &settings.region,
                    &settings.watch.map(WatchAction::as_str),
                ],
            )?;
            announce(tx, StateChange::Settings { guild_id })?;
            Ok(())
        })
    }

    fn opted_out(&self, user_id: u64) -> StoreResult<bool> {
        let row = self
            .conn()?
            .query_opt("SELECT 1 FROM opt_outs WHERE user_id = $1", &[&id(user_id)])
            .map_err(failed)?;
        Ok(row.is_some())
    }

    fn set_opted_out(&self, user_id: u64, out: bool) -> StoreResult<bool> {
        self.write(|tx| {
            let changed = if out {
                tx.execute(
                    "INSERT INTO opt_outs (user_id) VALUES ($1) ON CONFLICT DO NOTHING",
                    &[&id(user_id)],
                )?
            } else {
                tx.execute("DELETE FROM opt_outs WHERE user_id = $1", &[&id(user_id)])?
            };
            if changed > 0 {
                announce(tx, StateChange::OptOut { user_id })?;
            }
            Ok(changed > 0)
        })
    }

    fn count(&self, guild_id: u64, topic: &str, what: Count, at: i64) -> StoreResult<()> {
        let column = what.column();
        self.write(|tx| {
            tx.execute(
                &format!(
                    "INSERT INTO feedback_counts (guild_id, topic, day, {column}) VALUES ($1, $2, $3, 1)
                     ON CONFLICT (guild_id, topic, day)
                     DO UPDATE SET {column} = feedback_counts.{column} + 1"
                ),
                &[&id(guild_id), &topic, &day(at)],
            )?;
            Ok(())
        })
    }

    fn stats(&self, guild_id: u64, since: i64) -> StoreResult<Vec<TopicStats>> {
        let rows = self
            .conn()?
            .query(
                "SELECT topic, SUM(replies)::BIGINT, SUM(did_you_mean)::BIGINT,
                        SUM(helpful)::BIGINT, SUM(not_helpful)::BIGINT
                 FROM feedback_counts WHERE guild_id = $1 AND day >= $2
                 GROUP BY topic ORDER BY topic",
                &[&id(guild_id), &day(since)],
            )
            .map_err(failed)?;
        Ok(rows
            .iter()
            .map(|r| TopicStats {
                topic: r.get(0),
                replies: r.get::<_, i64>(1) as u64,
                did_you_mean: r.get::<_, i64>(2) as u64,
                helpful: r.get::<_, i64>(3) as u64,
                not_helpful: r.get::<_, i64>(4) as u64,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite::postgres_database;
    use crate::store::StoreErrorKind;

    #[test]
    fn migrates_once_and_refuses_a_newer_schema() {
        let Some((url, _database)) = postgres_database() else {
            return;
        };
        let store = PostgresStore::open(&url).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        store
            .put_pin(&crate::store::Pin {
                guild_id: 1,
                channel_id: 2,
                topic: "gifts".into(),
                message_id: 3,
                pinned_by: 4,
                pinned_at: 5,
            })
            .unwrap();
        drop(store);
        // Opening again migrates nothing and keeps the data.
        let store = PostgresStore::open(&url).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert!(store.pin(2).unwrap().is_some());
        store
            .conn()
            .unwrap()
            .execute("UPDATE boundary_bot_schema SET version = 99", &[])
            .unwrap();
        drop(store);
        let err = PostgresStore::open(&url).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Open);
        let text = err.to_string();
        assert!(text.contains("schema version 99 is newer"), "{text}");
        assert!(text.contains("[storage] url"), "{text}");
    }

    #[test]
    fn bad_urls_and_unreachable_servers_are_clear_errors_without_the_password() {
        let err = PostgresStore::open("postgres://bot:hunter2@127.0.0.1:1/db").unwrap_err();
        let text = err.to_string();
        assert_eq!(err.kind(), StoreErrorKind::Open);
        assert!(text.contains("bot@127.0.0.1:1/db"), "{text}");
        assert!(text.contains("check that the server runs"), "{text}");
        assert!(!text.contains("hunter2"), "no password: {text}");
        let err = PostgresStore::open("postgres://bot@127.0.0.1:notaport/db").unwrap_err();
        assert!(err.to_string().contains("not a PostgreSQL URL"), "{err}");
    }
}
