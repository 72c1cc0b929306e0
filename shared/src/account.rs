//! The signed-in user's self-service use cases (docs/API.md, "Account"): see and end sessions,
//! change the password, move the email, delete the account.
//!
//! Every password check here counts against the login backoff of the user's username, exactly as
//! a login would: a stolen access token guesses no faster than login allows. Each change is one
//! store step ([`crate::store::Store`]), conditioned on the user being as this request read them.

use uuid::Uuid;

use crate::app::App;
use crate::audit::{self, Caller, Event, Outcome};
use crate::auth::{AuthError, Links, TokenPair};
use crate::domain::{Email, LoginIdentifier, Password, UserId, UserRecord};
use crate::jobs::{Job, JobRecord, Origin};
use crate::password_policy;
use crate::store::{
    AbuseKeys, EmailChange, EmailChangeOutcome, NewSession, PasswordChange, SessionInfo, SessionPrecondition,
    UserDeletion,
};
use crate::throttle::Gate;
use crate::tokens::InvalidToken;

/// How often a password change is tried again when only the revocation epoch moved under it (a
/// concurrent logout-all): the password it checked is still the password.
const CHANGE_ATTEMPTS: usize = 3;

/// A live session, and whether the request's own access token belongs to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedSession {
    pub session: SessionInfo,
    pub current: bool,
}

/// The user of a valid access token, or 401: a deleted user's token names nobody.
async fn signed_in(app: &App, user_id: UserId) -> Result<UserRecord, AuthError> {
    app.store
        .user_by_id(user_id)
        .await?
        .ok_or(AuthError::InvalidAccessToken)
}

/// Checks the user's own password, counted against their username's login backoff. `Ok`: right,
/// with the backoff key (its failures are cleared by the caller's write).
async fn check_password(
    app: &App,
    caller: &Caller,
    event: Event,
    record: &UserRecord,
    password: &str,
) -> Result<String, AuthError> {
    let user_id = Some(record.user.id);
    let login_key = app
        .limits
        .login_key(&LoginIdentifier::Username(record.user.username.key()))
        .map_err(anyhow::Error::from)?;
    let now_ms = app.clock.exact().timestamp_millis();
    if let Gate::Locked { retry_after_ms } = app
        .store
        .begin_login_attempt(&login_key, now_ms, &app.limits.login)
        .await?
    {
        audit::record(caller, event, Outcome::Throttled, user_id, Some("backoff"));
        return Err(AuthError::TooManyAttempts {
            retry_after: (retry_after_ms + 999) / 1000,
        });
    }
    if !app
        .passwords
        .verify(password, Some(&record.password_hash))
        .await?
    {
        audit::record(caller, event, Outcome::Failure, user_id, Some("wrong_password"));
        return Err(AuthError::IncorrectPassword);
    }
    Ok(login_key)
}

/// The password checked was replaced before the change could be written: it is not the
/// password any more.
fn credentials_changed(caller: &Caller, event: Event, user_id: UserId) -> AuthError {
    audit::record(
        caller,
        event,
        Outcome::Failure,
        Some(user_id),
        Some("credentials_changed"),
    );
    AuthError::IncorrectPassword
}

/// The user's live sessions, newest first; `current` marks the one of `session_id`.
pub async fn sessions(
    app: &App,
    user_id: UserId,
    session_id: Option<&str>,
) -> Result<Vec<ListedSession>, AuthError> {
    let now = app.clock.now().timestamp();
    let sessions = app
        .store
        .sessions(user_id, now)
        .await?
        .ok_or(AuthError::InvalidAccessToken)?;
    Ok(sessions
        .into_iter()
        .map(|session| ListedSession {
            current: Some(session.id.as_str()) == session_id,
            session,
        })
        .collect())
}

