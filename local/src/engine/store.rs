//! The engine's `SQLite` store: one file, one connection kept open, write-ahead log with `synchronous=NORMAL` (a
//! committed transaction survives any process being killed; power loss may take the last few). Every engine
//! command is one transaction; nothing is acknowledged before it commits.
//!
//! Rows hold JSON bodies of the API shapes ([`Operation`], [`Event`]) beside the few columns the engine queries by,
//! so a schema change rarely needs a migration; [`SCHEMA_VERSION`] says which layout a file has.
//!
//! A command reads what its decision needs ([`load`]) and writes what the decision changed ([`apply`]); every
//! statement the engine runs is in this module.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::model::{Event, ExecutionStatus, Operation};
use super::state::{Change, Completion, ExecutionRecord, ExecutionState, OperationsNeeded, RunState, StoredOperation};
use crate::error::LocalError;

/// The layout version written into `meta`; a file with another version is refused rather than misread.
pub(super) const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
    key INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL UNIQUE,
    function_name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    function_arn TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    result TEXT,
    error TEXT,
    started_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    timeout_s INTEGER NOT NULL,
    retention_days INTEGER NOT NULL,
    run TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS executions_by_name ON executions (function_name, name);
CREATE INDEX IF NOT EXISTS executions_by_function ON executions (function_name, started_ms);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status);
CREATE TABLE IF NOT EXISTS operations (
    execution INTEGER NOT NULL,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    updated_seq INTEGER NOT NULL,
    callback_id TEXT UNIQUE,
    body TEXT NOT NULL,
    PRIMARY KEY (execution, id)
);
CREATE INDEX IF NOT EXISTS operations_by_position ON operations (execution, position);
CREATE TABLE IF NOT EXISTS events (
    execution INTEGER NOT NULL,
    event_id INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (execution, event_id)
);
CREATE TABLE IF NOT EXISTS timers (
    execution INTEGER NOT NULL,
    name TEXT NOT NULL,
    fire_ms INTEGER NOT NULL,
    PRIMARY KEY (execution, name)
);
CREATE TABLE IF NOT EXISTS inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    execution INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS async_invocations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    function_name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    payload BLOB NOT NULL,
    accepted_ms INTEGER NOT NULL
);
";

fn corrupt(what: &str, e: impl std::fmt::Display) -> LocalError {
    LocalError::Store(format!("the store holds an unreadable {what} ({e}); run `deployer down --local` to reset it"))
}

#[expect(clippy::needless_pass_by_value, reason = "used as `map_err(db)`")]
fn db(e: rusqlite::Error) -> LocalError {
    LocalError::Store(e.to_string())
}

/// Opens (creating when missing) the store at `path`, with its pragmas and schema, and checks its version.
pub(super) fn open(path: &Path) -> Result<Connection, LocalError> {
    let conn = Connection::open(path)
        .map_err(|e| LocalError::Store(format!("cannot open the execution store {}: {e}", path.display())))?;
    configure(&conn)?;
    Ok(conn)
}

