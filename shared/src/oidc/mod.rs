//! Sign in with UContact: an OpenID Connect provider (docs/API.md, "Sign-in for other apps").
//! Registered public clients sign users in through the authorization code flow with PKCE (S256)
//! on the hosted pages; the token endpoint also serves the refresh and password grants.
//!
//! Every authorization is a session of the store like a login's, so that `list-sessions` shows
//! it and every session-ending route ends it: the code names it as its current token, its
//! exchange is the session's first rotation, and a second exchange is a reuse that revokes it
//! (crate::oidc::tokens). The browser's sign-in is a session too, named by the sign-in cookie.

pub mod browser;
pub mod clients;
pub mod pages;
pub mod request;
pub mod tokens;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::account::in_live_session;
use crate::app::App;
use crate::audit::{self, Caller, Event, Outcome};
use crate::auth::{self, AuthError, ClientSession, FirstFactor, StartedSession, TokenPair};
use crate::domain::{Amr, UserId, UserRecord};
use crate::store::{NewSession, Rotation, RotationOutcome};
use crate::tokens::{AccessClaims, ClientGrant, RefreshClaims};

pub use clients::{OidcClient, parse_clients};
pub use request::{AuthorizationRequest, Prompt, RequestError};
pub use tokens::{CodeGrant, IdToken, SignIn};

/// A token endpoint error (RFC 6749 5.2): 400 `{"error", "error_description"}`.
#[derive(Debug)]
pub enum OAuthError {
    Refused {
        error: &'static str,
        description: &'static str,
        /// A login backoff's wait, as `Retry-After`.
        retry_after: Option<i64>,
    },
    /// Not the client's doing (the store, a key): the service's own 500 or 503.
    Failed(AuthError),
}

impl OAuthError {
    pub fn invalid_request(description: &'static str) -> Self {
        Self::refused("invalid_request", description)
    }

    pub fn invalid_grant(description: &'static str) -> Self {
        Self::refused("invalid_grant", description)
    }

    pub fn refused(error: &'static str, description: &'static str) -> Self {
        OAuthError::Refused {
            error,
            description,
            retry_after: None,
        }
    }
}

