//! Passkeys in the SQLite adapter: a `passkeys` table whose `credential_id` is unique across users,
//! the user's handle on their row (unique), and ceremony states in `challenges`, each taken by one
//! `DELETE ... RETURNING`.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use super::{SqliteStore, USER_COLUMNS, insert_session, jobs, parse_timestamp, timestamp, user_record};
use crate::domain::UserId;
use crate::store::StoreError;
use crate::store::passkeys::{
    AddPasskey, Challenge, ChallengeKind, NewPasskey, PasskeyLogin, PasskeyOwner, PasskeyStore, StoredPasskey,
};

const PASSKEY_COLUMNS: &str = "id, user_id, name, created_at, last_used_at, credential_id, credential";

fn passkey(row: &Row<'_>) -> rusqlite::Result<StoredPasskey> {
    let user_id: i64 = row.get(1)?;
    Ok(StoredPasskey {
        id: row.get(0)?,
        user_id: UserId::new(user_id).ok_or(rusqlite::Error::IntegralValueOutOfRange(1, user_id))?,
        name: row.get(2)?,
        created_at: parse_timestamp(3, &row.get::<_, String>(3)?)?,
        last_used_at: match row.get::<_, Option<String>>(4)? {
            Some(at) => Some(parse_timestamp(4, &at)?),
            None => None,
        },
        credential_id: row.get(5)?,
        credential: row.get(6)?,
    })
}

#[async_trait]
impl PasskeyStore for SqliteStore {
    async fn put_challenge(&self, challenge: &Challenge) -> Result<(), StoreError> {
        let challenge = challenge.clone();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Housekeeping: expired ceremonies can never be answered.
            tx.execute(
                "DELETE FROM challenges WHERE expires_at < unixepoch() - 60",
                [],
            )?;
            let (user_id, user_handle) = match &challenge.kind {
                ChallengeKind::Registration { user_id, user_handle } => {
                    (Some(user_id.get()), Some(user_handle.clone()))
                }
                ChallengeKind::Login => (None, None),
            };
            tx.execute(
                "INSERT INTO challenges (id, user_id, user_handle, state, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![challenge.id, user_id, user_handle, challenge.state, challenge.expires_at],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn take_challenge(&self, id: &str, now: i64) -> Result<Option<Challenge>, StoreError> {
        let id = id.to_owned();
        self.call(move |conn| {
            // One statement: of two requests with one token, one gets the row.
            let taken = conn
                .query_row(
                    "DELETE FROM challenges WHERE id = ?1 RETURNING user_id, user_handle, state, expires_at",
                    [&id],
                    |row| {
                        Ok((
                            row.get::<_, Option<i64>>(0)?,
                            row.get::<_, Option<String>>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, i64>(3)?,
                        ))
                    },
                )
                .optional()?;
            Ok(taken.and_then(|(user_id, user_handle, state, expires_at)| {
                if expires_at < now {
                    return None;
                }
                let kind = match (user_id.and_then(UserId::new), user_handle) {
                    (Some(user_id), Some(user_handle)) => {
                        ChallengeKind::Registration { user_id, user_handle }
                    }
                    (None, None) => ChallengeKind::Login,
                    _ => return None,
                };
                Some(Challenge {
                    id,
                    kind,
                    state,
                    expires_at,
                })
            }))
        })
        .await
    }

    async fn user_handle(&self, user_id: UserId, candidate: &str) -> Result<Option<String>, StoreError> {
        let candidate = candidate.to_owned();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "UPDATE users SET passkey_handle = ?1 WHERE id = ?2 AND passkey_handle IS NULL",
                params![candidate, user_id.get()],
            )?;
            let handle: Option<Option<String>> = tx
                .query_row(
                    "SELECT passkey_handle FROM users WHERE id = ?1",
                    [user_id.get()],
                    |row| row.get(0),
                )
                .optional()?;
            tx.commit()?;
            Ok(handle.flatten())
        })
        .await
    }

    async fn passkeys(&self, user_id: UserId) -> Result<Vec<StoredPasskey>, StoreError> {
        self.call(move |conn| {
            let mut statement = conn.prepare(&format!(
                "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = ?1 ORDER BY created_at DESC, rowid DESC"
            ))?;
            let rows = statement.query_map([user_id.get()], passkey)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn add_passkey(&self, new: &NewPasskey) -> Result<AddPasskey, StoreError> {
        let new = new.clone();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let passkey = &new.passkey;
            let user_id = passkey.user_id.get();
            let owner: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1 AND passkey_handle = ?2)",
                params![user_id, new.user_handle],
                |row| row.get(0),
            )?;
            if !owner {
                return Ok(AddPasskey::UserGone);
            }
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM passkeys WHERE credential_id = ?1)",
                [&passkey.credential_id],
                |row| row.get(0),
            )?;
            if taken {
                return Ok(AddPasskey::CredentialTaken);
            }
            tx.execute(
                &format!("INSERT INTO passkeys ({PASSKEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6)"),
                params![
                    passkey.id,
                    user_id,
                    passkey.name,
                    timestamp(passkey.created_at),
                    passkey.credential_id,
                    passkey.credential
                ],
            )?;
            jobs::insert(&tx, &new.notice)?;
            tx.commit()?;
            Ok(AddPasskey::Added)
        })
        .await
    }

    async fn delete_passkey(&self, user_id: UserId, passkey_id: &str) -> Result<bool, StoreError> {
        let passkey_id = passkey_id.to_owned();
        self.call(move |conn| {
            let deleted = conn.execute(
                "DELETE FROM passkeys WHERE id = ?1 AND user_id = ?2",
                params![passkey_id, user_id.get()],
            )?;
            Ok(deleted == 1)
        })
        .await
    }

    async fn passkey_by_credential(&self, credential_id: &str) -> Result<Option<PasskeyOwner>, StoreError> {
        let credential_id = credential_id.to_owned();
        self.call(move |conn| {
            let tx = conn.transaction()?;
            let Some(found) = tx
                .query_row(
                    &format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = ?1"),
                    [&credential_id],
                    passkey,
                )
                .optional()?
            else {
                return Ok(None);
            };
            let owner = tx
                .query_row(
                    &format!("SELECT {USER_COLUMNS}, passkey_handle FROM users WHERE id = ?1"),
                    [found.user_id.get()],
                    |row| Ok((user_record(row)?, row.get::<_, Option<String>>(10)?)),
                )
                .optional()?;
            Ok(owner.map(|(user, user_handle)| PasskeyOwner {
                passkey: found,
                user,
                user_handle,
            }))
        })
        .await
    }

    async fn use_passkey(&self, login: &PasskeyLogin) -> Result<bool, StoreError> {
        let login = login.clone();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let user_id = login.session.user_id.get();
            let handle_holds: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1 AND passkey_handle = ?2)",
                params![user_id, login.user_handle],
                |row| row.get(0),
            )?;
            // The passkey as read (its counter): a deleted one, or one a concurrent login used,
            // changes nothing.
            let used = tx.execute(
                "UPDATE passkeys SET credential = ?1, last_used_at = ?2
                 WHERE id = ?3 AND user_id = ?4 AND credential = ?5",
                params![
                    login.credential,
                    timestamp(login.used_at),
                    login.passkey_id,
                    user_id,
                    login.previous
                ],
            )?;
            if !handle_holds || used != 1 || !insert_session(&tx, &login.session)? {
                return Ok(false);
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }
}