/// An in-memory store, for tests of the engine.
pub(super) fn open_in_memory() -> Result<Connection, LocalError> {
    let conn = Connection::open_in_memory().map_err(db)?;
    configure(&conn)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> Result<(), LocalError> {
    conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(db)?;
    conn.pragma_update(None, "foreign_keys", "OFF").map_err(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(db)?;
    conn.execute_batch(SCHEMA).map_err(db)?;
    let version: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
        .optional()
        .map_err(db)?;
    match version {
        None => {
            conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?1)", params![SCHEMA_VERSION])
                .map_err(db)?;
        }
        Some(v) if v == SCHEMA_VERSION.to_string() => {}
        Some(v) => {
            return Err(LocalError::Store(format!(
                "the execution store has schema version {v}, this deployer reads version {SCHEMA_VERSION}; run \
                 `deployer down --local` to reset the local target (it deletes the stored executions)"
            )));
        }
    }
    Ok(())
}

const EXECUTION_COLUMNS: &str = "key, arn, function_name, qualifier, function_arn, name, status, input, input_hash, \
                                 result, error, started_ms, ended_ms, timeout_s, retention_days, run";

fn execution_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(ExecutionRecord, String, Option<String>, String)> {
    let status: String = row.get(6)?;
    let error: Option<String> = row.get(10)?;
    let run: String = row.get(15)?;
    Ok((
        ExecutionRecord {
            key: row.get(0)?,
            arn: row.get(1)?,
            function_name: row.get(2)?,
            qualifier: row.get(3)?,
            function_arn: row.get(4)?,
            name: row.get(5)?,
            status: ExecutionStatus::Running,
            input: row.get(7)?,
            input_hash: row.get(8)?,
            result: row.get(9)?,
            error: None,
            started_ms: row.get(11)?,
            ended_ms: row.get(12)?,
            timeout_s: row.get(13)?,
            retention_days: row.get(14)?,
            run: RunState::default(),
        },
        status,
        error,
        run,
    ))
}

fn finish_execution(
    (mut record, status, error, run): (ExecutionRecord, String, Option<String>, String),
) -> Result<ExecutionRecord, LocalError> {
    record.status = ExecutionStatus::parse(&status).ok_or_else(|| corrupt("execution status", &status))?;
    record.error = error.map(|e| serde_json::from_str(&e)).transpose().map_err(|e| corrupt("execution error", e))?;
    record.run = serde_json::from_str(&run).map_err(|e| corrupt("execution state", e))?;
    Ok(record)
}

/// The execution with `arn`.
pub(super) fn execution(conn: &Connection, arn: &str) -> Result<Option<ExecutionRecord>, LocalError> {
    let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = ?1");
    conn.query_row(&sql, params![arn], execution_from_row).optional().map_err(db)?.map(finish_execution).transpose()
}

/// The execution named `name` of `function_name`.
pub(super) fn execution_by_name(
    conn: &Connection,
    function_name: &str,
    name: &str,
) -> Result<Option<ExecutionRecord>, LocalError> {
    let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE function_name = ?1 AND name = ?2");
    conn.query_row(&sql, params![function_name, name], execution_from_row)
        .optional()
        .map_err(db)?
        .map(finish_execution)
        .transpose()
}

/// Every execution with `status`, oldest first.
pub(super) fn executions_with_status(
    conn: &Connection,
    status: ExecutionStatus,
) -> Result<Vec<ExecutionRecord>, LocalError> {
    let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE status = ?1 ORDER BY key");
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt.query_map(params![status.as_str()], execution_from_row).map_err(db)?;
    rows.map(|r| r.map_err(db).and_then(finish_execution)).collect()
}

/// Filter of [`list_executions`].
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Bare function name.
    pub function_name: String,
    /// Only this qualifier.
    pub qualifier: Option<String>,
    /// Only this execution name.
    pub name: Option<String>,
    /// Only these statuses (empty: all).
    pub statuses: Vec<ExecutionStatus>,
    /// Started at or after (epoch ms).
    pub started_after: Option<i64>,
    /// Started before (epoch ms).
    pub started_before: Option<i64>,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
    /// Continue after this row key.
    pub after_key: Option<i64>,
    /// At most this many.
    pub limit: usize,
}

