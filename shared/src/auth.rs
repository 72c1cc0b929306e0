//! The auth use cases: register, verify, log in, refresh, reset, log out. They speak in domain
//! types and ports only; [`AuthError`] names each client-facing failure, and the HTTP layer maps
//! it to the contract in one place.

use uuid::Uuid;

use crate::app::App;
use crate::audit::{self, Caller, Event, Outcome};
use crate::domain::{Amr, Email, FieldError, LoginIdentifier, Password, User, UserId, UserRecord};
use crate::jobs::{Job, JobRecord, Origin};
use crate::mfa::{self, Checkpoint};
use crate::password_policy;
use crate::store::{
    CreateUserError, EmailSend, NewSession, NewUser, PasswordReset, Rotation, RotationOutcome,
    SessionPrecondition, StoreError, Verification,
};
use crate::throttle::{EmailThrottle, Gate};
use crate::tokens::{ClientGrant, InvalidToken, RefreshClaims};

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
    #[error("weak password")]
    WeakPassword(FieldError),
    /// A body field that is well-formed but refused (a weak new password): 422 on that field.
    #[error("invalid field {field}")]
    InvalidField { field: &'static str, error: FieldError },
    /// The signed-in user's own password check failed (account routes).
    #[error("incorrect password")]
    IncorrectPassword,
    #[error("invalid email change token")]
    InvalidEmailChangeToken,
    #[error("session not found")]
    SessionNotFound,
    #[error("too many failed attempts")]
    TooManyAttempts { retry_after: i64 },
    /// TOTP is on and no code came: 401 at login, 400 on a signed-in route.
    #[error("two-factor code required")]
    CodeRequired { at_login: bool },
    /// A login's right password, with TOTP on and no code: 401 `Two-factor code required` as
    /// [`AuthError::CodeRequired`], with what the password check read of the user (the hosted
    /// pages' two-factor step holds only while it stays so).
    #[error("two-factor code required")]
    CodeRequiredAfter(Credentials),
    /// A wrong, replayed or used code: 401 at login, 400 on a signed-in route.
    #[error("invalid two-factor code")]
    InvalidCode { at_login: bool },
    #[error("two-factor authentication already on")]
    MfaAlreadyOn,
    #[error("two-factor authentication off")]
    MfaOff,
    /// A passkey ceremony that does not check out: 401 at login, 400 at registration.
    #[error("invalid passkey")]
    InvalidPasskey { at_login: bool },
    #[error("passkey not found")]
    PasskeyNotFound,
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

    /// The base URL itself, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn verification(&self, token: &str) -> String {
        format!("{}/api/auth/confirmed_email/{token}", self.base)
    }

    pub fn password_reset(&self, token: &str) -> String {
        format!("{}/auth/reset-password/{token}", self.base)
    }

    pub fn email_change(&self, token: &str) -> String {
        format!("{}/api/auth/confirm-email-change/{token}", self.base)
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

/// Creates the user and sends the verification email (it counts towards the address's email
/// throttle). A failed send does not undo the registration: `request_verification_email` sends a
/// new link later.
#[tracing::instrument(skip_all)]
pub async fn register(
    app: &App,
    caller: &Caller,
    registration: Registration,
    links: &Links,
) -> Result<User, AuthError> {
    password_policy::check(
        &registration.password,
        registration.username.as_str(),
        &registration.email,
    )
    .map_err(AuthError::WeakPassword)?;
    let password_hash = app.passwords.hash(&registration.password).await?;
    let now = app.clock.now();
    let first_email = EmailSend {
        address_key: app
            .limits
            .email_key(&registration.email.key())
            .map_err(anyhow::Error::from)?,
        state: EmailThrottle::first(now.timestamp()),
    };
    // The verification email goes out as a job written with the user; the store allocates the
    // id and writes the job with it ([`JobRecord::for_user`]).
    let job = JobRecord::new(Job::VerificationEmail {
        user_id: 0,
        username: registration.username.as_str().to_owned(),
        email: registration.email.as_str().to_owned(),
        origin: Origin::new(caller, links),
    });
    let created = app
        .store
        .create_user(NewUser {
            username: registration.username,
            email: registration.email,
            password_hash,
            created_at: now,
            first_email,
            job: job.clone(),
        })
        .await;
    let user = match created {
        Ok(user) => user,
        Err(e) => {
            let (error, reason) = match e {
                CreateUserError::UsernameTaken => (AuthError::UsernameTaken, "username_taken"),
                CreateUserError::EmailTaken => (AuthError::EmailTaken, "email_taken"),
                CreateUserError::Store(e) => return Err(AuthError::Store(e)),
            };
            audit::record(
                caller,
                Event::UserRegistered,
                Outcome::Failure,
                None,
                Some(reason),
            );
            return Err(error);
        }
    };
    audit::record(
        caller,
        Event::UserRegistered,
        Outcome::Success,
        Some(user.id),
        None,
    );
    app.background.dispatch(job.for_user(user.id));
    Ok(user)
}

/// Checks a username-or-email and password (then, with TOTP on, the `otp` code), then starts a
/// new session. Each identifier has its own backoff: past the threshold of consecutive failures,
/// attempts inside the window are refused before any password check. The answers come in the
/// contract's order: password, then verified email, then code.
#[tracing::instrument(skip_all)]
pub async fn login(
    app: &App,
    caller: &Caller,
    identifier: &str,
    password: &str,
    otp: Option<&str>,
) -> Result<TokenPair, AuthError> {
    start_login(
        app,
        caller,
        identifier,
        FirstFactor::Password(password),
        otp,
        None,
    )
    .await?
    .pair(app, caller)
}

/// What a login presents before its second factor.
#[derive(Clone, Copy)]
pub enum FirstFactor<'a> {
    Password(&'a str),
    /// The password was checked by an earlier step of this same sign-in (the hosted pages'
    /// two-factor step, crate::oidc): only the code is left, if the user is still as that step
    /// read them (the same password and sessions epoch) and TOTP is still on.
    Proven(Credentials),
}

/// What a password check saw of its user: a later step holds only while both are the same (a
/// reset, a password change or a logout-all moves one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    pub password_version: i64,
    pub sessions_revoked_at: i64,
}