/// The token endpoint's answer.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6Ii4uLiJ9...",
    "token_type": "Bearer", "expires_in": 900,
    "id_token": "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6Ii4uLiJ9...",
    "refresh_token": "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6Ii4uLiJ9...",
    "scope": "openid email offline_access"
}))]
pub struct TokenResponse {
    /// An access token of the service (`aud` `JWT_AUDIENCE`) with `client_id` and `scope`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// The access token's lifetime in seconds.
    pub expires_in: i64,
    /// The ID token: `aud` the client, signed with the session keys.
    pub id_token: String,
    /// With `offline_access`, the refresh grant and the password grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// The user and session of a live sign-in cookie, or `None` (no cookie, a bad one, or its
/// session has ended).
pub async fn live_sign_in(
    app: &App,
    caller: &Caller,
    cookie: Option<&str>,
) -> Result<Option<(SignIn, UserRecord)>, AuthError> {
    let Some(sign_in) = cookie.and_then(|value| app.tokens.verify_signin(value, &caller.issuer).ok()) else {
        return Ok(None);
    };
    let now = app.clock.now().timestamp();
    let record = app
        .store
        .user_in_session(sign_in.user_id, &sign_in.session_id, now)
        .await?;
    Ok(record.map(|record| (sign_in, record)))
}

/// The sign-in cookie's value for a session just started by the hosted page.
pub fn sign_in_cookie(app: &App, caller: &Caller, started: &StartedSession) -> Result<String, AuthError> {
    let session = &started.session;
    Ok(app.tokens.issue_signin(
        session.user_id,
        &session.id,
        session.amr,
        session.expires_at,
        &caller.issuer,
        session.created_at,
    )?)
}

/// Issues a code for `request` to the user of a live sign-in: a new session for the client
/// (created only if the user is still as read), the code its current token. `Ok(None)`: the user
/// changed meanwhile (a reset, a logout-all); they must sign in again. `Ok(Some)`: where the
/// browser goes next (the redirect URI with the code).
pub async fn issue_code(
    app: &App,
    caller: &Caller,
    request: &AuthorizationRequest,
    record: &UserRecord,
    amr: Amr,
    auth_time: i64,
) -> Result<Option<String>, AuthError> {
    let now = app.clock.now();
    let lifetimes = app.tokens.lifetimes();
    // The session lives as long as its code until the code is exchanged (then as long as the
    // grant: a refresh lifetime, or without offline_access, which nothing can refresh, its
    // access token's), so that a code never exchanged leaves nothing live behind.
    let until_exchanged = now.timestamp() + tokens::CODE_SECONDS;
    let granted_until = now.timestamp()
        + if request.offline() {
            lifetimes.refresh
        } else {
            tokens::CODE_SECONDS + lifetimes.access
        };
    let grant = CodeGrant {
        user_id: record.user.id,
        session_id: Uuid::new_v4().simple().to_string(),
        amr,
        grant: ClientGrant {
            client_id: request.client.client_id.clone(),
            scope: request.scope.clone(),
            auth_time,
        },
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
    };
    let (code, token_id) = app
        .tokens
        .issue_code(&grant, granted_until, &caller.issuer, now)?;
    let session = NewSession {
        id: grant.session_id.clone(),
        current_token_id: token_id,
        created_at: now,
        expires_at: until_exchanged,
        ..auth::new_session(
            caller,
            record,
            amr,
            Some(request.client.display_name().to_owned()),
        )
    };
    // No credential was checked here (the browser's sign-in was): no backoff is cleared.
    if !app.store.create_session(&session, None).await? {
        return Ok(None);
    }
    audit::record(
        caller,
        Event::LoginSucceeded,
        Outcome::Success,
        Some(record.user.id),
        Some("oidc_code"),
    );
    Ok(Some(request::redirect(
        &request.redirect_uri,
        &[("code", &code)],
        request.state.as_deref(),
        &caller.issuer,
    )))
}

/// `grant_type=authorization_code`: the code, bound to the client, its redirect URI and the
/// PKCE verifier, for the session's first tokens; a second exchange revokes the session.
pub async fn exchange_code(
    app: &App,
    caller: &Caller,
    client: &OidcClient,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<TokenResponse, OAuthError> {
    let Ok(verified) = app.tokens.verify_code(code, &caller.issuer) else {
        return Err(OAuthError::invalid_grant("Invalid or expired authorization code"));
    };
    let grant = &verified.code;
    if grant.grant.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("The code was issued to another client"));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri is not the authorization request's",
        ));
    }
    if !request::is_pkce_value(verifier) {
        return Err(OAuthError::invalid_request(
            "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]",
        ));
    }
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if aws_lc_rs::constant_time::verify_slices_are_equal(
        challenge.as_bytes(),
        grant.code_challenge.as_bytes(),
    )
    .is_err()
    {
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    let now = app.clock.now();
    let offline = request::offline(&grant.grant.scope);
    let refresh = if offline {
        Some(
            app.tokens
                .issue_refresh_for(
                    grant.user_id,
                    &grant.session_id,
                    grant.amr,
                    Some(&grant.grant),
                    verified.session_expires_at,
                    &caller.issuer,
                    now,
                )
                .map_err(|e| OAuthError::Failed(e.into()))?,
        )
    } else {
        None
    };
    let next_token_id = refresh
        .as_ref()
        .map_or_else(|| Uuid::new_v4().simple().to_string(), |r| r.token_id.clone());
    let outcome = app
        .store
        .rotate_session(&Rotation {
            session_id: grant.session_id.clone(),
            user_id: grant.user_id,
            presented_token_id: verified.token_id.clone(),
            next_token_id,
            now: now.timestamp(),
            ends_at: Some(verified.session_expires_at),
        })
        .await
        .map_err(|e| OAuthError::Failed(e.into()))?;
    let user_id = Some(grant.user_id);
    match outcome {
        RotationOutcome::Rotated => {}
        RotationOutcome::ReuseDetected => {
            audit::record(
                caller,
                Event::RefreshReuseDetected,
                Outcome::Failure,
                user_id,
                Some("code_reused"),
            );
            return Err(OAuthError::invalid_grant(
                "The code was used already: its session is revoked",
            ));
        }
        RotationOutcome::Invalid => {
            audit::record(
                caller,
                Event::RefreshRotated,
                Outcome::Failure,
                user_id,
                Some("code_session_ended"),
            );
            return Err(OAuthError::invalid_grant("The code's session has ended"));
        }
    }
    let access = app
        .tokens
        .issue_access_for(
            grant.user_id,
            &grant.session_id,
            grant.amr,
            Some(&grant.grant),
            &caller.issuer,
            now,
        )
        .map_err(|e| OAuthError::Failed(e.into()))?;
    let pair = TokenPair {
        access_token: access,
        refresh_token: refresh.map(|r| r.token).unwrap_or_default(),
    };
    respond(
        app,
        caller,
        pair,
        grant.user_id,
        &grant.session_id,
        grant.amr,
        &grant.grant,
        grant.nonce.as_deref(),
    )
    .await
}

/// `grant_type=refresh_token`: a refresh token of the client's own session, rotated as the REST
/// refresh does (a reused one revokes the session), with a new ID token.
pub async fn refresh(
    app: &App,
    caller: &Caller,
    client: &OidcClient,
    refresh_token: &str,
) -> Result<TokenResponse, OAuthError> {
    let own = |claims: &RefreshClaims| {
        claims
            .grant
            .as_ref()
            .is_some_and(|g| g.client_id == client.client_id)
    };
    let (pair, claims) = match auth::refresh_if(app, caller, refresh_token, own).await {
        Ok(refreshed) => refreshed,
        Err(AuthError::InvalidRefreshToken) => {
            return Err(OAuthError::invalid_grant("Invalid or expired refresh token"));
        }
        Err(e) => return Err(OAuthError::Failed(e)),
    };
    let grant = claims
        .grant
        .as_ref()
        .ok_or(OAuthError::invalid_grant("Invalid or expired refresh token"))?;
    respond(
        app,
        caller,
        pair,
        claims.user_id,
        &claims.session_id,
        claims.amr,
        grant,
        None,
    )
    .await
}