/// Executions of one function matching `filter`, newest first unless asked otherwise. Returns one more than
/// `limit` when there are more, so the caller knows to give a marker.
pub(super) fn list_executions(conn: &Connection, filter: &ListFilter) -> Result<Vec<ExecutionRecord>, LocalError> {
    let mut sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE function_name = ?1");
    let mut values: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(filter.function_name.clone())];
    let mut bind = |sql: &mut String, clause: &str, value: Box<dyn rusqlite::ToSql>| {
        values.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", values.len())));
    };
    if let Some(q) = &filter.qualifier {
        bind(&mut sql, " AND qualifier = ?", Box::new(q.clone()));
    }
    if let Some(n) = &filter.name {
        bind(&mut sql, " AND name = ?", Box::new(n.clone()));
    }
    if let Some(t) = filter.started_after {
        bind(&mut sql, " AND started_ms >= ?", Box::new(t));
    }
    if let Some(t) = filter.started_before {
        bind(&mut sql, " AND started_ms < ?", Box::new(t));
    }
    if let Some(k) = filter.after_key {
        let clause = if filter.oldest_first { " AND key > ?" } else { " AND key < ?" };
        bind(&mut sql, clause, Box::new(k));
    }
    if !filter.statuses.is_empty() {
        let list: Vec<String> = filter.statuses.iter().map(|s| format!("'{}'", s.as_str())).collect();
        sql.push_str(" AND status IN (");
        sql.push_str(&list.join(","));
        sql.push(')');
    }
    sql.push_str(if filter.oldest_first { " ORDER BY key ASC" } else { " ORDER BY key DESC" });
    sql.push_str(" LIMIT ");
    sql.push_str(&filter.limit.saturating_add(1).to_string());
    let mut stmt = conn.prepare(&sql).map_err(db)?;
    let params: Vec<&dyn rusqlite::ToSql> = values.iter().map(AsRef::as_ref).collect();
    let rows = stmt.query_map(params.as_slice(), execution_from_row).map_err(db)?;
    rows.map(|r| r.map_err(db).and_then(finish_execution)).collect()
}

/// Inserts a new execution; returns its key.
fn insert_execution(conn: &Connection, record: &ExecutionRecord) -> Result<i64, LocalError> {
    let run = serde_json::to_string(&record.run).map_err(|e| LocalError::Store(e.to_string()))?;
    conn.execute(
        "INSERT INTO executions (arn, function_name, qualifier, function_arn, name, status, input, input_hash, \
         result, error, started_ms, ended_ms, timeout_s, retention_days, run) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, NULL, ?9, NULL, ?10, ?11, ?12)",
        params![
            record.arn,
            record.function_name,
            record.qualifier,
            record.function_arn,
            record.name,
            record.status.as_str(),
            record.input,
            record.input_hash,
            record.started_ms,
            record.timeout_s,
            record.retention_days,
            run
        ],
    )
    .map_err(db)?;
    Ok(conn.last_insert_rowid())
}

/// Writes back the mutable columns of the execution with row key `key`.
fn update_execution(conn: &Connection, key: i64, record: &ExecutionRecord) -> Result<(), LocalError> {
    let run = serde_json::to_string(&record.run).map_err(|e| LocalError::Store(e.to_string()))?;
    let error =
        record.error.as_ref().map(serde_json::to_string).transpose().map_err(|e| LocalError::Store(e.to_string()))?;
    conn.execute(
        "UPDATE executions SET status = ?2, result = ?3, error = ?4, ended_ms = ?5, run = ?6 WHERE key = ?1",
        params![key, record.status.as_str(), record.result, error, record.ended_ms, run],
    )
    .map_err(db)?;
    Ok(())
}

/// One execution's operations in the order they were first recorded.
pub(super) fn operations(conn: &Connection, execution: i64) -> Result<Vec<Operation>, LocalError> {
    Ok(stored_operations(conn, execution)?.into_iter().map(|s| s.op).collect())
}

fn stored_operation(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, i64)> {
    Ok((row.get(0)?, row.get(1)?))
}

fn parse_operation((body, seq): (String, i64)) -> Result<StoredOperation, LocalError> {
    let op = serde_json::from_str(&body).map_err(|e| corrupt("operation", e))?;
    Ok(StoredOperation { op, seq: u64::try_from(seq).unwrap_or_default() })
}

/// Every operation of an execution, with the change counter each was last written at, in recorded order.
fn stored_operations(conn: &Connection, execution: i64) -> Result<Vec<StoredOperation>, LocalError> {
    let mut stmt = conn
        .prepare_cached("SELECT body, updated_seq FROM operations WHERE execution = ?1 ORDER BY position")
        .map_err(db)?;
    let rows = stmt.query_map(params![execution], stored_operation).map_err(db)?;
    rows.map(|r| r.map_err(db).and_then(parse_operation)).collect()
}