impl Credentials {
    fn of(record: &UserRecord) -> Self {
        Self {
            password_version: record.password_version,
            sessions_revoked_at: record.sessions_revoked_at,
        }
    }
}

impl std::fmt::Debug for FirstFactor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FirstFactor::Password(_) => "Password(..)",
            FirstFactor::Proven(_) => "Proven(..)",
        })
    }
}

/// A session a login starts for an OpenID Connect client: what the client was granted, and the
/// client's name for the user's session list.
#[derive(Debug, Clone)]
pub struct ClientSession {
    pub grant: ClientGrant,
    pub name: String,
}

/// [`login`], up to a created session: also the password grant of the OpenID Connect token
/// endpoint (`client`) and the hosted sign-in page (crate::oidc), with the same answers, order
/// and backoff.
pub async fn start_login(
    app: &App,
    caller: &Caller,
    identifier: &str,
    first: FirstFactor<'_>,
    otp: Option<&str>,
    client: Option<&ClientSession>,
) -> Result<StartedSession, AuthError> {
    let identifier = LoginIdentifier::parse(identifier);
    let login_key = app.limits.login_key(&identifier).map_err(anyhow::Error::from)?;
    // The gate and the user read are independent: one round trip of latency, not two.
    let (gate, record) = tokio::join!(
        app.store.begin_login_attempt(
            &login_key,
            app.clock.exact().timestamp_millis(),
            &app.limits.login
        ),
        user_by_identifier(app, &identifier),
    );
    if let Gate::Locked { retry_after_ms } = gate? {
        let user_id = record.ok().flatten().map(|r| r.user.id);
        audit::record(caller, Event::LoginThrottled, Outcome::Throttled, user_id, None);
        return Err(AuthError::TooManyAttempts {
            retry_after: (retry_after_ms + 999) / 1000,
        });
    }
    let record = record?;
    let matches = match first {
        // Always one bcrypt verification, known user or not: same answer, same time.
        FirstFactor::Password(password) => {
            app.passwords
                .verify(password, record.as_ref().map(|r| &r.password_hash))
                .await?
        }
        FirstFactor::Proven(seen) => record.as_ref().is_some_and(|r| {
            r.totp
                && r.password_version == seen.password_version
                && r.sessions_revoked_at == seen.sessions_revoked_at
        }),
    };
    let record = match record {
        Some(record) if matches => record,
        Some(record) => {
            let id = Some(record.user.id);
            audit::record(
                caller,
                Event::LoginFailed,
                Outcome::Failure,
                id,
                Some("wrong_password"),
            );
            return Err(AuthError::BadCredentials);
        }
        None => {
            audit::record(
                caller,
                Event::LoginFailed,
                Outcome::Failure,
                None,
                Some("unknown_user"),
            );
            return Err(AuthError::BadCredentials);
        }
    };
    let user = &record.user;
    if !user.is_verified {
        // The password was right: this identifier's failures end here.
        app.store.clear_login_attempts(&login_key).await?;
        let id = Some(user.id);
        audit::record(
            caller,
            Event::LoginFailed,
            Outcome::Failure,
            id,
            Some("email_not_verified"),
        );
        return Err(AuthError::EmailNotVerified);
    }
    // A missing or wrong code leaves this attempt counted against the identifier's backoff, and
    // always against the username's (docs/API.md): a login by email counts there too, so that
    // the two identifiers do not give twice the guesses at a code.
    let username_key = match (&identifier, record.totp) {
        (LoginIdentifier::Email(_), true) => {
            Some(crate::account::count_attempt(app, caller, Event::LoginFailed, &record).await?)
        }
        _ => None,
    };
    let amr = match mfa::check_second_factor(app, caller, Checkpoint::Login, &record, otp).await {
        Err(AuthError::CodeRequired { .. }) => {
            return Err(AuthError::CodeRequiredAfter(Credentials::of(&record)));
        }
        amr => amr?,
    };
    let started = StartedSession::for_client(app, caller, &record, amr, client)?;
    // Only if the password and the sessions are still as this login read them: a reset or a
    // logout-all that committed during the password check wins, in the same write.
    let created = app
        .store
        .create_session(&started.session, Some(&login_key))
        .await?;
    if !created {
        audit::record(
            caller,
            Event::LoginFailed,
            Outcome::Failure,
            Some(user.id),
            Some("credentials_changed"),
        );
        return Err(AuthError::BadCredentials);
    }
    if let Some(username_key) = username_key {
        app.store.clear_login_attempts(&username_key).await?;
    }
    audit::record_login(caller, user.id, amr);
    Ok(started)
}

