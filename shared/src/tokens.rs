//! JWT issue and verification, one kind per purpose (docs/API.md, "Tokens" and "Signing keys").
//!
//! Every token is signed by the current key of its purpose's set (session keys, of
//! `JWT_ALGORITHM`, for access and refresh tokens; EdDSA link keys for the tokens in emails) and
//! names it by `kid`. It carries `iss`, `aud` (the configured audience for access tokens, a
//! kind-specific one for the others), `typ` (its kind), `sub`, `jti`, `iat` and `exp`.
//! Verification takes only a key of the right purpose that it holds by `kid`, and only that key's
//! own algorithm (so never `none`, never HMAC), refuses any header that points at another key
//! (`jku`, `jwk`, `x5u`, `x5c`) or asks for extensions (`crit`), requires every claim, checks
//! `iss` and `aud`, and checks `exp` against the app's [`Clock`] with no leeway. A token of
//! another kind is refused.
//!
//! Signing uses the key parsed when the keys were loaded ([`crate::keys::KeySigner`]): a token
//! costs one signature, never a key parse.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Validation, decode, decode_header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::clock::Clock;
use crate::config::{Config, TokenLifetimes};
use crate::domain::{Amr, Email, UserId};
use crate::keys::{KeyMaterial, KeyRing, Purpose};

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Access,
    Refresh,
    EmailVerification,
    PasswordReset,
    /// The link that moves a user's email to a new address (account self-service).
    EmailChange,
    /// An OpenID Connect authorization code (crate::oidc): 60 s, single use through its session.
    AuthCode,
    /// The hosted pages' sign-in session cookie (crate::oidc): names a server-side session.
    SignIn,
    /// An OpenID Connect ID token: for the client (`aud` its `client_id`), never accepted here
    /// as a credential (only read as `id_token_hint`).
    Id,
}

impl TokenKind {
    /// Whose keys sign this kind.
    pub fn purpose(self) -> Purpose {
        match self {
            TokenKind::Access
            | TokenKind::Refresh
            | TokenKind::AuthCode
            | TokenKind::SignIn
            | TokenKind::Id => Purpose::Session,
            TokenKind::EmailVerification | TokenKind::PasswordReset | TokenKind::EmailChange => Purpose::Link,
        }
    }
}

/// A token failed verification. Deliberately carries no detail: every cause gets one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid token")]
pub struct InvalidToken;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub(crate) iss: String,
    pub(crate) aud: String,
    pub(crate) sub: String,
    pub(crate) typ: TokenKind,
    pub(crate) jti: String,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sid: Option<String>,
    /// Session tokens: how the session signed in (RFC 8176); absent in tokens minted before
    /// second factors, which were all password logins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) amr: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pwv: Option<i64>,
    /// Email-change tokens: the user's sessions-revoked epoch when it was issued, so that a
    /// confirmation (which moves it) makes the token single use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) epoch: Option<i64>,
    /// Email-change tokens: the pending change they confirm; a newer request replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) chg: Option<String>,
    /// OpenID Connect (crate::oidc): the client a session was authorized for, and its scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) scope: Option<String>,
    /// When the user signed in (ID tokens; carried by the session's codes and refresh tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) auth_time: Option<i64>,
    /// Codes and ID tokens: the client's `nonce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nonce: Option<String>,
    /// Codes: the `redirect_uri` and PKCE `code_challenge` they are bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) code_challenge: Option<String>,
    /// Codes: when the session they were issued with ends (its refresh tokens end then too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) session_exp: Option<i64>,
    /// ID tokens, per scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) preferred_username: Option<String>,
}

/// What an OpenID Connect authorization granted its session (crate::oidc): the client, the
/// scope, and when the user signed in. Access tokens carry `client_id` and `scope`; refresh
/// tokens carry all three on to the next pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientGrant {
    pub client_id: String,
    pub scope: String,
    pub auth_time: i64,
}

pub(crate) fn amr_claim(amr: Amr) -> Vec<String> {
    amr.methods().iter().map(|m| (*m).to_owned()).collect()
}

/// A verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub user_id: UserId,
    /// The session (login) the token belongs to; `None` only for tokens minted before access
    /// tokens carried it.
    pub session_id: Option<String>,
    /// The scope an OpenID Connect client was granted (crate::oidc); `None` for the API's own.
    pub scope: Option<String>,
}

