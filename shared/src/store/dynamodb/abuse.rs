//! Abuse state in DynamoDB: each login identifier's backoff and each address's email-send count,
//! one item each under a keyed hash, with a `ttl`. An item past its `ttl` that DynamoDB has not
//! deleted yet counts as absent, as the SQLite adapter's pruning makes it.

use std::collections::HashMap;

use anyhow::anyhow;

use super::{
    DynamoStore, Item, TTL, conditional, email_sends_key, login_attempts_key, n, read_number,
    unavailable_or_unexpected,
};
use crate::store::StoreError;
use crate::throttle::{AttemptState, EmailThrottle, Gate, LoginBackoff, STATE_RETENTION_SECONDS, SendState};

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
pub(super) fn email_send_item(address_key: &str, state: &SendState) -> Item {
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

impl DynamoStore {
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
        Ok(conditional(result, "DynamoDB PutItem (login attempt) failed")?.is_some())
    }

    pub(super) async fn count_login(
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
    pub(super) async fn forget_login_attempts(&self, login_key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(login_attempts_key(login_key)))
            .send()
            .await
            .map_err(|e| unavailable_or_unexpected(e, "DynamoDB DeleteItem (login attempts) failed"))?;
        Ok(())
    }
    pub(super) async fn claim_send(
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
}
