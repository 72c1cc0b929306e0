//! The signed-in user's self-service in the DynamoDB adapter: their live sessions, ending one,
//! changing the password (and starting the answer's session) and moving the email, each one
//! transaction over every copy of the user.

use std::collections::HashMap;

use anyhow::anyhow;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};
use chrono::{DateTime, Utc};

use super::users::{next_revocation, session_item, user_attributes};
use super::{
    DynamoStore, Item, Outcome, conditional, email_key, login_attempts_key, n, profile_key, read_bool,
    read_number, read_string, s, session_key, unavailable_or_unexpected,
};
use crate::domain::{Amr, UserId};
use crate::jobs::JobRecord;
use crate::store::{EmailChange, EmailChangeOutcome, PasswordChange, SessionInfo, StoreError};

fn at_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A session item as its user's list shows it, if it is live in the profile's epoch `epoch`.
pub(super) fn live_session(item: &Item, epoch: i64, now: i64) -> anyhow::Result<Option<(i64, SessionInfo)>> {
    let sk = read_string(item, "SK")?;
    let id = sk
        .strip_prefix("SESSION#")
        .ok_or_else(|| anyhow!("not a session item"))?;
    let live = !read_bool(item, "revoked")?
        && read_number(item, "expires_at")? >= now
        && read_number(item, "epoch")? == epoch;
    if !live {
        return Ok(None);
    }
    let created_ms = read_number(item, "created_at_ms")?;
    Ok(Some((
        created_ms,
        SessionInfo {
            id: id.to_owned(),
            created_at: at_ms(created_ms),
            last_used_at: at_ms(read_number(item, "last_used_at_ms").unwrap_or(created_ms)),
            expires_at: read_number(item, "expires_at")?,
            user_agent: read_string(item, "user_agent").ok(),
            source_ip: read_string(item, "source_ip").ok(),
            // Sessions created before second factors were password logins.
            amr: match read_string(item, "amr") {
                Ok(amr) => Amr::parse(&amr).ok_or_else(|| anyhow!("unknown amr {amr:?}"))?,
                Err(_) => Amr::Password,
            },
            client: read_string(item, "client").ok(),
        },
    )))
}

