//! The OpenID Connect provider's own tokens, all signed with the session keys (docs/API.md,
//! "Signing keys"): authorization codes, the hosted pages' sign-in cookie, and ID tokens.
//!
//! A code is a signed token that lives 60 s and is single use through its session: it names the
//! session it was issued with as that session's current token (`jti`), so exchanging it is a
//! refresh rotation, and a second exchange is a reused token that revokes the session
//! (crate::store::Store::rotate_session).

use chrono::{DateTime, Utc};

use crate::domain::{Amr, User, UserId};
use crate::tokens::{ClientGrant, InvalidToken, TokenKind, Tokens, amr_claim, amr_of, user_id};

/// How long a code lives (docs/API.md).
pub const CODE_SECONDS: i64 = 60;

/// A code to issue: for the session `session_id` of `user_id`, bound to the request.
#[derive(Debug, Clone)]
pub struct CodeGrant {
    pub user_id: UserId,
    pub session_id: String,
    pub amr: Amr,
    pub grant: ClientGrant,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
}

/// A verified code, and the token id its session has as current until it is exchanged.
#[derive(Debug, Clone)]
pub struct VerifiedCode {
    pub code: CodeGrant,
    pub token_id: String,
    pub session_expires_at: i64,
}

/// A verified sign-in cookie: whose server-side session it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub user_id: UserId,
    pub session_id: String,
    pub amr: Amr,
    pub auth_time: i64,
}

/// What an ID token says about the user, beside the session.
#[derive(Debug, Clone)]
pub struct IdToken<'a> {
    pub user: &'a User,
    pub session_id: &'a str,
    pub amr: Amr,
    pub grant: &'a ClientGrant,
    pub nonce: Option<&'a str>,
}

/// A verified `id_token_hint`: the client it was issued to, and its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenHint {
    pub user_id: UserId,
    pub client_id: String,
    pub session_id: Option<String>,
}

impl Tokens {
    /// Issues a code. `session_expires_at` travels with it (the code's session's end, which the
    /// refresh tokens of the exchange keep). Returns the code and its token id.
    pub fn issue_code(
        &self,
        code: &CodeGrant,
        session_expires_at: i64,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(String, String)> {
        let mut claims = self.claims(
            TokenKind::AuthCode,
            code.user_id,
            issuer,
            now,
            now.timestamp() + CODE_SECONDS,
        );
        claims.sid = Some(code.session_id.clone());
        claims.amr = Some(amr_claim(code.amr));
        claims.client_id = Some(code.grant.client_id.clone());
        claims.scope = Some(code.grant.scope.clone());
        claims.auth_time = Some(code.grant.auth_time);
        claims.redirect_uri = Some(code.redirect_uri.clone());
        claims.code_challenge = Some(code.code_challenge.clone());
        claims.nonce = code.nonce.clone();
        claims.session_exp = Some(session_expires_at);
        let token_id = claims.jti.clone();
        Ok((self.sign(claims)?, token_id))
    }

    pub fn verify_code(&self, code: &str, issuer: &str) -> Result<VerifiedCode, InvalidToken> {
        let (claims, _) = self.verify(code, TokenKind::AuthCode, issuer)?;
        let (
            Some(session_id),
            Some(client_id),
            Some(scope),
            Some(auth_time),
            Some(redirect_uri),
            Some(code_challenge),
            Some(ends),
        ) = (
            claims.sid.clone(),
            claims.client_id.clone(),
            claims.scope.clone(),
            claims.auth_time,
            claims.redirect_uri.clone(),
            claims.code_challenge.clone(),
            claims.session_exp,
        )
        else {
            return Err(InvalidToken);
        };
        Ok(VerifiedCode {
            code: CodeGrant {
                user_id: user_id(&claims)?,
                session_id,
                amr: amr_of(&claims)?,
                grant: ClientGrant {
                    client_id,
                    scope,
                    auth_time,
                },
                redirect_uri,
                code_challenge,
                nonce: claims.nonce.clone(),
            },
            token_id: claims.jti,
            session_expires_at: ends,
        })
    }

    /// Issues the sign-in cookie's value for the session `session_id`, valid until it ends.
    pub fn issue_signin(
        &self,
        user_id: UserId,
        session_id: &str,
        amr: Amr,
        expires_at: i64,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let mut claims = self.claims(TokenKind::SignIn, user_id, issuer, now, expires_at);
        claims.sid = Some(session_id.to_owned());
        claims.amr = Some(amr_claim(amr));
        claims.auth_time = Some(now.timestamp());
        self.sign(claims)
    }

    /// A sign-in cookie's value; whether its session is still live is the store's to say.
    pub fn verify_signin(&self, value: &str, issuer: &str) -> Result<SignIn, InvalidToken> {
        let (claims, _) = self.verify(value, TokenKind::SignIn, issuer)?;
        Ok(SignIn {
            user_id: user_id(&claims)?,
            session_id: claims.sid.clone().ok_or(InvalidToken)?,
            amr: amr_of(&claims)?,
            auth_time: claims.auth_time.ok_or(InvalidToken)?,
        })
    }

    /// Issues an ID token (OpenID Connect Core 2): `aud` the client, lasting as an access token,
    /// with the user's claims the scope allows.
    pub fn issue_id_token(
        &self,
        id: &IdToken<'_>,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let exp = now.timestamp() + self.lifetimes().access;
        let mut claims = self.claims(TokenKind::Id, id.user.id, issuer, now, exp);
        claims.aud = id.grant.client_id.clone();
        claims.sid = Some(id.session_id.to_owned());
        claims.amr = Some(amr_claim(id.amr));
        claims.auth_time = Some(id.grant.auth_time);
        claims.nonce = id.nonce.map(str::to_owned);
        let scopes: Vec<&str> = id.grant.scope.split(' ').collect();
        if scopes.contains(&"email") {
            claims.email = Some(id.user.email.as_str().to_owned());
            claims.email_verified = Some(id.user.is_verified);
        }
        if scopes.contains(&"profile") {
            claims.preferred_username = Some(id.user.username.as_str().to_owned());
        }
        self.sign(claims)
    }

    /// An ID token this service issued to one of `client_ids`, expired or not (an
    /// `id_token_hint` may be, OpenID Connect RP-Initiated Logout 1.0).
    pub fn verify_id_token_hint(
        &self,
        token: &str,
        issuer: &str,
        client_ids: &[String],
    ) -> Result<IdTokenHint, InvalidToken> {
        let (claims, _) = self.verify_as(token, TokenKind::Id, issuer, client_ids, false)?;
        Ok(IdTokenHint {
            user_id: user_id(&claims)?,
            client_id: claims.aud.clone(),
            session_id: claims.sid.clone(),
        })
    }
}
