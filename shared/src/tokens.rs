//! JWT issue and verification, one kind per purpose (docs/API.md, "Tokens").
//!
//! Every token carries `typ` (its kind), `jti`, `iat` and `exp`; verification allows only the
//! configured HMAC algorithm, requires those claims, checks `exp` against the app's [`Clock`]
//! with no leeway, and refuses a token of another kind, so an access token is never a refresh
//! token and so on.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Clock;
use crate::config::{Config, TokenLifetimes};
use crate::domain::{Email, UserId};

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Access,
    Refresh,
    EmailVerification,
    PasswordReset,
}

/// A token failed verification. Deliberately carries no detail: every cause gets one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid token")]
pub struct InvalidToken;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    typ: TokenKind,
    jti: String,
    iat: i64,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pwv: Option<i64>,
}

/// A verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub user_id: UserId,
}

/// A verified refresh token: which session (login) it belongs to and which link of the chain it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshClaims {
    pub user_id: UserId,
    pub session_id: String,
    pub token_id: String,
    pub expires_at: i64,
}

/// A verified email-verification token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationClaims {
    pub user_id: UserId,
    pub email: Email,
}

/// A verified password-reset token, valid for one password version only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetClaims {
    pub user_id: UserId,
    pub password_version: i64,
}

/// A freshly issued refresh token with the ids the session store keeps.
#[derive(Debug)]
pub struct IssuedRefresh {
    pub token: String,
    pub token_id: String,
}

/// Issues and verifies every kind of token with one key.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    header: Header,
    validation: Validation,
    lifetimes: TokenLifetimes,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("algorithm", &self.header.alg)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    pub fn new(config: &Config, clock: Arc<dyn Clock>) -> Self {
        let mut validation = Validation::new(config.jwt_algorithm);
        validation.leeway = 0;
        // `exp` is checked in `verify` against the app's clock (still required to be present).
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub", "iat", "jti"]);
        Self {
            encoding: EncodingKey::from_secret(config.jwt_key()),
            decoding: DecodingKey::from_secret(config.jwt_key()),
            header: Header::new(config.jwt_algorithm),
            validation,
            lifetimes: config.lifetimes,
            clock,
        }
    }

    pub fn lifetimes(&self) -> TokenLifetimes {
        self.lifetimes
    }

    pub fn issue_access(&self, user_id: UserId, now: DateTime<Utc>) -> anyhow::Result<String> {
        let exp = now.timestamp() + self.lifetimes.access;
        self.sign(self.claims(TokenKind::Access, user_id, now, exp))
    }

    /// Issues the next refresh token of `session_id`, expiring at the session's absolute end.
    pub fn issue_refresh(
        &self,
        user_id: UserId,
        session_id: &str,
        expires_at: i64,
        now: DateTime<Utc>,
    ) -> anyhow::Result<IssuedRefresh> {
        let mut claims = self.claims(TokenKind::Refresh, user_id, now, expires_at);
        claims.sid = Some(session_id.to_owned());
        let token_id = claims.jti.clone();
        Ok(IssuedRefresh {
            token: self.sign(claims)?,
            token_id,
        })
    }

    pub fn issue_email_verification(
        &self,
        user_id: UserId,
        email: &Email,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let mut claims = self.claims(
            TokenKind::EmailVerification,
            user_id,
            now,
            now.timestamp() + self.lifetimes.email_verification,
        );
        claims.email = Some(email.as_str().to_owned());
        self.sign(claims)
    }

    pub fn issue_password_reset(
        &self,
        user_id: UserId,
        password_version: i64,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let mut claims = self.claims(
            TokenKind::PasswordReset,
            user_id,
            now,
            now.timestamp() + self.lifetimes.password_reset,
        );
        claims.pwv = Some(password_version);
        self.sign(claims)
    }

    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, InvalidToken> {
        let claims = self.verify(token, TokenKind::Access)?;
        Ok(AccessClaims {
            user_id: user_id(&claims)?,
        })
    }

    pub fn verify_refresh(&self, token: &str) -> Result<RefreshClaims, InvalidToken> {
        let claims = self.verify(token, TokenKind::Refresh)?;
        Ok(RefreshClaims {
            user_id: user_id(&claims)?,
            session_id: claims.sid.clone().ok_or(InvalidToken)?,
            token_id: claims.jti,
            expires_at: claims.exp,
        })
    }

    pub fn verify_email_verification(&self, token: &str) -> Result<VerificationClaims, InvalidToken> {
        let claims = self.verify(token, TokenKind::EmailVerification)?;
        let email = claims.email.as_deref().ok_or(InvalidToken)?;
        Ok(VerificationClaims {
            user_id: user_id(&claims)?,
            email: Email::from_trusted(email.to_owned()),
        })
    }

    pub fn verify_password_reset(&self, token: &str) -> Result<ResetClaims, InvalidToken> {
        let claims = self.verify(token, TokenKind::PasswordReset)?;
        Ok(ResetClaims {
            user_id: user_id(&claims)?,
            password_version: claims.pwv.ok_or(InvalidToken)?,
        })
    }

    fn claims(&self, typ: TokenKind, user_id: UserId, now: DateTime<Utc>, exp: i64) -> Claims {
        Claims {
            sub: user_id.to_string(),
            typ,
            jti: Uuid::new_v4().simple().to_string(),
            iat: now.timestamp(),
            exp,
            sid: None,
            email: None,
            pwv: None,
        }
    }

    fn sign(&self, claims: Claims) -> anyhow::Result<String> {
        Ok(encode(&self.header, &claims, &self.encoding)?)
    }

    fn verify(&self, token: &str, kind: TokenKind) -> Result<Claims, InvalidToken> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| InvalidToken)?
            .claims;
        // Expired once `now` passes `exp`: no leeway (the issuer is this same service).
        if claims.typ == kind && self.clock.now().timestamp() <= claims.exp {
            Ok(claims)
        } else {
            Err(InvalidToken)
        }
    }
}