impl DynamoStore {
    /// One Query of the user's sessions beside one GetItem of the profile (its epoch says which
    /// are still live), in parallel.
    pub(super) async fn live_sessions(
        &self,
        user_id: UserId,
        now: i64,
    ) -> Result<Option<Vec<SessionInfo>>, StoreError> {
        let (profile, items) = tokio::join!(
            self.get(profile_key(user_id)),
            self.query_partition(user_id, Some("SESSION#"), None)
        );
        let Some(profile) = profile? else {
            return Ok(None);
        };
        let epoch = read_number(&profile, "sessions_revoked_at").unwrap_or(0);
        let mut sessions = Vec::new();
        for item in items? {
            if let Some(session) = live_session(&item, epoch, now)
                .map_err(|e| StoreError::Unexpected(e.context("Malformed session item")))?
            {
                sessions.push(session);
            }
        }
        sessions.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.id.cmp(&a.1.id)));
        Ok(Some(sessions.into_iter().map(|(_, session)| session).collect()))
    }

    /// Revokes the session only if it is live in the profile's epoch `epoch` (as read).
    pub(super) async fn end_session_in_epoch(
        &self,
        user_id: UserId,
        session_id: &str,
        epoch: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(session_key(user_id, session_id)))
            .update_expression("SET revoked = :true")
            .condition_expression(
                "attribute_exists(PK) AND revoked = :false AND epoch = :epoch AND expires_at >= :now",
            )
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":epoch", n(epoch))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        Ok(conditional(result, "DynamoDB UpdateItem (end session) failed")?.is_some())
    }

    /// One transaction: the new hash and version and a new epoch on the three copies (so every
    /// session ends), the answer's session in the new epoch, and the login failures forgotten.
    pub(super) async fn replace_password_keeping(&self, change: &PasswordChange) -> Result<bool, StoreError> {
        let session = &change.session;
        let read = session.precondition;
        let epoch = next_revocation(read.sessions_revoked_at);
        let values = HashMap::from([
            (":hash".to_owned(), s(change.hash.as_str())),
            (":next".to_owned(), n(read.password_version + 1)),
            (":revoked".to_owned(), n(epoch)),
        ]);
        let expression =
            "SET password_hash = :hash, password_version = :next, sessions_revoked_at = :revoked";
        let mut profile_values = values.clone();
        profile_values.insert(":pv".into(), n(read.password_version));
        profile_values.insert(":seen".into(), n(read.sessions_revoked_at));
        let mut items = vec![self.update(
            profile_key(session.user_id),
            expression,
            "password_version = :pv AND sessions_revoked_at = :seen",
            profile_values,
        )?];
        items.extend(self.guard_updates(&change.user, expression, &values)?);
        items.push(self.put(session_item(session, epoch), "attribute_not_exists(PK)", None)?);
        let clear = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(login_attempts_key(&change.login_key)))
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        items.push(TransactWriteItem::builder().delete(clear).build());
        match self.transact(items).await? {
            Outcome::Committed => Ok(true),
            Outcome::ConditionFailed(0..=2) => Ok(false),
            Outcome::ConditionFailed(_) => Err(StoreError::Unexpected(anyhow!("session id collision"))),
        }
    }

    /// Reads the profile, then one transaction: the new email guard (only if the address is
    /// free), the old one deleted, the new email (verified) and a new epoch on the profile (only
    /// if its epoch is still the token's) and on the username guard.
    /// Records the user's one pending email change and writes the job that mails its link.
    pub(super) async fn record_pending_email_change(
        &self,
        user_id: UserId,
        change_id: &str,
        job: &JobRecord,
    ) -> Result<bool, StoreError> {
        let items = vec![
            self.update(
                profile_key(user_id),
                "SET email_change = :change",
                "attribute_exists(PK)",
                HashMap::from([(":change".to_owned(), s(change_id))]),
            )?,
            self.put_job(job)?,
        ];
        Ok(matches!(self.transact(items).await?, Outcome::Committed))
    }

    pub(super) async fn move_email(&self, change: &EmailChange) -> Result<EmailChangeOutcome, StoreError> {
        let record = &change.before;
        let before = &record.user;
        let user_id = before.id;
        let new_email = &change.new_email;
        let epoch = next_revocation(record.sessions_revoked_at);
        let version = record.password_version + 1;
        let mut after = before.clone();
        after.email = new_email.clone();
        after.is_verified = true;
        // The new guard copies the second-factor flag as read: the profile's condition below
        // makes sure it has not moved since.
        let mut guard = user_attributes(&after, &record.password_hash, version, epoch, record.totp);
        guard.extend(email_key(&new_email.key()));
        let values = HashMap::from([
            (":email".to_owned(), s(new_email.as_str())),
            (":email_key".to_owned(), s(new_email.key())),
            (":true".to_owned(), AttributeValue::Bool(true)),
            (":revoked".to_owned(), n(epoch)),
            (":version".to_owned(), n(version)),
        ]);
        // The password version moves too: reset links sent to the old address die.
        let expression = "SET email = :email, email_key = :email_key, is_verified = :true, \
                          sessions_revoked_at = :revoked, password_version = :version";
        let mut profile_values = values.clone();
        profile_values.extend([
            (":expected".to_owned(), n(change.expected_epoch)),
            (":change".to_owned(), s(&change.change_id)),
            (":old_key".to_owned(), s(before.email.key())),
            (":pv".to_owned(), n(record.password_version)),
        ]);
        let id = Item::from([(":id".to_owned(), n(user_id.get()))]);
        let mut username_values = values;
        username_values.insert(":id".to_owned(), n(user_id.get()));
        let items = vec![
            self.put(guard, "attribute_not_exists(PK)", None)?,
            self.delete(email_key(&before.email.key()), "id = :id", Some(id))?,
            // Only the user as read, and only the pending change of this link.
            self.update(
                profile_key(user_id),
                &format!("{expression} REMOVE email_change"),
                &format!(
                    "sessions_revoked_at = :expected AND email_change = :change AND email_key = :old_key \
                     AND password_version = :pv AND {}",
                    if record.totp {
                        "totp = :true"
                    } else {
                        "NOT totp = :true"
                    }
                ),
                profile_values,
            )?,
            self.update(
                super::username_key(&before.username.key()),
                expression,
                "id = :id",
                username_values,
            )?,
            self.put_job(&change.notice)?,
        ];
        match self.transact(items).await? {
            Outcome::Committed => Ok(EmailChangeOutcome::Changed),
            Outcome::ConditionFailed(0) => {
                // The address is this very user's since a concurrent use of the same link: the
                // token was used (400), not taken by someone else (409).
                let owner = self.get(email_key(&new_email.key())).await?;
                let own = owner.is_some_and(|item| read_number(&item, "id").ok() == Some(user_id.get()));
                Ok(if own {
                    EmailChangeOutcome::Stale
                } else {
                    EmailChangeOutcome::Taken
                })
            }
            Outcome::ConditionFailed(_) => Ok(EmailChangeOutcome::Stale),
        }
    }

    /// Every item of the user's partition (or those whose sort key starts with `prefix`), all
    /// pages, consistently; only the attributes of `projection` when given.
    pub(super) async fn query_partition(
        &self,
        user_id: UserId,
        prefix: Option<&str>,
        projection: Option<&str>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_values(":pk", s(format!("USER#{user_id}")))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .set_projection_expression(projection.map(str::to_owned));
            query = match prefix {
                Some(prefix) => query
                    .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                    .expression_attribute_values(":prefix", s(prefix)),
                None => query.key_condition_expression("PK = :pk"),
            };
            let page = query
                .send()
                .await
                .map_err(|e| unavailable_or_unexpected(e, "DynamoDB Query (user partition) failed"))?;
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}
