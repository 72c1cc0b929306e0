//! Second factors in the SQLite adapter: TOTP state on the user's row, recovery codes in a table
//! of their own, each change one `IMMEDIATE` transaction (or one conditional statement).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{SqliteStore, jobs};
use crate::domain::UserId;
use crate::store::StoreError;
use crate::store::mfa::{FactorUse, MfaState, MfaStore, SetupOutcome, TotpDisabling, TotpEnabling};

/// Spends one use of a factor, if TOTP is on and the use is still good: one conditional statement
/// each, so that of two requests with one code one changes a row.
fn spend(conn: &Connection, user_id: i64, factor: &FactorUse) -> rusqlite::Result<bool> {
    let changed = match factor {
        FactorUse::Totp { step } => conn.execute(
            "UPDATE users SET totp_step = ?1 WHERE id = ?2 AND totp_on = 1 AND totp_step < ?1",
            params![step, user_id],
        )?,
        FactorUse::Recovery { hash } => conn.execute(
            "DELETE FROM recovery_codes WHERE user_id = ?1 AND hash = ?2
             AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND totp_on = 1)",
            params![user_id, hash],
        )?,
    };
    Ok(changed == 1)
}

#[async_trait]
impl MfaStore for SqliteStore {
    async fn mfa_state(&self, user_id: UserId) -> Result<Option<MfaState>, StoreError> {
        self.call(move |conn| {
            let tx = conn.transaction()?;
            let state = tx
                .query_row(
                    "SELECT totp_on, totp_pending, totp_secret, totp_step,
                            (SELECT COUNT(*) FROM recovery_codes WHERE user_id = users.id)
                     FROM users WHERE id = ?1",
                    [user_id.get()],
                    |row| {
                        Ok(MfaState {
                            totp: row.get(0)?,
                            pending: row.get(1)?,
                            secret: row.get(2)?,
                            last_step: row.get(3)?,
                            recovery_codes_left: row.get::<_, i64>(4)?.try_into().unwrap_or_default(),
                        })
                    },
                )
                .optional()?;
            Ok(state)
        })
        .await
    }

    async fn begin_totp_setup(&self, user_id: UserId, sealed: &str) -> Result<SetupOutcome, StoreError> {
        let sealed = sealed.to_owned();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let on: Option<bool> = tx
                .query_row(
                    "SELECT totp_on FROM users WHERE id = ?1",
                    [user_id.get()],
                    |row| row.get(0),
                )
                .optional()?;
            let outcome = match on {
                None => SetupOutcome::NoUser,
                Some(true) => SetupOutcome::AlreadyOn,
                Some(false) => {
                    tx.execute(
                        "UPDATE users SET totp_pending = ?1 WHERE id = ?2",
                        params![sealed, user_id.get()],
                    )?;
                    SetupOutcome::Stored
                }
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn enable_totp(&self, enabling: &TotpEnabling) -> Result<bool, StoreError> {
        let enabling = enabling.clone();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = enabling.user.id.get();
            let changed = tx.execute(
                "UPDATE users SET totp_on = 1, totp_secret = totp_pending, totp_pending = NULL, totp_step = ?1
                 WHERE id = ?2 AND totp_on = 0 AND totp_pending = ?3",
                params![enabling.step, id, enabling.pending],
            )?;
            if changed == 0 {
                return Ok(false);
            }
            tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [id])?;
            for hash in &enabling.recovery_codes {
                tx.execute(
                    "INSERT INTO recovery_codes (user_id, hash) VALUES (?1, ?2)",
                    params![id, hash],
                )?;
            }
            tx.execute("DELETE FROM login_attempts WHERE key = ?1", [&enabling.login_key])?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn disable_totp(&self, disabling: &TotpDisabling) -> Result<bool, StoreError> {
        let disabling = disabling.clone();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = disabling.user.id.get();
            let changed = tx.execute(
                "UPDATE users SET totp_on = 0, totp_secret = NULL, totp_pending = NULL, totp_step = 0
                 WHERE id = ?1 AND totp_on = 1 AND password_version = ?2",
                params![id, disabling.password_version],
            )?;
            if changed == 0 {
                return Ok(false);
            }
            tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [id])?;
            tx.execute(
                "DELETE FROM login_attempts WHERE key = ?1",
                [&disabling.login_key],
            )?;
            jobs::insert(&tx, &disabling.notice)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn replace_recovery_codes(
        &self,
        user_id: UserId,
        spent: &FactorUse,
        hashes: &[String],
    ) -> Result<bool, StoreError> {
        let (spent, hashes) = (spent.clone(), hashes.to_vec());
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = user_id.get();
            if !spend(&tx, id, &spent)? {
                return Ok(false);
            }
            tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [id])?;
            for hash in &hashes {
                tx.execute(
                    "INSERT INTO recovery_codes (user_id, hash) VALUES (?1, ?2)",
                    params![id, hash],
                )?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn use_factor(&self, user_id: UserId, factor: &FactorUse) -> Result<bool, StoreError> {
        let factor = factor.clone();
        self.call(move |conn| Ok(spend(conn, user_id.get(), &factor)?))
            .await
    }
}
