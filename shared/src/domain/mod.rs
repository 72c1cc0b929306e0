//! Domain types. Inputs become these newtypes at the boundary through `parse`, which returns a
//! [`FieldError`] the HTTP layer turns into a FastAPI-shaped 422; past the boundary nothing is
//! checked again.

mod amr;
pub use amr::Amr;

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use icu_normalizer::ComposingNormalizerBorrowed;
use icu_properties::CodePointMapData;
use icu_properties::props::{GeneralCategory, GeneralCategoryGroup};
use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
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

/// An email address as Python's `email-validator` (what FastAPI's `EmailStr` uses) accepts it: a
/// bare `local@domain` of valid syntax, no quoted local part (it can never be mailed), no control,
/// invisible or other unsafe character, a domain that is a valid internationalized domain name
/// (UTS 46) under a top-level domain that is not reserved; at most 254 characters.
///
/// It is held, shown and stored in email-validator's `normalized` form, the one a FastAPI service
/// returns: the local part NFC-normalized with its case kept, and the domain UTS 46-mapped
/// (lowercased) and shown in Unicode, so `a@xn--bcher-kva.example` and `a@BÜCHER.example` are both
/// `a@bücher.example`. Unique case-insensitively on that form: one mailbox, one key, whichever
/// spelling came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

/// The most characters of an address, in the input and in each of its normalized forms.
const EMAIL_MAX_CHARS: usize = 254;

/// What the general category of a character must be for it to be safe in an address
/// (email-validator's `check_unsafe_chars`): letters, numbers, punctuation and symbols, and marks
/// but not first in a part (where they would combine with what comes before the address). Refused
/// are separators (spaces, U+2028, U+2029) and "other": controls, format characters (bidi
/// overrides such as U+202E, zero-width joiners, the BOM), surrogates, private use and unassigned
/// code points (U+FFFF).
const SAFE_CATEGORIES: GeneralCategoryGroup = GeneralCategoryGroup::Letter
    .union(GeneralCategoryGroup::Number)
    .union(GeneralCategoryGroup::Punctuation)
    .union(GeneralCategoryGroup::Symbol);

/// Domains that email-validator refuses because no address under them is deliverable worldwide.
const SPECIAL_USE_DOMAINS: [&str; 6] = ["arpa", "invalid", "local", "localhost", "onion", "test"];

/// Local parts that RFC 2142 makes case-insensitive; email-validator lowercases them.
const CASE_INSENSITIVE_MAILBOXES: [&str; 15] = [
    "info",
    "marketing",
    "sales",
    "support",
    "abuse",
    "noc",
    "security",
    "postmaster",
    "hostmaster",
    "usenet",
    "news",
    "webmaster",
    "www",
    "uucp",
    "ftp",
];

fn invalid_email(reason: impl fmt::Display) -> FieldError {
    FieldError::new(
        "value_error",
        format!("value is not a valid email address: {reason}"),
    )
}

/// Refuses a part of an address (local part or domain) that holds an unsafe character, naming
/// each one.
fn check_safe_characters(part: &str) -> Result<(), FieldError> {
    let categories = CodePointMapData::<GeneralCategory>::new();
    let unsafe_chars: std::collections::BTreeSet<char> = part
        .chars()
        .enumerate()
        // ASCII is the syntax check's: its controls and space are no atext.
        .filter(|&(_, c)| !c.is_ascii())
        .filter(|&(i, c)| {
            let category = categories.get(c);
            let safe_mark = i > 0 && GeneralCategoryGroup::Mark.contains(category);
            !(SAFE_CATEGORIES.contains(category) || safe_mark)
        })
        .map(|(_, c)| c)
        .collect();
    if unsafe_chars.is_empty() {
        return Ok(());
    }
    let named: Vec<String> = unsafe_chars
        .iter()
        .map(|c| format!("U+{:04X}", u32::from(*c)))
        .collect();
    Err(invalid_email(format_args!(
        "The email address contains unsafe characters: {}.",
        named.join(", ")
    )))
}

/// The syntax checks of the `email_address` crate: a bare address with a dotted domain, no display
/// name ("Jo <jo@x.org>"), no IP literal.
fn check_syntax(address: &str) -> Result<(), FieldError> {
    let options = email_address::Options {
        minimum_sub_domains: 2,
        allow_domain_literal: false,
        allow_display_text: false,
        ..Default::default()
    };
    email_address::EmailAddress::parse_with_options(address, options)
        .map(drop)
        .map_err(invalid_email)
}

/// The UTS 46 processing of a domain: hostname characters only (STD3), no hyphen first, last or
/// third and fourth in a label (except a valid `xn--` one), DNS lengths.
const UTS46: Uts46 = Uts46::new();

fn domain_to_ascii(domain: &str) -> Option<String> {
    UTS46
        .to_ascii(
            domain.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::Check,
            DnsLength::Verify,
        )
        .ok()
        .map(std::borrow::Cow::into_owned)
}

