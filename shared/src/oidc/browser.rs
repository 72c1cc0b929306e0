//! What the hosted pages keep in the browser: the sign-in session cookie (a signed token naming
//! a server-side session, crate::oidc::tokens), the CSRF cookie and the token its forms carry,
//! and the proof of a checked password that the two-factor step carries.
//!
//! CSRF, a double-submit cookie: the first page sets a random (256-bit) `HttpOnly`,
//! `SameSite=Lax` cookie and every form carries its value as `csrf_token`; a form posted from
//! another site has neither (Lax keeps the cookie off cross-site posts, and the value is in no
//! page but this browser's), and is refused. A keyed hash of the value in place of the value
//! would add nothing before sign-in: there is no session to bind it to, and a pair taken from
//! one's own browser works as well as the value itself. So the pages need no key.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderValue, header};

use crate::auth::{Credentials, Links};
use crate::http::Request;
use crate::throttle::{Limits, NoHashKey};

/// The sign-in session cookie.
pub const SIGNIN_COOKIE: &str = "ucontact_signin";
/// The CSRF cookie.
pub const CSRF_COOKIE: &str = "ucontact_csrf";

/// How long the two-factor step may follow the password (seconds).
pub const SECOND_STEP_SECONDS: i64 = 300;

/// The value of cookie `name` on the request, if it has exactly one.
pub fn cookie(request: &Request, name: &str) -> Option<String> {
    let mut found = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"').to_owned());
    let first = found.next()?;
    // Two cookies of one name (one planted for a wider path or a parent domain): trust neither.
    found.next().is_none().then_some(first)
}

/// Where the hosted pages' cookies live: the `/oauth2/` path under the public base, `Secure`
/// when it is https.
#[derive(Debug, Clone)]
pub struct CookieSite {
    path: String,
    secure: bool,
}

impl CookieSite {
    pub fn of(links: &Links) -> Self {
        let base = url::Url::parse(links.base()).ok();
        let path = base
            .as_ref()
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Self {
            path: format!("{path}/oauth2/"),
            secure: base.is_some_and(|u| u.scheme() == "https"),
        }
    }

    /// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
    pub fn set(&self, name: &str, value: &str, max_age: i64, same_site: &str) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let line = format!(
            "{name}={value}; Path={}; Max-Age={}; HttpOnly; SameSite={same_site}{secure}",
            self.path,
            max_age.max(0)
        );
        HeaderValue::from_str(&line).unwrap_or_else(|_| HeaderValue::from_static("ucontact_invalid=1"))
    }
}

/// A fresh CSRF cookie value: 256 random bits.
pub fn new_csrf_cookie() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether a form's token is the request's CSRF cookie (constant time).
pub fn csrf_holds(cookie: Option<&str>, token: Option<&str>) -> bool {
    match (cookie, token) {
        (Some(cookie), Some(token)) => verify_slices_are_equal(cookie.as_bytes(), token.as_bytes()).is_ok(),
        _ => false,
    }
}

/// The two-factor step's proof that this browser (its CSRF cookie) gave the right password for
/// `identifier` at most [`SECOND_STEP_SECONDS`] ago, when its user had `credentials`:
/// `expiry.password_version.sessions_revoked_at.identifier.mac`.
pub fn second_step_proof(
    limits: &Limits,
    cookie: &str,
    identifier: &str,
    credentials: Credentials,
    now: i64,
) -> Result<String, NoHashKey> {
    let expires = now + SECOND_STEP_SECONDS;
    let identifier = URL_SAFE_NO_PAD.encode(identifier);
    let Credentials {
        password_version,
        sessions_revoked_at,
    } = credentials;
    let signed = format!("{expires}.{password_version}.{sessions_revoked_at}.{identifier}");
    let mac = limits.digest(&format!("oidc-2fa:{cookie}:{signed}"))?;
    Ok(format!("{signed}.{mac}"))
}

