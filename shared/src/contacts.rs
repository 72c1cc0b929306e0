//! The contacts use cases. Every operation takes the id of the authenticated user, and the store
//! only ever looks inside that user's contacts: someone else's contact is simply not found. A
//! deleted user's unexpired token is refused: writes check the user in the same step, reads read
//! the user beside the contacts.

use chrono::{Datelike, NaiveDate};

use crate::app::App;
use crate::domain::{Contact, ContactId, ContactInput, UserId};
use crate::store::{ContactWriteError, StoreError};

/// Every way a contacts use case can fail.
#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error("contact not found")]
    NotFound,
    #[error("a contact with this email exists")]
    EmailTaken,
    /// The user was deleted while their access token was still unexpired.
    #[error("the user is gone")]
    UserGone,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ContactWriteError> for ContactError {
    fn from(e: ContactWriteError) -> Self {
        match e {
            ContactWriteError::NotFound => ContactError::NotFound,
            ContactWriteError::EmailTaken => ContactError::EmailTaken,
            ContactWriteError::UserGone => ContactError::UserGone,
            ContactWriteError::Store(e) => ContactError::Store(e),
        }
    }
}

/// A page of the list, optionally filtered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub skip: usize,
    pub limit: usize,
    /// Case-insensitive substring of first name, last name or email.
    pub search: Option<String>,
}

#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn create(app: &App, user_id: UserId, input: &ContactInput) -> Result<Contact, ContactError> {
    Ok(app
        .contacts
        .create_contact(user_id, input, app.clock.now())
        .await?)
}

pub async fn get(app: &App, user_id: UserId, id: ContactId) -> Result<Contact, ContactError> {
    let (user, contact) = tokio::try_join!(app.store.user_by_id(user_id), app.contacts.contact(user_id, id))?;
    user.ok_or(ContactError::UserGone)?;
    contact.ok_or(ContactError::NotFound)
}

/// Every contact of the user, read beside the user's profile (in parallel: no extra round
/// trip), so that a deleted user's unexpired token reads nothing.
async fn all_of(app: &App, user_id: UserId) -> Result<Vec<Contact>, ContactError> {
    let (user, contacts) = tokio::try_join!(app.store.user_by_id(user_id), app.contacts.contacts(user_id))?;
    user.ok_or(ContactError::UserGone)?;
    Ok(contacts)
}

#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn update(
    app: &App,
    user_id: UserId,
    id: ContactId,
    input: &ContactInput,
) -> Result<Contact, ContactError> {
    Ok(app
        .contacts
        .update_contact(user_id, id, input, app.clock.now())
        .await?)
}

#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn delete(app: &App, user_id: UserId, id: ContactId) -> Result<Contact, ContactError> {
    Ok(app.contacts.delete_contact(user_id, id).await?)
}

/// The user's contacts in id order, filtered by `search`, then `skip`ped and cut to `limit`.
pub async fn list(app: &App, user_id: UserId, query: &ListQuery) -> Result<Vec<Contact>, ContactError> {
    let needle = query
        .search
        .as_deref()
        .map(str::to_lowercase)
        .filter(|s| !s.is_empty());
    let matches = |c: &Contact| match &needle {
        None => true,
        Some(needle) => [
            c.fields.first_name.as_str(),
            c.fields.last_name.as_str(),
            c.fields.email.as_str(),
        ]
        .iter()
        .any(|field| field.to_lowercase().contains(needle.as_str())),
    };
    let contacts = all_of(app, user_id).await?;
    Ok(contacts
        .into_iter()
        .filter(|c| matches(c))
        .skip(query.skip)
        .take(query.limit)
        .collect())
}

/// Contacts whose next birthday falls between today (UTC) and today + `days`, soonest first.
pub async fn upcoming_birthdays(app: &App, user_id: UserId, days: u32) -> Result<Vec<Contact>, ContactError> {
    let today = app.clock.today();
    let last = today + chrono::Days::new(u64::from(days));
    let mut upcoming: Vec<(NaiveDate, Contact)> = all_of(app, user_id)
        .await?
        .into_iter()
        .filter_map(|c| c.fields.birthday.map(|b| (next_birthday(b, today), c)))
        .filter(|(next, _)| *next <= last)
        .collect();
    upcoming.sort_by_key(|(next, c)| (*next, c.id));
    Ok(upcoming.into_iter().map(|(_, c)| c).collect())
}

/// The first celebration of `birthday` on or after `today`; Feb 29 is celebrated on Feb 28 in
/// years without one.
pub fn next_birthday(birthday: NaiveDate, today: NaiveDate) -> NaiveDate {
    let in_year = |year: i32| {
        NaiveDate::from_ymd_opt(year, birthday.month(), birthday.day())
            .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
            .unwrap_or(today)
    };
    let this_year = in_year(today.year());
    if this_year >= today {
        this_year
    } else {
        in_year(today.year() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn next_birthdays_cross_the_year_end_and_handle_feb_29() {
        let cases = [
            (date(1990, 12, 31), date(2025, 12, 30), date(2025, 12, 31)),
            (date(1990, 1, 2), date(2025, 12, 30), date(2026, 1, 2)),
            (date(1990, 12, 30), date(2025, 12, 30), date(2025, 12, 30)),
            (date(2000, 2, 29), date(2025, 2, 1), date(2025, 2, 28)),
            (date(2000, 2, 29), date(2028, 2, 1), date(2028, 2, 29)),
            (date(2000, 2, 29), date(2025, 3, 1), date(2026, 2, 28)),
            (date(2000, 3, 1), date(2028, 2, 29), date(2028, 3, 1)),
        ];
        for (birthday, today, expected) in cases {
            assert_eq!(
                next_birthday(birthday, today),
                expected,
                "{birthday} seen on {today}"
            );
        }
    }
}
