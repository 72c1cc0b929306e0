//! The users and sessions of the DynamoDB adapter: the three copies of a user (profile, username
//! guard, email guard) kept equal in one transaction per change, and the sessions in the user's
//! partition, each tagged with the revocation epoch it was created in.

use std::collections::HashMap;

use anyhow::anyhow;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValue, TransactWriteItem, Update,
};
use chrono::{DateTime, SecondsFormat, Utc};

use super::abuse::email_send_item;
use super::{
    DynamoStore, Item, Outcome, TTL, email_key, key, login_attempts_key, n, now_ms, profile_key, read_bool,
    read_number, read_string, s, session_key, unavailable_or_unexpected, username_key,
};
use crate::domain::{Email, PasswordHash, User, UserId, UserRecord, Username};
use crate::jobs::JobRecord;
use crate::store::{
    AbuseKeys, CreateUserError, EmailChange, EmailChangeOutcome, NewSession, NewUser, PasswordChange,
    PasswordReset, PurgeProgress, Rotation, RotationOutcome, SessionEnd, SessionInfo, Store, StoreError,
    UserDeletion, Verification, WarmUp,
};
use crate::throttle::{EmailThrottle, Gate, LoginBackoff};

/// The next sessions-revoked-at value: now, and always past the last one.
pub(super) fn next_revocation(last: i64) -> i64 {
    now_ms().max(last + 1)
}