/// The domain of `address` in ASCII (`xn--` labels) and in Unicode, both UTS 46-mapped
/// (lowercased, `。` a dot), or why it is no domain an address may have.
fn normalize_domain(domain: &str, address: &str) -> Result<(String, String), FieldError> {
    let bad_domain =
        || invalid_email("The part after the @-sign is not a valid internationalized domain name.");
    let Some(ascii_domain) = domain_to_ascii(domain) else {
        // A display name or an IP literal is better named by the syntax check.
        check_syntax(address)?;
        return Err(bad_domain());
    };
    let (unicode_domain, decoded) =
        UTS46.to_unicode(ascii_domain.as_bytes(), AsciiDenyList::STD3, Hyphens::Check);
    decoded.map_err(|_| bad_domain())?;
    let unicode_domain = unicode_domain.into_owned();
    // What `xn--` labels spell must be as safe as what was typed.
    check_safe_characters(&unicode_domain)?;
    if !ascii_domain.ends_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(invalid_email(
            "The part after the @-sign is not valid. It is not within a valid top-level domain.",
        ));
    }
    if SPECIAL_USE_DOMAINS
        .iter()
        .any(|d| ascii_domain == *d || ascii_domain.ends_with(&format!(".{d}")))
    {
        return Err(invalid_email(
            "The part after the @-sign is a special-use or reserved name that cannot be used with email.",
        ));
    }
    Ok((ascii_domain, unicode_domain))
}

impl Email {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        if value.chars().count() > EMAIL_MAX_CHARS {
            return Err(invalid_email("at most 254 characters"));
        }
        if value.contains('"') {
            return Err(invalid_email(
                "Quoting the part before the @-sign is not allowed here.",
            ));
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            check_syntax(value)?;
            return Err(invalid_email("An email address must have an @-sign."));
        };
        check_safe_characters(local)?;
        check_safe_characters(domain)?;
        let (ascii_domain, unicode_domain) = normalize_domain(domain, value)?;
        check_syntax(&format!("{local}@{ascii_domain}"))?;

