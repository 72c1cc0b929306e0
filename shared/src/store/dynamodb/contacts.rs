//! Contacts in DynamoDB: in their user's partition (one `Query` lists them, in id order), each
//! with an email guard item that keeps the email unique per user.

use std::collections::HashMap;

use anyhow::anyhow;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, ReturnValue, TransactWriteItem};
use chrono::{DateTime, SecondsFormat, Utc};

use super::{
    DynamoStore, Item, Outcome, conditional, contact_email_key, contact_key, n, profile_key, read_number,
    read_string, s, unavailable_or_unexpected,
};
use crate::domain::{Contact, ContactId, ContactInput, Description, Email, PersonName, Phone, UserId};
use crate::store::{ContactStore, ContactWriteError, StoreError};

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

impl DynamoStore {
    /// The part of every contact transaction that makes it a no-op for a deleted user.
    fn user_exists_check(&self, user_id: UserId) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(profile_key(user_id)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(|e| StoreError::Unexpected(anyhow!(e)))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// The contact was not found: is it the contact that is missing, or its whole user (read
    /// only on this failure path)?
    async fn missing(&self, user_id: UserId) -> Result<ContactWriteError, StoreError> {
        Ok(match self.get(profile_key(user_id)).await? {
            Some(_) => ContactWriteError::NotFound,
            None => ContactWriteError::UserGone,
        })
    }

    /// Rewrites a contact's fields if it exists, its email key is `email_key` (so its guard
    /// stays valid) and its user still exists: one transaction (the update and a check of the
    /// profile), beside a read of the contact's `created_at` in parallel (one round trip).
    /// `None`: no such contact, or its email differs.
    async fn update_in_place(
        &self,
        user_id: UserId,
        id: ContactId,
        input: &ContactInput,
        now: DateTime<Utc>,
        email_key: &str,
    ) -> Result<Option<Contact>, ContactWriteError> {
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
        let items = vec![
            self.update(
                contact_key(user_id, id),
                &expression,
                "attribute_exists(PK) AND email_key = :key",
                values,
            )?,
            self.user_exists_check(user_id)?,
        ];
        // `created_at` never changes, so the read may see the contact before or after the update.
        let (written, before) = tokio::join!(self.transact(items), self.get(contact_key(user_id, id)));
        match written? {
            Outcome::Committed => {}
            Outcome::ConditionFailed(1) => return Err(ContactWriteError::UserGone),
            Outcome::ConditionFailed(_) => return Ok(None),
        }
        // Deleted right after the update: as if the update had come after the delete.
        let Some(before) = before? else {
            return Ok(None);
        };
        Ok(Some(Contact {
            id,
            fields: input.clone(),
            created_at: contact_from_item(&before)?.created_at,
            updated_at: now,
        }))
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
            .await;
        // The profile must exist: a deleted user's token writes nothing.
        let Some(counter) = conditional(counter, "DynamoDB UpdateItem (contact id counter) failed")? else {
            return Err(ContactWriteError::UserGone);
        };
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
            // Deleted since the counter moved: the purge may be past this partition already.
            self.user_exists_check(user_id)?,
        ];
        match self.transact(items).await? {
            Outcome::Committed => Ok(contact),
            Outcome::ConditionFailed(1) => Err(ContactWriteError::EmailTaken),
            Outcome::ConditionFailed(2) => Err(ContactWriteError::UserGone),
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
                return Err(self.missing(user_id).await?);
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
                self.user_exists_check(user_id)?,
            ];
            match self.transact(items).await? {
                Outcome::Committed => return Ok(updated),
                Outcome::ConditionFailed(2) => return Err(ContactWriteError::EmailTaken),
                Outcome::ConditionFailed(3) => return Err(ContactWriteError::UserGone),
                // Changed or deleted meanwhile: read again.
                Outcome::ConditionFailed(_) => continue,
            }
        }
        Err(StoreError::Unavailable(anyhow!("contact {id} kept changing during the update")).into())
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn delete_contact(&self, user_id: UserId, id: ContactId) -> Result<Contact, ContactWriteError> {
        for _ in 0..CONTACT_WRITE_ATTEMPTS {
            let Some(old) = self.contact(user_id, id).await? else {
                return Err(self.missing(user_id).await?);
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
                self.user_exists_check(user_id)?,
            ];
            match self.transact(items).await? {
                Outcome::Committed => return Ok(old),
                Outcome::ConditionFailed(2) => return Err(ContactWriteError::UserGone),
                Outcome::ConditionFailed(_) => continue,
            }
        }
        Err(StoreError::Unavailable(anyhow!("contact {id} kept changing during the delete")).into())
    }
}
