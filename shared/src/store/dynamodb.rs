//! The DynamoDB adapter: one table, single-table design (see DESIGN.md, "Storage").
//!
//! | item | PK | SK |
//! |---|---|---|
//! | user (profile) | `USER#<id>` | `PROFILE` |
//! | username guard, a full copy of the user | `USERNAME#<username key>` | `USERNAME` |
//! | email guard, a full copy of the user | `EMAIL#<email key>` | `EMAIL` |
//! | session (one login's refresh-token family) | `USER#<id>` | `SESSION#<session id>` |
//! | user id counter | `COUNTER` | `USER_ID` |
//! | contact | `USER#<id>` | `CONTACT#<contact id, 20 digits>` |
//! | contact email guard (holds the contact id) | `USER#<id>` | `CONTACTEMAIL#<email key>` |
//! | login backoff state of an identifier (with `ttl`) | `LOGIN#<keyed hash>` | `LOGIN` |
//! | email-send count of an address (with `ttl`) | `MAILSEND#<keyed hash>` | `MAILSEND` |
//!
//! A user's contacts live in the user's partition, so listing them is one `Query` (paged by
//! DynamoDB per MB); zero-padded ids keep them in id order. Contact ids come from the profile's
//! `contact_seq` counter (`ADD`), never reused.
//!
//! The guard items make username and email unique (`attribute_not_exists` in the transaction
//! that creates the user) and carry a copy of the user, so that login is one `GetItem`. Every
//! change to a user updates the three copies in one `TransactWriteItems`. "Log out everywhere"
//! is one write: the profile's `sessions_revoked_at` (ms); a session is live only if it was
//! created after it. Expiry is checked in code and mirrored in the `ttl` attribute, which
//! DynamoDB deletes late (or, in emulators, never).

use std::collections::HashMap;

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CancellationReason, ConditionCheck, Delete,
    KeySchemaElement, KeyType, KeysAndAttributes, Put, ReturnValue, ScalarAttributeType,
    TimeToLiveSpecification, TransactWriteItem, Update,
};
use chrono::{DateTime, SecondsFormat, Utc};

use super::{
    ContactStore, ContactWriteError, CreateUserError, NewSession, NewUser, Rotation, RotationOutcome, Store,
    StoreError, Verification,
};
use crate::aws::is_transient;
use crate::domain::{
    Contact, ContactId, ContactInput, Description, Email, PasswordHash, PersonName, Phone, User, UserId,
    UserRecord, Username,
};
use crate::throttle::{AttemptState, EmailThrottle, Gate, LoginBackoff, STATE_RETENTION_SECONDS, SendState};

/// The table's key schema and TTL attribute: template.yaml declares exactly these (a test checks).
pub mod schema {
    pub const PARTITION_KEY: &str = "PK";
    pub const SORT_KEY: &str = "SK";
    pub const TTL_ATTRIBUTE: &str = "ttl";
}
use schema::{PARTITION_KEY as PK, SORT_KEY as SK, TTL_ATTRIBUTE as TTL};

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

/// How often a login attempt is retried when its state expired and changed again meanwhile.
const EXPIRED_STATE_ATTEMPTS: usize = 3;

/// What counting a login attempt found.
enum Counted {
    Gate(Gate),
    /// The state is past its ttl (or gone): it counts as absent.
    Expired,
}

/// Abuse state past its `ttl` that DynamoDB has not deleted yet (it may take days) is absent.
fn expired(item: &Item, now_s: i64) -> bool {
    read_number(item, TTL).is_ok_and(|ttl| ttl < now_s)
}

/// How often a revoke-all is retried when a concurrent change to the user got there first.
const REVOKE_ATTEMPTS: usize = 3;

/// The next sessions-revoked-at value: now, and always past the last one.
fn next_revocation(last: i64) -> i64 {
    now_ms().max(last + 1)
}

/// How often an email-send claim is retried when a concurrent claim for the address got there first.
const EMAIL_CLAIM_ATTEMPTS: usize = 3;

/// The backoff rule as a DynamoDB condition: the attempt may run when there is no state, fewer
/// failures than the threshold, or the window of the current count has passed. Built from
/// [`LoginBackoff::windows`], so the rule has one definition.
fn backoff_condition(backoff: &LoginBackoff, now_ms: i64) -> (String, Item) {
    let mut clauses = vec![
        "attribute_not_exists(PK)".to_owned(),
        "failures < :threshold".to_owned(),
    ];
    let mut values = HashMap::from([(":threshold".to_owned(), n(backoff.threshold))]);
    let windows = backoff.windows();
    for (i, (failures, window)) in windows.iter().enumerate() {
        let compare = if i + 1 == windows.len() { ">=" } else { "=" };
        clauses.push(format!("(failures {compare} :f{i} AND last_at_ms <= :c{i})"));
        values.insert(format!(":f{i}"), n(*failures));
        values.insert(format!(":c{i}"), n(now_ms - window));
    }
    (clauses.join(" OR "), values)
}