/// The attributes every copy of a user carries.
pub(super) fn user_attributes(
    user: &User,
    hash: &PasswordHash,
    password_version: i64,
    sessions_revoked_at: i64,
    totp: bool,
) -> Item {
    let mut item = HashMap::from([
        ("id".to_owned(), n(user.id.get())),
        ("username".to_owned(), s(user.username.as_str())),
        ("username_key".to_owned(), s(user.username.key())),
        ("email".to_owned(), s(user.email.as_str())),
        ("email_key".to_owned(), s(user.email.key())),
        ("password_hash".to_owned(), s(hash.as_str())),
        ("password_version".to_owned(), n(password_version)),
        // On every copy, so that a login reads it with the user (no extra round trip).
        ("sessions_revoked_at".to_owned(), n(sessions_revoked_at)),
        (
            "created_at".to_owned(),
            s(user.created_at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        ),
        ("is_verified".to_owned(), AttributeValue::Bool(user.is_verified)),
        // On every copy, so that a login knows from its one read whether a code is needed.
        ("totp".to_owned(), AttributeValue::Bool(totp)),
    ]);
    if let Some(avatar) = &user.avatar {
        item.insert("avatar".to_owned(), s(avatar.as_str()));
    }
    item
}

pub(super) fn user_record(item: &Item) -> Result<UserRecord, StoreError> {
    let parse = || -> anyhow::Result<UserRecord> {
        let id = read_number(item, "id")?;
        Ok(UserRecord {
            user: User {
                id: UserId::new(id).ok_or_else(|| anyhow!("non-positive user id {id}"))?,
                username: Username::from_trusted(read_string(item, "username")?),
                email: Email::from_trusted(read_string(item, "email")?),
                created_at: DateTime::parse_from_rfc3339(&read_string(item, "created_at")?)?
                    .with_timezone(&Utc),
                avatar: read_string(item, "avatar").ok(),
                is_verified: read_bool(item, "is_verified")?,
            },
            password_hash: PasswordHash::new(read_string(item, "password_hash")?),
            password_version: read_number(item, "password_version")?,
            // Items written before the guard copies carried it count as never revoked.
            sessions_revoked_at: read_number(item, "sessions_revoked_at").unwrap_or(0),
            // Items written before second factors have none.
            totp: read_bool(item, "totp").unwrap_or(false),
        })
    };
    parse().map_err(|e| StoreError::Unexpected(e.context("Malformed user item")))
}

/// Longest user agent a session keeps (it is shown back to the user, and DynamoDB items are
/// bounded).
const MAX_USER_AGENT_CHARS: usize = 256;

/// A new session's item, created in the revocation epoch `epoch`: it lives while the profile's
/// epoch is the same.
pub(super) fn session_item(session: &NewSession, epoch: i64) -> Item {
    let mut item = session_key(session.user_id, &session.id);
    item.extend([
        (
            "current_token_id".to_owned(),
            s(session.current_token_id.as_str()),
        ),
        ("created_at_ms".to_owned(), n(now_ms())),
        ("expires_at".to_owned(), n(session.expires_at)),
        ("revoked".to_owned(), AttributeValue::Bool(false)),
        ("epoch".to_owned(), n(epoch)),
        ("amr".to_owned(), s(session.amr.as_str())),
        (TTL.to_owned(), n(session.expires_at)),
    ]);
    if let Some(agent) = &session.user_agent {
        let agent: String = agent.chars().take(MAX_USER_AGENT_CHARS).collect();
        item.insert("user_agent".to_owned(), s(agent));
    }
    if let Some(ip) = &session.source_ip {
        item.insert("source_ip".to_owned(), s(ip.as_str()));
    }
    if let Some(client) = &session.client {
        item.insert("client".to_owned(), s(client.as_str()));
    }
    item
}

impl DynamoStore {
    async fn revoke(&self, user_id: UserId, session_id: &str) -> Result<(), StoreError> {
        let values = HashMap::from([(":true".to_owned(), AttributeValue::Bool(true))]);
        self.update_if_exists(
            session_key(user_id, session_id),
            "SET revoked = :true",
            values,
            "DynamoDB UpdateItem (revoke session) failed",
        )
        .await
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.get(key("HEALTH".into(), "HEALTH")).await.map(drop)
    }

    async fn warm_up(&self, family: WarmUp) -> Result<(), StoreError> {
        match family {
            WarmUp::None => Ok(()),
            WarmUp::Health => self.ping().await,
            // User ids start at 1: `USER#0` never exists.
            WarmUp::UserPartition => self.get(key("USER#0".into(), "PROFILE")).await.map(drop),
            WarmUp::UserPartitionBatch => {
                let keys = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                    .keys(key("USER#0".into(), "PROFILE"))
                    .build()
                    .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
                self.client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| unavailable_or_unexpected(e, "DynamoDB BatchGetItem failed"))
            }
        }
    }

    #[tracing::instrument(skip_all)]
    async fn create_user(&self, new: NewUser) -> Result<User, CreateUserError> {
        let counter = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key("COUNTER".into(), "USER_ID")))
            .update_expression("ADD #value :one")
            .expression_attribute_names("#value", "value")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| unavailable_or_unexpected(e, "DynamoDB UpdateItem (user id counter) failed"))?;
        let id = counter
            .attributes
            .as_ref()
            .and_then(|a| read_number(a, "value").ok())
            .and_then(UserId::new)
            .ok_or_else(|| {
                StoreError::Unexpected(anyhow!("the user id counter returned no positive value"))
            })?;
        let user = User {
            id,
            username: new.username,
            email: new.email,
            created_at: new.created_at,
            avatar: None,
            is_verified: false,
        };
        let copies = [
            profile_key(id),
            username_key(&user.username.key()),
            email_key(&user.email.key()),
        ];
        let mut items = Vec::with_capacity(4);
        for item_key in copies {
            let mut item = user_attributes(&user, &new.password_hash, 0, 0, false);
            item.extend(item_key);
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)")
                .build()
                .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        // The registration email's count, in the same transaction (no condition: a new address has
        // no state to keep).
        let first_email = Put::builder()
            .table_name(&self.table)
            .set_item(Some(email_send_item(
                &new.first_email.address_key,
                &new.first_email.state,
            )))
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        items.push(TransactWriteItem::builder().put(first_email).build());
        // The job that sends the verification email.
        items.push(self.put_job(&new.job.for_user(id))?);
        match self.transact(items).await? {
            Outcome::Committed => Ok(user),
            Outcome::ConditionFailed(1) => Err(CreateUserError::UsernameTaken),
            Outcome::ConditionFailed(2) => Err(CreateUserError::EmailTaken),
            Outcome::ConditionFailed(_) => {
                Err(StoreError::Unexpected(anyhow!("user id {id} was allocated twice")).into())
            }
        }
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        self.get(profile_key(id))
            .await?
            .as_ref()
            .map(user_record)
            .transpose()
    }

    async fn user_by_username(&self, key: &str) -> Result<Option<UserRecord>, StoreError> {
        self.get(username_key(key))
            .await?
            .as_ref()
            .map(user_record)
            .transpose()
    }

    async fn user_by_email(&self, key: &str) -> Result<Option<UserRecord>, StoreError> {
        self.get(email_key(key))
            .await?
            .as_ref()
            .map(user_record)
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn mark_email_verified(&self, id: UserId, email: &Email) -> Result<Verification, StoreError> {
        let Some(record) = self.user_by_id(id).await? else {
            return Ok(Verification::NoMatch);
        };
        if record.user.email.key() != email.key() {
            return Ok(Verification::NoMatch);
        }
        if record.user.is_verified {
            return Ok(Verification::AlreadyVerified);
        }
        let values = HashMap::from([(":true".to_owned(), AttributeValue::Bool(true))]);
        let expression = "SET is_verified = :true";
        let mut items = vec![self.update(
            profile_key(id),
            expression,
            "attribute_exists(PK)",
            values.clone(),
        )?];
        items.extend(self.guard_updates(&record.user, expression, &values)?);
        match self.transact(items).await? {
            Outcome::Committed => Ok(Verification::Verified),
            Outcome::ConditionFailed(_) => Ok(Verification::NoMatch),
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = %reset.user.id))]
    async fn replace_password(&self, reset: &PasswordReset) -> Result<bool, StoreError> {
        let user = &reset.user;
        let values = HashMap::from([
            (":hash".to_owned(), s(reset.hash.as_str())),
            (":next".to_owned(), n(reset.password_version + 1)),
            (
                ":revoked".to_owned(),
                n(next_revocation(reset.sessions_revoked_at)),
            ),
        ]);
        let expression =
            "SET password_hash = :hash, password_version = :next, sessions_revoked_at = :revoked";
        // Only the user as the reset read them: the same password version (single use), the same
        // epoch (so it only moves forward) and the same email (whose guard is updated below).
        let mut profile_values = values.clone();
        profile_values.extend([
            (":pv".to_owned(), n(reset.password_version)),
            (":epoch".to_owned(), n(reset.sessions_revoked_at)),
            (":ek".to_owned(), s(user.email.key())),
        ]);
        // The update also ends every session, in the same transaction, on every copy.
        let mut items = vec![self.update(
            profile_key(user.id),
            expression,
            "password_version = :pv AND sessions_revoked_at = :epoch AND email_key = :ek",
            profile_values,
        )?];
        items.extend(self.guard_updates(user, expression, &values)?);
        match self.transact(items).await? {
            Outcome::Committed => Ok(true),
            Outcome::ConditionFailed(_) => Ok(false),
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = %session.user_id))]
    async fn create_session(
        &self,
        session: &NewSession,
        login_key: Option<&str>,
    ) -> Result<bool, StoreError> {
        let item = session_item(session, session.precondition.sessions_revoked_at);
        // The user as the login read them, checked in the same transaction.
        let unchanged = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(profile_key(session.user_id)))
            .condition_expression("password_version = :pv AND sessions_revoked_at = :revoked")
            .expression_attribute_values(":pv", n(session.precondition.password_version))
            .expression_attribute_values(":revoked", n(session.precondition.sessions_revoked_at))
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        // The user check last, so that its index names it whatever comes before.
        let mut items = vec![self.put(item, "attribute_not_exists(PK)", None)?];
        if let Some(login_key) = login_key {
            let clear = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(login_attempts_key(login_key)))
                .build()
                .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
            items.push(TransactWriteItem::builder().delete(clear).build());
        }
        let check = items.len();
        items.push(TransactWriteItem::builder().condition_check(unchanged).build());
        match self.transact(items).await? {
            Outcome::Committed => Ok(true),
            Outcome::ConditionFailed(index) if index == check => Ok(false),
            Outcome::ConditionFailed(_) => Err(StoreError::Unexpected(anyhow!("session id collision"))),
        }
    }

    async fn begin_login_attempt(
        &self,
        login_key: &str,
        now_ms: i64,
        backoff: &LoginBackoff,
    ) -> Result<Gate, StoreError> {
        self.count_login(login_key, now_ms, backoff).await
    }

    async fn clear_login_attempts(&self, login_key: &str) -> Result<(), StoreError> {
        self.forget_login_attempts(login_key).await
    }

    async fn claim_email_send(
        &self,
        address_key: &str,
        now: i64,
        throttle: &EmailThrottle,
    ) -> Result<bool, StoreError> {
        self.claim_send(address_key, now, throttle).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %rotation.user_id))]
    async fn rotate_session(&self, rotation: &Rotation) -> Result<RotationOutcome, StoreError> {
        let (session, profile) = (
            session_key(rotation.user_id, &rotation.session_id),
            profile_key(rotation.user_id),
        );
        let (profile_item, session_item) = self
            .profile_and_session(rotation.user_id, &rotation.session_id)
            .await?;
        let (Some(session_item), Some(profile_item)) = (&session_item, &profile_item) else {
            return Ok(RotationOutcome::Invalid);
        };
        let read = || -> anyhow::Result<(String, bool, i64, i64, i64)> {
            Ok((
                read_string(session_item, "current_token_id")?,
                read_bool(session_item, "revoked")?,
                read_number(session_item, "expires_at")?,
                read_number(session_item, "epoch")?,
                read_number(profile_item, "sessions_revoked_at")?,
            ))
        };
        let (current, revoked, expires_at, epoch, revoked_before) =
            read().map_err(|e| StoreError::Unexpected(e.context("Malformed session item")))?;
        // Revoked by a logout-all or a password change since its login: the epochs differ. No
        // clocks are compared.
        if revoked || expires_at < rotation.now || epoch != revoked_before {
            return Ok(RotationOutcome::Invalid);
        }
        if current != rotation.presented_token_id {
            self.revoke(rotation.user_id, &rotation.session_id).await?;
            return Ok(RotationOutcome::ReuseDetected);
        }
        let mut values = HashMap::from([
            (":next".to_owned(), s(rotation.next_token_id.as_str())),
            (":used".to_owned(), n(now_ms())),
            (":presented".to_owned(), s(rotation.presented_token_id.as_str())),
            (":false".to_owned(), AttributeValue::Bool(false)),
        ]);
        let mut set = "SET current_token_id = :next, last_used_at_ms = :used".to_owned();
        let mut update = Update::builder();
        if let Some(ends_at) = rotation.ends_at {
            // The item's TTL moves with its end, or DynamoDB would delete the live session.
            set.push_str(", expires_at = :ends, #ttl = :ends");
            values.insert(":ends".to_owned(), n(ends_at));
            update = update.expression_attribute_names("#ttl", TTL);
        }
        let update = update
            .table_name(&self.table)
            .set_key(Some(session))
            .update_expression(set)
            .condition_expression("current_token_id = :presented AND revoked = :false")
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        let rotate = TransactWriteItem::builder().update(update).build();
        let still_live = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(profile))
            .condition_expression("sessions_revoked_at = :seen")
            .expression_attribute_values(":seen", n(revoked_before))
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        match self
            .transact(vec![
                rotate,
                TransactWriteItem::builder().condition_check(still_live).build(),
            ])
            .await?
        {
            Outcome::Committed => Ok(RotationOutcome::Rotated),
            // Rotated (or revoked) by a concurrent request: the presented token is retired now.
            Outcome::ConditionFailed(0) => {
                self.revoke(rotation.user_id, &rotation.session_id).await?;
                Ok(RotationOutcome::ReuseDetected)
            }
            Outcome::ConditionFailed(_) => Ok(RotationOutcome::Invalid),
        }
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
        self.live_sessions(user_id, now).await
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

    async fn change_password(&self, change: &PasswordChange) -> Result<bool, StoreError> {
        self.replace_password_keeping(change).await
    }

    async fn begin_email_change(
        &self,
        user_id: UserId,
        change_id: &str,
        job: &JobRecord,
    ) -> Result<bool, StoreError> {
        self.record_pending_email_change(user_id, change_id, job).await
    }

    async fn change_email(&self, change: &EmailChange) -> Result<EmailChangeOutcome, StoreError> {
        self.move_email(change).await
    }

    async fn delete_user(&self, deletion: &UserDeletion) -> Result<bool, StoreError> {
        self.delete_user_and_queue_purge(deletion).await
    }

    async fn purge_user(
        &self,
        user_id: UserId,
        abuse_keys: &AbuseKeys,
        deadline: tokio::time::Instant,
    ) -> Result<PurgeProgress, StoreError> {
        self.purge_partition(user_id, abuse_keys, deadline).await
    }

    async fn enqueue_job(&self, job: &JobRecord) -> Result<(), StoreError> {
        self.write_job(job).await
    }

    async fn finish_job(&self, id: &str) -> Result<(), StoreError> {
        self.delete_job(id).await
    }

    async fn replace_job(&self, id: &str, next: &JobRecord) -> Result<(), StoreError> {
        self.swap_job(id, next).await
    }

    async fn pending_jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        self.scan_jobs().await
    }
}
