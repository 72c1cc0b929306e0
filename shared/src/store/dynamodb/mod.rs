//! The DynamoDB adapter: one table, single-table design (see DESIGN.md, "Storage").
//!
//! | item | PK | SK |
//! |---|---|---|
//! | user (profile; with its second-factor state, [`mfa`]) | `USER#<id>` | `PROFILE` |
//! | username guard, a full copy of the user | `USERNAME#<username key>` | `USERNAME` |
//! | email guard, a full copy of the user | `EMAIL#<email key>` | `EMAIL` |
//! | session (one login's refresh-token family) | `USER#<id>` | `SESSION#<session id>` |
//! | user id counter | `COUNTER` | `USER_ID` |
//! | contact | `USER#<id>` | `CONTACT#<contact id, 20 digits>` |
//! | contact email guard (holds the contact id) | `USER#<id>` | `CONTACTEMAIL#<email key>` |
//! | login backoff state of an identifier (with `ttl`) | `LOGIN#<keyed hash>` | `LOGIN` |
//! | email-send count of an address (with `ttl`) | `MAILSEND#<keyed hash>` | `MAILSEND` |
//! | passkey, credential-id guard, ceremony state: see [`passkeys`] | `USER#<id>`, `CREDENTIAL#...`, `CHALLENGE#...` | |
//! | a background job (crate::jobs): the purge of a deleted user, an email (with `ttl`) | `JOB#<id>` | `JOB` |
//!
//! A user's contacts live in the user's partition, so listing them is one `Query` (paged by
//! DynamoDB per MB); zero-padded ids keep them in id order. Contact ids come from the profile's
//! `contact_seq` counter (`ADD`), never reused.
//!
//! The guard items make username and email unique (`attribute_not_exists` in the transaction
//! that creates the user) and carry a copy of the user, so that login is one `GetItem`. Every
//! change to a user updates the three copies in one `TransactWriteItems`. "Log out everywhere"
//! moves the user's revocation epoch (`sessions_revoked_at`, on every copy); a session is live
//! only while its own `epoch` is the profile's, and a login creates its session only if the
//! epoch and the password version are still those it read (a condition check in the same
//! transaction). Expiry is checked in code and mirrored in the `ttl` attribute, which DynamoDB
//! deletes late (or, in emulators, never): an item past its `ttl` counts as absent.
//!
//! Deleting a user is one transaction that deletes the three copies (so nothing can find them,
//! and their username and email are free) and writes a purge job; the `worker` function, invoked
//! by the table's stream, then deletes the user's partition and abuse state in paced pages.
//! Contact writes check the profile in the same write, so a deleted user's unexpired token
//! writes nothing. Every email leaves as a job too, written with the change that makes it.
//!
//! Files: this one holds the table, keys and shared write helpers; [`users`] the users and
//! sessions, [`account`] the signed-in user's self-service (session list, password and email
//! changes), [`liveness`] whether an access token's session is still live, [`purge`] the
//! deletion, [`mfa`] second factors, [`jobs`] the background jobs, [`abuse`] the backoff and send-count state, [`contacts`]
//! the contacts.

use std::collections::HashMap;

use anyhow::{Context, anyhow};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CancellationReason, Delete, KeySchemaElement, KeyType,
    Put, ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
    TransactWriteItem, Update,
};
use chrono::Utc;

use super::StoreError;
use crate::aws::is_transient;
use crate::domain::{ContactId, User, UserId};

/// The table's key schema and TTL attribute: template.yaml declares exactly these (a test checks).
pub mod schema {
    pub const PARTITION_KEY: &str = "PK";
    pub const SORT_KEY: &str = "SK";
    pub const TTL_ATTRIBUTE: &str = "ttl";
    /// The stream carries each new item's image (the worker reads job items from it).
    pub const STREAM_VIEW_TYPE: &str = "NEW_IMAGE";
}
use schema::{PARTITION_KEY as PK, SORT_KEY as SK, TTL_ATTRIBUTE as TTL};

mod abuse;
mod account;
mod contacts;
pub mod jobs;
mod liveness;
mod mfa;
mod passkeys;
mod purge;
mod users;

type Item = HashMap<String, AttributeValue>;

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

fn profile_key(id: UserId) -> Item {
    key(format!("USER#{id}"), "PROFILE")
}

fn username_key(username_key: &str) -> Item {
    key(format!("USERNAME#{username_key}"), "USERNAME")
}

fn email_key(email_key: &str) -> Item {
    key(format!("EMAIL#{email_key}"), "EMAIL")
}

fn session_key(user_id: UserId, session_id: &str) -> Item {
    key(format!("USER#{user_id}"), &format!("SESSION#{session_id}"))
}

fn contact_key(user_id: UserId, id: ContactId) -> Item {
    key(format!("USER#{user_id}"), &format!("CONTACT#{:020}", id.get()))
}

fn contact_email_key(user_id: UserId, email_key: &str) -> Item {
    key(format!("USER#{user_id}"), &format!("CONTACTEMAIL#{email_key}"))
}

fn login_attempts_key(login_key: &str) -> Item {
    key(format!("LOGIN#{login_key}"), "LOGIN")
}

