//! Domain types. Inputs become these newtypes at the boundary through `parse`, which returns a
//! [`FieldError`] the HTTP layer turns into a FastAPI-shaped 422; past the boundary nothing is
//! checked again.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use secrecy::{ExposeSecret, SecretString};

/// Why one input field was refused: a pydantic-style error type and a human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub kind: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    fn too_short(min: usize) -> Self {
        Self::new(
            "string_too_short",
            format!("String should have at least {min} characters"),
        )
    }

    fn too_long(max: usize) -> Self {
        Self::new(
            "string_too_long",
            format!("String should have at most {max} characters"),
        )
    }
}

fn check_length(value: &str, min: usize, max: usize) -> Result<(), FieldError> {
    let chars = value.chars().count();
    if chars < min {
        Err(FieldError::too_short(min))
    } else if chars > max {
        Err(FieldError::too_long(max))
    } else {
        Ok(())
    }
}

/// A user's id: a positive integer, allocated once and never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct UserId(i64);

impl UserId {
    /// Accepts only positive ids.
    pub fn new(id: i64) -> Option<Self> {
        (id > 0).then_some(Self(id))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A username: 3–40 ASCII letters, digits, `.`, `_`, `-`. Unique case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        check_length(value, 3, 40)?;
        if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(FieldError::new(
                "string_pattern_mismatch",
                "Username may contain only ASCII letters, digits, '.', '_' and '-'",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// Rebuilds a username the store already holds.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key that uniqueness is enforced on.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// An email address: valid syntax, at most 254 characters. Unique case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        if value.chars().count() > 254 {
            return Err(FieldError::new(
                "value_error",
                "value is not a valid email address: at most 254 characters",
            ));
        }
        // A bare address with a dotted domain: no display name ("Jo <jo@x.org>"), no IP literal.
        let options = email_address::Options {
            minimum_sub_domains: 2,
            allow_domain_literal: false,
            allow_display_text: false,
            ..Default::default()
        };
        email_address::EmailAddress::parse_with_options(value, options).map_err(|e| {
            FieldError::new("value_error", format!("value is not a valid email address: {e}"))
        })?;
        Ok(Self(value.to_owned()))
    }

    /// Rebuilds an address the store already holds.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key that uniqueness is enforced on.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// The part before the last `@`.
    pub fn local_part(&self) -> &str {
        self.0
            .rsplit_once('@')
            .map_or(self.0.as_str(), |(local, _)| local)
    }
}

/// What a login form's `username` names, as the case-insensitive key the store holds: an email
/// when it has an `@`, else a username. Login lookups and login backoff both key on this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginIdentifier {
    Username(String),
    Email(String),
}

impl LoginIdentifier {
    pub fn parse(presented: &str) -> Self {
        if presented.contains('@') {
            Self::Email(presented.to_lowercase())
        } else {
            Self::Username(presented.to_ascii_lowercase())
        }
    }
}

/// A new password: 8–128 characters of any Unicode. Never shown in `Debug` or logs.
pub struct Password(SecretString);