/// A new session of a user as a login (or a password change) read them, with its first refresh
/// token: what the store keeps, and what the answer hands out once it has.
pub struct StartedSession {
    pub session: NewSession,
    refresh_token: String,
    grant: Option<ClientGrant>,
}

impl StartedSession {
    /// Mints the first refresh token of a new session of `record`'s user, signed in as `amr`,
    /// ending a refresh lifetime from now (rotation never extends it).
    pub fn new(app: &App, caller: &Caller, record: &UserRecord, amr: Amr) -> anyhow::Result<Self> {
        Self::for_client(app, caller, record, amr, None)
    }

    /// [`StartedSession::new`], for an OpenID Connect client when `client` says so.
    pub fn for_client(
        app: &App,
        caller: &Caller,
        record: &UserRecord,
        amr: Amr,
        client: Option<&ClientSession>,
    ) -> anyhow::Result<Self> {
        let now = app.clock.now();
        let user_id = record.user.id;
        let session_id = Uuid::new_v4().simple().to_string();
        let expires_at = now.timestamp() + app.tokens.lifetimes().refresh;
        let grant = client.map(|c| &c.grant);
        let refresh = app.tokens.issue_refresh_for(
            user_id,
            &session_id,
            amr,
            grant,
            expires_at,
            &caller.issuer,
            now,
        )?;
        Ok(Self {
            session: NewSession {
                id: session_id,
                current_token_id: refresh.token_id,
                created_at: now,
                expires_at,
                ..new_session(caller, record, amr, client.map(|c| c.name.clone()))
            },
            refresh_token: refresh.token,
            grant: grant.cloned(),
        })
    }

