//! Whether an access token still speaks for a live session, in the SQLite adapter: the same
//! answers as the DynamoDB adapter's (a session is live while it is not revoked and not expired;
//! every revoke-all marks each session of the user revoked), each in one statement or one
//! transaction. A logout requires the user to exist, so that a deleted user's refresh token is
//! refused.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{BUMP_SESSIONS_REVOKED_AT, SqliteStore, USER_COLUMNS, user_exists, user_record};
use crate::domain::{UserId, UserRecord};
use crate::store::{SessionEnd, StoreError};

/// The user, if `session_id` is one of their live sessions at `now` (one query).
fn user_in_session(
    conn: &Connection,
    user_id: UserId,
    session_id: &str,
    now: i64,
) -> rusqlite::Result<Option<UserRecord>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = ?1 AND EXISTS (
             SELECT 1 FROM sessions WHERE id = ?2 AND user_id = ?1 AND revoked = 0 AND expires_at >= ?3
         )"
    );
    conn.query_row(&sql, params![user_id.get(), session_id, now], user_record)
        .optional()
}

impl SqliteStore {
    pub(super) async fn user_in_live_session(
        &self,
        user_id: UserId,
        session_id: &str,
        now: i64,
    ) -> Result<Option<UserRecord>, StoreError> {
        let session_id = session_id.to_owned();
        self.call(move |conn| Ok(user_in_session(conn, user_id, &session_id, now)?))
            .await
    }

    /// One transaction: the caller's session is live, then the target is revoked if it is.
    pub(super) async fn end_session_on_behalf(
        &self,
        user_id: UserId,
        own_session_id: &str,
        session_id: &str,
        now: i64,
    ) -> Result<SessionEnd, StoreError> {
        let (own, target) = (own_session_id.to_owned(), session_id.to_owned());
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if user_in_session(&tx, user_id, &own, now)?.is_none() {
                return Ok(SessionEnd::CallerEnded);
            }
            let ended = tx.execute(
                "UPDATE sessions SET revoked = 1
                 WHERE id = ?1 AND user_id = ?2 AND revoked = 0 AND expires_at >= ?3",
                params![target, user_id.get(), now],
            )?;
            tx.commit()?;
            Ok(if ended == 1 {
                SessionEnd::Ended
            } else {
                SessionEnd::NotFound
            })
        })
        .await
    }

    /// One transaction: the caller's session is live, then every session of the user is revoked
    /// and the revocation epoch moves (a login that read the user before cannot create its session).
    pub(super) async fn revoke_all_from(
        &self,
        user_id: UserId,
        own_session_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let own = own_session_id.to_owned();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if user_in_session(&tx, user_id, &own, now)?.is_none() {
                return Ok(false);
            }
            tx.execute(
                "UPDATE sessions SET revoked = 1 WHERE user_id = ?1",
                [user_id.get()],
            )?;
            tx.execute(
                &format!("UPDATE users SET {BUMP_SESSIONS_REVOKED_AT} WHERE id = ?1"),
                [user_id.get()],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    /// One transaction: the user exists, then the session is revoked (a no-op when it has ended).
    pub(super) async fn end_session_if_user_exists(
        &self,
        user_id: UserId,
        session_id: &str,
    ) -> Result<bool, StoreError> {
        let session_id = session_id.to_owned();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if !user_exists(&tx, user_id)? {
                return Ok(false);
            }
            tx.execute(
                "UPDATE sessions SET revoked = 1 WHERE id = ?1 AND user_id = ?2",
                params![session_id, user_id.get()],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }
}