        let mut local = ComposingNormalizerBorrowed::new_nfc()
            .normalize(local)
            .into_owned();
        if CASE_INSENSITIVE_MAILBOXES.contains(&local.to_ascii_lowercase().as_str()) {
            local.make_ascii_lowercase();
        }
        // NFC can make a local part invalid (U+037E becomes `;`) or longer: check what is kept.
        let ascii_form = format!("{local}@{ascii_domain}");
        check_syntax(&ascii_form).map_err(|_| {
            invalid_email("After Unicode normalization, the part before the @-sign is not valid.")
        })?;
        let normalized = format!("{local}@{unicode_domain}");
        if normalized.chars().count() > EMAIL_MAX_CHARS || ascii_form.chars().count() > EMAIL_MAX_CHARS {
            return Err(invalid_email("at most 254 characters after normalization"));
        }
        Ok(Self(normalized))
    }

    /// Rebuilds an address the store already holds.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    /// The normalized address: what is stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address with its domain in ASCII (`xn--` labels), as it goes on the wire to mail
    /// services that take no Unicode domain (SES); the local part is as held.
    pub fn with_ascii_domain(&self) -> String {
        match self.0.rsplit_once('@') {
            Some((local, domain)) => match domain_to_ascii(domain) {
                Some(ascii) => format!("{local}@{ascii}"),
                None => self.0.clone(),
            },
            None => self.0.clone(),
        }
    }

    /// The case-insensitive key that uniqueness is enforced on. Computed from the held form, so it
    /// stays what the store recorded for an address saved before normalization existed.
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
    /// An address is keyed as registration keys it (any spelling of one mailbox is one key); one
    /// that no longer parses can only be an address saved before the current rules, whose key was
    /// its lowercase form.
    pub fn parse(presented: &str) -> Self {
        if presented.contains('@') {
            Self::Email(
                Email::parse(presented).map_or_else(|_| presented.to_lowercase(), |email| email.key()),
            )
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
    /// Whether logging in takes a TOTP or recovery code besides the password (docs/API.md,
    /// "Second factors and passkeys").
    pub totp: bool,
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

/// A birthday: a real calendar date, `YYYY-MM-DD`, from year 1, not after `today`.
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
    // Python's dates start at year 1; pydantic refuses year 0 in these words.
    if date.year() < 1 {
        return Err(FieldError::new(
            "date_parsing",
            "Input should be a valid date in the format YYYY-MM-DD, year 0 is out of range",
        ));
    }
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
        for ok in [
            "john@example.com",
            "J.Doe+tag@Sub.Example.org",
            "jöhn@bücher.example",
            "用户@例子.广告",
        ] {
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
            "a@[192.0.2.1]",
            "a@ex_ample.com",
            "a@-example.com",
            "a@ab--c.example.com",
            "a@xn--zz.example",
            "a@example.123",
            "a@mail.localhost",
            "a@host.test",
            "a@x.onion",
            "a@printer.local",
            "a\u{37E}b@example.com",
        ] {
            assert_eq!(Email::parse(bad).unwrap_err().kind, "value_error", "{bad}");
        }
        let email = Email::parse("John.Doe@Example.COM").unwrap();
        assert_eq!(email.key(), "john.doe@example.com");
    }

    #[test]
    fn quoted_local_parts_are_refused_even_when_needless() {
        for quoted in [
            "\"john x\"@example.com",
            "\"john\"@example.com",
            "\"a@b\"@example.com",
        ] {
            let error = Email::parse(quoted).unwrap_err();
            assert!(error.message.contains("Quoting"), "{quoted}: {error:?}");
        }
    }

    #[test]
    fn unsafe_characters_are_refused_in_either_part() {
        for (name, c) in [
            ("line separator", '\u{2028}'),
            ("paragraph separator", '\u{2029}'),
            ("right-to-left override", '\u{202E}'),
            ("byte order mark", '\u{FEFF}'),
            ("zero width joiner", '\u{200D}'),
            ("zero width space", '\u{200B}'),
            ("soft hyphen", '\u{00AD}'),
            ("noncharacter", '\u{FFFF}'),
            ("unassigned", '\u{0378}'),
            ("private use", '\u{E000}'),
            ("no-break space", '\u{00A0}'),
            ("ideographic space", '\u{3000}'),
            ("C1 control", '\u{0085}'),
            ("NUL", '\u{0000}'),
        ] {
            for address in [format!("jo{c}hn@example.com"), format!("john@exa{c}mple.com")] {
                let error = Email::parse(&address).unwrap_err();
                assert_eq!(error.kind, "value_error", "{name}: {address:?}");
            }
            let error = Email::parse(&format!("jo{c}hn@example.com")).unwrap_err();
            assert!(
                c.is_ascii() || error.message.contains(&format!("U+{:04X}", u32::from(c))),
                "{name}: {error:?}"
            );
        }
        // A combining mark may follow a letter, not open a part.
        assert!(Email::parse("jo\u{301}hn@example.com").is_ok());
        assert!(Email::parse("\u{301}john@example.com").is_err());
        // An `xn--` label must not spell what could not be typed: क्‌ष, with a ZWNJ that IDNA allows
        // after a virama.
        assert!(Email::parse("a@\u{915}\u{94D}\u{200C}\u{937}.example").is_err());
        let error = Email::parse("a@xn--11b2ezcs70k.example").unwrap_err();
        assert!(error.message.contains("U+200C"), "{error:?}");
    }

    #[test]
    fn an_address_is_held_in_email_validators_normalized_form() {
        for (input, normalized, ascii) in [
            ("John@Example.COM", "John@example.com", "John@example.com"),
            (
                "a@xn--bcher-kva.example",
                "a@bücher.example",
                "a@xn--bcher-kva.example",
            ),
            ("a@BÜCHER.example", "a@bücher.example", "a@xn--bcher-kva.example"),
            (
                "a@XN--BCHER-KVA.example",
                "a@bücher.example",
                "a@xn--bcher-kva.example",
            ),
            (
                "a@bu\u{308}cher.example",
                "a@bücher.example",
                "a@xn--bcher-kva.example",
            ),
            ("jo\u{308}rg@example.com", "jörg@example.com", "jörg@example.com"),
            ("a@example\u{3002}com", "a@example.com", "a@example.com"),
            (
                "Postmaster@example.com",
                "postmaster@example.com",
                "postmaster@example.com",
            ),
        ] {
            let email = Email::parse(input).unwrap_or_else(|e| panic!("{input}: {e:?}"));
            assert_eq!(email.as_str(), normalized, "{input}");
            assert_eq!(email.with_ascii_domain(), ascii, "{input}");
        }
        let key = |s: &str| Email::parse(s).unwrap().key();
        assert_eq!(key("A@xn--bcher-kva.example"), key("a@Bücher.example"));
        assert_eq!(key("J\u{00F6}rg@example.com"), key("jo\u{308}rg@example.com"));
        assert_ne!(key("jorg@example.com"), key("jörg@example.com"));
    }

    #[test]
    fn a_login_names_one_mailbox_whatever_its_spelling() {
        let of = |s: &str| LoginIdentifier::parse(s);
        assert_eq!(of("A@xn--bcher-kva.example"), of("a@bücher.example"));
        assert_eq!(of("jo\u{308}rg@example.com"), of("J\u{00F6}rg@example.com"));
        assert_eq!(
            of("\"old x\"@example.com"),
            LoginIdentifier::Email("\"old x\"@example.com".into()),
            "an address saved before the rules keeps its old key"
        );
        assert_eq!(of("JohnDoe"), LoginIdentifier::Username("johndoe".into()));
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
        assert_eq!(
            parse_birthday("0001-01-01", today),
            Ok(NaiveDate::from_ymd_opt(1, 1, 1).unwrap())
        );
        for year_zero_or_before in ["0000-05-01", "0000-02-29", "-001-05-01"] {
            assert_eq!(
                parse_birthday(year_zero_or_before, today).unwrap_err().kind,
                "date_parsing",
                "{year_zero_or_before}"
            );
        }
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