    /// The token pair of the session, once the store has created it.
    pub fn pair(self, app: &App, caller: &Caller) -> Result<TokenPair, AuthError> {
        let session = &self.session;
        Ok(TokenPair {
            access_token: app.tokens.issue_access_for(
                session.user_id,
                &session.id,
                session.amr,
                self.grant.as_ref(),
                &caller.issuer,
                session.created_at,
            )?,
            refresh_token: self.refresh_token,
        })
    }
}

/// A new session of `record`'s user, signed in as `amr` from `caller`, created only while the
/// user is as read; its id, times and current token are the caller's to set.
pub(crate) fn new_session(
    caller: &Caller,
    record: &UserRecord,
    amr: Amr,
    client: Option<String>,
) -> NewSession {
    NewSession {
        id: String::new(),
        user_id: record.user.id,
        current_token_id: String::new(),
        created_at: chrono::DateTime::UNIX_EPOCH,
        expires_at: 0,
        precondition: SessionPrecondition {
            password_version: record.password_version,
            sessions_revoked_at: record.sessions_revoked_at,
        },
        user_agent: caller.user_agent.clone(),
        source_ip: caller.source_ip.clone(),
        amr,
        client,
    }
}

async fn user_by_identifier(
    app: &App,
    identifier: &LoginIdentifier,
) -> Result<Option<UserRecord>, StoreError> {
    match identifier {
        LoginIdentifier::Email(key) => app.store.user_by_email(key).await,
        LoginIdentifier::Username(key) => app.store.user_by_username(key).await,
    }
}

/// Trades a current refresh token for a new pair; a retired one revokes its whole session.
#[tracing::instrument(skip_all)]
pub async fn refresh(app: &App, caller: &Caller, refresh_token: &str) -> Result<TokenPair, AuthError> {
    Ok(refresh_if(app, caller, refresh_token, |_| true).await?.0)
}

/// [`refresh`], only if `accept` takes the verified token (the OpenID Connect token endpoint:
/// the client's own); a token it refuses is left unused. Also returns the token's claims.
pub async fn refresh_if(
    app: &App,
    caller: &Caller,
    refresh_token: &str,
    accept: impl FnOnce(&RefreshClaims) -> bool,
) -> Result<(TokenPair, RefreshClaims), AuthError> {
    let claims = app
        .tokens
        .verify_refresh(refresh_token, &caller.issuer)
        .ok()
        .filter(|claims| accept(claims));
    let Some(claims) = claims else {
        audit::record(
            caller,
            Event::RefreshRotated,
            Outcome::Failure,
            None,
            Some("invalid_token"),
        );
        return Err(AuthError::InvalidRefreshToken);
    };
    let now = app.clock.now();
    // The next token ends where the session ends: rotation never extends a session.
    let next = app.tokens.issue_refresh_for(
        claims.user_id,
        &claims.session_id,
        claims.amr,
        claims.grant.as_ref(),
        claims.expires_at,
        &caller.issuer,
        now,
    )?;
    let outcome = app
        .store
        .rotate_session(&Rotation {
            session_id: claims.session_id.clone(),
            user_id: claims.user_id,
            presented_token_id: claims.token_id.clone(),
            ends_at: None,
            next_token_id: next.token_id,
            now: now.timestamp(),
        })
        .await?;
    let user_id = Some(claims.user_id);
    match outcome {
        RotationOutcome::Rotated => {
            audit::record(caller, Event::RefreshRotated, Outcome::Success, user_id, None);
            let pair = TokenPair {
                access_token: app.tokens.issue_access_for(
                    claims.user_id,
                    &claims.session_id,
                    claims.amr,
                    claims.grant.as_ref(),
                    &caller.issuer,
                    now,
                )?,
                refresh_token: next.token,
            };
            Ok((pair, claims))
        }
        RotationOutcome::ReuseDetected => {
            let reason = Some("session_revoked");
            audit::record(
                caller,
                Event::RefreshReuseDetected,
                Outcome::Failure,
                user_id,
                reason,
            );
            Err(AuthError::InvalidRefreshToken)
        }
        RotationOutcome::Invalid => {
            let reason = Some("session_ended");
            audit::record(caller, Event::RefreshRotated, Outcome::Failure, user_id, reason);
            Err(AuthError::InvalidRefreshToken)
        }
    }
}

