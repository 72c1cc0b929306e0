//! Background jobs and the purge in the SQLite adapter: a `jobs` table written in the transaction
//! of the change that makes each job (crate::jobs), and the deletion of what a deleted user left.

use anyhow::anyhow;
use rusqlite::{Connection, TransactionBehavior};

use crate::domain::UserId;
use crate::jobs::JobRecord;
use crate::store::{AbuseKeys, PurgeProgress, StoreError};

pub(super) fn insert(conn: &Connection, job: &JobRecord) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO jobs (id, body, created_at) VALUES (?1, ?2, unixepoch())",
        rusqlite::params![job.id, job.to_json()?],
    )?;
    Ok(())
}

pub(super) fn remove(conn: &Connection, id: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM jobs WHERE id = ?1", [id])?;
    Ok(())
}

/// Every job not done yet, oldest first.
pub(super) fn pending(conn: &mut Connection) -> Result<Vec<JobRecord>, StoreError> {
    let mut statement = conn.prepare("SELECT body FROM jobs ORDER BY created_at, rowid")?;
    let bodies = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    bodies
        .iter()
        .map(|body| {
            JobRecord::from_json(body)
                .map_err(|e| StoreError::Unexpected(anyhow!(e).context("Malformed job")))
        })
        .collect()
}

/// The rows of a user's own: sessions, contacts, recovery codes, passkeys, ceremonies.
pub(super) fn delete_user_rows(conn: &Connection, user_id: i64) -> rusqlite::Result<usize> {
    let mut rows = 0;
    for table in ["contacts", "sessions", "recovery_codes", "passkeys", "challenges"] {
        rows += conn.execute(&format!("DELETE FROM {table} WHERE user_id = ?1"), [user_id])?;
    }
    Ok(rows)
}

/// What is left of a deleted user, in one transaction: their rows (gone already unless the
/// deletion predates this job) and their abuse state.
pub(super) fn purge(
    conn: &mut Connection,
    user_id: UserId,
    keys: &AbuseKeys,
) -> Result<PurgeProgress, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut items = delete_user_rows(&tx, user_id.get())?;
    for key in &keys.login {
        items += tx.execute("DELETE FROM login_attempts WHERE key = ?1", [key])?;
    }
    for key in &keys.email_sends {
        items += tx.execute("DELETE FROM email_sends WHERE key = ?1", [key])?;
    }
    tx.commit()?;
    Ok(PurgeProgress::Done { items })
}