/// A verified refresh token: which session (login) it belongs to and which link of the chain it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshClaims {
    pub user_id: UserId,
    pub session_id: String,
    pub token_id: String,
    pub expires_at: i64,
    /// How the session signed in: the next pair carries it on.
    pub amr: Amr,
    /// The OpenID Connect authorization of the session, if it is one: carried on too.
    pub grant: Option<ClientGrant>,
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

/// A verified email-change token: move `user_id`'s email to `new_email`, if the user's
/// sessions-revoked epoch is still `epoch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailChangeClaims {
    pub user_id: UserId,
    pub new_email: Email,
    pub epoch: i64,
    /// The pending email change this link confirms.
    pub change_id: String,
}

/// A freshly issued refresh token with the ids the session store keeps.
#[derive(Debug)]
pub struct IssuedRefresh {
    pub token: String,
    pub token_id: String,
}

/// This function holds no private key of the purpose it was asked to sign for, or the set is
/// empty: a deployment error, never a client's.
#[derive(Debug, thiserror::Error)]
#[error("no {0} signing key is held here (KEYS_SECRET_PREFIX, `ucontact-local keys rotate`)")]
pub struct NoSigningKey(&'static str);

/// Issues and verifies every kind of token with the keys of the [`KeyRing`].
#[derive(Clone)]
pub struct Tokens {
    ring: Arc<KeyRing>,
    audience: String,
    lifetimes: TokenLifetimes,
    clock: Arc<dyn Clock>,
    verified: Arc<VerifiedAccess>,
}

/// Access tokens already verified by this process, by the SHA-256 of their bytes and issuer: the
/// local server sees the same token on request after request, and a signature check costs
/// 15 (Ed25519) to 50 (P-256) times an HMAC (BENCHMARKS.md). A hit is the very token verified
/// before, and is accepted only while what made it valid still holds: its `exp` on the app
/// clock, its key (`kid`) still held and published now (a removed or expired key verifies
/// nothing, whatever was remembered), and a lifetime (`exp − iat`) within the access lifetime.
/// Bounded: full, it starts over.
#[derive(Default)]
struct VerifiedAccess(Mutex<HashMap<[u8; 32], Remembered>>);

#[derive(Clone)]
struct Remembered {
    claims: AccessClaims,
    kid: String,
    iat: i64,
    exp: i64,
}

/// Most access tokens remembered as verified.
const VERIFIED_ACCESS_CAPACITY: usize = 10_000;

impl VerifiedAccess {
    fn key(token: &str, issuer: &str) -> [u8; 32] {
        Sha256::new()
            .chain_update(issuer.as_bytes())
            .chain_update([0])
            .chain_update(token.as_bytes())
            .finalize()
            .into()
    }

    fn get(&self, key: &[u8; 32]) -> Option<Remembered> {
        self.0.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: [u8; 32], remembered: Remembered) {
        if let Ok(mut cache) = self.0.lock() {
            if cache.len() >= VERIFIED_ACCESS_CAPACITY {
                cache.clear();
            }
            cache.insert(key, remembered);
        }
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    pub fn new(config: &Config, ring: Arc<KeyRing>, clock: Arc<dyn Clock>) -> Self {
        Self {
            ring,
            audience: config.jwt_audience.clone(),
            lifetimes: config.lifetimes,
            clock,
            verified: Arc::default(),
        }
    }

    pub fn lifetimes(&self) -> TokenLifetimes {
        self.lifetimes
    }

    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }

    /// The `aud` of each kind: access tokens carry the configured audience (what other services
    /// check); the others carry one that no access-token verifier accepts.
    pub(crate) fn audience(&self, kind: TokenKind) -> String {
        match kind {
            TokenKind::Access => self.audience.clone(),
            TokenKind::Refresh => format!("{}:refresh", self.audience),
            TokenKind::EmailVerification => format!("{}:email-verification", self.audience),
            TokenKind::PasswordReset => format!("{}:password-reset", self.audience),
            TokenKind::EmailChange => format!("{}:email-change", self.audience),
            TokenKind::AuthCode => format!("{}:code", self.audience),
            TokenKind::SignIn => format!("{}:signin", self.audience),
            // Replaced by the client id when issued; never verified against this.
            TokenKind::Id => format!("{}:id", self.audience),
        }
    }

    /// Issues an access token of the session `session_id`, signed in as `amr` says.
    pub fn issue_access(
        &self,
        user_id: UserId,
        session_id: &str,
        amr: Amr,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        self.issue_access_for(user_id, session_id, amr, None, issuer, now)
    }

    /// [`Tokens::issue_access`], of a session an OpenID Connect client was granted: the token
    /// also names the client and the scope.
    pub fn issue_access_for(
        &self,
        user_id: UserId,
        session_id: &str,
        amr: Amr,
        grant: Option<&ClientGrant>,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let exp = now.timestamp() + self.lifetimes.access;
        let mut claims = self.claims(TokenKind::Access, user_id, issuer, now, exp);
        claims.sid = Some(session_id.to_owned());
        claims.amr = Some(amr_claim(amr));
        if let Some(grant) = grant {
            claims.client_id = Some(grant.client_id.clone());
            claims.scope = Some(grant.scope.clone());
        }
        self.sign(claims)
    }

    /// Issues the next refresh token of `session_id`, expiring at the session's absolute end.
    pub fn issue_refresh(
        &self,
        user_id: UserId,
        session_id: &str,
        amr: Amr,
        expires_at: i64,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<IssuedRefresh> {
        self.issue_refresh_for(user_id, session_id, amr, None, expires_at, issuer, now)
    }

    /// [`Tokens::issue_refresh`], of a session an OpenID Connect client was granted.
    #[allow(clippy::too_many_arguments)]
    pub fn issue_refresh_for(
        &self,
        user_id: UserId,
        session_id: &str,
        amr: Amr,
        grant: Option<&ClientGrant>,
        expires_at: i64,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<IssuedRefresh> {
        let mut claims = self.claims(TokenKind::Refresh, user_id, issuer, now, expires_at);
        claims.sid = Some(session_id.to_owned());
        claims.amr = Some(amr_claim(amr));
        if let Some(grant) = grant {
            claims.client_id = Some(grant.client_id.clone());
            claims.scope = Some(grant.scope.clone());
            claims.auth_time = Some(grant.auth_time);
        }
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
        issuer: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let exp = now.timestamp() + self.lifetimes.email_verification;
        let mut claims = self.claims(TokenKind::EmailVerification, user_id, issuer, now, exp);
        claims.email = Some(email.as_str().to_owned());
        self.sign(claims)
    }

    pub fn issue_password_reset(
        &self,
        user_id: UserId,
        password_version: i64,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let exp = now.timestamp() + self.lifetimes.password_reset;
        let mut claims = self.claims(TokenKind::PasswordReset, user_id, issuer, now, exp);
        claims.pwv = Some(password_version);
        self.sign(claims)
    }

    pub fn verify_access(&self, token: &str, issuer: &str) -> Result<AccessClaims, InvalidToken> {
        let cache_key = VerifiedAccess::key(token, issuer);
        if let Some(remembered) = self.verified.get(&cache_key) {
            let now_ms = self.clock.exact().timestamp_millis();
            let lifetime_ok = remembered.exp - remembered.iat <= self.lifetimes.access;
            return if unexpired(now_ms, remembered.exp)
                && lifetime_ok
                && self.key_held(Purpose::Session, &remembered.kid)
            {
                Ok(remembered.claims)
            } else {
                Err(InvalidToken)
            };
        }
        let (claims, kid) = self.verify(token, TokenKind::Access, issuer)?;
        // An access token minted for longer than access tokens live is no token of ours.
        if claims.exp - claims.iat > self.lifetimes.access {
            return Err(InvalidToken);
        }
        let access = AccessClaims {
            user_id: user_id(&claims)?,
            session_id: claims.sid.clone(),
            scope: claims.scope.clone(),
        };
        self.verified.put(
            cache_key,
            Remembered {
                claims: access.clone(),
                kid,
                iat: claims.iat,
                exp: claims.exp,
            },
        );
        Ok(access)
    }

    /// Whether the key `kid` of `purpose` is held now and can still have signed a valid token.
    fn key_held(&self, purpose: Purpose, kid: &str) -> bool {
        self.ring
            .current()
            .verifying
            .find(
                purpose,
                kid,
                Utc::now().timestamp(),
                purpose.max_token_lifetime(&self.lifetimes),
            )
            .is_some()
    }

    pub fn verify_refresh(&self, token: &str, issuer: &str) -> Result<RefreshClaims, InvalidToken> {
        let (claims, _) = self.verify(token, TokenKind::Refresh, issuer)?;
        Ok(RefreshClaims {
            user_id: user_id(&claims)?,
            session_id: claims.sid.clone().ok_or(InvalidToken)?,
            amr: amr_of(&claims)?,
            grant: match (&claims.client_id, &claims.scope, claims.auth_time) {
                (Some(client_id), Some(scope), Some(auth_time)) => Some(ClientGrant {
                    client_id: client_id.clone(),
                    scope: scope.clone(),
                    auth_time,
                }),
                _ => None,
            },
            token_id: claims.jti,
            expires_at: claims.exp,
        })
    }

    pub fn verify_email_verification(
        &self,
        token: &str,
        issuer: &str,
    ) -> Result<VerificationClaims, InvalidToken> {
        let (claims, _) = self.verify(token, TokenKind::EmailVerification, issuer)?;
        let email = claims.email.as_deref().ok_or(InvalidToken)?;
        Ok(VerificationClaims {
            user_id: user_id(&claims)?,
            email: Email::from_trusted(email.to_owned()),
        })
    }

    /// Issues the link that moves `user_id`'s email to `new_email`, valid while the user's
    /// sessions-revoked epoch is `epoch`.
    pub fn issue_email_change(
        &self,
        user_id: UserId,
        new_email: &Email,
        epoch: i64,
        change_id: &str,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let exp = now.timestamp() + self.lifetimes.email_verification;
        let mut claims = self.claims(TokenKind::EmailChange, user_id, issuer, now, exp);
        claims.email = Some(new_email.as_str().to_owned());
        claims.epoch = Some(epoch);
        claims.chg = Some(change_id.to_owned());
        self.sign(claims)
    }

    pub fn verify_email_change(&self, token: &str, issuer: &str) -> Result<EmailChangeClaims, InvalidToken> {
        let (claims, _) = self.verify(token, TokenKind::EmailChange, issuer)?;
        let email = claims.email.as_deref().ok_or(InvalidToken)?;
        Ok(EmailChangeClaims {
            user_id: user_id(&claims)?,
            new_email: Email::from_trusted(email.to_owned()),
            epoch: claims.epoch.ok_or(InvalidToken)?,
            change_id: claims.chg.clone().ok_or(InvalidToken)?,
        })
    }

    pub fn verify_password_reset(&self, token: &str, issuer: &str) -> Result<ResetClaims, InvalidToken> {
        let (claims, _) = self.verify(token, TokenKind::PasswordReset, issuer)?;
        Ok(ResetClaims {
            user_id: user_id(&claims)?,
            password_version: claims.pwv.ok_or(InvalidToken)?,
        })
    }

    pub(crate) fn claims(
        &self,
        typ: TokenKind,
        user_id: UserId,
        issuer: &str,
        now: DateTime<Utc>,
        exp: i64,
    ) -> Claims {
        Claims {
            iss: issuer.to_owned(),
            aud: self.audience(typ),
            sub: user_id.to_string(),
            typ,
            jti: Uuid::new_v4().simple().to_string(),
            iat: now.timestamp(),
            exp,
            sid: None,
            amr: None,
            email: None,
            pwv: None,
            epoch: None,
            chg: None,
            client_id: None,
            scope: None,
            auth_time: None,
            nonce: None,
            redirect_uri: None,
            code_challenge: None,
            session_exp: None,
            email_verified: None,
            preferred_username: None,
        }
    }

    pub(crate) fn sign(&self, claims: Claims) -> anyhow::Result<String> {
        sign_with(&self.ring.current(), &claims)
    }

    /// The verified claims and the kid of the key that verified them.
    pub(crate) fn verify(
        &self,
        token: &str,
        kind: TokenKind,
        issuer: &str,
    ) -> Result<(Claims, String), InvalidToken> {
        self.verify_as(token, kind, issuer, &[self.audience(kind)], true)
    }

    /// [`Tokens::verify`] with the audiences to accept, and (`check_exp` false: an ID token as
    /// `id_token_hint`, which may have expired) without the expiry check.
    pub(crate) fn verify_as(
        &self,
        token: &str,
        kind: TokenKind,
        issuer: &str,
        audiences: &[String],
        check_exp: bool,
    ) -> Result<(Claims, String), InvalidToken> {
        let header = decode_header(token).map_err(|_| InvalidToken)?;
        // Only a key we hold: never one the token points at or carries; no extensions.
        if header.jku.is_some()
            || header.jwk.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || has_crit(token)
        {
            return Err(InvalidToken);
        }
        let kid = header.kid.ok_or(InvalidToken)?;
        let now_ms = self.clock.exact().timestamp_millis();
        let purpose = kind.purpose();
        let keys = self.ring.current();
        let key = keys
            .verifying
            .find(
                purpose,
                &kid,
                Utc::now().timestamp(),
                purpose.max_token_lifetime(&self.lifetimes),
            )
            .ok_or(InvalidToken)?;
        // The key's own algorithm only: `none`, HMAC keyed with the public key, or another
        // asymmetric algorithm than the key's are all refused here.
        let alg = key.entry.alg;
        if header.alg != alg.jsonwebtoken() {
            return Err(InvalidToken);
        }

        let mut validation = Validation::new(alg.jsonwebtoken());
        validation.leeway = 0;
        // `exp` is checked below against the app's clock (still required to be present).
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_audience(audiences);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "sub", "iat", "jti", "iss", "aud"]);
        let claims = decode::<Claims>(token, &key.key, &validation)
            .map_err(|_| InvalidToken)?
            .claims;
        // No leeway on `exp`: the issuer is this same service. A token issued in the future
        // (which would stretch `exp − iat`) is none of its own either, give or take the clock
        // difference of two of its machines.
        let issued_by_now = claims.iat.saturating_mul(1000) <= now_ms.saturating_add(IAT_SKEW_MS);
        if claims.typ == kind && (!check_exp || unexpired(now_ms, claims.exp)) && issued_by_now {
            Ok((claims, kid))
        } else {
            Err(InvalidToken)
        }
    }
}

/// Signs `claims` with the current key of their purpose: the JWS compact serialization, header
/// `{"alg", "typ": "JWT", "kid"}`, with the key parsed at load time.
fn sign_with(keys: &KeyMaterial, claims: &Claims) -> anyhow::Result<String> {
    #[derive(Serialize)]
    struct Header<'a> {
        alg: &'static str,
        typ: &'static str,
        kid: &'a str,
    }
    let purpose = claims.typ.purpose();
    // Keys live in real time (the key store's, the rotation's), whatever the app clock says.
    let key = keys
        .signing(purpose)
        .and_then(|set| set.current(Utc::now().timestamp()))
        .ok_or(NoSigningKey(purpose.name()))?;
    let header = Header {
        alg: key.alg.name(),
        typ: "JWT",
        kid: &key.kid,
    };
    let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?));
    let signature = key.signer.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(token)
}