impl Password {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        check_length(value, 8, 128)?;
        Ok(Self(SecretString::from(value)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// A stored bcrypt hash. Not secret like a password, but still kept out of logs.
#[derive(Clone)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn new(hash: String) -> Self {
        Self(hash)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// A registered user, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub email: Email,
    pub created_at: DateTime<Utc>,
    pub avatar: Option<String>,
    pub is_verified: bool,
}

/// A user with what login and password changes need.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: PasswordHash,
    /// Bumped on every password change; a reset token is valid only for the version it names,
    /// which makes it single-use.
    pub password_version: i64,
    /// When every session of the user was last revoked (logout-all or a password change), in
    /// milliseconds; a session created during a login is valid only if this has not moved since
    /// the login read it.
    pub sessions_revoked_at: i64,
}

/// A contact's id: a positive integer, allocated once per user and never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ContactId(i64);

impl ContactId {
    /// Accepts only positive ids.
    pub fn new(id: i64) -> Option<Self> {
        (id > 0).then_some(Self(id))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Text of `MIN` to `MAX` characters (not bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundedText<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> BoundedText<MIN, MAX> {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        check_length(value, MIN, MAX)?;
        Ok(Self(value.to_owned()))
    }

    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A contact's first or last name: 1–50 characters.
pub type PersonName = BoundedText<1, 50>;

/// A free-text note: at most 255 characters.
pub type Description = BoundedText<0, 255>;

/// A phone number: at most 20 characters, digits, spaces and `+()-.`, at least one digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        check_length(value, 1, 20)?;
        let allowed = |c: char| c.is_ascii_digit() || " +()-.".contains(c);
        if !value.chars().all(allowed) || !value.chars().any(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(
                "string_pattern_mismatch",
                "Phone may contain only digits, spaces and + ( ) - .",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A birthday: a real calendar date, `YYYY-MM-DD`, not after `today`.
pub fn parse_birthday(value: &str, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let well_formed = value.len() == 10 && value.as_bytes()[4] == b'-' && value.as_bytes()[7] == b'-';
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|_| well_formed)
        .ok_or_else(|| {
            FieldError::new(
                "date_from_datetime_parsing",
                "Input should be a valid date in the format YYYY-MM-DD",
            )
        })?;
    if date > today {
        return Err(FieldError::new("value_error", "Birthday cannot be in the future"));
    }
    Ok(date)
}

/// What a user enters for a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactInput {
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub email: Email,
    pub phone: Option<Phone>,
    pub birthday: Option<NaiveDate>,
    pub description: Option<Description>,
}

/// A stored contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: ContactId,
    pub fields: ContactInput,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_contract() {
        for ok in ["abc", "john.doe_1-x", &"a".repeat(40)] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for (bad, kind) in [
            ("ab", "string_too_short"),
            (&"a".repeat(41) as &str, "string_too_long"),
            ("john doe", "string_pattern_mismatch"),
            ("jöhn", "string_pattern_mismatch"),
            ("john@x", "string_pattern_mismatch"),
        ] {
            assert_eq!(Username::parse(bad).unwrap_err().kind, kind, "{bad}");
        }
        assert_eq!(Username::parse("JohnDoe").unwrap().key(), "johndoe");
    }

    #[test]
    fn emails_follow_the_contract() {
        for ok in ["john@example.com", "J.Doe+tag@Sub.Example.org"] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            "john",
            "john@",
            "@example.com",
            "Jo <jo@example.com>",
            "a b@example.com",
            &long,
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let email = Email::parse("John.Doe@Example.COM").unwrap();
        assert_eq!(email.key(), "john.doe@example.com");
    }

    #[test]
    fn contact_fields_follow_the_contract() {
        assert!(PersonName::parse("").is_err());
        assert!(PersonName::parse(&"é".repeat(50)).is_ok());
        assert!(PersonName::parse(&"é".repeat(51)).is_err());
        for ok in ["+1 (555) 010-0000", "555.0100", "0"] {
            assert!(Phone::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "call me",
            "+1 555 0100 ext. 12",
            "123456789012345678901",
            "()",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
        assert!(Description::parse(&"x".repeat(255)).is_ok());
        assert!(Description::parse(&"x".repeat(256)).is_err());
        let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        assert_eq!(
            parse_birthday("2024-02-29", today),
            Ok(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap())
        );
        assert_eq!(parse_birthday("2025-06-01", today), Ok(today));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-5",
            "01/02/2000",
            "2024-02-30",
            "",
        ] {
            assert_eq!(
                parse_birthday(bad, today).unwrap_err().kind,
                "date_from_datetime_parsing",
                "{bad}"
            );
        }
        assert_eq!(
            parse_birthday("2025-06-02", today).unwrap_err().kind,
            "value_error"
        );
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(Password::parse("ééééééé").is_err());
        assert!(Password::parse("éééééééé").is_ok());
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert!(Password::parse(&"é".repeat(129)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("hunter2hunter2").unwrap()),
            "Password([redacted])"
        );
    }
}
