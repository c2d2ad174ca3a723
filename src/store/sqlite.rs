//! [`Store`] on an embedded SQLite file (rusqlite with the bundled library,
//! so `cargo build` needs nothing installed).
//!
//! At start-up [`SqliteStore::open`] checks the file (an unwritable path or
//! a file that is not a healthy database is a clear error, and nothing is
//! written to it), turns on WAL mode and a busy timeout, and runs the
//! migrations in [`MIGRATIONS`] that are newer than the file's
//! `PRAGMA user_version`, each in its own transaction.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};

use super::{
    day, Count, GuildSettings, Pin, PolicySnapshot, ServerSettings, Store, StoreError,
    StoreErrorKind, StoreResult, TopicStats, WatchAction, PIN_COLUMNS, SETTINGS_COLUMNS,
};

/// Schema versions, in order; `user_version` is the number applied.
/// Never edit a released step: add a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: pins, settings, opt-outs, feedback counts.
    "CREATE TABLE pins (
         channel_id INTEGER PRIMARY KEY,
         guild_id   INTEGER NOT NULL,
         topic      TEXT    NOT NULL,
         message_id INTEGER NOT NULL,
         pinned_by  INTEGER NOT NULL,
         pinned_at  INTEGER NOT NULL
     );
     CREATE INDEX pins_by_guild ON pins (guild_id);
     CREATE TABLE guild_settings (
         guild_id               INTEGER PRIMARY KEY,
         auto_reply             INTEGER,
         topic_cooldown_minutes INTEGER
     );
     CREATE TABLE opt_outs (
         user_id INTEGER PRIMARY KEY
     );
     CREATE TABLE feedback_counts (
         guild_id     INTEGER NOT NULL,
         topic        TEXT    NOT NULL,
         day          INTEGER NOT NULL,
         replies      INTEGER NOT NULL DEFAULT 0,
         did_you_mean INTEGER NOT NULL DEFAULT 0,
         helpful      INTEGER NOT NULL DEFAULT 0,
         not_helpful  INTEGER NOT NULL DEFAULT 0,
         PRIMARY KEY (guild_id, topic, day)
     );",
    // 2: the crisis-line region and the watch tier's action, per server.
    "ALTER TABLE guild_settings ADD COLUMN region TEXT;
     ALTER TABLE guild_settings ADD COLUMN watch TEXT;",
];

/// How long a call keeps retrying while another connection holds the
/// database's lock (SQLite's busy handler retries with sleeps of 1 to
/// 100 ms) before it fails with [`StoreErrorKind::Busy`]. Brief on purpose: a
/// member pressing a button must get an answer within Discord's 3 s.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(1);

/// The SQLite store. One connection behind a mutex: every call is short.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

/// A failed call: [`StoreErrorKind::Busy`] when the lock stayed taken after
/// the retries, else [`StoreErrorKind::Failed`]. Either way the transaction was
/// rolled back (a dropped `Transaction` rolls back), so nothing changed.
fn failed(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked};
    match e.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked) => StoreError::busy(BUSY_TIMEOUT, e),
        _ => StoreError::failed(e),
    }
}

/// Discord ids are below 2^63; they are stored bit for bit as INTEGER.
fn id(v: u64) -> i64 {
    v as i64
}

fn unid(v: i64) -> u64 {
    v as u64
}

impl SqliteStore {
    /// Opens (creating if absent) the database at `path` and migrates it.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let open_error = |problem: String, fix: &str| open_error(path, problem, fix);
        check_path(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| {
            open_error(
                e.to_string(),
                "check that the bot's user may create and write this file",
            )
        })?;
        let unwritable = |e: String| {
            open_error(
                e,
                "check that the bot's user may write this file and its folder",
            )
        };
        if conn.is_readonly("main").unwrap_or(true) {
            return Err(unwritable("the file is read-only".into()));
        }
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| unwritable(e.to_string()))?;
        let version = check_health(path, &conn)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| unwritable(e.to_string()))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(unwritable(format!("cannot use WAL mode (got {mode})")));
        }
        let store = Self {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        };
        store.migrate(version).map_err(|e| match failed(e) {
            busy if busy.kind() == StoreErrorKind::Busy => open_error(
                "another process holds its lock".into(),
                "stop the other boundary-bot (or tool) using this file, or give this one its own \
                 [storage] path",
            ),
            other => unwritable(other.to_string()),
        })?;
        Ok(store)
    }

    /// Applies the migrations after `from`, each with its version bump in
    /// one transaction. Also proves the file is writable.
    fn migrate(&self, from: i64) -> rusqlite::Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.commit()?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> StoreResult<i64> {
        self.lock()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(failed)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>) -> StoreResult<T> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(failed)?;
        let value = f(&tx).map_err(failed)?;
        tx.commit().map_err(failed)?;
        Ok(value)
    }
}

