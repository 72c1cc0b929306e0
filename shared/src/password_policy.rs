//! Which new passwords are refused besides those of the wrong length: the common ones, and those
//! equal to the account's username, its email address or that address's local part. A set lookup,
//! not a strength score.
//!
//! The list is Django's `CommonPasswordValidator` list (19,640 distinct passwords, compiled by
//! Royce Williams), lowercased and sorted by `scripts/update-common-passwords`; see
//! `shared/data/README.md`. It is compiled in, so no file or network is needed at run time, and
//! it is split into a sorted slice on first use only (the functions that never check a password
//! never pay for it).

use std::sync::OnceLock;

use crate::domain::{Email, FieldError, Password};

static LIST: &str = include_str!("../data/common-passwords.txt");

fn common_passwords() -> &'static [&'static str] {
    static SORTED: OnceLock<Vec<&'static str>> = OnceLock::new();
    SORTED.get_or_init(|| LIST.lines().collect())
}

/// Whether `password`, ignoring case, is on the common-password list.
pub fn is_common(password: &str) -> bool {
    let lowered = password.to_lowercase();
    common_passwords().binary_search(&lowered.as_str()).is_ok()
}

/// Refuses a new password that is common or equal (ignoring case) to the username, the email
/// address (as shown, or with its domain in ASCII) or the address's local part.
pub fn check(password: &Password, username: &str, email: &Email) -> Result<(), FieldError> {
    let candidate = password.expose().to_lowercase();
    let personal = [
        username.to_lowercase(),
        email.key(),
        email.with_ascii_domain().to_lowercase(),
        email.local_part().to_lowercase(),
    ];
    if personal.contains(&candidate) {
        return Err(FieldError::new(
            "value_error",
            "Value error, Password must not be the username, the email address or the email address's local part",
        ));
    }
    if is_common(&candidate) {
        return Err(FieldError::new(
            "value_error",
            "Value error, Password is too common; choose one that is harder to guess",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_distinct_lowercase_and_large_enough() {
        let list = common_passwords();
        assert!(list.len() >= 10_000, "{}", list.len());
        assert!(list.windows(2).all(|w| w[0] < w[1]), "not sorted or not distinct");
        assert!(list.iter().all(|p| *p == p.to_lowercase() && !p.is_empty()));
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for common in [
            "password",
            "Password1",
            "QWERTYUIOP",
            "iloveyou",
            "12345678",
            "sunshine",
        ] {
            assert!(is_common(common), "{common}");
        }
        for fine in ["correct horse battery staple", "hunter2hunter2-ok", "x7#Vq!pL0m"] {
            assert!(!is_common(fine), "{fine}");
        }
    }

    #[test]
    fn the_username_the_email_and_the_local_part_are_refused() {
        let email = Email::parse("Jane.Doe-1975@example.org").unwrap();
        let check = |p: &str| check(&Password::parse(p).unwrap(), "janedoe_77", &email);
        assert!(check("JaneDoe_77").is_err());
        assert!(check("jane.doe-1975").is_err());
        assert!(check("Jane.Doe-1975@Example.org").is_err());
        assert!(
            check("jane.doe-1975@example.org.").is_ok(),
            "only the address itself"
        );
        let idn = Email::parse("jane.doe-1975@xn--bcher-kva.example").unwrap();
        let check_idn = |p: &str| super::check(&Password::parse(p).unwrap(), "janedoe_77", &idn);
        assert!(check_idn("jane.doe-1975@bücher.example").is_err());
        assert!(check_idn("Jane.Doe-1975@XN--BCHER-KVA.example").is_err());
        assert!(check("password1").is_err());
        assert!(check("a sensible passphrase").is_ok());
    }
}