/// `grant_type=password`: `login`, for the client, with the same answers and backoff; always a
/// refresh token.
pub async fn password_grant(
    app: &App,
    caller: &Caller,
    client: &OidcClient,
    username: &str,
    password: &str,
    otp: Option<&str>,
    scope: &str,
) -> Result<TokenResponse, OAuthError> {
    let session = ClientSession {
        grant: ClientGrant {
            client_id: client.client_id.clone(),
            scope: scope.to_owned(),
            auth_time: app.clock.now().timestamp(),
        },
        name: client.display_name().to_owned(),
    };
    let started = auth::start_login(
        app,
        caller,
        username,
        FirstFactor::Password(password),
        otp,
        Some(&session),
    )
    .await
    .map_err(login_refused)?;
    let (user_id, session_id, amr) = (
        started.session.user_id,
        started.session.id.clone(),
        started.session.amr,
    );
    let pair = started.pair(app, caller).map_err(OAuthError::Failed)?;
    respond(app, caller, pair, user_id, &session_id, amr, &session.grant, None).await
}

/// A login's refusal as the token endpoint says it: `invalid_grant` with `login`'s text.
fn login_refused(e: AuthError) -> OAuthError {
    let description = match e {
        AuthError::BadCredentials => crate::http::detail::BAD_LOGIN,
        AuthError::EmailNotVerified => crate::http::detail::EMAIL_NOT_VERIFIED,
        AuthError::CodeRequired { .. } | AuthError::CodeRequiredAfter(_) => {
            crate::http::detail::CODE_REQUIRED
        }
        AuthError::InvalidCode { .. } => crate::http::detail::INVALID_CODE,
        AuthError::TooManyAttempts { retry_after } => {
            return OAuthError::Refused {
                error: "invalid_grant",
                description: crate::http::detail::TOO_MANY_ATTEMPTS,
                retry_after: Some(retry_after),
            };
        }
        other => return OAuthError::Failed(other),
    };
    OAuthError::invalid_grant(description)
}

#[allow(clippy::too_many_arguments)]
async fn respond(
    app: &App,
    caller: &Caller,
    pair: TokenPair,
    user_id: UserId,
    session_id: &str,
    amr: Amr,
    grant: &ClientGrant,
    nonce: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let record = app
        .store
        .user_by_id(user_id)
        .await
        .map_err(|e| OAuthError::Failed(e.into()))?
        .ok_or(OAuthError::invalid_grant("The user is gone"))?;
    let id_token = app
        .tokens
        .issue_id_token(
            &IdToken {
                user: &record.user,
                session_id,
                amr,
                grant,
                nonce,
            },
            &caller.issuer,
            app.clock.now(),
        )
        .map_err(|e| OAuthError::Failed(e.into()))?;
    Ok(TokenResponse {
        access_token: pair.access_token,
        token_type: "Bearer",
        expires_in: app.tokens.lifetimes().access,
        id_token,
        refresh_token: Some(pair.refresh_token).filter(|t| !t.is_empty()),
        scope: grant.scope.clone(),
    })
}

/// The user's claims for `userinfo`, as the access token's scope allows (all of them for an
/// access token of the API itself, which has no scope).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"sub": "42", "preferred_username": "alice", "email": "alice@example.com", "email_verified": true}))]
pub struct UserInfo {
    pub sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

/// `userinfo`: the user of a live session's access token.
pub async fn user_info(app: &App, claims: &AccessClaims) -> Result<UserInfo, AuthError> {
    let session_id = claims
        .session_id
        .as_deref()
        .ok_or(AuthError::InvalidAccessToken)?;
    let record = in_live_session(app, claims.user_id, session_id).await?;
    let allows = |scope: &str| {
        claims
            .scope
            .as_deref()
            .is_none_or(|scopes| scopes.split(' ').any(|s| s == scope))
    };
    let user = &record.user;
    Ok(UserInfo {
        sub: user.id.to_string(),
        preferred_username: allows("profile").then(|| user.username.as_str().to_owned()),
        email: allows("email").then(|| user.email.as_str().to_owned()),
        email_verified: allows("email").then_some(user.is_verified),
    })
}

/// `end-session`: ends the browser's sign-in session and (with a valid `id_token_hint`) the
/// session the hint was issued in. Either may have ended already.
pub async fn end_session(
    app: &App,
    caller: &Caller,
    sign_in: Option<&SignIn>,
    hinted: Option<(UserId, &str)>,
) -> Result<(), AuthError> {
    if let Some(sign_in) = sign_in {
        app.store
            .end_session_of_user(sign_in.user_id, &sign_in.session_id)
            .await?;
        audit::record(
            caller,
            Event::LoggedOut,
            Outcome::Success,
            Some(sign_in.user_id),
            Some("oidc_end_session"),
        );
    }
    if let Some((user_id, session_id)) = hinted {
        app.store.end_session_of_user(user_id, session_id).await?;
    }
    Ok(())
}