/// Marks the address in a verification token as verified.
#[tracing::instrument(skip_all)]
pub async fn confirm_email(app: &App, caller: &Caller, token: &str) -> Result<Confirmation, AuthError> {
    let Ok(claims) = app.tokens.verify_email_verification(token, &caller.issuer) else {
        audit::record(
            caller,
            Event::EmailVerified,
            Outcome::Failure,
            None,
            Some("invalid_token"),
        );
        return Err(AuthError::InvalidVerificationToken);
    };
    let user_id = Some(claims.user_id);
    match app
        .store
        .mark_email_verified(claims.user_id, &claims.email)
        .await?
    {
        Verification::Verified => {
            audit::record(caller, Event::EmailVerified, Outcome::Success, user_id, None);
            Ok(Confirmation::Verified)
        }
        Verification::AlreadyVerified => {
            let reason = Some("already_verified");
            audit::record(caller, Event::EmailVerified, Outcome::Skipped, user_id, reason);
            Ok(Confirmation::AlreadyVerified)
        }
        Verification::NoMatch => {
            let reason = Some("address_changed");
            audit::record(caller, Event::EmailVerified, Outcome::Failure, user_id, reason);
            Err(AuthError::InvalidVerificationToken)
        }
    }
}

/// Asks for a new verification link. The answer is the same whoever the address belongs to, and
/// so is the work: a job is written, and the job looks the address up and sends the link if it
/// is an unverified user's and its email throttle allows ([`crate::jobs`]).
#[tracing::instrument(skip_all)]
pub async fn request_verification_email(
    app: &App,
    caller: &Caller,
    email: &Email,
    links: &Links,
) -> Result<(), AuthError> {
    enqueue(
        app,
        Job::VerificationRequest {
            email: email.as_str().to_owned(),
            origin: Origin::new(caller, links),
        },
    )
    .await
}

/// Asks for a password-reset link: as [`request_verification_email`], the job decides whether
/// a link goes out (a known address, within its email throttle).
#[tracing::instrument(skip_all)]
pub async fn request_password_reset(
    app: &App,
    caller: &Caller,
    email: &Email,
    links: &Links,
) -> Result<(), AuthError> {
    enqueue(
        app,
        Job::PasswordReset {
            email: email.as_str().to_owned(),
            origin: Origin::new(caller, links),
        },
    )
    .await
}

/// Writes a job on its own and hands it to the runner.
async fn enqueue(app: &App, job: Job) -> Result<(), AuthError> {
    let record = JobRecord::new(job);
    app.store.enqueue_job(&record).await?;
    app.background.dispatch(record);
    Ok(())
}

/// Checks a reset token's signature, kind and expiry, without a store read (for the form page).
pub fn check_reset_token(app: &App, caller: &Caller, token: &str) -> Result<(), AuthError> {
    app.tokens
        .verify_password_reset(token, &caller.issuer)
        .map(drop)
        .map_err(|InvalidToken| AuthError::InvalidResetToken)
}