/// The operations with one of `ids`, and those changed after `seq`, in recorded order.
fn some_operations(
    conn: &Connection,
    execution: i64,
    ids: &[String],
    seq: Option<u64>,
) -> Result<Vec<StoredOperation>, LocalError> {
    let ids = serde_json::to_string(ids).map_err(|e| LocalError::Store(e.to_string()))?;
    // No counter value: every operation's counter is at most `i64::MAX`, so none qualifies by it.
    let seq = seq.map_or(i64::MAX, |s| i64::try_from(s).unwrap_or(i64::MAX));
    let mut stmt = conn
        .prepare_cached(
            "SELECT body, updated_seq FROM operations WHERE execution = ?1 \
             AND (updated_seq > ?2 OR id IN (SELECT value FROM json_each(?3))) ORDER BY position",
        )
        .map_err(db)?;
    let rows = stmt.query_map(params![execution, seq, ids], stored_operation).map_err(db)?;
    rows.map(|r| r.map_err(db).and_then(parse_operation)).collect()
}

/// An execution's armed timers by name.
fn timers(conn: &Connection, execution: i64) -> Result<BTreeMap<String, i64>, LocalError> {
    let mut stmt = conn.prepare_cached("SELECT name, fire_ms FROM timers WHERE execution = ?1").map_err(db)?;
    let rows = stmt.query_map(params![execution], |r| Ok((r.get(0)?, r.get(1)?))).map_err(db)?;
    rows.map(|r| r.map_err(db)).collect()
}

/// An execution's queued completions, oldest first.
fn inbox(conn: &Connection, execution: i64) -> Result<Vec<Completion>, LocalError> {
    let mut stmt = conn.prepare_cached("SELECT body FROM inbox WHERE execution = ?1 ORDER BY seq").map_err(db)?;
    let rows = stmt.query_map(params![execution], |r| r.get::<_, String>(0)).map_err(db)?;
    rows.map(|r| {
        let body = r.map_err(db)?;
        serde_json::from_str(&body).map_err(|e| corrupt("queued completion", e))
    })
    .collect()
}

/// What a command's decision needs of the execution in `record`: the operations it names, its timers and its
/// queued completions.
pub(super) fn load(
    conn: &Connection,
    record: ExecutionRecord,
    operations: &OperationsNeeded,
) -> Result<ExecutionState, LocalError> {
    let key = record.key;
    let (operations, all_operations) = match operations {
        OperationsNeeded::All => (stored_operations(conn, key)?, true),
        OperationsNeeded::Some { ids, changed_after } => (some_operations(conn, key, ids, *changed_after)?, false),
    };
    Ok(ExecutionState { record, operations, all_operations, timers: timers(conn, key)?, inbox: inbox(conn, key)? })
}

