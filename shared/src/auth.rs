//! The auth use cases: register, verify, log in, refresh, reset, log out. They speak in domain
//! types and ports only; [`AuthError`] names each client-facing failure, and the HTTP layer maps
//! it to the contract in one place.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::app::App;
use crate::domain::{Email, Password, User, UserId};
use crate::mail;
use crate::store::{
    CreateUserError, NewSession, NewUser, Rotation, RotationOutcome, StoreError, Verification,
};
use crate::tokens::InvalidToken;

/// Every way an auth use case can fail.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("username taken")]
    UsernameTaken,
    #[error("email taken")]
    EmailTaken,
    #[error("bad credentials")]
    BadCredentials,
    #[error("email not verified")]
    EmailNotVerified,
    #[error("invalid access token")]
    InvalidAccessToken,
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    #[error("invalid verification token")]
    InvalidVerificationToken,
    #[error("invalid reset token")]
    InvalidResetToken,
    #[error("passwords differ")]
    PasswordsDiffer,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Where the links in emails point: the public base URL of the API.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
}

impl Links {
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_owned(),
        }
    }

    pub fn verification(&self, token: &str) -> String {
        format!("{}/api/auth/confirmed_email/{token}", self.base)
    }

    pub fn password_reset(&self, token: &str) -> String {
        format!("{}/auth/reset-password/{token}", self.base)
    }
}

/// The tokens a login or refresh hands out.
#[derive(Debug)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
}

/// A validated registration.
#[derive(Debug)]
pub struct Registration {
    pub username: crate::domain::Username,
    pub email: Email,
    pub password: Password,
}

/// What confirming an email found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    Verified,
    AlreadyVerified,
}

/// Creates the user and sends the verification email. A failed send does not undo the
/// registration: `request_verification_email` sends a new link later.
#[tracing::instrument(skip_all)]
pub async fn register(app: &App, registration: Registration, links: &Links) -> Result<User, AuthError> {
    let password_hash = app.passwords.hash(&registration.password).await?;
    let user = app
        .store
        .create_user(NewUser {
            username: registration.username,
            email: registration.email,
            password_hash,
            created_at: app.clock.now(),
        })
        .await
        .map_err(|e| match e {
            CreateUserError::UsernameTaken => AuthError::UsernameTaken,
            CreateUserError::EmailTaken => AuthError::EmailTaken,
            CreateUserError::Store(e) => AuthError::Store(e),
        })?;
    tracing::info!(user_id = %user.id, "user registered");
    send_verification_email(app, &user, links).await;
    Ok(user)
}

/// Checks a username-or-email and password, then starts a new session.
#[tracing::instrument(skip_all)]
pub async fn login(app: &App, identifier: &str, password: &str) -> Result<TokenPair, AuthError> {
    let record = if identifier.contains('@') {
        app.store.user_by_email(&identifier.to_lowercase()).await?
    } else {
        app.store
            .user_by_username(&identifier.to_ascii_lowercase())
            .await?
    };
    // Always one bcrypt verification, known user or not: same answer, same time.
    let matches = app
        .passwords
        .verify(password, record.as_ref().map(|r| &r.password_hash))
        .await?;
    let user = match record {
        Some(record) if matches => record.user,
        _ => return Err(AuthError::BadCredentials),
    };
    if !user.is_verified {
        return Err(AuthError::EmailNotVerified);
    }
    let now = app.clock.now();
    let session_id = Uuid::new_v4().simple().to_string();
    let expires_at = now.timestamp() + app.tokens.lifetimes().refresh;
    let refresh = app.tokens.issue_refresh(user.id, &session_id, expires_at, now)?;
    app.store
        .create_session(&NewSession {
            id: session_id,
            user_id: user.id,
            current_token_id: refresh.token_id,
            created_at: now,
            expires_at,
        })
        .await?;
    tracing::info!(user_id = %user.id, "login succeeded");
    Ok(TokenPair {
        access_token: app.tokens.issue_access(user.id, now)?,
        refresh_token: refresh.token,
    })
}

/// Trades a current refresh token for a new pair; a retired one revokes its whole session.
#[tracing::instrument(skip_all)]
pub async fn refresh(app: &App, refresh_token: &str) -> Result<TokenPair, AuthError> {
    let claims = app
        .tokens
        .verify_refresh(refresh_token)
        .map_err(|InvalidToken| AuthError::InvalidRefreshToken)?;
    let now = app.clock.now();
    // The next token ends where the session ends: rotation never extends a session.
    let next = app
        .tokens
        .issue_refresh(claims.user_id, &claims.session_id, claims.expires_at, now)?;
    let outcome = app
        .store
        .rotate_session(&Rotation {
            session_id: claims.session_id,
            user_id: claims.user_id,
            presented_token_id: claims.token_id,
            next_token_id: next.token_id,
            now: now.timestamp(),
        })
        .await?;
    match outcome {
        RotationOutcome::Rotated => Ok(TokenPair {
            access_token: app.tokens.issue_access(claims.user_id, now)?,
            refresh_token: next.token,
        }),
        RotationOutcome::ReuseDetected => {
            tracing::warn!(user_id = %claims.user_id, "refresh token reuse detected: session revoked");
            Err(AuthError::InvalidRefreshToken)
        }
        RotationOutcome::Invalid => Err(AuthError::InvalidRefreshToken),
    }
}

