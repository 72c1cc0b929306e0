//! The contacts of the SQLite adapter: one table keyed by (user id, contact id), with the email
//! unique per user; every write also requires the user to exist (a deleted user's token writes
//! nothing).

use anyhow::anyhow;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior};

use super::{SqliteStore, conversion, parse_timestamp, timestamp, user_exists};
use crate::domain::{Contact, ContactId, ContactInput, Description, Email, PersonName, Phone, UserId};
use crate::store::{ContactStore, ContactWriteError, StoreError};

const CONTACT_COLUMNS: &str =
    "id, first_name, last_name, email, phone, birthday, description, created_at, updated_at";

fn contact(row: &Row<'_>) -> rusqlite::Result<Contact> {
    let id: i64 = row.get(0)?;
    let birthday: Option<String> = row.get(5)?;
    Ok(Contact {
        id: ContactId::new(id).ok_or_else(|| conversion(0, anyhow!("non-positive contact id {id}")))?,
        fields: ContactInput {
            first_name: PersonName::from_trusted(row.get(1)?),
            last_name: PersonName::from_trusted(row.get(2)?),
            email: Email::from_trusted(row.get(3)?),
            phone: row.get::<_, Option<String>>(4)?.map(Phone::from_trusted),
            birthday: birthday
                .map(|b| {
                    chrono::NaiveDate::parse_from_str(&b, "%Y-%m-%d").map_err(|e| conversion(5, e.into()))
                })
                .transpose()?,
            description: row.get::<_, Option<String>>(6)?.map(Description::from_trusted),
        },
        created_at: parse_timestamp(7, &row.get::<_, String>(7)?)?,
        updated_at: parse_timestamp(8, &row.get::<_, String>(8)?)?,
    })
}

/// The values `?1`..`?10` of both contact writes: user id, contact id, the fields, the time.
fn contact_params(
    user_id: UserId,
    id: i64,
    input: &ContactInput,
    now: DateTime<Utc>,
) -> rusqlite::ParamsFromIter<[Value; 10]> {
    let text = |value: Option<String>| value.map_or(Value::Null, Value::Text);
    rusqlite::params_from_iter([
        Value::Integer(user_id.get()),
        Value::Integer(id),
        Value::Text(input.first_name.as_str().to_owned()),
        Value::Text(input.last_name.as_str().to_owned()),
        Value::Text(input.email.as_str().to_owned()),
        Value::Text(input.email.key()),
        text(input.phone.as_ref().map(|p| p.as_str().to_owned())),
        text(input.birthday.map(|b| b.to_string())),
        text(input.description.as_ref().map(|d| d.as_str().to_owned())),
        Value::Text(timestamp(now)),
    ])
}

/// A unique-email violation of the contacts table is the client's 409; anything else is ours.
fn contact_write_error(e: rusqlite::Error) -> ContactWriteError {
    if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation)
        && e.to_string().contains("contacts.email_key")
    {
        ContactWriteError::EmailTaken
    } else {
        ContactWriteError::Store(e.into())
    }
}

/// A contact write that touched nothing: the contact is missing, or its whole user is.
fn missing(conn: &Connection, user_id: UserId) -> Result<ContactWriteError, StoreError> {
    Ok(if user_exists(conn, user_id)? {
        ContactWriteError::NotFound
    } else {
        ContactWriteError::UserGone
    })
}

#[async_trait]
impl ContactStore for SqliteStore {
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn create_contact(
        &self,
        user_id: UserId,
        input: &ContactInput,
        now: DateTime<Utc>,
    ) -> Result<Contact, ContactWriteError> {
        let input = input.clone();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // The user must still exist: a deleted user's token writes nothing.
            let Some(id): Option<i64> = tx
                .query_row(
                    "UPDATE users SET contact_seq = contact_seq + 1 WHERE id = ?1 RETURNING contact_seq",
                    [user_id.get()],
                    |row| row.get(0),
                )
                .optional()?
            else {
                return Ok(Err(ContactWriteError::UserGone));
            };
            let inserted = tx.execute(
                "INSERT INTO contacts (user_id, id, first_name, last_name, email, email_key, phone, birthday,
                                       description, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                contact_params(user_id, id, &input, now),
            );
            match inserted {
                Ok(_) => {
                    tx.commit()?;
                    let id = ContactId::new(id)
                        .ok_or_else(|| StoreError::Unexpected(anyhow!("contact id {id}")))?;
                    Ok(Ok(Contact {
                        id,
                        fields: input,
                        created_at: now,
                        updated_at: now,
                    }))
                }
                Err(e) => Ok(Err(contact_write_error(e))),
            }
        })
        .await?
    }

    async fn contact(&self, user_id: UserId, id: ContactId) -> Result<Option<Contact>, StoreError> {
        self.call(move |conn| {
            let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE user_id = ?1 AND id = ?2");
            Ok(conn
                .query_row(&sql, [user_id.get(), id.get()], contact)
                .optional()?)
        })
        .await
    }

    async fn contacts(&self, user_id: UserId) -> Result<Vec<Contact>, StoreError> {
        self.call(move |conn| {
            let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE user_id = ?1 ORDER BY id");
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map([user_id.get()], contact)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn update_contact(
        &self,
        user_id: UserId,
        id: ContactId,
        input: &ContactInput,
        now: DateTime<Utc>,
    ) -> Result<Contact, ContactWriteError> {
        let input = input.clone();
        self.call(move |conn| {
            let updated = conn
                .query_row(
                    "UPDATE contacts SET first_name = ?3, last_name = ?4, email = ?5, email_key = ?6, phone = ?7,
                            birthday = ?8, description = ?9, updated_at = ?10
                     WHERE user_id = ?1 AND id = ?2 RETURNING created_at",
                    contact_params(user_id, id.get(), &input, now),
                    |row| row.get::<_, String>(0),
                )
                .optional();
            Ok(match updated {
                Ok(Some(created_at)) => Ok(Contact {
                    id,
                    fields: input,
                    created_at: parse_timestamp(0, &created_at)?,
                    updated_at: now,
                }),
                Ok(None) => Err(missing(conn, user_id)?),
                Err(e) => Err(contact_write_error(e)),
            })
        })
        .await?
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    async fn delete_contact(&self, user_id: UserId, id: ContactId) -> Result<Contact, ContactWriteError> {
        self.call(move |conn| {
            let sql =
                format!("DELETE FROM contacts WHERE user_id = ?1 AND id = ?2 RETURNING {CONTACT_COLUMNS}");
            match conn
                .query_row(&sql, [user_id.get(), id.get()], contact)
                .optional()?
            {
                Some(deleted) => Ok(Ok(deleted)),
                None => Ok(Err(missing(conn, user_id)?)),
            }
        })
        .await?
    }
}