/// The execution holding callback `callback_id`, with that callback's operation.
pub(super) fn load_by_callback(conn: &Connection, callback_id: &str) -> Result<Option<ExecutionState>, LocalError> {
    let found: Option<(i64, String, i64)> = conn
        .query_row(
            "SELECT execution, body, updated_seq FROM operations WHERE callback_id = ?1",
            params![callback_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(db)?;
    let Some((key, body, seq)) = found else { return Ok(None) };
    let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE key = ?1");
    let record = conn.query_row(&sql, params![key], execution_from_row).optional().map_err(db)?;
    let Some(record) = record.map(finish_execution).transpose()? else { return Ok(None) };
    Ok(Some(ExecutionState {
        record,
        operations: vec![parse_operation((body, seq))?],
        all_operations: false,
        timers: timers(conn, key)?,
        inbox: inbox(conn, key)?,
    }))
}

/// Makes a decision's changes to the execution with row key `execution` (none for a new one: its
/// [`Change::NewExecution`] comes first); returns the execution's key.
pub(super) fn apply(conn: &Connection, execution: Option<i64>, changes: &[Change]) -> Result<Option<i64>, LocalError> {
    let mut key = execution;
    let missing = || LocalError::Store("a change to an execution that is not stored".to_owned());
    for change in changes {
        match change {
            Change::NewExecution(record) => key = Some(insert_execution(conn, record)?),
            Change::Execution(record) => update_execution(conn, key.ok_or_else(missing)?, record)?,
            Change::Operation(stored) => put_operation(conn, key.ok_or_else(missing)?, &stored.op, stored.seq)?,
            Change::Event(event) => put_event(conn, key.ok_or_else(missing)?, event)?,
            Change::ArmTimer { name, at_ms } => put_timer(conn, key.ok_or_else(missing)?, name, *at_ms)?,
            Change::DisarmTimer { name } => {
                conn.execute(
                    "DELETE FROM timers WHERE execution = ?1 AND name = ?2",
                    params![key.ok_or_else(missing)?, name],
                )
                .map_err(db)?;
            }
            Change::Queue(completion) => {
                let body = serde_json::to_string(completion).map_err(|e| LocalError::Store(e.to_string()))?;
                conn.execute(
                    "INSERT INTO inbox (execution, body) VALUES (?1, ?2)",
                    params![key.ok_or_else(missing)?, body],
                )
                .map_err(db)?;
            }
            Change::ClearInbox => {
                conn.execute("DELETE FROM inbox WHERE execution = ?1", params![key.ok_or_else(missing)?])
                    .map_err(db)?;
            }
        }
    }
    Ok(key)
}

/// Inserts or replaces an operation, stamped with `seq`.
fn put_operation(conn: &Connection, execution: i64, op: &Operation, seq: u64) -> Result<(), LocalError> {
    let body = serde_json::to_string(op).map_err(|e| LocalError::Store(e.to_string()))?;
    let callback_id = op.callback_details.as_ref().and_then(|d| d.callback_id.clone());
    let seq = i64::try_from(seq).unwrap_or(i64::MAX);
    let updated = conn
        .execute(
            "UPDATE operations SET body = ?3, updated_seq = ?4, callback_id = ?5 WHERE execution = ?1 AND id = ?2",
            params![execution, op.id, body, seq, callback_id],
        )
        .map_err(db)?;
    if updated == 0 {
        conn.execute(
            "INSERT INTO operations (execution, id, position, updated_seq, callback_id, body) VALUES (?1, ?2, \
             (SELECT COALESCE(MAX(position), 0) + 1 FROM operations WHERE execution = ?1), ?3, ?4, ?5)",
            params![execution, op.id, seq, callback_id, body],
        )
        .map_err(db)?;
    }
    Ok(())
}

/// Appends an event.
fn put_event(conn: &Connection, execution: i64, event: &Event) -> Result<(), LocalError> {
    let body = serde_json::to_string(event).map_err(|e| LocalError::Store(e.to_string()))?;
    conn.execute(
        "INSERT INTO events (execution, event_id, body) VALUES (?1, ?2, ?3)",
        params![execution, event.event_id, body],
    )
    .map_err(db)?;
    Ok(())
}

/// Events with ids in `from..=to`, in order.
pub(super) fn events(conn: &Connection, execution: i64, from: i64, to: i64) -> Result<Vec<Event>, LocalError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT body FROM events WHERE execution = ?1 AND event_id >= ?2 AND event_id <= ?3 ORDER BY event_id",
        )
        .map_err(db)?;
    let rows = stmt.query_map(params![execution, from, to], |r| r.get::<_, String>(0)).map_err(db)?;
    rows.map(|r| {
        let body = r.map_err(db)?;
        serde_json::from_str(&body).map_err(|e| corrupt("event", e))
    })
    .collect()
}