fn open_error(path: &Path, problem: String, fix: &str) -> StoreError {
    StoreError::open(path, problem, fix)
}

/// The path names a file in a folder that exists.
fn check_path(path: &Path) -> StoreResult<()> {
    if path.is_dir() {
        return Err(open_error(
            path,
            "it is a directory".into(),
            "name a file, such as boundary-bot.sqlite3, under [storage] path",
        ));
    }
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) if !parent.is_dir() => Err(open_error(
            path,
            format!("the folder {} does not exist", parent.display()),
            "create the folder, or point [storage] path at a writable place",
        )),
        _ => Ok(()),
    }
}

/// Reads only: a garbage, damaged or too new file fails here, before any
/// write. Returns its schema version.
fn check_health(path: &Path, conn: &Connection) -> StoreResult<i64> {
    let not_a_database = |e: String| {
        open_error(
            path,
            format!("the file is not a healthy SQLite database ({e})"),
            "it was left untouched: restore it from a backup, or move it away to start afresh",
        )
    };
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| not_a_database(e.to_string()))?;
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| not_a_database(e.to_string()))?;
    if check != "ok" {
        return Err(not_a_database(check));
    }
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(open_error(
            path,
            format!("its schema version {version} is newer than this bot knows ({known})"),
            "run the newer boundary-bot that wrote it, or restore a backup",
        ));
    }
    Ok(version)
}

fn settings_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<GuildSettings> {
    Ok(GuildSettings {
        auto_reply: r.get::<_, Option<bool>>(0)?,
        topic_cooldown_minutes: r.get::<_, Option<i64>>(1)?.map(|m| m as u64),
        region: r.get::<_, Option<String>>(2)?,
        // An unknown value (a newer version's) reads as unset.
        watch: r
            .get::<_, Option<String>>(3)?
            .and_then(|w| WatchAction::parse(&w)),
    })
}

fn pin_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Pin> {
    Ok(Pin {
        channel_id: unid(r.get(0)?),
        guild_id: unid(r.get(1)?),
        topic: r.get(2)?,
        message_id: unid(r.get(3)?),
        pinned_by: unid(r.get(4)?),
        pinned_at: r.get(5)?,
    })
}

fn get_pin(conn: &Connection, channel_id: u64) -> rusqlite::Result<Option<Pin>> {
    conn.query_row(
        &format!("SELECT {PIN_COLUMNS} FROM pins WHERE channel_id = ?1"),
        [id(channel_id)],
        pin_from_row,
    )
    .optional()
}