/// Ends one live session of the user; its refresh token is dead from then on.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn revoke_session(
    app: &App,
    caller: &Caller,
    user_id: UserId,
    session_id: &str,
) -> Result<(), AuthError> {
    let now = app.clock.now().timestamp();
    // Session ids are what login makes (32 lowercase hex digits); anything else is no session
    // (and never reaches a store key).
    let well_formed =
        session_id.len() == 32 && session_id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if well_formed && app.store.end_session(user_id, session_id, now).await? {
        audit::record(
            caller,
            Event::SessionRevoked,
            Outcome::Success,
            Some(user_id),
            None,
        );
        return Ok(());
    }
    // Not a live session of theirs, or no such user any more (read only on this path).
    signed_in(app, user_id).await?;
    audit::record(
        caller,
        Event::SessionRevoked,
        Outcome::Failure,
        Some(user_id),
        Some("not_found"),
    );
    Err(AuthError::SessionNotFound)
}

/// Replaces the password after checking the current one. Answers with a new session's pair;
/// every other session ends, and so do reset links issued before (the password version moves).
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn change_password(
    app: &App,
    caller: &Caller,
    user_id: UserId,
    current_password: &str,
    new_password: &Password,
) -> Result<TokenPair, AuthError> {
    let event = Event::PasswordChanged;
    let mut record = signed_in(app, user_id).await?;
    if let Err(error) =
        password_policy::check(new_password, record.user.username.as_str(), &record.user.email)
    {
        audit::record(
            caller,
            event,
            Outcome::Failure,
            Some(user_id),
            Some("weak_password"),
        );
        return Err(AuthError::InvalidField {
            field: "new_password",
            error,
        });
    }
    let login_key = check_password(app, caller, event, &record, current_password).await?;
    let hash = app.passwords.hash(new_password).await?;
    let now = app.clock.now();
    let session_id = Uuid::new_v4().simple().to_string();
    let expires_at = now.timestamp() + app.tokens.lifetimes().refresh;
    let refresh = app
        .tokens
        .issue_refresh(user_id, &session_id, expires_at, &caller.issuer, now)?;
    for _ in 0..CHANGE_ATTEMPTS {
        let change = PasswordChange {
            user: record.user.clone(),
            hash: hash.clone(),
            session: NewSession {
                id: session_id.clone(),
                user_id,
                current_token_id: refresh.token_id.clone(),
                created_at: now,
                expires_at,
                precondition: SessionPrecondition {
                    password_version: record.password_version,
                    sessions_revoked_at: record.sessions_revoked_at,
                },
                user_agent: caller.user_agent.clone(),
                source_ip: caller.source_ip.clone(),
            },
            login_key: login_key.clone(),
        };
        if app.store.change_password(&change).await? {
            audit::record(
                caller,
                event,
                Outcome::Success,
                Some(user_id),
                Some("changed_by_user"),
            );
            return Ok(TokenPair {
                access_token: app
                    .tokens
                    .issue_access(user_id, &session_id, &caller.issuer, now)?,
                refresh_token: refresh.token,
            });
        }
        let seen = record.password_version;
        record = signed_in(app, user_id).await?;
        if record.password_version != seen {
            // Changed (or reset) by a concurrent request: what was checked is no longer the password.
            return Err(credentials_changed(caller, event, user_id));
        }
    }
    Err(anyhow::anyhow!("the user's sessions kept being revoked during a password change").into())
}

/// Checks the password, then has a link sent to the new address; nothing changes until it is
/// followed. The request becomes the user's one pending email change: the link of an earlier
/// request confirms nothing from now on. The new address's email throttle applies to the link
/// (sent by a job); the answer is the same either way.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn request_email_change(
    app: &App,
    caller: &Caller,
    user_id: UserId,
    new_email: &Email,
    password: &str,
    links: &Links,
) -> Result<(), AuthError> {
    let event = Event::EmailChangeRequested;
    let record = signed_in(app, user_id).await?;
    let login_key = check_password(app, caller, event, &record, password).await?;
    app.store.clear_login_attempts(&login_key).await?;
    if new_email.key() == record.user.email.key()
        || app.store.user_by_email(&new_email.key()).await?.is_some()
    {
        audit::record(
            caller,
            event,
            Outcome::Failure,
            Some(user_id),
            Some("email_taken"),
        );
        return Err(AuthError::EmailTaken);
    }
    let change_id = Uuid::new_v4().simple().to_string();
    // The link is valid only in the current revocation epoch (a password change, reset or
    // logout-all ends it) and only while this is the pending change.
    let job = JobRecord::new(Job::EmailChangeLink {
        user_id: user_id.get(),
        username: record.user.username.as_str().to_owned(),
        new_email: new_email.as_str().to_owned(),
        epoch: record.sessions_revoked_at,
        change_id: change_id.clone(),
        origin: Origin::new(caller, links),
    });
    if !app.store.begin_email_change(user_id, &change_id, &job).await? {
        return Err(AuthError::InvalidAccessToken);
    }
    app.background.dispatch(job);
    Ok(())
}

