//! Passkeys in the DynamoDB adapter.
//!
//! | item | PK | SK |
//! |---|---|---|
//! | passkey (name, dates, credential id, the credential with its counter) | `USER#<id>` | `PASSKEY#<passkey id>` |
//! | credential-id guard (the passkey's user and id) | `CREDENTIAL#<credential id, base64url>` | `CREDENTIAL` |
//! | a ceremony's state (with `ttl`) | `CHALLENGE#<challenge token>` | `CHALLENGE` |
//!
//! The user's random handle is the profile's `passkey_handle`. Adding a passkey puts the guard
//! (`attribute_not_exists`: a credential id belongs to one passkey of one user) and the passkey in
//! one transaction that checks the profile's handle; a login updates the passkey only if its
//! credential (and counter) is still the one read, in the transaction that creates the session.

use std::collections::HashMap;

use anyhow::anyhow;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, ReturnValue, TransactWriteItem};
use chrono::{DateTime, SecondsFormat, Utc};

use super::users::{session_item, user_record};
use super::{
    DynamoStore, Item, Outcome, TTL, conditional, key, n, profile_key, read_number, read_string, s,
    unavailable_or_unexpected,
};
use crate::domain::UserId;
use crate::store::StoreError;
use crate::store::passkeys::{
    AddPasskey, Challenge, ChallengeKind, NewPasskey, PasskeyLogin, PasskeyOwner, PasskeyStore, StoredPasskey,
};

fn passkey_key(user_id: UserId, passkey_id: &str) -> Item {
    key(format!("USER#{user_id}"), &format!("PASSKEY#{passkey_id}"))
}

fn credential_key(credential_id: &str) -> Item {
    key(format!("CREDENTIAL#{credential_id}"), "CREDENTIAL")
}

fn challenge_key(id: &str) -> Item {
    key(format!("CHALLENGE#{id}"), "CHALLENGE")
}

fn at(time: DateTime<Utc>) -> AttributeValue {
    s(time.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn read_time(item: &Item, name: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(&read_string(item, name)?)?.with_timezone(&Utc))
}

fn passkey(item: &Item) -> Result<StoredPasskey, StoreError> {
    let parse = || -> anyhow::Result<StoredPasskey> {
        let user_id = read_number(item, "user_id")?;
        Ok(StoredPasskey {
            id: read_string(item, "passkey_id")?,
            user_id: UserId::new(user_id).ok_or_else(|| anyhow!("non-positive user id {user_id}"))?,
            name: read_string(item, "name")?,
            created_at: read_time(item, "created_at")?,
            last_used_at: read_time(item, "last_used_at").ok(),
            credential_id: read_string(item, "credential_id")?,
            credential: read_string(item, "credential")?,
        })
    };
    parse().map_err(|e| StoreError::Unexpected(e.context("Malformed passkey item")))
}

impl DynamoStore {
    fn condition_check(
        &self,
        key: Item,
        condition: &str,
        values: Item,
    ) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }
}

