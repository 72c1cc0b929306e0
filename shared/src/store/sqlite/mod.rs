//! The embedded store: SQLite (bundled, so no system library is needed) in the data directory.
//!
//! It keeps the guarantees of the DynamoDB adapter with constraints and transactions: unique
//! `username_key` and `email_key` columns, `AUTOINCREMENT` ids that are never reused, and every
//! multi-row change in one `IMMEDIATE` transaction. Calls run on the blocking pool.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior, params};

mod contacts;
mod jobs;
mod liveness;
mod mfa;
mod passkeys;
mod schema;

use super::{
    AbuseKeys, CreateUserError, EmailChange, EmailChangeOutcome, NewSession, NewUser, PasswordChange,
    PasswordReset, PurgeProgress, Rotation, RotationOutcome, SessionEnd, SessionInfo, Store, StoreError,
    UserDeletion, Verification,
};
use crate::domain::{Amr, Email, PasswordHash, User, UserId, UserRecord, Username};
use crate::jobs::JobRecord;
use crate::throttle::{AttemptState, EmailThrottle, Gate, LoginBackoff, STATE_RETENTION_SECONDS, SendState};

/// The next sessions-revoked-at value: now, and always later than the last one.
const BUMP_SESSIONS_REVOKED_AT: &str =
    "sessions_revoked_at = MAX(CAST(unixepoch('subsec') * 1000 AS INTEGER), sessions_revoked_at + 1)";

const USER_COLUMNS: &str = "id, username, email, created_at, avatar, is_verified, password_hash, password_version, sessions_revoked_at, totp_on";

/// The SQLite adapter. Cloning shares the connection.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) `ucontact.db` in `data_dir` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("Failed to create the data directory {}", data_dir.display()))?;
        let path = data_dir.join("ucontact.db");
        let mut conn = Connection::open(&path)
            .with_context(|| format!("Failed to open the database {}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // WAL lets readers run beside the writer; FULL makes every commit durable on return.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut conn).context("Failed to migrate the database")?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection, on the blocking pool.
    async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut conn = conn
                .lock()
                .map_err(|_| StoreError::Unexpected(anyhow!("SQLite connection lock poisoned")))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Unexpected(anyhow!(e).context("SQLite task failed")))?
    }

    async fn user_where(
        &self,
        column: &'static str,
        value: String,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.call(move |conn| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = ?1");
            Ok(conn.query_row(&sql, [value], user_record).optional()?)
        })
        .await
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                StoreError::Unavailable(anyhow!(e).context("SQLite is busy"))
            }
            _ => StoreError::Unexpected(anyhow!(e).context("SQLite query failed")),
        }
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn conversion(index: usize, e: anyhow::Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, e.into())
}

fn parse_timestamp(index: usize, value: &str) -> rusqlite::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(value)
        .map_err(|e| conversion(index, e.into()))?
        .with_timezone(&Utc))
}

/// Writes an address's email-send state.
fn record_email_send(conn: &Connection, key: &str, state: &SendState) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO email_sends (key, day, sent, last_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key) DO UPDATE SET day = excluded.day, sent = excluded.sent, last_at = excluded.last_at",
        params![key, state.day, state.sent, state.last_at],
    )?;
    Ok(())
}

/// Inserts `session` if the user is still as `session.precondition` says (same statement).
/// `false`: they are not, and nothing was written.
fn insert_session(tx: &Connection, session: &NewSession) -> rusqlite::Result<bool> {
    // Housekeeping: this user's ended sessions can never be used again.
    tx.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND expires_at < ?2",
        params![session.user_id.get(), session.created_at.timestamp()],
    )?;
    let inserted = tx.execute(
        "INSERT INTO sessions (id, user_id, current_token_id, created_at, expires_at, user_agent, source_ip, amr, client)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?10, ?11 WHERE EXISTS (
             SELECT 1 FROM users WHERE id = ?2 AND password_version = ?8 AND sessions_revoked_at = ?9
         )",
        params![
            session.id,
            session.user_id.get(),
            session.current_token_id,
            timestamp(session.created_at),
            session.expires_at,
            session.user_agent,
            session.source_ip,
            session.precondition.password_version,
            session.precondition.sessions_revoked_at,
            session.amr.as_str(),
            session.client,
        ],
    )?;
    Ok(inserted == 1)
}