/// Whether the token's header has a `crit` member (RFC 7515 4.1.11): no extension is understood
/// here, so such a token must be refused.
fn has_crit(token: &str) -> bool {
    let Some(header) = token.split('.').next() else {
        return true;
    };
    match URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes).ok())
    {
        Some(members) => members.contains_key("crit"),
        None => true,
    }
}

/// How far in the future a token's `iat` may be (ms): another function's clock may be a little
/// ahead of this one's, and `iat` is rounded down to the second anyway.
const IAT_SKEW_MS: i64 = 1000;

/// Whether a token with this `exp` (seconds) is still valid at `now_ms` (milliseconds): RFC 7519
/// refuses it "on or after" `exp`, so it is valid while `now < exp`, to the millisecond.
/// jsonwebtoken's own check (off above) compares whole seconds and accepts all of second `exp`.
fn unexpired(now_ms: i64, exp: i64) -> bool {
    now_ms < exp.saturating_mul(1000)
}

/// How a session token's session signed in; tokens minted before second factors say nothing,
/// and were all password logins.
pub(crate) fn amr_of(claims: &Claims) -> Result<Amr, InvalidToken> {
    match &claims.amr {
        None => Ok(Amr::Password),
        Some(methods) => Amr::parse(&methods.join(" ")).ok_or(InvalidToken),
    }
}

pub(crate) fn user_id(claims: &Claims) -> Result<UserId, InvalidToken> {
    claims.sub.parse().ok().and_then(UserId::new).ok_or(InvalidToken)
}

#[cfg(test)]
mod tests;
