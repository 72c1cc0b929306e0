//! The signed-in user's self-service use cases (docs/API.md, "Account"): see and end sessions,
//! change the password, move the email, delete the account.
//!
//! Every password check here counts against the login backoff of the user's username, exactly as
//! a login would: a stolen access token guesses no faster than login allows. Each change is one
//! store step ([`crate::store::Store`]), conditioned on the user being as this request read them.

use uuid::Uuid;

use crate::app::App;
use crate::audit::{self, Caller, Event, Outcome};
use crate::auth::{AuthError, Links, StartedSession, TokenPair};
use crate::domain::{Amr, Email, LoginIdentifier, Password, UserId, UserRecord};
use crate::jobs::{Job, JobRecord, Origin};
use crate::mfa::{self, Checkpoint};
use crate::password_policy;
use crate::store::{
    AbuseKeys, EmailChange, EmailChangeOutcome, PasswordChange, SessionEnd, SessionInfo, UserDeletion,
};
use crate::throttle::Gate;
use crate::tokens::InvalidToken;

/// A live session, and whether the request's own access token belongs to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedSession {
    pub session: SessionInfo,
    pub current: bool,
}

/// The user of a valid access token, or 401: a deleted user's token names nobody.
pub(crate) async fn signed_in(app: &App, user_id: UserId) -> Result<UserRecord, AuthError> {
    app.store
        .user_by_id(user_id)
        .await?
        .ok_or(AuthError::InvalidAccessToken)
}

/// The user of a valid access token whose session is still live, in one read, or 401: the
/// routes that manage the account take no token of a session that has ended (revoked, logged
/// out, ended by a logout-all, a reset, a password or email change, or expired), though other
/// routes accept it until it expires.
pub(crate) async fn in_live_session(
    app: &App,
    user_id: UserId,
    session_id: &str,
) -> Result<UserRecord, AuthError> {
    let now = app.clock.now().timestamp();
    app.store
        .user_in_session(user_id, session_id, now)
        .await?
        .ok_or(AuthError::InvalidAccessToken)
}

/// Lets one check of the user's password or code through their username's login backoff and
/// counts it (429 past the threshold). `Ok`: the backoff key, whose failures the caller's write
/// clears once the check passed.
pub(crate) async fn count_attempt(
    app: &App,
    caller: &Caller,
    event: Event,
    record: &UserRecord,
) -> Result<String, AuthError> {
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
        let user_id = Some(record.user.id);
        audit::record(caller, event, Outcome::Throttled, user_id, Some("backoff"));
        return Err(AuthError::TooManyAttempts {
            retry_after: (retry_after_ms + 999) / 1000,
        });
    }
    Ok(login_key)
}

/// Checks the user's own password, counted against their username's login backoff. `Ok`: right,
/// with the backoff key (its failures are cleared by the caller's write).
pub(crate) async fn check_password(
    app: &App,
    caller: &Caller,
    event: Event,
    record: &UserRecord,
    password: &str,
) -> Result<String, AuthError> {
    let user_id = Some(record.user.id);
    let login_key = count_attempt(app, caller, event, record).await?;
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
pub(crate) fn credentials_changed(caller: &Caller, event: Event, user_id: UserId) -> AuthError {
    audit::record(
        caller,
        event,
        Outcome::Failure,
        Some(user_id),
        Some("credentials_changed"),
    );
    AuthError::IncorrectPassword
}

/// What a signed-in user gives to prove it is them: the password, and with two-factor
/// authentication on a TOTP or recovery code.
#[derive(Clone, Copy)]
pub struct Proof<'a> {
    pub password: &'a str,
    pub code: Option<&'a str>,
}

impl std::fmt::Debug for Proof<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Proof(..)")
    }
}

/// Checks a [`Proof`]: the password (counted against the username's login backoff), then the
/// second factor, which a right code spends. `Ok`: the backoff key (its failures are cleared by
/// the caller's write) and how the user proved it.
pub(crate) async fn check_proof(
    app: &App,
    caller: &Caller,
    event: Event,
    record: &UserRecord,
    proof: Proof<'_>,
) -> Result<(String, Amr), AuthError> {
    let login_key = check_password(app, caller, event, record, proof.password).await?;
    let amr = mfa::check_second_factor(app, caller, Checkpoint::Route(event), record, proof.code).await?;
    Ok((login_key, amr))
}