impl Store for SqliteStore {
    fn put_pin(&self, pin: &Pin) -> StoreResult<Option<Pin>> {
        self.write(|tx| {
            let old = get_pin(tx, pin.channel_id)?;
            tx.execute(
                &format!(
                    "INSERT OR REPLACE INTO pins ({PIN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                ),
                params![
                    id(pin.channel_id),
                    id(pin.guild_id),
                    pin.topic,
                    id(pin.message_id),
                    id(pin.pinned_by),
                    pin.pinned_at
                ],
            )?;
            Ok(old)
        })
    }

    fn pin(&self, channel_id: u64) -> StoreResult<Option<Pin>> {
        get_pin(&self.lock(), channel_id).map_err(failed)
    }

    fn remove_pin(&self, channel_id: u64) -> StoreResult<Option<Pin>> {
        self.write(|tx| {
            let old = get_pin(tx, channel_id)?;
            tx.execute("DELETE FROM pins WHERE channel_id = ?1", [id(channel_id)])?;
            Ok(old)
        })
    }

    fn remove_pin_of_message(&self, channel_id: u64, message_id: u64) -> StoreResult<Option<Pin>> {
        self.write(|tx| {
            let old = get_pin(tx, channel_id)?.filter(|p| p.message_id == message_id);
            if old.is_some() {
                tx.execute("DELETE FROM pins WHERE channel_id = ?1", [id(channel_id)])?;
            }
            Ok(old)
        })
    }

    fn pins(&self, guild_id: u64) -> StoreResult<Vec<Pin>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {PIN_COLUMNS} FROM pins WHERE guild_id = ?1 ORDER BY channel_id"
            ))
            .map_err(failed)?;
        let rows = stmt
            .query_map([id(guild_id)], pin_from_row)
            .map_err(failed)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(failed)
    }

    fn remove_guild(&self, guild_id: u64) -> StoreResult<usize> {
        self.write(|tx| {
            let pins = tx.execute("DELETE FROM pins WHERE guild_id = ?1", [id(guild_id)])?;
            tx.execute(
                "DELETE FROM guild_settings WHERE guild_id = ?1",
                [id(guild_id)],
            )?;
            tx.execute(
                "DELETE FROM feedback_counts WHERE guild_id = ?1",
                [id(guild_id)],
            )?;
            Ok(pins)
        })
    }

    fn settings(&self, guild_id: u64) -> StoreResult<GuildSettings> {
        self.lock()
            .query_row(
                &format!("SELECT {SETTINGS_COLUMNS} FROM guild_settings WHERE guild_id = ?1"),
                [id(guild_id)],
                settings_from_row,
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(failed)
    }

    fn snapshot(&self) -> StoreResult<PolicySnapshot> {
        let conn = self.lock();
        let all = |sql: &str| conn.prepare(sql).map_err(failed);
        let pins = all(&format!(
            "SELECT {PIN_COLUMNS} FROM pins ORDER BY channel_id"
        ))?
        .query_map([], pin_from_row)
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(failed)?;
        let settings = all(&format!(
            "SELECT {SETTINGS_COLUMNS}, guild_id FROM guild_settings ORDER BY guild_id"
        ))?
        .query_map([], |r| {
            Ok(ServerSettings {
                guild_id: unid(r.get(4)?),
                settings: settings_from_row(r)?,
            })
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(failed)?;
        let opted_out = all("SELECT user_id FROM opt_outs ORDER BY user_id")?
            .query_map([], |r| r.get::<_, i64>(0).map(unid))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(failed)?;
        Ok(PolicySnapshot {
            pins,
            settings,
            opted_out,
        })
    }

    fn put_settings(&self, guild_id: u64, settings: &GuildSettings) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO guild_settings
                     (guild_id, auto_reply, topic_cooldown_minutes, region, watch)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    id(guild_id),
                    settings.auto_reply,
                    settings.topic_cooldown_minutes.map(|m| m as i64),
                    settings.region,
                    settings.watch.map(WatchAction::as_str)
                ],
            )?;
            Ok(())
        })
    }

    fn opted_out(&self, user_id: u64) -> StoreResult<bool> {
        self.lock()
            .query_row(
                "SELECT 1 FROM opt_outs WHERE user_id = ?1",
                [id(user_id)],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(failed)
    }

    fn set_opted_out(&self, user_id: u64, out: bool) -> StoreResult<bool> {
        self.write(|tx| {
            let changed = if out {
                tx.execute(
                    "INSERT OR IGNORE INTO opt_outs (user_id) VALUES (?1)",
                    [id(user_id)],
                )?
            } else {
                tx.execute("DELETE FROM opt_outs WHERE user_id = ?1", [id(user_id)])?
            };
            Ok(changed > 0)
        })
    }

    fn count(&self, guild_id: u64, topic: &str, what: Count, at: i64) -> StoreResult<()> {
        let column = what.column();
        self.write(|tx| {
            tx.execute(
                &format!(
                    "INSERT INTO feedback_counts (guild_id, topic, day, {column}) VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT (guild_id, topic, day) DO UPDATE SET {column} = {column} + 1"
                ),
                params![id(guild_id), topic, day(at)],
            )?;
            Ok(())
        })
    }

    fn stats(&self, guild_id: u64, since: i64) -> StoreResult<Vec<TopicStats>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT topic, SUM(replies), SUM(did_you_mean), SUM(helpful), SUM(not_helpful)
                 FROM feedback_counts WHERE guild_id = ?1 AND day >= ?2
                 GROUP BY topic ORDER BY topic",
            )
            .map_err(failed)?;
        let rows = stmt
            .query_map(params![id(guild_id), day(since)], |r| {
                Ok(TopicStats {
                    topic: r.get(0)?,
                    replies: r.get::<_, i64>(1)? as u64,
                    did_you_mean: r.get::<_, i64>(2)? as u64,
                    helpful: r.get::<_, i64>(3)? as u64,
                    not_helpful: r.get::<_, i64>(4)? as u64,
                })
            })
            .map_err(failed)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &tempfile::TempDir) -> SqliteStore {
        SqliteStore::open(&dir.path().join("bot.sqlite3")).expect("opens")
    }

    #[test]
    fn migrates_to_the_latest_version_with_wal() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let mode: String = store
            .lock()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(store);
        // Opening again runs no migration twice.
        let store = open(&dir);
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn garbage_file_is_an_error_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bot.sqlite3");
        let garbage = b"this is not a database, it is a moderator's notes file\n".repeat(100);
        std::fs::write(&path, &garbage).unwrap();
        let err = SqliteStore::open(&path).unwrap_err().to_string();
        assert!(err.contains("not a healthy SQLite database"), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), garbage);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no -wal or -shm file was created");
    }

    #[test]
    fn unwritable_paths_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = SqliteStore::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("directory"), "{err}");
        let file = dir.path().join("plain-file");
        std::fs::write(&file, "x").unwrap();
        let err = SqliteStore::open(&file.join("bot.sqlite3"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
        assert!(err.contains("[storage] path"), "{err}");
        assert_eq!(std::fs::read(&file).unwrap(), b"x");
    }

    /// Another process holding the write lock: a write retries for
    /// [`BUSY_TIMEOUT`], then fails with `Busy`, changing nothing; once the
    /// lock is free the same write lands.
    #[test]
    fn a_locked_database_fails_politely_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        store.set_opted_out(1, true).unwrap();
        let other = Connection::open(dir.path().join("bot.sqlite3")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let err = store.set_opted_out(2, true).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Busy, "{err:?}");
        assert!(err.to_string().contains("busy"), "{err}");
        let err = store.count(7, "gifts", Count::Reply, 0).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Busy, "{err:?}");
        // Reads still work in WAL mode while another connection writes.
        assert!(store.opted_out(1).unwrap());
        other.execute_batch("ROLLBACK").unwrap();
        assert!(
            !store.opted_out(2).unwrap(),
            "the failed write left nothing"
        );
        assert!(store.stats(7, 0).unwrap().is_empty());
        assert!(store.set_opted_out(2, true).unwrap());
        let check: String = store
            .lock()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }

    /// A lock held for less than [`BUSY_TIMEOUT`] is waited out: the write
    /// started while it was held lands.
    #[test]
    fn a_brief_lock_is_retried_through() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let path = dir.path().join("bot.sqlite3");
        let (locked, is_locked) = std::sync::mpsc::channel();
        let holder = std::thread::spawn(move || {
            let other = Connection::open(path).unwrap();
            other.execute_batch("BEGIN IMMEDIATE").unwrap();
            locked.send(()).unwrap();
            std::thread::sleep(BUSY_TIMEOUT / 5);
            other.execute_batch("COMMIT").unwrap();
        });
        is_locked.recv().unwrap();
        store
            .set_opted_out(3, true)
            .expect("retried until the lock was free");
        holder.join().unwrap();
        assert!(store.opted_out(3).unwrap());
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bot.sqlite3");
        drop(open(&dir));
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = SqliteStore::open(&path).unwrap_err().to_string();
        assert!(err.contains("newer"), "{err}");
    }
}