/// Arms (or re-arms) timer `name` of an execution.
fn put_timer(conn: &Connection, execution: i64, name: &str, fire_ms: i64) -> Result<(), LocalError> {
    conn.execute(
        "INSERT INTO timers (execution, name, fire_ms) VALUES (?1, ?2, ?3) \
         ON CONFLICT (execution, name) DO UPDATE SET fire_ms = excluded.fire_ms",
        params![execution, name, fire_ms],
    )
    .map_err(db)?;
    Ok(())
}

/// The armed timer that fires first: `(execution ARN, timer name, fire time)`.
pub(super) fn next_timer(conn: &Connection) -> Result<Option<(String, String, i64)>, LocalError> {
    conn.query_row(
        "SELECT e.arn, t.name, t.fire_ms FROM timers t JOIN executions e ON e.key = t.execution \
         ORDER BY t.fire_ms, e.key, t.name LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
    .map_err(db)
}

/// The armed timers of running executions around `now`: how many are due (at `now` or before), and when the
/// first one after `now` is due. Timers of ended executions stay in the table (firing them does nothing), so they
/// are left out.
pub(super) fn timers_around(conn: &Connection, now: i64) -> Result<(usize, Option<i64>), LocalError> {
    conn.query_row(
        "SELECT COUNT(*) FILTER (WHERE t.fire_ms <= ?1), MIN(t.fire_ms) FILTER (WHERE t.fire_ms > ?1) \
         FROM timers t JOIN executions e ON e.key = t.execution WHERE e.status = 'RUNNING'",
        params![now],
        |r| Ok((usize::try_from(r.get::<_, i64>(0)?).unwrap_or_default(), r.get(1)?)),
    )
    .map_err(db)
}

/// Records an accepted asynchronous invocation of a plain function; returns its sequence number.
pub(super) fn push_async(
    conn: &Connection,
    function: &str,
    qualifier: &str,
    payload: &[u8],
    now: i64,
) -> Result<i64, LocalError> {
    conn.execute(
        "INSERT INTO async_invocations (function_name, qualifier, payload, accepted_ms) VALUES (?1, ?2, ?3, ?4)",
        params![function, qualifier, payload, now],
    )
    .map_err(db)?;
    Ok(conn.last_insert_rowid())
}

/// Forgets a finished asynchronous invocation.
pub(super) fn delete_async(conn: &Connection, seq: i64) -> Result<(), LocalError> {
    conn.execute("DELETE FROM async_invocations WHERE seq = ?1", params![seq]).map_err(db)?;
    Ok(())
}

/// An accepted asynchronous invocation: `(seq, function, qualifier, payload)`.
pub type AsyncInvocation = (i64, String, String, Vec<u8>);

/// Every accepted asynchronous invocation not run to its end.
pub(super) fn pending_async(conn: &Connection) -> Result<Vec<AsyncInvocation>, LocalError> {
    let mut stmt = conn
        .prepare("SELECT seq, function_name, qualifier, payload FROM async_invocations ORDER BY seq")
        .map_err(db)?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).map_err(db)?;
    rows.map(|r| r.map_err(db)).collect()
}

/// Deletes executions that ended before `cutoff_ms(retention_days)`, with their operations, events, timers and
/// queued completions. Returns how many.
pub(super) fn purge_ended(conn: &Connection, now_ms: i64) -> Result<usize, LocalError> {
    let doomed = "SELECT key FROM executions WHERE ended_ms IS NOT NULL AND ended_ms + retention_days * 86400000 <= ?1";
    for table in ["operations", "events", "timers", "inbox"] {
        conn.execute(&format!("DELETE FROM {table} WHERE execution IN ({doomed})"), params![now_ms]).map_err(db)?;
    }
    conn.execute(
        "DELETE FROM executions WHERE ended_ms IS NOT NULL AND ended_ms + retention_days * 86400000 <= ?1",
        params![now_ms],
    )
    .map_err(db)
}

/// How many executions the store holds.
pub(super) fn count_executions(conn: &Connection) -> Result<i64, LocalError> {
    conn.query_row("SELECT COUNT(*) FROM executions", [], |r| r.get(0)).map_err(db)
}