fn attempt_state(item: &Item) -> anyhow::Result<AttemptState> {
    Ok(AttemptState {
        failures: read_number(item, "failures")?,
        last_at_ms: read_number(item, "last_at_ms")?,
    })
}

/// The item holding an address's email-send state.
fn email_send_item(address_key: &str, state: &SendState) -> Item {
    let mut item = email_sends_key(address_key);
    item.extend([
        ("day".to_owned(), n(state.day)),
        ("sent".to_owned(), n(state.sent)),
        ("last_at".to_owned(), n(state.last_at)),
        (TTL.to_owned(), n(state.last_at + STATE_RETENTION_SECONDS)),
    ]);
    item
}

fn send_state(item: &Item) -> anyhow::Result<SendState> {
    Ok(SendState {
        day: read_number(item, "day")?,
        sent: read_number(item, "sent")?,
        last_at: read_number(item, "last_at")?,
    })
}

/// How often a contact write is retried when a concurrent write to the same contact got there first.
const CONTACT_WRITE_ATTEMPTS: usize = 3;

fn timestamp(at: DateTime<Utc>) -> AttributeValue {
    s(at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// The full item of a contact.
fn contact_item(user_id: UserId, contact: &Contact) -> Item {
    let fields = &contact.fields;
    let mut item = contact_key(user_id, contact.id);
    item.extend([
        ("id".to_owned(), n(contact.id.get())),
        ("first_name".to_owned(), s(fields.first_name.as_str())),
        ("last_name".to_owned(), s(fields.last_name.as_str())),
        ("email".to_owned(), s(fields.email.as_str())),
        ("email_key".to_owned(), s(fields.email.key())),
        ("created_at".to_owned(), timestamp(contact.created_at)),
        ("updated_at".to_owned(), timestamp(contact.updated_at)),
    ]);
    for (name, value) in optional_contact_fields(fields) {
        if let Some(value) = value {
            item.insert(name.to_owned(), value);
        }
    }
    item
}

/// The optional attributes of a contact, present or not.
fn optional_contact_fields(fields: &ContactInput) -> [(&'static str, Option<AttributeValue>); 3] {
    [
        ("phone", fields.phone.as_ref().map(|p| s(p.as_str()))),
        ("birthday", fields.birthday.map(|b| s(b.to_string()))),
        ("description", fields.description.as_ref().map(|d| s(d.as_str()))),
    ]
}

fn contact_guard_item(user_id: UserId, email_key: &str, id: ContactId) -> Item {
    let mut item = contact_email_key(user_id, email_key);
    item.insert("contact_id".to_owned(), n(id.get()));
    item
}

fn contact_from_item(item: &Item) -> Result<Contact, StoreError> {
    let parse = || -> anyhow::Result<Contact> {
        let id = read_number(item, "id")?;
        let time = |name: &str| -> anyhow::Result<DateTime<Utc>> {
            Ok(DateTime::parse_from_rfc3339(&read_string(item, name)?)?.with_timezone(&Utc))
        };
        Ok(Contact {
            id: ContactId::new(id).ok_or_else(|| anyhow!("non-positive contact id {id}"))?,
            fields: ContactInput {
                first_name: PersonName::from_trusted(read_string(item, "first_name")?),
                last_name: PersonName::from_trusted(read_string(item, "last_name")?),
                email: Email::from_trusted(read_string(item, "email")?),
                phone: read_string(item, "phone").ok().map(Phone::from_trusted),
                birthday: read_string(item, "birthday")
                    .ok()
                    .map(|b| chrono::NaiveDate::parse_from_str(&b, "%Y-%m-%d"))
                    .transpose()?,
                description: read_string(item, "description")
                    .ok()
                    .map(Description::from_trusted),
            },
            created_at: time("created_at")?,
            updated_at: time("updated_at")?,
        })
    };
    parse().map_err(|e| StoreError::Unexpected(e.context("Malformed contact item")))
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

/// The attributes every copy of a user carries.
fn user_attributes(
    user: &User,
    hash: &PasswordHash,
    password_version: i64,
    sessions_revoked_at: i64,
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
    ]);
    if let Some(avatar) = &user.avatar {
        item.insert("avatar".to_owned(), s(avatar.as_str()));
    }
    item
}

fn user_record(item: &Item) -> Result<UserRecord, StoreError> {
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
        })
    };
    parse().map_err(|e| StoreError::Unexpected(e.context("Malformed user item")))
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

    /// The same update on the two guard copies of a user (the profile's update is the caller's).
    fn guard_updates(
        &self,
        user: &User,
        expression: &str,
        values: &Item,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        Ok(vec![
            self.update(
                username_key(&user.username.key()),
                expression,
                "attribute_exists(PK)",
                values.clone(),
            )?,
            self.update(
                email_key(&user.email.key()),
                expression,
                "attribute_exists(PK)",
                values.clone(),
            )?,
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
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable_or_unexpected(e, what)),
        }
    }

    /// Rewrites a contact's fields if it exists and its email key is `email_key` (so its guard
    /// stays valid): one conditional `UpdateItem` returning the updated item. `None`: no such
    /// contact, or its email differs.
    async fn update_in_place(
        &self,
        user_id: UserId,
        id: ContactId,
        input: &ContactInput,
        now: DateTime<Utc>,
        email_key: &str,
    ) -> Result<Option<Contact>, StoreError> {
        let mut values = HashMap::from([
            (":key".to_owned(), s(email_key)),
            (":first_name".to_owned(), s(input.first_name.as_str())),
            (":last_name".to_owned(), s(input.last_name.as_str())),
            (":email".to_owned(), s(input.email.as_str())),
            (":updated_at".to_owned(), timestamp(now)),
        ]);
        let mut set = vec![
            "first_name = :first_name",
            "last_name = :last_name",
            "email = :email",
            "updated_at = :updated_at",
        ];
        let mut remove = Vec::new();
        for (name, value) in optional_contact_fields(input) {
            match value {
                Some(value) => {
                    set.push(match name {
                        "phone" => "phone = :phone",
                        "birthday" => "birthday = :birthday",
                        _ => "description = :description",
                    });
                    values.insert(format!(":{name}"), value);
                }
                None => remove.push(name),
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(contact_key(user_id, id)))
            .update_expression(expression)
            .condition_expression("attribute_exists(PK) AND email_key = :key")
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => {
                let item = output
                    .attributes
                    .ok_or_else(|| StoreError::Unexpected(anyhow!("UpdateItem returned no attributes")))?;
                contact_from_item(&item).map(Some)
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(unavailable_or_unexpected(
                e,
                "DynamoDB UpdateItem (contact) failed",
            )),
        }
    }

    /// Counts one login attempt on live state, or says why not: the gate is closed, or the
    /// state is past its ttl.
    async fn count_login_attempt(
        &self,
        login_key: &str,
        now_ms: i64,
        backoff: &LoginBackoff,
    ) -> Result<Counted, StoreError> {
        let (gate, mut values) = backoff_condition(backoff, now_ms);
        values.extend([
            (":zero".to_owned(), n(0)),
            (":one".to_owned(), n(1)),
            (":now".to_owned(), n(now_ms)),
            (":now_s".to_owned(), n(now_ms / 1000)),
            (":ttl".to_owned(), n(now_ms / 1000 + STATE_RETENTION_SECONDS)),
        ]);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(login_attempts_key(login_key)))
            .update_expression(
                "SET failures = if_not_exists(failures, :zero) + :one, last_at_ms = :now, #ttl = :ttl",
            )
            .condition_expression(format!(
                "attribute_not_exists(PK) OR (#ttl >= :now_s AND ({gate}))"
            ))
            .expression_attribute_names("#ttl", TTL)
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        let refused = match result {
            Ok(_) => return Ok(Counted::Gate(Gate::Open)),
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(
                    refused,
                )) => refused.item.clone(),
                _ => return Err(unavailable_or_unexpected(e, "DynamoDB UpdateItem (login attempt) failed")),
            },
        };
        // The state that refused the attempt says how long to wait (read it if it did not come back).
        let item = match refused {
            Some(item) => Some(item),
            None => self.get(login_attempts_key(login_key)).await?,
        };
        let Some(item) = item else {
            // Deleted in between (a login succeeded): try again.
            return Ok(Counted::Expired);
        };
        if expired(&item, now_ms / 1000) {
            return Ok(Counted::Expired);
        }
        let state = attempt_state(&item)
            .map_err(|e| StoreError::Unexpected(e.context("Malformed login attempt item")))?;
        Ok(Counted::Gate(match backoff.gate(Some(state), now_ms) {
            Gate::Open => Gate::Locked { retry_after_ms: 1000 },
            locked => locked,
        }))
    }

    /// Replaces expired (or vanished) login state by a first attempt. `false`: it changed in
    /// between.
    async fn restart_login_attempts(&self, login_key: &str, now_ms: i64) -> Result<bool, StoreError> {
        let mut item = login_attempts_key(login_key);
        item.extend([
            ("failures".to_owned(), n(1)),
            ("last_at_ms".to_owned(), n(now_ms)),
            (TTL.to_owned(), n(now_ms / 1000 + STATE_RETENTION_SECONDS)),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR #ttl < :now_s")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":now_s", n(now_ms / 1000))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(unavailable_or_unexpected(
                e,
                "DynamoDB PutItem (login attempt) failed",
            )),
        }
    }

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
            let mut item = user_attributes(&user, &new.password_hash, 0, 0);
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

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn replace_password(
        &self,
        id: UserId,
        expected_version: i64,
        hash: &PasswordHash,
    ) -> Result<bool, StoreError> {
        let Some(record) = self.user_by_id(id).await? else {
            return Ok(false);
        };
        if record.password_version != expected_version {
            return Ok(false);
        }
        let values = HashMap::from([
            (":hash".to_owned(), s(hash.as_str())),
            (":next".to_owned(), n(expected_version + 1)),
            (
                ":revoked".to_owned(),
                n(next_revocation(record.sessions_revoked_at)),
            ),
        ]);
        let expression =
            "SET password_hash = :hash, password_version = :next, sessions_revoked_at = :revoked";
        let mut profile_values = values.clone();
        profile_values.insert(":expected".into(), n(expected_version));
        // The update also ends every session, in the same transaction, on every copy.
        let mut items = vec![self.update(
            profile_key(id),
            expression,
            "password_version = :expected",
            profile_values,
        )?];
        items.extend(self.guard_updates(&record.user, expression, &values)?);
        match self.transact(items).await? {
            Outcome::Committed => Ok(true),
            Outcome::ConditionFailed(_) => Ok(false),
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = %session.user_id))]
    async fn create_session(&self, session: &NewSession, login_key: &str) -> Result<bool, StoreError> {
        let mut item = session_key(session.user_id, &session.id);
        item.extend([
            (
                "current_token_id".to_owned(),
                s(session.current_token_id.as_str()),
            ),
            ("created_at_ms".to_owned(), n(now_ms())),
            ("expires_at".to_owned(), n(session.expires_at)),
            ("revoked".to_owned(), AttributeValue::Bool(false)),
            // The revocation epoch it was created in: it lives while the profile's is the same.
            ("epoch".to_owned(), n(session.precondition.sessions_revoked_at)),
            (TTL.to_owned(), n(session.expires_at)),
        ]);
        // The user as the login read them, checked in the same transaction.
        let unchanged = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(profile_key(session.user_id)))
            .condition_expression("password_version = :pv AND sessions_revoked_at = :revoked")
            .expression_attribute_values(":pv", n(session.precondition.password_version))
            .expression_attribute_values(":revoked", n(session.precondition.sessions_revoked_at))
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        let clear = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(login_attempts_key(login_key)))
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        match self
            .transact(vec![
                self.put(item, "attribute_not_exists(PK)", None)?,
                TransactWriteItem::builder().delete(clear).build(),
                TransactWriteItem::builder().condition_check(unchanged).build(),
            ])
            .await?
        {
            Outcome::Committed => Ok(true),
            Outcome::ConditionFailed(2) => Ok(false),
            Outcome::ConditionFailed(_) => Err(StoreError::Unexpected(anyhow!("session id collision"))),
        }
    }

    async fn begin_login_attempt(
        &self,
        login_key: &str,
        now_ms: i64,
        backoff: &LoginBackoff,
    ) -> Result<Gate, StoreError> {
        for _ in 0..EXPIRED_STATE_ATTEMPTS {
            match self.count_login_attempt(login_key, now_ms, backoff).await? {
                Counted::Gate(gate) => return Ok(gate),
                // Past its ttl but not yet deleted by DynamoDB: forgotten, as SQLite forgets it.
                Counted::Expired => {
                    if self.restart_login_attempts(login_key, now_ms).await? {
                        return Ok(Gate::Open);
                    }
                }
            }
        }
        Err(StoreError::Unavailable(anyhow!(
            "login attempt state kept changing under this attempt"
        )))
    }

    async fn clear_login_attempts(&self, login_key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(login_attempts_key(login_key)))
            .send()
            .await
            .map_err(|e| unavailable_or_unexpected(e, "DynamoDB DeleteItem (login attempts) failed"))?;
        Ok(())
    }

    async fn claim_email_send(
        &self,
        address_key: &str,
        now: i64,
        throttle: &EmailThrottle,
    ) -> Result<bool, StoreError> {
        // Read, decide with the shared rule, then write only if nobody wrote in between.
        for _ in 0..EMAIL_CLAIM_ATTEMPTS {
            let item = self
                .get(email_sends_key(address_key))
                .await?
                .filter(|item| !expired(item, now));
            let state = item
                .as_ref()
                .map(send_state)
                .transpose()
                .map_err(|e| StoreError::Unexpected(e.context("Malformed email send item")))?;
            let Some(next) = throttle.send(state, now) else {
                return Ok(false);
            };
            let request = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(email_send_item(address_key, &next)));
            let request = match state {
                // Absent, or past its ttl and not yet deleted by DynamoDB.
                None => request
                    .condition_expression("attribute_not_exists(PK) OR #ttl < :now")
                    .expression_attribute_names("#ttl", TTL)
                    .expression_attribute_values(":now", n(now)),
                Some(seen) => request
                    .condition_expression("#day = :day AND sent = :sent AND last_at = :last")
                    .expression_attribute_names("#day", "day")
                    .expression_attribute_values(":day", n(seen.day))
                    .expression_attribute_values(":sent", n(seen.sent))
                    .expression_attribute_values(":last", n(seen.last_at)),
            };
            match request.send().await {
                Ok(_) => return Ok(true),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    continue;
                }
                Err(e) => {
                    return Err(unavailable_or_unexpected(
                        e,
                        "DynamoDB PutItem (email send) failed",
                    ));
                }
            }
        }
        // Still contended after a few tries: many sends to one address at once; refuse this one.
        Ok(false)
    }

    #[tracing::instrument(skip_all, fields(user_id = %rotation.user_id))]
    async fn rotate_session(&self, rotation: &Rotation) -> Result<RotationOutcome, StoreError> {
        let (session, profile) = (
            session_key(rotation.user_id, &rotation.session_id),
            profile_key(rotation.user_id),
        );
        let keys = KeysAndAttributes::builder()
            .keys(session.clone())
            .keys(profile.clone())
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
        let items = output
            .responses
            .and_then(|mut r| r.remove(&self.table))
            .unwrap_or_default();
        let find = |sk: &AttributeValue| items.iter().find(|item| item.get(SK) == Some(sk));
        let (Some(session_item), Some(profile_item)) = (find(&session[SK]), find(&profile[SK])) else {
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
        let rotate = self.update(
            session,
            "SET current_token_id = :next",
            "current_token_id = :presented AND revoked = :false",
            HashMap::from([
                (":next".to_owned(), s(rotation.next_token_id.as_str())),
                (":presented".to_owned(), s(rotation.presented_token_id.as_str())),
                (":false".to_owned(), AttributeValue::Bool(false)),
            ]),
        )?;
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
    async fn revoke_session(&self, user_id: UserId, session_id: &str) -> Result<(), StoreError> {
        self.revoke(user_id, session_id).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn revoke_all_sessions(&self, user_id: UserId) -> Result<(), StoreError> {
        // A new epoch on every copy of the user: sessions of older epochs end, and a login that
        // read the old one cannot create its session. Retried if a concurrent change got there
        // first, so that the epoch always moves past what this call read.
        for _ in 0..REVOKE_ATTEMPTS {
            let Some(record) = self.user_by_id(user_id).await? else {
                return Ok(());
            };
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
            if let Outcome::Committed = self.transact(items).await? {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable(anyhow!(
            "the user changed during every attempt to revoke their sessions"
        )))
    }
}

#[async_trait]
impl ContactStore for DynamoStore {
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn create_contact(
        &self,
        user_id: UserId,
        input: &ContactInput,
        now: DateTime<Utc>,
    ) -> Result<Contact, ContactWriteError> {
        let counter = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(profile_key(user_id)))
            .update_expression("ADD contact_seq :one")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| unavailable_or_unexpected(e, "DynamoDB UpdateItem (contact id counter) failed"))?;
        let id = counter
            .attributes
            .as_ref()
            .and_then(|a| read_number(a, "contact_seq").ok())
            .and_then(ContactId::new)
            .ok_or_else(|| {
                StoreError::Unexpected(anyhow!("the contact id counter returned no positive value"))
            })?;
        let contact = Contact {
            id,
            fields: input.clone(),
            created_at: now,
            updated_at: now,
        };
        let items = vec![
            self.put(contact_item(user_id, &contact), "attribute_not_exists(PK)", None)?,
            self.put(
                contact_guard_item(user_id, &input.email.key(), id),
                "attribute_not_exists(PK)",
                None,
            )?,
        ];
        match self.transact(items).await? {
            Outcome::Committed => Ok(contact),
            Outcome::ConditionFailed(1) => Err(ContactWriteError::EmailTaken),
            Outcome::ConditionFailed(_) => {
                Err(StoreError::Unexpected(anyhow!("contact id {id} was allocated twice")).into())
            }
        }
    }

    async fn contact(&self, user_id: UserId, id: ContactId) -> Result<Option<Contact>, StoreError> {
        self.get(contact_key(user_id, id))
            .await?
            .as_ref()
            .map(contact_from_item)
            .transpose()
    }

    async fn contacts(&self, user_id: UserId) -> Result<Vec<Contact>, StoreError> {
        let mut contacts = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(format!("USER#{user_id}")))
                .expression_attribute_values(":prefix", s("CONTACT#"))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable_or_unexpected(e, "DynamoDB Query (contacts) failed"))?;
            for item in page.items() {
                contacts.push(contact_from_item(item)?);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(contacts),
            }
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn update_contact(
        &self,
        user_id: UserId,
        id: ContactId,
        input: &ContactInput,
        now: DateTime<Utc>,
    ) -> Result<Contact, ContactWriteError> {
        let new_key = input.email.key();
        // Most updates keep the email: try that first, one conditional UpdateItem, no read.
        if let Some(updated) = self.update_in_place(user_id, id, input, now, &new_key).await? {
            return Ok(updated);
        }
        for _ in 0..CONTACT_WRITE_ATTEMPTS {
            let Some(old) = self.contact(user_id, id).await? else {
                return Err(ContactWriteError::NotFound);
            };
            let old_key = old.fields.email.key();
            if old_key == new_key {
                match self.update_in_place(user_id, id, input, now, &new_key).await? {
                    Some(updated) => return Ok(updated),
                    None => continue,
                }
            }
            // A new email: replace the contact and move its guard, all or nothing.
            let updated = Contact {
                id,
                fields: input.clone(),
                created_at: old.created_at,
                updated_at: now,
            };
            let items = vec![
                self.put(
                    contact_item(user_id, &updated),
                    "email_key = :old",
                    Some(HashMap::from([(":old".to_owned(), s(old_key.as_str()))])),
                )?,
                self.delete(
                    contact_email_key(user_id, &old_key),
                    "contact_id = :id",
                    Some(HashMap::from([(":id".to_owned(), n(id.get()))])),
                )?,
                self.put(
                    contact_guard_item(user_id, &new_key, id),
                    "attribute_not_exists(PK)",
                    None,
                )?,
            ];
            match self.transact(items).await? {
                Outcome::Committed => return Ok(updated),
                Outcome::ConditionFailed(2) => return Err(ContactWriteError::EmailTaken),
                // Changed or deleted meanwhile: read again.
                Outcome::ConditionFailed(_) => continue,
            }
        }
        Err(StoreError::Unavailable(anyhow!("contact {id} kept changing during the update")).into())
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn delete_contact(&self, user_id: UserId, id: ContactId) -> Result<Option<Contact>, StoreError> {
        for _ in 0..CONTACT_WRITE_ATTEMPTS {
            let Some(old) = self.contact(user_id, id).await? else {
                return Ok(None);
            };
            let email_key = old.fields.email.key();
            let items = vec![
                self.delete(
                    contact_key(user_id, id),
                    "email_key = :key",
                    Some(HashMap::from([(":key".to_owned(), s(email_key.as_str()))])),
                )?,
                self.delete(
                    contact_email_key(user_id, &email_key),
                    "attribute_exists(PK)",
                    None,
                )?,
            ];
            match self.transact(items).await? {
                Outcome::Committed => return Ok(Some(old)),
                Outcome::ConditionFailed(_) => continue,
            }
        }
        Err(StoreError::Unavailable(anyhow!(
            "contact {id} kept changing during the delete"
        )))
    }
}