/// The identifier and credentials a [`second_step_proof`] vouches for, if it is this browser's
/// and unexpired.
pub fn check_second_step(
    limits: &Limits,
    cookie: Option<&str>,
    proof: &str,
    now: i64,
) -> Result<Option<(String, Credentials)>, NoHashKey> {
    let Some(cookie) = cookie else { return Ok(None) };
    let Some((signed, mac)) = proof.rsplit_once('.') else {
        return Ok(None);
    };
    let expected = limits.digest(&format!("oidc-2fa:{cookie}:{signed}"))?;
    if verify_slices_are_equal(expected.as_bytes(), mac.as_bytes()).is_err() {
        return Ok(None);
    }
    let parts: Vec<&str> = signed.split('.').collect();
    let [expires, password_version, sessions_revoked_at, identifier] = parts.as_slice() else {
        return Ok(None);
    };
    let (Ok(expires), Ok(password_version), Ok(sessions_revoked_at)) = (
        expires.parse::<i64>(),
        password_version.parse(),
        sessions_revoked_at.parse(),
    ) else {
        return Ok(None);
    };
    if now >= expires {
        return Ok(None);
    }
    let identifier = URL_SAFE_NO_PAD
        .decode(identifier)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    Ok(identifier.map(|identifier| {
        let credentials = Credentials {
            password_version,
            sessions_revoked_at,
        };
        (identifier, credentials)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::throttle::{EmailThrottle, LoginBackoff};

    fn limits(key: &[u8]) -> Limits {
        Limits::new(
            LoginBackoff { threshold: 5 },
            EmailThrottle {
                interval: 60,
                daily_limit: 10,
            },
            Some(key.to_vec()),
        )
    }

    #[test]
    fn csrf_tokens_hold_only_for_their_cookie() {
        let cookie = new_csrf_cookie();
        assert_eq!(cookie.len(), 43);
        assert_ne!(cookie, new_csrf_cookie());
        assert!(csrf_holds(Some(&cookie), Some(&cookie)));
        assert!(!csrf_holds(Some(&cookie), Some("another")));
        assert!(!csrf_holds(None, Some(&cookie)));
        assert!(!csrf_holds(Some(&cookie), None));
    }

    #[test]
    fn second_step_proofs_are_bound_to_browser_identifier_credentials_and_time() {
        let l = limits(b"k1");
        let seen = Credentials {
            password_version: 3,
            sessions_revoked_at: 42,
        };
        let proof = second_step_proof(&l, "c1", "alice", seen, 1000).unwrap();
        assert_eq!(
            check_second_step(&l, Some("c1"), &proof, 1000).unwrap(),
            Some(("alice".to_owned(), seen))
        );
        assert_eq!(check_second_step(&l, Some("c2"), &proof, 1000).unwrap(), None);
        assert_eq!(
            check_second_step(&l, Some("c1"), &proof, 1000 + SECOND_STEP_SECONDS).unwrap(),
            None
        );
        let forged = proof.replace(&URL_SAFE_NO_PAD.encode("alice"), &URL_SAFE_NO_PAD.encode("bob"));
        assert_eq!(check_second_step(&l, Some("c1"), &forged, 1000).unwrap(), None);
        let newer = proof.replacen(".3.42.", ".4.42.", 1);
        assert_ne!(newer, proof);
        assert_eq!(check_second_step(&l, Some("c1"), &newer, 1000).unwrap(), None);
    }

    #[test]
    fn a_cookie_given_twice_counts_as_none() {
        let request = http::Request::builder()
            .header("cookie", "a=1; ucontact_csrf=x; b=2")
            .body(lambda_http::Body::Empty)
            .unwrap();
        assert_eq!(cookie(&request, CSRF_COOKIE).as_deref(), Some("x"));
        let twice = http::Request::builder()
            .header("cookie", "ucontact_csrf=x; ucontact_csrf=y")
            .body(lambda_http::Body::Empty)
            .unwrap();
        assert_eq!(cookie(&twice, CSRF_COOKIE), None);
    }
}
