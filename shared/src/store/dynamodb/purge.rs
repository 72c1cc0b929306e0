//! Deleting a user in the DynamoDB adapter.
//!
//! 1. One transaction deletes the profile (only if the password is still the one checked and the
//!    email the one read) and both guard copies (only if still this user's), and writes the purge
//!    job (crate::jobs). From then on nobody can log in as the user, their username and email are
//!    free, every token of theirs is refused (every route reads or checks the profile), and the
//!    user id is never handed out again (the counter only grows).
//! 2. The job, run by the `worker` function from the table's stream, deletes everything left in
//!    the user's partition (sessions, contacts, contact email guards, passkeys, after the passkeys'
//!    credential-id guards) page by page, 25 keys per
//!    `BatchWriteItem`, paced below one partition's write throughput, then the abuse state. Out
//!    of time, it leaves a fresh job for the rest (crate::jobs::run).
//!
//! Every step deletes by key, so running it again is harmless, and no reader ever sees a part:
//! the profile is gone first.

use std::time::Duration;

use anyhow::anyhow;
use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
use futures_util::future::try_join_all;
use tokio::time::Instant;

use super::{
    DynamoStore, Item, Outcome, PK, SK, email_key, email_sends_key, login_attempts_key, profile_key, s,
    unavailable_or_unexpected, username_key,
};
use crate::domain::UserId;
use crate::store::{AbuseKeys, PurgeProgress, StoreError, UserDeletion};

/// DynamoDB's most write requests per `BatchWriteItem`.
const BATCH_LIMIT: usize = 25;
/// Batches in flight at once (the function mostly waits on the network).
const PARALLEL_BATCHES: usize = 8;
/// Keys read per page of the partition.
const PAGE_SIZE: i32 = 1000;
/// Tries of a batch whose items DynamoDB returned unprocessed (throttling).
const BATCH_ATTEMPTS: u32 = 8;
/// Deletes per second: 80% of one partition's 1,000 write units, so that the user's partition
/// (and whoever shares it) is never throttled by its own purge.
pub const PURGE_WRITES_PER_SECOND: u64 = 800;

impl DynamoStore {
    pub(super) async fn delete_user_and_queue_purge(
        &self,
        deletion: &UserDeletion,
    ) -> Result<bool, StoreError> {
        let user = &deletion.user;
        let id = super::Item::from([(":id".to_owned(), super::n(user.id.get()))]);
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
            self.put_job(&deletion.purge)?,
        ];
        Ok(matches!(self.transact(items).await?, Outcome::Committed))
    }

    /// Deletes what is left of a deleted user, paced, until done or `deadline`.
    pub(super) async fn purge_partition(
        &self,
        user_id: UserId,
        abuse: &AbuseKeys,
        deadline: Instant,
    ) -> Result<PurgeProgress, StoreError> {
        let started = Instant::now();
        // The credential-id guards of the user's passkeys live outside the partition: they go
        // first, while the passkeys that name them are still there for a rerun to find.
        let guards: Vec<Item> = self
            .query_partition(user_id, Some("PASSKEY#"), Some("credential_id"))
            .await?
            .iter()
            .filter_map(|item| super::read_string(item, "credential_id").ok())
            .map(|credential_id| super::key(format!("CREDENTIAL#{credential_id}"), "CREDENTIAL"))
            .collect();
        for batch in guards.chunks(BATCH_LIMIT) {
            self.delete_batch(batch).await?;
        }
        let mut deleted = guards.len();
        loop {
            let keys = self.partition_keys(user_id).await?;
            if keys.is_empty() {
                break;
            }
            for wave in keys.chunks(BATCH_LIMIT * PARALLEL_BATCHES) {
                // Paced: this wave starts no sooner than the rate allows for what went before.
                let due = started + Duration::from_millis(deleted as u64 * 1000 / PURGE_WRITES_PER_SECOND);
                if due >= deadline || Instant::now() >= deadline {
                    return Ok(PurgeProgress::More { items: deleted });
                }
                tokio::time::sleep_until(due).await;
                try_join_all(wave.chunks(BATCH_LIMIT).map(|batch| self.delete_batch(batch))).await?;
                deleted += wave.len();
            }
        }
        let abuse_keys: Vec<Item> = abuse
            .login
            .iter()
            .map(|k| login_attempts_key(k))
            .chain(abuse.email_sends.iter().map(|k| email_sends_key(k)))
            .collect();
        for batch in abuse_keys.chunks(BATCH_LIMIT) {
            self.delete_batch(batch).await?;
        }
        Ok(PurgeProgress::Done {
            items: deleted + abuse_keys.len(),
        })
    }

    /// The keys of the first page of the user's partition (only the key attributes: a page then
    /// holds a thousand items in a few dozen KB).
    async fn partition_keys(&self, user_id: UserId) -> Result<Vec<Item>, StoreError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(format!("USER#{user_id}")))
            .projection_expression("PK, SK")
            .consistent_read(true)
            .limit(PAGE_SIZE)
            .send()
            .await
            .map_err(|e| unavailable_or_unexpected(e, "DynamoDB Query (purge) failed"))?;
        Ok(page
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                Item::from_iter(
                    [PK, SK]
                        .into_iter()
                        .filter_map(|name| Some((name.to_owned(), item.get(name)?.clone()))),
                )
            })
            .collect())
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
        // The job fails and is retried (the stream's retries, then its dead-letter queue).
        Err(StoreError::Unavailable(anyhow!(
            "DynamoDB left purge deletes unprocessed after {BATCH_ATTEMPTS} tries"
        )))
    }
}
