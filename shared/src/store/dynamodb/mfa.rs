//! Second factors in the DynamoDB adapter. The state lives on the profile item (`USER#<id>` /
//! `PROFILE`): `totp` (also on the two guard copies, so that a login knows from its one read
//! whether a code is needed), `totp_pending` and `totp_secret` (sealed), `totp_step` (the last
//! step accepted) and `recovery_codes` (a string set of keyed hashes). Turning TOTP on or off is
//! one transaction over the three copies; spending a code is one conditional `UpdateItem`.

use std::collections::HashMap;

use anyhow::anyhow;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};

use super::{
    DynamoStore, Item, Outcome, conditional, login_attempts_key, n, profile_key, read_bool, read_number,
    read_string, s,
};
use crate::domain::UserId;
use crate::store::StoreError;
use crate::store::mfa::{FactorUse, MfaState, MfaStore, SetupOutcome, TotpDisabling, TotpEnabling};

fn state(item: &Item) -> MfaState {
    let totp = read_bool(item, "totp").unwrap_or(false);
    MfaState {
        totp,
        pending: read_string(item, "totp_pending").ok(),
        secret: read_string(item, "totp_secret").ok(),
        last_step: read_number(item, "totp_step").unwrap_or(0),
        recovery_codes_left: match item.get("recovery_codes") {
            Some(AttributeValue::Ss(codes)) => codes.len(),
            _ => 0,
        },
    }
}

fn truth(value: bool) -> AttributeValue {
    AttributeValue::Bool(value)
}

impl DynamoStore {
    fn clear_attempts(&self, login_key: &str) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(login_attempts_key(login_key)))
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// One conditional `UpdateItem` of the profile. `false`: the condition failed.
    async fn update_profile_if(
        &self,
        user_id: UserId,
        expression: &str,
        condition: &str,
        values: Item,
        what: &'static str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(profile_key(user_id)))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        Ok(conditional(result, what)?.is_some())
    }
}

/// The update that spends one use of a factor, its condition (TOTP on, and the use still good:
/// a later step than the last accepted, or a recovery code still in the set) and its values.
fn spending(factor: &FactorUse) -> (&'static str, &'static str, Item) {
    match factor {
        FactorUse::Totp { step } => (
            "SET totp_step = :step",
            "totp = :true AND totp_step < :step",
            HashMap::from([(":step".to_owned(), n(*step)), (":true".to_owned(), truth(true))]),
        ),
        FactorUse::Recovery { hash } => (
            "DELETE recovery_codes :used",
            "totp = :true AND contains(recovery_codes, :hash)",
            HashMap::from([
                (":used".to_owned(), AttributeValue::Ss(vec![hash.clone()])),
                (":hash".to_owned(), s(hash.as_str())),
                (":true".to_owned(), truth(true)),
            ]),
        ),
    }
}

#[async_trait]
impl MfaStore for DynamoStore {
    async fn mfa_state(&self, user_id: UserId) -> Result<Option<MfaState>, StoreError> {
        Ok(self.get(profile_key(user_id)).await?.as_ref().map(state))
    }

    async fn begin_totp_setup(&self, user_id: UserId, sealed: &str) -> Result<SetupOutcome, StoreError> {
        let stored = self
            .update_profile_if(
                user_id,
                "SET totp_pending = :pending",
                "attribute_exists(PK) AND NOT totp = :true",
                HashMap::from([
                    (":pending".to_owned(), s(sealed)),
                    (":true".to_owned(), truth(true)),
                ]),
                "DynamoDB UpdateItem (pending TOTP secret) failed",
            )
            .await?;
        if stored {
            return Ok(SetupOutcome::Stored);
        }
        Ok(match self.get(profile_key(user_id)).await? {
            None => SetupOutcome::NoUser,
            Some(_) => SetupOutcome::AlreadyOn,
        })
    }

    async fn enable_totp(&self, enabling: &TotpEnabling) -> Result<bool, StoreError> {
        let user = &enabling.user;
        let profile_values = HashMap::from([
            (":true".to_owned(), truth(true)),
            (":pending".to_owned(), s(enabling.pending.as_str())),
            (":step".to_owned(), n(enabling.step)),
            (
                ":codes".to_owned(),
                AttributeValue::Ss(enabling.recovery_codes.clone()),
            ),
        ]);
        let guard_values = HashMap::from([(":true".to_owned(), truth(true))]);
        let mut items = vec![self.update(
            profile_key(user.id),
            "SET totp = :true, totp_secret = :pending, totp_step = :step, recovery_codes = :codes \
             REMOVE totp_pending",
            "totp_pending = :pending AND NOT totp = :true",
            profile_values,
        )?];
        items.extend(self.guard_updates(user, "SET totp = :true", &guard_values)?);
        items.push(self.clear_attempts(&enabling.login_key)?);
        Ok(matches!(self.transact(items).await?, Outcome::Committed))
    }

    async fn disable_totp(&self, disabling: &TotpDisabling) -> Result<bool, StoreError> {
        let user = &disabling.user;
        let profile_values = HashMap::from([
            (":true".to_owned(), truth(true)),
            (":false".to_owned(), truth(false)),
            (":pv".to_owned(), n(disabling.password_version)),
        ]);
        let guard_values = HashMap::from([(":false".to_owned(), truth(false))]);
        let mut items = vec![self.update(
            profile_key(user.id),
            "SET totp = :false REMOVE totp_secret, totp_pending, totp_step, recovery_codes",
            "totp = :true AND password_version = :pv",
            profile_values,
        )?];
        items.extend(self.guard_updates(user, "SET totp = :false", &guard_values)?);
        items.push(self.put_job(&disabling.notice)?);
        items.push(self.clear_attempts(&disabling.login_key)?);
        Ok(matches!(self.transact(items).await?, Outcome::Committed))
    }

    async fn replace_recovery_codes(
        &self,
        user_id: UserId,
        spent: &FactorUse,
        hashes: &[String],
    ) -> Result<bool, StoreError> {
        // One UpdateItem: the code's condition and the new set together.
        let (expression, condition, mut values) = spending(spent);
        let expression = match spent {
            FactorUse::Totp { .. } => format!("{expression}, recovery_codes = :codes"),
            FactorUse::Recovery { .. } => "SET recovery_codes = :codes".to_owned(),
        };
        values.insert(":codes".to_owned(), AttributeValue::Ss(hashes.to_vec()));
        if matches!(spent, FactorUse::Recovery { .. }) {
            values.remove(":used");
        }
        self.update_profile_if(
            user_id,
            &expression,
            condition,
            values,
            "DynamoDB UpdateItem (recovery codes) failed",
        )
        .await
    }

    async fn use_factor(&self, user_id: UserId, factor: &FactorUse) -> Result<bool, StoreError> {
        let (expression, condition, values) = spending(factor);
        self.update_profile_if(
            user_id,
            expression,
            condition,
            values,
            "DynamoDB UpdateItem (second factor) failed",
        )
        .await
    }
}
