//! Whether an access token still speaks for a live session, in the DynamoDB adapter. The routes
//! that manage the account refuse a token whose session has ended; they read the session's item
//! beside the profile in one `BatchGetItem` (in place of the profile read they did anyway): a
//! session is live while it is not revoked, not expired, and its `epoch` is the profile's
//! `sessions_revoked_at` (see the module doc of [`super`]). A logout checks in its write that the
//! user still exists, so that a deleted user's refresh token is refused.

use std::collections::HashMap;

use anyhow::anyhow;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, KeysAndAttributes, TransactWriteItem};

use super::account::live_session;
use super::users::{next_revocation, user_record};
use super::{
    DynamoStore, Item, Outcome, SK, n, profile_key, read_number, session_key, unavailable_or_unexpected,
};
use crate::domain::{UserId, UserRecord};
use crate::store::{SessionEnd, StoreError};

/// How often a revoke-all is retried when a concurrent change to the user got there first.
const REVOKE_ATTEMPTS: usize = 3;

/// The profile's revocation epoch.
fn epoch_of(profile: &Item) -> i64 {
    // Items written before the epoch existed count as never revoked.
    read_number(profile, "sessions_revoked_at").unwrap_or(0)
}

impl DynamoStore {
    /// The user's profile and one of their session items, in one consistent `BatchGetItem`.
    pub(super) async fn profile_and_session(
        &self,
        user_id: UserId,
        session_id: &str,
    ) -> Result<(Option<Item>, Option<Item>), StoreError> {
        let (profile, session) = (profile_key(user_id), session_key(user_id, session_id));
        let keys = KeysAndAttributes::builder()
            .keys(profile.clone())
            .keys(session.clone())
            .consistent_read(true)
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        let output = self
            .client
            .batch_get_item()
            .request_items(&self.table, keys)
            .send()
            .await
            .map_err(|e| unavailable_or_unexpected(e, "DynamoDB BatchGetItem failed"))?;
        if output.unprocessed_keys.as_ref().is_some_and(|u| !u.is_empty()) {
            return Err(StoreError::Unavailable(anyhow!(
                "DynamoDB BatchGetItem left keys unprocessed"
            )));
        }
        let mut items = output
            .responses
            .and_then(|mut r| r.remove(&self.table))
            .unwrap_or_default();
        let mut take = |sk: &AttributeValue| {
            items
                .iter()
                .position(|item| item.get(SK) == Some(sk))
                .map(|at| items.swap_remove(at))
        };
        Ok((take(&profile[SK]), take(&session[SK])))
    }

    /// The profile, if `session_id` is one of the user's live sessions at `now`.
    async fn profile_in_session(
        &self,
        user_id: UserId,
        session_id: &str,
        now: i64,
    ) -> Result<Option<Item>, StoreError> {
        let (Some(profile), Some(session)) = self.profile_and_session(user_id, session_id).await? else {
            return Ok(None);
        };
        let live = live_session(&session, epoch_of(&profile), now)
            .map_err(|e| StoreError::Unexpected(e.context("Malformed session item")))?;
        Ok(live.map(|_| profile))
    }

    pub(super) async fn user_in_live_session(
        &self,
        user_id: UserId,
        session_id: &str,
        now: i64,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.profile_in_session(user_id, session_id, now)
            .await?
            .as_ref()
            .map(user_record)
            .transpose()
    }

    /// Reads the profile beside the caller's session, then revokes the target only if it is
    /// live in the profile's epoch.
    pub(super) async fn end_session_on_behalf(
        &self,
        user_id: UserId,
        own_session_id: &str,
        session_id: &str,
        now: i64,
    ) -> Result<SessionEnd, StoreError> {
        let Some(profile) = self.profile_in_session(user_id, own_session_id, now).await? else {
            return Ok(SessionEnd::CallerEnded);
        };
        Ok(
            if self
                .end_session_in_epoch(user_id, session_id, epoch_of(&profile), now)
                .await?
            {
                SessionEnd::Ended
            } else {
                SessionEnd::NotFound
            },
        )
    }

    /// A new epoch on every copy of the user, in one transaction that also checks the caller's
    /// session is not revoked (the profile's condition covers the epoch): sessions of older
    /// epochs end, and a login that read the old one cannot create its session. Retried if a
    /// concurrent change to the user got there first, after which the caller's session has
    /// usually ended (a logout-all, a reset, a password or email change all move the epoch).
    pub(super) async fn revoke_all_from(
        &self,
        user_id: UserId,
        own_session_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        for _ in 0..REVOKE_ATTEMPTS {
            let Some(profile) = self.profile_in_session(user_id, own_session_id, now).await? else {
                return Ok(false);
            };
            let record = user_record(&profile)?;
            let values = HashMap::from([(
                ":revoked".to_owned(),
                n(next_revocation(record.sessions_revoked_at)),
            )]);
            let expression = "SET sessions_revoked_at = :revoked";
            let mut profile_values = values.clone();
            profile_values.insert(":seen".into(), n(record.sessions_revoked_at));
            let mut items = vec![self.update(
                profile_key(user_id),
                expression,
                "sessions_revoked_at = :seen",
                profile_values,
            )?];
            items.extend(self.guard_updates(&record.user, expression, &values)?);
            let own_live = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(session_key(user_id, own_session_id)))
                .condition_expression("revoked = :false")
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .build()
                .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
            let own_check = items.len();
            items.push(TransactWriteItem::builder().condition_check(own_live).build());
            match self.transact(items).await? {
                Outcome::Committed => return Ok(true),
                Outcome::ConditionFailed(index) if index == own_check => return Ok(false),
                Outcome::ConditionFailed(_) => {}
            }
        }
        Err(StoreError::Unavailable(anyhow!(
            "the user changed during every attempt to revoke their sessions"
        )))
    }

    /// One transaction: the profile still exists (checked first, so that its refusal is the one
    /// reported), and the session is revoked if its item exists (an unknown or purged one has
    /// nothing to end).
    pub(super) async fn end_session_if_user_exists(
        &self,
        user_id: UserId,
        session_id: &str,
    ) -> Result<bool, StoreError> {
        let user_exists = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(profile_key(user_id)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        let revoke = self.update(
            session_key(user_id, session_id),
            "SET revoked = :true",
            "attribute_exists(PK)",
            HashMap::from([(":true".to_owned(), AttributeValue::Bool(true))]),
        )?;
        match self
            .transact(vec![
                TransactWriteItem::builder().condition_check(user_exists).build(),
                revoke,
            ])
            .await?
        {
            Outcome::ConditionFailed(0) => Ok(false),
            Outcome::Committed | Outcome::ConditionFailed(_) => Ok(true),
        }
    }
}