/// Sets a new password from a reset token, once; every session of the user ends.
#[tracing::instrument(skip_all)]
pub async fn set_password(
    app: &App,
    caller: &Caller,
    token: &str,
    password: &Password,
    confirmation: &str,
) -> Result<(), AuthError> {
    let event = Event::PasswordResetCompleted;
    if password.expose() != confirmation {
        audit::record(caller, event, Outcome::Failure, None, Some("passwords_differ"));
        return Err(AuthError::PasswordsDiffer);
    }
    let Ok(claims) = app.tokens.verify_password_reset(token, &caller.issuer) else {
        audit::record(caller, event, Outcome::Failure, None, Some("invalid_token"));
        return Err(AuthError::InvalidResetToken);
    };
    let user_id = Some(claims.user_id);
    let Some(record) = app.store.user_by_id(claims.user_id).await? else {
        audit::record(caller, event, Outcome::Failure, user_id, Some("invalid_token"));
        return Err(AuthError::InvalidResetToken);
    };
    if let Err(e) = password_policy::check(password, record.user.username.as_str(), &record.user.email) {
        audit::record(caller, event, Outcome::Failure, user_id, Some("weak_password"));
        return Err(AuthError::WeakPassword(e));
    }
    if record.password_version != claims.password_version {
        audit::record(
            caller,
            event,
            Outcome::Failure,
            user_id,
            Some("token_already_used"),
        );
        return Err(AuthError::InvalidResetToken);
    }
    let hash = app.passwords.hash(password).await?;
    // Written only if the user is still as read: the same password version (the token is
    // single use), revocation epoch and email (an email change ends reset links sent before).
    let reset = PasswordReset {
        user: record.user.clone(),
        password_version: record.password_version,
        sessions_revoked_at: record.sessions_revoked_at,
        hash,
    };
    if !app.store.replace_password(&reset).await? {
        audit::record(
            caller,
            event,
            Outcome::Failure,
            user_id,
            Some("token_already_used"),
        );
        return Err(AuthError::InvalidResetToken);
    }
    audit::record(caller, event, Outcome::Success, user_id, None);
    audit::record(
        caller,
        Event::PasswordChanged,
        Outcome::Success,
        user_id,
        Some("password_reset"),
    );
    Ok(())
}

/// Ends the session a refresh token belongs to (idempotent); a deleted user's token is refused.
#[tracing::instrument(skip_all)]
pub async fn logout(app: &App, caller: &Caller, refresh_token: &str) -> Result<(), AuthError> {
    let Ok(claims) = app.tokens.verify_refresh(refresh_token, &caller.issuer) else {
        audit::record(
            caller,
            Event::LoggedOut,
            Outcome::Failure,
            None,
            Some("invalid_token"),
        );
        return Err(AuthError::InvalidRefreshToken);
    };
    if !app
        .store
        .end_session_of_user(claims.user_id, &claims.session_id)
        .await?
    {
        audit::record(
            caller,
            Event::LoggedOut,
            Outcome::Failure,
            Some(claims.user_id),
            Some("user_gone"),
        );
        return Err(AuthError::InvalidRefreshToken);
    }
    audit::record(
        caller,
        Event::LoggedOut,
        Outcome::Success,
        Some(claims.user_id),
        None,
    );
    Ok(())
}

/// Ends every session of the user, if the caller's own session `own_session_id` is still live
/// (401 otherwise: a token of an ended session manages nothing).
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn logout_all(
    app: &App,
    caller: &Caller,
    user_id: UserId,
    own_session_id: &str,
) -> Result<(), AuthError> {
    let now = app.clock.now().timestamp();
    if !app
        .store
        .revoke_all_sessions_from(user_id, own_session_id, now)
        .await?
    {
        return Err(AuthError::InvalidAccessToken);
    }
    audit::record(
        caller,
        Event::LoggedOutEverywhere,
        Outcome::Success,
        Some(user_id),
        None,
    );
    Ok(())
}

/// The user an access token names.
pub async fn current_user(app: &App, user_id: UserId) -> Result<User, AuthError> {
    match app.store.user_by_id(user_id).await? {
        Some(record) => Ok(record.user),
        None => Err(AuthError::InvalidAccessToken),
    }
}

/// Checks an access token without a store read; `issuer` is the `iss` this request expects.
pub fn authenticate(app: &App, issuer: &str, access_token: &str) -> Result<UserId, AuthError> {
    app.tokens
        .verify_access(access_token, issuer)
        .map(|c| c.user_id)
        .map_err(|InvalidToken| AuthError::InvalidAccessToken)
}