#[async_trait]
impl PasskeyStore for DynamoStore {
    async fn put_challenge(&self, challenge: &Challenge) -> Result<(), StoreError> {
        let mut item = challenge_key(&challenge.id);
        item.extend([
            ("state".to_owned(), s(challenge.state.as_str())),
            ("expires_at".to_owned(), n(challenge.expires_at)),
            (TTL.to_owned(), n(challenge.expires_at)),
        ]);
        if let ChallengeKind::Registration { user_id, user_handle } = &challenge.kind {
            item.insert("user_id".to_owned(), n(user_id.get()));
            item.insert("user_handle".to_owned(), s(user_handle.as_str()));
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
            .map_err(|e| unavailable_or_unexpected(e, "DynamoDB PutItem (challenge) failed"))?;
        Ok(())
    }

    async fn take_challenge(&self, id: &str, now: i64) -> Result<Option<Challenge>, StoreError> {
        // One conditional delete that returns what it deleted: of two requests with one token,
        // one gets the state.
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(challenge_key(id)))
            .condition_expression("attribute_exists(PK)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let Some(item) =
            conditional(result, "DynamoDB DeleteItem (challenge) failed")?.and_then(|o| o.attributes)
        else {
            return Ok(None);
        };
        let parse = || -> anyhow::Result<Option<Challenge>> {
            let expires_at = read_number(&item, "expires_at")?;
            if expires_at < now {
                return Ok(None);
            }
            let kind = match read_number(&item, "user_id").ok().and_then(UserId::new) {
                Some(user_id) => ChallengeKind::Registration {
                    user_id,
                    user_handle: read_string(&item, "user_handle")?,
                },
                None => ChallengeKind::Login,
            };
            Ok(Some(Challenge {
                id: id.to_owned(),
                kind,
                state: read_string(&item, "state")?,
                expires_at,
            }))
        };
        parse().map_err(|e| StoreError::Unexpected(e.context("Malformed challenge item")))
    }

    async fn user_handle(&self, user_id: UserId, candidate: &str) -> Result<Option<String>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(profile_key(user_id)))
            .update_expression("SET passkey_handle = if_not_exists(passkey_handle, :candidate)")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":candidate", s(candidate))
            // ALL_NEW, not UPDATED_NEW: an `if_not_exists` that changed nothing updates no
            // attribute, and moto then returns none (DynamoDB reportedly returns it anyway).
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let Some(output) = conditional(result, "DynamoDB UpdateItem (user handle) failed")? else {
            return Ok(None);
        };
        let attributes = output.attributes.unwrap_or_default();
        read_string(&attributes, "passkey_handle")
            .map(Some)
            .map_err(|e| StoreError::Unexpected(e.context("UpdateItem returned no user handle")))
    }

    async fn passkeys(&self, user_id: UserId) -> Result<Vec<StoredPasskey>, StoreError> {
        let mut passkeys = self
            .query_partition(user_id, Some("PASSKEY#"), None)
            .await?
            .iter()
            .map(passkey)
            .collect::<Result<Vec<_>, _>>()?;
        passkeys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        Ok(passkeys)
    }

    async fn add_passkey(&self, new: &NewPasskey) -> Result<AddPasskey, StoreError> {
        let passkey = &new.passkey;
        let user_id = passkey.user_id;
        let mut guard = credential_key(&passkey.credential_id);
        guard.extend([
            ("user_id".to_owned(), n(user_id.get())),
            ("passkey_id".to_owned(), s(passkey.id.as_str())),
        ]);
        let mut item = passkey_key(user_id, &passkey.id);
        item.extend([
            ("passkey_id".to_owned(), s(passkey.id.as_str())),
            ("user_id".to_owned(), n(user_id.get())),
            ("name".to_owned(), s(passkey.name.as_str())),
            ("created_at".to_owned(), at(passkey.created_at)),
            ("credential_id".to_owned(), s(passkey.credential_id.as_str())),
            ("credential".to_owned(), s(passkey.credential.as_str())),
        ]);
        let items = vec![
            self.condition_check(
                profile_key(user_id),
                "passkey_handle = :handle",
                HashMap::from([(":handle".to_owned(), s(new.user_handle.as_str()))]),
            )?,
            self.put(guard, "attribute_not_exists(PK)", None)?,
            self.put(item, "attribute_not_exists(PK)", None)?,
            self.put_job(&new.notice)?,
        ];
        Ok(match self.transact(items).await? {
            Outcome::Committed => AddPasskey::Added,
            Outcome::ConditionFailed(0) => AddPasskey::UserGone,
            Outcome::ConditionFailed(1) => AddPasskey::CredentialTaken,
            Outcome::ConditionFailed(_) => {
                return Err(StoreError::Unexpected(anyhow!("passkey id collision")));
            }
        })
    }

    async fn delete_passkey(&self, user_id: UserId, passkey_id: &str) -> Result<bool, StoreError> {
        let Some(item) = self.get(passkey_key(user_id, passkey_id)).await? else {
            return Ok(false);
        };
        let found = passkey(&item)?;
        let credential = HashMap::from([(":credential".to_owned(), s(found.credential_id.as_str()))]);
        let owner = HashMap::from([
            (":user".to_owned(), n(user_id.get())),
            (":passkey".to_owned(), s(passkey_id)),
        ]);
        let items = vec![
            self.delete(
                passkey_key(user_id, passkey_id),
                "credential_id = :credential",
                Some(credential),
            )?,
            self.delete(
                credential_key(&found.credential_id),
                "user_id = :user AND passkey_id = :passkey",
                Some(owner),
            )?,
        ];
        Ok(matches!(self.transact(items).await?, Outcome::Committed))
    }

    async fn passkey_by_credential(&self, credential_id: &str) -> Result<Option<PasskeyOwner>, StoreError> {
        let Some(guard) = self.get(credential_key(credential_id)).await? else {
            return Ok(None);
        };
        let (user_id, passkey_id) = (|| -> anyhow::Result<(UserId, String)> {
            let id = read_number(&guard, "user_id")?;
            Ok((
                UserId::new(id).ok_or_else(|| anyhow!("non-positive user id {id}"))?,
                read_string(&guard, "passkey_id")?,
            ))
        })()
        .map_err(|e| StoreError::Unexpected(e.context("Malformed credential guard")))?;
        // The passkey and its user: independent reads, one round trip of latency.
        let (item, profile) = tokio::join!(
            self.get(passkey_key(user_id, &passkey_id)),
            self.get(profile_key(user_id))
        );
        let (Some(item), Some(profile)) = (item?, profile?) else {
            return Ok(None);
        };
        Ok(Some(PasskeyOwner {
            passkey: passkey(&item)?,
            user: user_record(&profile)?,
            user_handle: read_string(&profile, "passkey_handle").ok(),
        }))
    }

    async fn use_passkey(&self, login: &PasskeyLogin) -> Result<bool, StoreError> {
        let session = &login.session;
        let read = session.precondition;
        let items = vec![
            self.update(
                passkey_key(session.user_id, &login.passkey_id),
                "SET credential = :credential, last_used_at = :at",
                "credential = :previous",
                HashMap::from([
                    (":credential".to_owned(), s(login.credential.as_str())),
                    (":previous".to_owned(), s(login.previous.as_str())),
                    (":at".to_owned(), at(login.used_at)),
                ]),
            )?,
            self.condition_check(
                profile_key(session.user_id),
                "password_version = :pv AND sessions_revoked_at = :revoked AND passkey_handle = :handle",
                HashMap::from([
                    (":pv".to_owned(), n(read.password_version)),
                    (":revoked".to_owned(), n(read.sessions_revoked_at)),
                    (":handle".to_owned(), s(login.user_handle.as_str())),
                ]),
            )?,
            self.put(
                session_item(session, read.sessions_revoked_at),
                "attribute_not_exists(PK)",
                None,
            )?,
        ];
        match self.transact(items).await? {
            Outcome::Committed => Ok(true),
            Outcome::ConditionFailed(0 | 1) => Ok(false),
            Outcome::ConditionFailed(_) => Err(StoreError::Unexpected(anyhow!("session id collision"))),
        }
    }
}