/// Marks the address in a verification token as verified.
#[tracing::instrument(skip_all)]
pub async fn confirm_email(app: &App, token: &str) -> Result<Confirmation, AuthError> {
    let claims = app
        .tokens
        .verify_email_verification(token)
        .map_err(|InvalidToken| AuthError::InvalidVerificationToken)?;
    match app
        .store
        .mark_email_verified(claims.user_id, &claims.email)
        .await?
    {
        Verification::Verified => {
            tracing::info!(user_id = %claims.user_id, "email verified");
            Ok(Confirmation::Verified)
        }
        Verification::AlreadyVerified => Ok(Confirmation::AlreadyVerified),
        Verification::NoMatch => Err(AuthError::InvalidVerificationToken),
    }
}

/// Sends a new verification link if the address belongs to an unverified user. The caller's
/// answer is the same either way.
#[tracing::instrument(skip_all)]
pub async fn request_verification_email(app: &App, email: &Email, links: &Links) -> Result<(), AuthError> {
    if let Some(record) = app.store.user_by_email(&email.key()).await?
        && !record.user.is_verified
    {
        send_verification_email(app, &record.user, links).await;
    }
    Ok(())
}

/// Sends a password-reset link if the address is known. The caller's answer is the same either way.
#[tracing::instrument(skip_all)]
pub async fn request_password_reset(app: &App, email: &Email, links: &Links) -> Result<(), AuthError> {
    let Some(record) = app.store.user_by_email(&email.key()).await? else {
        return Ok(());
    };
    let now = app.clock.now();
    let token = app
        .tokens
        .issue_password_reset(record.user.id, record.password_version, now)?;
    let minutes = (app.tokens.lifetimes().password_reset + 59) / 60;
    let email = mail::reset_email(&record.user, links.password_reset(&token), minutes);
    if let Err(e) = app.mailer.send(email).await {
        tracing::error!(user_id = %record.user.id, error = ?anyhow::Error::from(e), "password reset email not sent");
    } else {
        tracing::info!(user_id = %record.user.id, "password reset requested");
    }
    Ok(())
}

/// Checks a reset token's signature, kind and expiry, without a store read (for the form page).
pub fn check_reset_token(app: &App, token: &str) -> Result<(), AuthError> {
    app.tokens
        .verify_password_reset(token)
        .map(drop)
        .map_err(|InvalidToken| AuthError::InvalidResetToken)
}

/// Sets a new password from a reset token, once; every session of the user ends.
#[tracing::instrument(skip_all)]
pub async fn set_password(
    app: &App,
    token: &str,
    password: &Password,
    confirmation: &str,
) -> Result<(), AuthError> {
    if password.expose() != confirmation {
        return Err(AuthError::PasswordsDiffer);
    }
    let claims = app
        .tokens
        .verify_password_reset(token)
        .map_err(|InvalidToken| AuthError::InvalidResetToken)?;
    let hash = app.passwords.hash(password).await?;
    if !app
        .store
        .replace_password(claims.user_id, claims.password_version, &hash)
        .await?
    {
        return Err(AuthError::InvalidResetToken);
    }
    tracing::info!(user_id = %claims.user_id, "password reset completed; all sessions revoked");
    Ok(())
}

/// Ends the session a refresh token belongs to (idempotent).
#[tracing::instrument(skip_all)]
pub async fn logout(app: &App, refresh_token: &str) -> Result<(), AuthError> {
    let claims = app
        .tokens
        .verify_refresh(refresh_token)
        .map_err(|InvalidToken| AuthError::InvalidRefreshToken)?;
    app.store
        .revoke_session(claims.user_id, &claims.session_id)
        .await?;
    tracing::info!(user_id = %claims.user_id, "logged out");
    Ok(())
}

/// Ends every session of the user.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn logout_all(app: &App, user_id: UserId) -> Result<(), AuthError> {
    app.store.revoke_all_sessions(user_id).await?;
    tracing::info!(user_id = %user_id, "logged out everywhere");
    Ok(())
}

/// The user an access token names.
pub async fn current_user(app: &App, user_id: UserId) -> Result<User, AuthError> {
    match app.store.user_by_id(user_id).await? {
        Some(record) => Ok(record.user),
        None => Err(AuthError::InvalidAccessToken),
    }
}

/// Checks an access token without a store read.
pub fn authenticate(app: &App, access_token: &str) -> Result<UserId, AuthError> {
    app.tokens
        .verify_access(access_token)
        .map(|c| c.user_id)
        .map_err(|InvalidToken| AuthError::InvalidAccessToken)
}

async fn send_verification_email(app: &App, user: &User, links: &Links) {
    let now: DateTime<Utc> = app.clock.now();
    let result = match app.tokens.issue_email_verification(user.id, &user.email, now) {
        Ok(token) => app
            .mailer
            .send(mail::verification_email(user, links.verification(&token)))
            .await
            .map_err(Into::into),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::error!(user_id = %user.id, error = ?e, "verification email not sent");
    }
}