fn user_id(claims: &Claims) -> Result<UserId, InvalidToken> {
    claims.sub.parse().ok().and_then(UserId::new).ok_or(InvalidToken)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Deployment;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn tokens(secret: &str) -> Tokens {
        let config = Config::from_lookup(Deployment::Local, |name| match name {
            "JWT_SECRET" => Some(secret.to_owned()),
            _ => None,
        })
        .unwrap();
        Tokens::new(&config, Arc::new(crate::clock::SystemClock))
    }

    const SECRET: &str = "an-example-secret-of-32-bytes-at-least";

    fn uid(n: i64) -> UserId {
        UserId::new(n).unwrap()
    }

    #[test]
    fn each_kind_is_accepted_only_where_it_belongs() {
        let t = tokens(SECRET);
        let now = Utc::now();
        let access = t.issue_access(uid(1), now).unwrap();
        let refresh = t
            .issue_refresh(uid(1), "s1", now.timestamp() + 60, now)
            .unwrap()
            .token;
        let verify = t
            .issue_email_verification(uid(1), &Email::parse("a@example.com").unwrap(), now)
            .unwrap();
        let reset = t.issue_password_reset(uid(1), 0, now).unwrap();

        assert_eq!(t.verify_access(&access), Ok(AccessClaims { user_id: uid(1) }));
        assert!(t.verify_refresh(&refresh).is_ok());
        assert!(t.verify_email_verification(&verify).is_ok());
        assert!(t.verify_password_reset(&reset).is_ok());
        for other in [&refresh, &verify, &reset] {
            assert_eq!(t.verify_access(other), Err(InvalidToken));
        }
        for other in [&access, &verify, &reset] {
            assert_eq!(t.verify_refresh(other), Err(InvalidToken));
        }
        for other in [&access, &refresh, &reset] {
            assert_eq!(t.verify_email_verification(other), Err(InvalidToken));
        }
        for other in [&access, &refresh, &verify] {
            assert_eq!(t.verify_password_reset(other), Err(InvalidToken));
        }
    }

    #[test]
    fn expired_tokens_are_refused_without_leeway() {
        let t = tokens(SECRET);
        let issued = Utc::now() - chrono::Duration::seconds(901);
        let access = t.issue_access(uid(1), issued).unwrap();
        assert_eq!(t.verify_access(&access), Err(InvalidToken));
    }

    #[test]
    fn forged_tokens_are_refused() {
        let t = tokens(SECRET);
        let access = t.issue_access(uid(1), Utc::now()).unwrap();
        let parts: Vec<&str> = access.split('.').collect();

        // Signed with another key.
        let other = tokens("another-secret-of-32-bytes-at-least!!")
            .issue_access(uid(1), Utc::now())
            .unwrap();
        assert_eq!(t.verify_access(&other), Err(InvalidToken));

        // Payload changed to another user, signature kept.
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        let tampered = URL_SAFE_NO_PAD.encode(payload.replace("\"sub\":\"1\"", "\"sub\":\"2\""));
        assert_eq!(
            t.verify_access(&format!("{}.{}.{}", parts[0], tampered, parts[2])),
            Err(InvalidToken)
        );

        // alg none, no signature.
        let none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(
            t.verify_access(&format!("{none}.{}.", parts[1])),
            Err(InvalidToken)
        );

        // Another HMAC algorithm than the configured one.
        let hs512 = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS512","typ":"JWT"}"#);
        assert_eq!(
            t.verify_access(&format!("{hs512}.{}.{}", parts[1], parts[2])),
            Err(InvalidToken)
        );
        assert_eq!(t.verify_access("not a token"), Err(InvalidToken));
    }

    #[test]
    fn debug_output_shows_no_key() {
        assert!(!format!("{:?}", tokens(SECRET)).contains(SECRET));
    }
}