/// Follows an email-change link: the new address becomes the user's (verified), every session
/// ends, reset links sent before die, and the old address gets a notice (a job written in the
/// same step, never throttled).
#[tracing::instrument(skip_all)]
pub async fn confirm_email_change(app: &App, caller: &Caller, token: &str) -> Result<(), AuthError> {
    let event = Event::EmailChanged;
    let Ok(claims) = app.tokens.verify_email_change(token, &caller.issuer) else {
        audit::record(caller, event, Outcome::Failure, None, Some("invalid_token"));
        return Err(AuthError::InvalidEmailChangeToken);
    };
    let user_id = Some(claims.user_id);
    let stale = || {
        audit::record(caller, event, Outcome::Failure, user_id, Some("token_stale"));
        AuthError::InvalidEmailChangeToken
    };
    let Some(record) = app.store.user_by_id(claims.user_id).await? else {
        return Err(stale());
    };
    if record.sessions_revoked_at != claims.epoch {
        return Err(stale());
    }
    let before = &record.user;
    let notice = JobRecord::new(Job::EmailChangedNotice {
        user_id: before.id.get(),
        username: before.username.as_str().to_owned(),
        old_email: before.email.as_str().to_owned(),
        new_email: claims.new_email.as_str().to_owned(),
    });
    let change = EmailChange {
        before: record.clone(),
        new_email: claims.new_email,
        expected_epoch: claims.epoch,
        change_id: claims.change_id,
        notice: notice.clone(),
    };
    match app.store.change_email(&change).await? {
        EmailChangeOutcome::Changed => {
            audit::record(caller, event, Outcome::Success, user_id, None);
            app.background.dispatch(notice);
            Ok(())
        }
        EmailChangeOutcome::Taken => {
            audit::record(caller, event, Outcome::Failure, user_id, Some("email_taken"));
            Err(AuthError::EmailTaken)
        }
        EmailChangeOutcome::Stale => Err(stale()),
    }
}

/// Deletes the account after checking the password: one step makes the user unreachable and
/// writes the job that purges the rest after the answer.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn delete_account(
    app: &App,
    caller: &Caller,
    user_id: UserId,
    password: &str,
) -> Result<(), AuthError> {
    let event = Event::AccountDeleted;
    let record = signed_in(app, user_id).await?;
    check_password(app, caller, event, &record, password).await?;
    let user = &record.user;
    let login = |identifier| {
        app.limits
            .login_key(&identifier)
            .map_err(|e| AuthError::Unexpected(e.into()))
    };
    let abuse_keys = AbuseKeys {
        login: vec![
            login(LoginIdentifier::Username(user.username.key()))?,
            login(LoginIdentifier::Email(user.email.key()))?,
        ],
        email_sends: vec![
            app.limits
                .email_key(&user.email.key())
                .map_err(anyhow::Error::from)?,
        ],
    };
    let purge = JobRecord::new(Job::Purge {
        user_id: user_id.get(),
        abuse_keys,
    });
    let deletion = UserDeletion {
        user: user.clone(),
        password_version: record.password_version,
        purge: purge.clone(),
    };
    if !app.store.delete_user(&deletion).await? {
        // Gone already (a concurrent deletion), or the password changed since it was checked.
        signed_in(app, user_id).await?;
        return Err(credentials_changed(caller, event, user_id));
    }
    audit::record(caller, event, Outcome::Success, Some(user_id), None);
    app.background.dispatch(purge);
    Ok(())
}

/// The verified claims of an access token: its user and its session.
pub fn authenticate(
    app: &App,
    issuer: &str,
    access_token: &str,
) -> Result<(UserId, Option<String>), AuthError> {
    app.tokens
        .verify_access(access_token, issuer)
        .map(|c| (c.user_id, c.session_id))
        .map_err(|InvalidToken| AuthError::InvalidAccessToken)
}