/// The user's live sessions, newest first; `current` marks the one of `session_id`, the caller's,
/// which must be among them (401 otherwise: it has ended).
pub async fn sessions(app: &App, user_id: UserId, session_id: &str) -> Result<Vec<ListedSession>, AuthError> {
    let now = app.clock.now().timestamp();
    let sessions = app
        .store
        .sessions(user_id, now)
        .await?
        .ok_or(AuthError::InvalidAccessToken)?;
    if !sessions.iter().any(|session| session.id == session_id) {
        return Err(AuthError::InvalidAccessToken);
    }
    Ok(sessions
        .into_iter()
        .map(|session| ListedSession {
            current: session.id == session_id,
            session,
        })
        .collect())
}

/// Ends one live session of the user, on behalf of their live session `own_session_id`; its
/// refresh token is dead from then on.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn revoke_session(
    app: &App,
    caller: &Caller,
    user_id: UserId,
    own_session_id: &str,
    session_id: &str,
) -> Result<(), AuthError> {
    let now = app.clock.now().timestamp();
    // Session ids are what login makes (32 lowercase hex digits); anything else is no session
    // (and never reaches a store key).
    let well_formed =
        session_id.len() == 32 && session_id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let ended = if well_formed {
        app.store
            .end_session_from(user_id, own_session_id, session_id, now)
            .await?
    } else {
        in_live_session(app, user_id, own_session_id).await?;
        SessionEnd::NotFound
    };
    match ended {
        SessionEnd::Ended => {
            audit::record(
                caller,
                Event::SessionRevoked,
                Outcome::Success,
                Some(user_id),
                None,
            );
            Ok(())
        }
        SessionEnd::NotFound => {
            audit::record(
                caller,
                Event::SessionRevoked,
                Outcome::Failure,
                Some(user_id),
                Some("not_found"),
            );
            Err(AuthError::SessionNotFound)
        }
        SessionEnd::CallerEnded => Err(AuthError::InvalidAccessToken),
    }
}

/// Replaces the password after checking the current one. Answers with a new session's pair;
/// every other session ends, and so do reset links issued before (the password version moves).
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn change_password(
    app: &App,
    caller: &Caller,
    user_id: UserId,
    own_session_id: &str,
    current: Proof<'_>,
    new_password: &Password,
) -> Result<TokenPair, AuthError> {
    let event = Event::PasswordChanged;
    let record = in_live_session(app, user_id, own_session_id).await?;
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
    let (login_key, amr) = check_proof(app, caller, event, &record, current).await?;
    let hash = app.passwords.hash(new_password).await?;
    let started = StartedSession::new(app, caller, &record, amr)?;
    let change = PasswordChange {
        user: record.user.clone(),
        hash,
        session: started.session.clone(),
        login_key,
    };
    if app.store.change_password(&change).await? {
        audit::record(
            caller,
            event,
            Outcome::Success,
            Some(user_id),
            Some("changed_by_user"),
        );
        return started.pair(app, caller);
    }
    if signed_in(app, user_id).await?.password_version != record.password_version {
        // Changed (or reset) by a concurrent request: what was checked is no longer the password.
        return Err(credentials_changed(caller, event, user_id));
    }
    // Only the revocation epoch moved (a logout-all, an email change): every session ended with
    // it, the caller's too.
    Err(AuthError::InvalidAccessToken)
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
    own_session_id: &str,
    new_email: &Email,
    proof: Proof<'_>,
    links: &Links,
) -> Result<(), AuthError> {
    let event = Event::EmailChangeRequested;
    let record = in_live_session(app, user_id, own_session_id).await?;
    let (login_key, _) = check_proof(app, caller, event, &record, proof).await?;
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
    own_session_id: &str,
    proof: Proof<'_>,
) -> Result<(), AuthError> {
    let event = Event::AccountDeleted;
    let record = in_live_session(app, user_id, own_session_id).await?;
    check_proof(app, caller, event, &record, proof).await?;
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

/// The verified claims of an access token: its user and its session. A token that names no
/// session (minted before access tokens carried one) counts as one whose session has ended.
pub fn authenticate(app: &App, issuer: &str, access_token: &str) -> Result<(UserId, String), AuthError> {
    let claims = app
        .tokens
        .verify_access(access_token, issuer)
        .map_err(|InvalidToken| AuthError::InvalidAccessToken)?;
    let session_id = claims.session_id.ok_or(AuthError::InvalidAccessToken)?;
    Ok((claims.user_id, session_id))
}
