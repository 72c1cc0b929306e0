//! Deleting a user in the DynamoDB adapter.
//!
//! 1. One transaction deletes the profile (only if the password is still the one checked) and
//!    both guard copies, and puts a purge marker (`PURGE` / `USER#<id>`, holding the user's abuse
//!    keys). From then on nobody can log in as the user, their username and email are free, every
//!    token of theirs is refused (each guarded write checks the profile), and the user id is never
//!    handed out again (the counter only grows).
//! 2. The purge deletes everything left in the user's partition (sessions, contacts, contact
//!    email guards) and their abuse state, 25 keys per `BatchWriteItem` (DynamoDB's limit),
//!    however many pages the partition has; then the marker.
//!
//! Every step of the purge deletes by key, so running it again is harmless. A purge cut short (a
//! timeout, a crash) leaves its marker, and a later deletion finishes it after its own.

use std::time::Duration;

use anyhow::anyhow;
use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
use futures_util::future::try_join_all;

use super::{
    DynamoStore, Item, Outcome, PK, SK, email_key, email_sends_key, key, login_attempts_key, profile_key,
    read_number, read_string, s, unavailable_or_unexpected, username_key,
};
use crate::domain::UserId;
use crate::store::{AbuseKeys, StoreError, UserDeletion};

/// DynamoDB's most write requests per `BatchWriteItem`.
const BATCH_LIMIT: usize = 25;
/// Batches in flight at once (the function's one vCPU mostly waits on the network).
const PARALLEL_BATCHES: usize = 8;
/// Tries of a batch whose items DynamoDB returned unprocessed (throttling).
const BATCH_ATTEMPTS: u32 = 8;
/// Pending purges an incoming deletion finishes before its own.
const PENDING_PER_DELETION: i32 = 5;

const PURGE_PK: &str = "PURGE";

/// Age past which a purge marker counts as abandoned (longer than any function's timeout).
const PENDING_AFTER_MS: i64 = 120_000;

fn marker_key(user_id: UserId) -> Item {
    key(PURGE_PK.to_owned(), &format!("USER#{user_id}"))
}

impl DynamoStore {
    pub(super) async fn delete_and_purge(&self, deletion: &UserDeletion) -> Result<bool, StoreError> {
        let user = &deletion.user;
        let mut marker = marker_key(user.id);
        let keys =
            serde_json::to_string(&deletion.abuse_keys).map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        marker.extend([
            ("user_id".to_owned(), super::n(user.id.get())),
            ("abuse_keys".to_owned(), s(keys)),
            ("created_at_ms".to_owned(), super::n(super::now_ms())),
        ]);
        let id = Item::from([(":id".to_owned(), super::n(user.id.get()))]);
        let items = vec![
            // Only the user as checked: same password, same email (an email change moves the
            // guards; a deletion must never remove a guard another user owns by then).
            self.delete(
                profile_key(user.id),
                "password_version = :pv AND email_key = :ek",
                Some(Item::from([
                    (":pv".to_owned(), super::n(deletion.password_version)),
                    (":ek".to_owned(), s(user.email.key())),
                ])),
            )?,
            self.delete(username_key(&user.username.key()), "id = :id", Some(id.clone()))?,
            self.delete(email_key(&user.email.key()), "id = :id", Some(id))?,
            self.put(marker, "attribute_not_exists(PK)", None)?,
        ];
        match self.transact(items).await? {
            Outcome::Committed => {}
            Outcome::ConditionFailed(_) => return Ok(false),
        }
        // The user is unreachable from here on: the answer is a success whatever the purge does.
        // A purge cut short keeps its marker, and a later deletion finishes it.
        if let Err(e) = self.purge(user.id, &deletion.abuse_keys).await {
            tracing::warn!(user_id = %user.id, error = ?e, "purge cut short; a later deletion finishes it");
            return Ok(true);
        }
        if let Err(e) = self.finish_pending_purges(user.id).await {
            tracing::warn!(error = ?e, "could not finish an earlier deletion's purge");
        }
        Ok(true)
    }

    /// Finishes the purges that earlier deletions started and did not end: markers older than
    /// [`PENDING_AFTER_MS`] (a younger one belongs to a deletion that may still be running).
    async fn finish_pending_purges(&self, done: UserId) -> Result<(), StoreError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(PURGE_PK))
            .limit(PENDING_PER_DELETION)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable_or_unexpected(e, "DynamoDB Query (pending purges) failed"))?;
        for marker in page.items() {
            let read = || -> anyhow::Result<(UserId, AbuseKeys)> {
                let id = read_number(marker, "user_id")?;
                let keys = serde_json::from_str(&read_string(marker, "abuse_keys")?)?;
                Ok((UserId::new(id).ok_or_else(|| anyhow!("user id {id}"))?, keys))
            };
            let (user_id, keys) =
                read().map_err(|e| StoreError::Unexpected(e.context("Malformed purge marker")))?;
            let age = super::now_ms() - read_number(marker, "created_at_ms").unwrap_or(0);
            if user_id == done || age < PENDING_AFTER_MS {
                continue;
            }
            tracing::info!(user_id = %user_id, "finishing an earlier deletion's purge");
            self.purge(user_id, &keys).await?;
        }
        Ok(())
    }

    /// Deletes what is left of a user whose profile and guards are gone, then the marker.
    async fn purge(&self, user_id: UserId, abuse: &AbuseKeys) -> Result<(), StoreError> {
        let mut keys: Vec<Item> = abuse
            .login
            .iter()
            .map(|k| login_attempts_key(k))
            .chain(abuse.email_sends.iter().map(|k| email_sends_key(k)))
            .collect();
        // Only the key attributes: a page then holds thousands of items.
        for item in self.query_partition(user_id, None, Some("PK, SK")).await? {
            keys.push(Item::from_iter(
                [PK, SK]
                    .into_iter()
                    .filter_map(|name| Some((name.to_owned(), item.get(name)?.clone()))),
            ));
        }
        let count = keys.len();
        let batches: Vec<Vec<Item>> = keys.chunks(BATCH_LIMIT).map(<[Item]>::to_vec).collect();
        for wave in batches.chunks(PARALLEL_BATCHES) {
            try_join_all(wave.iter().map(|batch| self.delete_batch(batch))).await?;
        }
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(marker_key(user_id)))
            .send()
            .await
            .map_err(|e| unavailable_or_unexpected(e, "DynamoDB DeleteItem (purge marker) failed"))?;
        tracing::info!(user_id = %user_id, items = count, "purged a deleted user's data");
        Ok(())
    }

    /// One `BatchWriteItem` of deletes, retried with backoff until DynamoDB has processed all.
    async fn delete_batch(&self, keys: &[Item]) -> Result<(), StoreError> {
        let mut requests = keys
            .iter()
            .map(|key| {
                let delete = DeleteRequest::builder()
                    .set_key(Some(key.clone()))
                    .build()
                    .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        for attempt in 0..BATCH_ATTEMPTS {
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(|e| unavailable_or_unexpected(e, "DynamoDB BatchWriteItem (purge) failed"))?;
            requests = output
                .unprocessed_items
                .and_then(|mut left| left.remove(&self.table))
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(25 << attempt.min(5))).await;
        }
        Err(StoreError::Unavailable(anyhow!(
            "DynamoDB left purge deletes unprocessed after {BATCH_ATTEMPTS} tries"
        )))
    }
}