fn email_sends_key(address_key: &str) -> Item {
    key(format!("MAILSEND#{address_key}"), "MAILSEND")
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn unavailable_or_unexpected<E, R>(error: SdkError<E, R>, what: &'static str) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if is_transient(&error) {
        StoreError::Unavailable(anyhow!(error).context(what))
    } else {
        StoreError::Unexpected(anyhow!(error).context(what))
    }
}

/// The result of a conditional write: `Ok(None)` when its condition refused it (an answer, not
/// a failure), 503 or 500 for anything else.
fn conditional<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    what: &'static str,
) -> Result<Option<T>, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(output) => Ok(Some(output)),
        Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException") => {
            Ok(None)
        }
        Err(e) => Err(unavailable_or_unexpected(e, what)),
    }
}

/// What a cancelled transaction says about each of its items, in order.
fn cancellation_codes<R>(
    error: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> Option<Vec<String>> {
    match error {
        SdkError::ServiceError(service) => match service.err() {
            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e) => Some(
                e.cancellation_reasons()
                    .iter()
                    .map(|r: &CancellationReason| r.code().unwrap_or("None").to_owned())
                    .collect(),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// How a transaction ended: committed, refused by the condition of item `index`, or failed.
enum Outcome {
    Committed,
    ConditionFailed(usize),
}

fn read_string(item: &Item, name: &str) -> anyhow::Result<String> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(anyhow!("attribute {name} missing or not a string")),
    }
}

fn read_number(item: &Item, name: &str) -> anyhow::Result<i64> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value
            .parse()
            .with_context(|| format!("attribute {name} is not an integer")),
        _ => Err(anyhow!("attribute {name} missing or not a number")),
    }
}

fn read_bool(item: &Item, name: &str) -> anyhow::Result<bool> {
    match item.get(name) {
        Some(AttributeValue::Bool(value)) => Ok(*value),
        _ => Err(anyhow!("attribute {name} missing or not a boolean")),
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Creates the table with exactly template.yaml's schema if it does not exist (used only
    /// against a local emulator, when `AWS_ENDPOINT_URL` is set).
    pub async fn ensure_table(&self) -> anyhow::Result<()> {
        if self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute(PK)?)
            .attribute_definitions(attribute(SK)?)
            .key_schema(key(PK, KeyType::Hash)?)
            .key_schema(key(SK, KeyType::Range)?)
            // Job items reach the worker function through the stream (crate::jobs).
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewImage)
                    .build()?,
            )
            .deletion_protection_enabled(false)
            .send()
            .await;
        if let Err(e) = created {
            // Another process may have created it meanwhile.
            if !e
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception())
            {
                return Err(anyhow!(e).context(format!("Failed to create table {}", self.table)));
            }
        }
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL)
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await
            .with_context(|| format!("Failed to enable TTL on {}", self.table))?;
        tracing::info!(table = %self.table, "created the DynamoDB table");
        Ok(())
    }

    async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable_or_unexpected(e, "DynamoDB GetItem failed"))?;
        Ok(output.item)
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Outcome, StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            // The SDK retries a transaction that timed out; the token makes a retry of one that
            // had committed answer as the first attempt did (DynamoDB keeps it 10 minutes),
            // instead of failing its own conditions.
            .client_request_token(uuid::Uuid::new_v4().simple().to_string())
            .send()
            .await
        {
            Ok(_) => Ok(Outcome::Committed),
            Err(e) => {
                let codes = cancellation_codes(&e).unwrap_or_default();
                // A condition refusal is an answer; conflicts and throttling are transient.
                match codes.iter().position(|c| c == "ConditionalCheckFailed") {
                    Some(index) if codes.iter().all(|c| c == "None" || c == "ConditionalCheckFailed") => {
                        Ok(Outcome::ConditionFailed(index))
                    }
                    _ if !codes.is_empty() => Err(StoreError::Unavailable(
                        anyhow!(e).context("DynamoDB transaction cancelled"),
                    )),
                    _ => Err(unavailable_or_unexpected(e, "DynamoDB TransactWriteItems failed")),
                }
            }
        }
    }

    fn update(
        &self,
        key: Item,
        expression: &str,
        condition: &str,
        values: Item,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The same update on the two guard copies of a user (the profile's update is the caller's),
    /// each only if the guard is still this user's: an email change and a registration of the
    /// freed address between a read and this write must not touch another user's guard.
    fn guard_updates(
        &self,
        user: &User,
        expression: &str,
        values: &Item,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut values = values.clone();
        values.insert(":guard_id".to_owned(), n(user.id.get()));
        Ok(vec![
            self.update(
                username_key(&user.username.key()),
                expression,
                "id = :guard_id",
                values.clone(),
            )?,
            self.update(email_key(&user.email.key()), expression, "id = :guard_id", values)?,
        ])
    }

    fn put(
        &self,
        item: Item,
        condition: &str,
        values: Option<Item>,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn delete(
        &self,
        key: Item,
        condition: &str,
        values: Option<Item>,
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(condition)
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// One `UpdateItem` on an item that should exist; a missing item is not an error.
    async fn update_if_exists(
        &self,
        key: Item,
        expression: &str,
        values: Item,
        what: &'static str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(expression)
            .condition_expression("attribute_exists(PK)")
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        conditional(result, what).map(drop)
    }
}