fn user_exists(conn: &Connection, user_id: UserId) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1)",
        [user_id.get()],
        |row| row.get(0),
    )
}

fn session_info(row: &Row<'_>) -> rusqlite::Result<SessionInfo> {
    let created_at = parse_timestamp(1, &row.get::<_, String>(1)?)?;
    let last_used_at = match row.get::<_, Option<String>>(2)? {
        Some(at) => parse_timestamp(2, &at)?,
        None => created_at,
    };
    Ok(SessionInfo {
        id: row.get(0)?,
        created_at,
        last_used_at,
        expires_at: row.get(3)?,
        user_agent: row.get(4)?,
        source_ip: row.get(5)?,
        amr: Amr::parse(&row.get::<_, String>(6)?).ok_or_else(|| conversion(6, anyhow!("unknown amr")))?,
        client: row.get(7)?,
    })
}

fn user_record(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    let conversion = |index: usize, e: anyhow::Error| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, e.into())
    };
    let id: i64 = row.get(0)?;
    let created_at: String = row.get(3)?;
    Ok(UserRecord {
        user: User {
            id: UserId::new(id).ok_or_else(|| conversion(0, anyhow!("non-positive user id {id}")))?,
            username: Username::from_trusted(row.get(1)?),
            email: Email::from_trusted(row.get(2)?),
            created_at: DateTime::parse_from_rfc3339(&created_at)
                .map_err(|e| conversion(3, e.into()))?
                .with_timezone(&Utc),
            avatar: row.get(4)?,
            is_verified: row.get(5)?,
        },
        password_hash: PasswordHash::new(row.get(6)?),
        password_version: row.get(7)?,
        sessions_revoked_at: row.get(8)?,
        totp: row.get(9)?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.call(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn create_user(&self, user: NewUser) -> Result<User, CreateUserError> {
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let inserted = tx.query_row(
                "INSERT INTO users (username, username_key, email, email_key, password_hash, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                params![
                    user.username.as_str(),
                    user.username.key(),
                    user.email.as_str(),
                    user.email.key(),
                    user.password_hash.as_str(),
                    timestamp(user.created_at),
                ],
                |row| row.get::<_, i64>(0),
            );
            match inserted {
                Ok(id) => {
                    let id = UserId::new(id)
                        .ok_or_else(|| StoreError::Unexpected(anyhow!("non-positive id {id}")))?;
                    record_email_send(&tx, &user.first_email.address_key, &user.first_email.state)?;
                    jobs::insert(&tx, &user.job.for_user(id))?;
                    tx.commit()?;
                    Ok(Ok(User {
                        id,
                        username: user.username,
                        email: user.email,
                        created_at: user.created_at,
                        avatar: None,
                        is_verified: false,
                    }))
                }
                Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                    let message = e.to_string();
                    if message.contains("users.username_key") {
                        Ok(Err(CreateUserError::UsernameTaken))
                    } else if message.contains("users.email_key") {
                        Ok(Err(CreateUserError::EmailTaken))
                    } else {
                        Err(e.into())
                    }
                }
                Err(e) => Err(e.into()),
            }
        })
        .await?
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        self.call(move |conn| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
            Ok(conn.query_row(&sql, [id.get()], user_record).optional()?)
        })
        .await
    }

    async fn user_by_username(&self, username_key: &str) -> Result<Option<UserRecord>, StoreError> {
        self.user_where("username_key", username_key.to_owned()).await
    }

    async fn user_by_email(&self, email_key: &str) -> Result<Option<UserRecord>, StoreError> {
        self.user_where("email_key", email_key.to_owned()).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn mark_email_verified(&self, id: UserId, email: &Email) -> Result<Verification, StoreError> {
        let email_key = email.key();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let verified: Option<bool> = tx
                .query_row(
                    "SELECT is_verified FROM users WHERE id = ?1 AND email_key = ?2",
                    params![id.get(), email_key],
                    |row| row.get(0),
                )
                .optional()?;
            if verified == Some(false) {
                tx.execute("UPDATE users SET is_verified = 1 WHERE id = ?1", [id.get()])?;
                tx.commit()?;
            }
            Ok(match verified {
                None => Verification::NoMatch,
                Some(true) => Verification::AlreadyVerified,
                Some(false) => Verification::Verified,
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %reset.user.id))]
    async fn replace_password(&self, reset: &PasswordReset) -> Result<bool, StoreError> {
        let reset = reset.clone();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = reset.user.id.get();
            let changed = tx.execute(
                &format!(
                    "UPDATE users SET password_hash = ?1, password_version = password_version + 1, {BUMP_SESSIONS_REVOKED_AT}
                     WHERE id = ?2 AND password_version = ?3 AND sessions_revoked_at = ?4 AND email_key = ?5"
                ),
                params![
                    reset.hash.as_str(),
                    id,
                    reset.password_version,
                    reset.sessions_revoked_at,
                    reset.user.email.key()
                ],
            )?;
            if changed == 0 {
                return Ok(false);
            }
            tx.execute("UPDATE sessions SET revoked = 1 WHERE user_id = ?1", [id])?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %session.user_id))]
    async fn create_session(
        &self,
        session: &NewSession,
        login_key: Option<&str>,
    ) -> Result<bool, StoreError> {
        let session = session.clone();
        let login_key = login_key.map(str::to_owned);
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Only while the user is as the login read them (same transaction, same statement).
            if !insert_session(&tx, &session)? {
                return Ok(false);
            }
            if let Some(login_key) = login_key {
                tx.execute("DELETE FROM login_attempts WHERE key = ?1", [login_key])?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn begin_login_attempt(
        &self,
        login_key: &str,
        now_ms: i64,
        backoff: &LoginBackoff,
    ) -> Result<Gate, StoreError> {
        let (key, backoff) = (login_key.to_owned(), *backoff);
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Housekeeping: state nobody has touched for days is forgotten.
            tx.execute(
                "DELETE FROM login_attempts WHERE last_at_ms < ?1",
                [now_ms - STATE_RETENTION_SECONDS * 1000],
            )?;
            let state = tx
                .query_row(
                    "SELECT failures, last_at_ms FROM login_attempts WHERE key = ?1",
                    [&key],
                    |row| {
                        Ok(AttemptState {
                            failures: row.get(0)?,
                            last_at_ms: row.get(1)?,
                        })
                    },
                )
                .optional()?;
            let gate = backoff.gate(state, now_ms);
            if gate == Gate::Open {
                let next = backoff.count(state, now_ms);
                tx.execute(
                    "INSERT INTO login_attempts (key, failures, last_at_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_at_ms = excluded.last_at_ms",
                    params![key, next.failures, next.last_at_ms],
                )?;
            }
            tx.commit()?;
            Ok(gate)
        })
        .await
    }

    async fn clear_login_attempts(&self, login_key: &str) -> Result<(), StoreError> {
        let key = login_key.to_owned();
        self.call(move |conn| {
            conn.execute("DELETE FROM login_attempts WHERE key = ?1", [key])?;
            Ok(())
        })
        .await
    }

    async fn claim_email_send(
        &self,
        address_key: &str,
        now: i64,
        throttle: &EmailThrottle,
    ) -> Result<bool, StoreError> {
        let (key, throttle) = (address_key.to_owned(), *throttle);
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM email_sends WHERE last_at < ?1",
                [now - STATE_RETENTION_SECONDS],
            )?;
            let state = tx
                .query_row(
                    "SELECT day, sent, last_at FROM email_sends WHERE key = ?1",
                    [&key],
                    |row| {
                        Ok(SendState {
                            day: row.get(0)?,
                            sent: row.get(1)?,
                            last_at: row.get(2)?,
                        })
                    },
                )
                .optional()?;
            let Some(next) = throttle.send(state, now) else {
                return Ok(false);
            };
            record_email_send(&tx, &key, &next)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %rotation.user_id))]
    async fn rotate_session(&self, rotation: &Rotation) -> Result<RotationOutcome, StoreError> {
        let r = rotation.clone();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let rotated = tx.execute(
                "UPDATE sessions SET current_token_id = ?1, last_used_at = ?6, expires_at = coalesce(?7, expires_at)
                 WHERE id = ?2 AND user_id = ?3 AND current_token_id = ?4 AND revoked = 0 AND expires_at >= ?5",
                params![
                    r.next_token_id,
                    r.session_id,
                    r.user_id.get(),
                    r.presented_token_id,
                    r.now,
                    timestamp(DateTime::from_timestamp(r.now, 0).unwrap_or_default()),
                    r.ends_at,
                ],
            )?;
            let outcome = if rotated == 1 {
                RotationOutcome::Rotated
            } else {
                // Not current: a retired token of a live session is a replay, which ends it.
                let revoked = tx.execute(
                    "UPDATE sessions SET revoked = 1
                     WHERE id = ?1 AND user_id = ?2 AND current_token_id <> ?3 AND revoked = 0 AND expires_at >= ?4",
                    params![r.session_id, r.user_id.get(), r.presented_token_id, r.now],
                )?;
                if revoked == 1 { RotationOutcome::ReuseDetected } else { RotationOutcome::Invalid }
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn end_session_of_user(&self, user_id: UserId, session_id: &str) -> Result<bool, StoreError> {
        self.end_session_if_user_exists(user_id, session_id).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn revoke_all_sessions_from(
        &self,
        user_id: UserId,
        own_session_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.revoke_all_from(user_id, own_session_id, now).await
    }

    async fn sessions(&self, user_id: UserId, now: i64) -> Result<Option<Vec<SessionInfo>>, StoreError> {
        self.call(move |conn| {
            if !user_exists(conn, user_id)? {
                return Ok(None);
            }
            let mut statement = conn.prepare_cached(
                "SELECT id, created_at, last_used_at, expires_at, user_agent, source_ip, amr, client FROM sessions
                 WHERE user_id = ?1 AND revoked = 0 AND expires_at >= ?2
                 ORDER BY created_at DESC, rowid DESC",
            )?;
            let rows = statement.query_map(params![user_id.get(), now], session_info)?;
            Ok(Some(rows.collect::<rusqlite::Result<Vec<_>>>()?))
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn end_session_from(
        &self,
        user_id: UserId,
        own_session_id: &str,
        session_id: &str,
        now: i64,
    ) -> Result<SessionEnd, StoreError> {
        self.end_session_on_behalf(user_id, own_session_id, session_id, now)
            .await
    }

    async fn user_in_session(
        &self,
        user_id: UserId,
        session_id: &str,
        now: i64,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.user_in_live_session(user_id, session_id, now).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %change.session.user_id))]
    async fn change_password(&self, change: &PasswordChange) -> Result<bool, StoreError> {
        let change = change.clone();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let session = &change.session;
            let user_id = session.user_id.get();
            let read = session.precondition;
            let changed = tx.execute(
                &format!(
                    "UPDATE users SET password_hash = ?1, password_version = password_version + 1, {BUMP_SESSIONS_REVOKED_AT}
                     WHERE id = ?2 AND password_version = ?3 AND sessions_revoked_at = ?4"
                ),
                params![change.hash.as_str(), user_id, read.password_version, read.sessions_revoked_at],
            )?;
            if changed == 0 {
                return Ok(false);
            }
            tx.execute("UPDATE sessions SET revoked = 1 WHERE user_id = ?1", [user_id])?;
            // The answer's session, under the user as they are now.
            let now: (i64, i64) = tx.query_row(
                "SELECT password_version, sessions_revoked_at FROM users WHERE id = ?1",
                [user_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            let mut session = session.clone();
            session.precondition.password_version = now.0;
            session.precondition.sessions_revoked_at = now.1;
            if !insert_session(&tx, &session)? {
                return Err(StoreError::Unexpected(anyhow!("the new session's precondition failed")));
            }
            tx.execute("DELETE FROM login_attempts WHERE key = ?1", [&change.login_key])?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn begin_email_change(
        &self,
        user_id: UserId,
        change_id: &str,
        job: &JobRecord,
    ) -> Result<bool, StoreError> {
        let (change_id, job) = (change_id.to_owned(), job.clone());
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = tx.execute(
                "UPDATE users SET pending_email_change = ?1 WHERE id = ?2",
                params![change_id, user_id.get()],
            )?;
            if changed == 0 {
                return Ok(false);
            }
            jobs::insert(&tx, &job)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %change.before.user.id))]
    async fn change_email(&self, change: &EmailChange) -> Result<EmailChangeOutcome, StoreError> {
        let change = change.clone();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = change.before.user.id.get();
            let moved = tx.execute(
                &format!(
                    "UPDATE users SET email = ?1, email_key = ?2, is_verified = 1, pending_email_change = NULL,
                         password_version = password_version + 1, {BUMP_SESSIONS_REVOKED_AT}
                     WHERE id = ?3 AND sessions_revoked_at = ?4 AND pending_email_change = ?5 AND email_key = ?6"
                ),
                params![
                    change.new_email.as_str(),
                    change.new_email.key(),
                    id,
                    change.expected_epoch,
                    change.change_id,
                    change.before.user.email.key()
                ],
            );
            match moved {
                Ok(0) => return Ok(EmailChangeOutcome::Stale),
                Ok(_) => {}
                Err(e)
                    if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation)
                        && e.to_string().contains("users.email_key") =>
                {
                    return Ok(EmailChangeOutcome::Taken);
                }
                Err(e) => return Err(e.into()),
            }
            tx.execute("UPDATE sessions SET revoked = 1 WHERE user_id = ?1", [id])?;
            jobs::insert(&tx, &change.notice)?;
            tx.commit()?;
            Ok(EmailChangeOutcome::Changed)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %deletion.user.id))]
    async fn delete_user(&self, deletion: &UserDeletion) -> Result<bool, StoreError> {
        let deletion = deletion.clone();
        // One transaction: SQLite has no batch limit to page past, and nobody ever sees a part.
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = deletion.user.id.get();
            let found: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1 AND password_version = ?2)",
                params![id, deletion.password_version],
                |row| row.get(0),
            )?;
            if !found {
                return Ok(false);
            }
            // The user's rows reference the user: they go in the same step (SQLite has no batch
            // limit, and nobody sees a part); the job clears the abuse state.
            jobs::delete_user_rows(&tx, id)?;
            tx.execute("DELETE FROM users WHERE id = ?1", [id])?;
            jobs::insert(&tx, &deletion.purge)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn purge_user(
        &self,
        user_id: UserId,
        abuse_keys: &AbuseKeys,
        _deadline: tokio::time::Instant,
    ) -> Result<PurgeProgress, StoreError> {
        let keys = abuse_keys.clone();
        self.call(move |conn| jobs::purge(conn, user_id, &keys)).await
    }

    async fn enqueue_job(&self, job: &JobRecord) -> Result<(), StoreError> {
        let job = job.clone();
        self.call(move |conn| jobs::insert(conn, &job)).await
    }

    async fn finish_job(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.call(move |conn| jobs::remove(conn, &id)).await
    }

    async fn replace_job(&self, id: &str, next: &JobRecord) -> Result<(), StoreError> {
        let (id, next) = (id.to_owned(), next.clone());
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            jobs::remove(&tx, &id)?;
            jobs::insert(&tx, &next)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn pending_jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        self.call(jobs::pending).await
    }
}
