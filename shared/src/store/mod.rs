//! The store port: what the use cases need from persistence, shaped by access patterns the way
//! DynamoDB wants them (see DESIGN.md, "Storage"). Every method is one atomic step: a change that
//! touches several rows or items is one transaction or one conditional write in every adapter.

pub mod absent;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
pub mod mfa;
pub mod passkeys;
#[cfg(feature = "embedded")]
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{
    Amr, Contact, ContactId, ContactInput, Email, PasswordHash, User, UserId, UserRecord, Username,
};
use crate::jobs::JobRecord;
use crate::throttle::{EmailThrottle, Gate, LoginBackoff, SendState};

/// A failure of the store itself, not of the request.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Busy, throttled or unreachable: worth retrying later (503 with `Retry-After`).
    #[error("store unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else (500).
    #[error("store failure")]
    Unexpected(#[source] anyhow::Error),
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("username taken")]
    UsernameTaken,
    #[error("email taken")]
    EmailTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A user to create; the store allocates the id.
#[derive(Debug)]
pub struct NewUser {
    pub username: Username,
    pub email: Email,
    pub password_hash: PasswordHash,
    pub created_at: DateTime<Utc>,
    /// The verification email registration sends, counted against the address's email throttle
    /// in the same step that creates the user.
    pub first_email: EmailSend,
    /// The job that sends it, written in the same step.
    pub job: JobRecord,
}

/// One email counted against an address's throttle.
#[derive(Debug, Clone)]
pub struct EmailSend {
    /// The address's throttle key.
    pub address_key: String,
    pub state: SendState,
}

/// What marking an email verified found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Verified,
    AlreadyVerified,
    /// No such user, or the address changed since the token was issued.
    NoMatch,
}

/// One login's refresh-token family.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub user_id: UserId,
    /// The `jti` of the only refresh token of this family that may be used next.
    pub current_token_id: String,
    pub created_at: DateTime<Utc>,
    /// Absolute end of the session (unix seconds); rotation never extends it.
    pub expires_at: i64,
    /// The user as the login read them: the session is created only if it still is.
    pub precondition: SessionPrecondition,
    /// Where the login came from, as the transport saw it (shown in the user's session list).
    pub user_agent: Option<String>,
    pub source_ip: Option<String>,
    /// How the login signed in (shown in the list; its tokens carry it as `amr`).
    pub amr: Amr,
    /// The OpenID Connect client the session was authorized for (its name, shown in the list).
    pub client: Option<String>,
}

/// A live session, as its user sees it in their list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: DateTime<Utc>,
    /// The last refresh of the session, or its login.
    pub last_used_at: DateTime<Utc>,
    /// Absolute end (unix seconds).
    pub expires_at: i64,
    pub user_agent: Option<String>,
    pub source_ip: Option<String>,
    pub amr: Amr,
    pub client: Option<String>,
}

/// A password change by the signed-in user: the new hash, and the session of the pair the change
/// answers with. In one step: the hash replaces the old one, the password version moves on (reset
/// links issued before die), every other session ends, the new session is created, and the login
/// failures of `login_key` are forgotten; only if the password version and the revocation epoch
/// are still `session.precondition`.
#[derive(Debug, Clone)]
pub struct PasswordChange {
    /// The user as the change read them (the DynamoDB adapter updates every copy).
    pub user: User,
    pub hash: PasswordHash,
    pub session: NewSession,
    pub login_key: String,
}

/// A confirmed email change, as the confirming request read the user. In one step, only if the
/// user still has the email and password version of `before`, the revocation epoch
/// `expected_epoch` and the pending change `change_id`: the email moves to `new_email`
/// (verified), the pending change is gone, every session ends, the password version moves on
/// (reset links sent before die), and the notice job is written.
#[derive(Debug, Clone)]
pub struct EmailChange {
    pub before: UserRecord,
    pub new_email: Email,
    pub expected_epoch: i64,
    pub change_id: String,
    pub notice: JobRecord,
}

/// What the user of a password reset looked like when the reset read them: the new hash is
/// written only if all of it still holds.
#[derive(Debug, Clone)]
pub struct PasswordReset {
    pub user: User,
    pub password_version: i64,
    pub sessions_revoked_at: i64,
    pub hash: PasswordHash,
}

/// How far a purge got before its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeProgress {
    /// Nothing of the user is left; `items` deleted by this run.
    Done { items: usize },
    /// Out of time with items left; `items` deleted by this run.
    More { items: usize },
}

/// What moving a user's email found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailChangeOutcome {
    /// Done; the notice job is written.
    Changed,
    /// Another user has the address now; nothing changed.
    Taken,
    /// No such user, their revocation epoch moved since the token was issued (it was used, or a
    /// password change, reset or logout-all came after it), a newer email-change request
    /// replaced this one, or the email moved meanwhile; nothing changed.
    Stale,
}

/// A user to delete, as the deleting request read them, and the abuse state keyed to them.
#[derive(Debug, Clone)]
pub struct UserDeletion {
    pub user: User,
    /// The deletion happens only if the password is still the one just checked.
    pub password_version: i64,
    /// The purge of the rest, written in the same step.
    pub purge: JobRecord,
}

/// The abuse-state keys that belong to one user: the login backoff of their username and email,
/// the email-send count of their address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AbuseKeys {
    pub login: Vec<String>,
    pub email_sends: Vec<String>,
}

/// What a login read of its user, checked again in the write that creates the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPrecondition {
    pub password_version: i64,
    pub sessions_revoked_at: i64,
}

/// What ending one session on behalf of another found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The session was live, and has ended.
    Ended,
    /// No live session of the user has that id; nothing changed.
    NotFound,
    /// The caller's own session has ended, or the user is gone; nothing changed.
    CallerEnded,
}

/// A refresh of `session_id` presenting the token `presented_token_id`.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub session_id: String,
    pub user_id: UserId,
    pub presented_token_id: String,
    pub next_token_id: String,
    pub now: i64,
    /// A new absolute end of the session (unix seconds), set in the same step: an authorization
    /// code's exchange moves its session from the code's 60 s to the grant's lifetime, so a code
    /// never exchanged leaves nothing live behind. `None`: the end stays (a refresh).
    pub ends_at: Option<i64>,
}

/// What a rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationOutcome {
    /// The presented token was current; the next one is now current.
    Rotated,
    /// The presented token was already retired: the whole session has been revoked.
    ReuseDetected,
    /// No such live session (revoked, expired, unknown, or another user's).
    Invalid,
}

/// What a function reads first: the item family a cold start's warm-up read touches, so that the
/// connection is open (and its TLS handshake paid, with init's CPU boost) before the first
/// request. Deployed, each function's role may read only its own families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarmUp {
    /// Nothing: the function touches no store, or its role may not read (it only writes).
    None,
    /// A `GetItem` in a user partition (the family of nearly every route).
    UserPartition,
    /// The same read as a `BatchGetItem`, for roles that read only in batches.
    UserPartitionBatch,
    /// The health check's own item.
    Health,
}

/// The persistence port.
#[async_trait]
pub trait Store: Send + Sync {
    /// Answers when the store is reachable.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Opens the connection with one cheap read of `family` (an embedded store has nothing to
    /// open). Its answer is ignored: only the connection matters.
    async fn warm_up(&self, family: WarmUp) -> Result<(), StoreError> {
        let _ = family;
        Ok(())
    }

    /// Creates a user with a fresh id; username and email stay unique case-insensitively even
    /// under concurrent registrations.
    async fn create_user(&self, user: NewUser) -> Result<User, CreateUserError>;

    async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError>;
    /// Looks up by the case-insensitive username key.
    async fn user_by_username(&self, username_key: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Looks up by the case-insensitive email key.
    async fn user_by_email(&self, email_key: &str) -> Result<Option<UserRecord>, StoreError>;

    /// Marks the user's email verified if it is still `email`.
    async fn mark_email_verified(&self, id: UserId, email: &Email) -> Result<Verification, StoreError>;

    /// Replaces the password hash if the user is still as `reset` read them (password version,
    /// revocation epoch, email), bumps the version and revokes every session of the user, all at
    /// once. `false`: they moved on (the reset token was used already, the email changed) or
    /// there is no such user.
    async fn replace_password(&self, reset: &PasswordReset) -> Result<bool, StoreError>;

    /// Creates a session and, in the same step, clears the login failures of `login_key` (the
    /// password was right; `None`: no credential was checked, an authorization of a signed-in
    /// browser), if the user's password version and sessions-revoked-at instant are still those
    /// of `session.precondition`. `false`: they moved on (a reset or a logout-all committed
    /// during the login), and nothing was written.
    async fn create_session(&self, session: &NewSession, login_key: Option<&str>)
    -> Result<bool, StoreError>;

    /// Lets a login attempt for `login_key` through the backoff gate and counts it, or refuses
    /// it, in one atomic step: concurrent attempts see each other's counts.
    async fn begin_login_attempt(
        &self,
        login_key: &str,
        now_ms: i64,
        backoff: &LoginBackoff,
    ) -> Result<Gate, StoreError>;

    /// Forgets the failures of `login_key` (a correct password that did not start a session).
    async fn clear_login_attempts(&self, login_key: &str) -> Result<(), StoreError>;

    /// Records one email to the address of `address_key` if the throttle allows it, in one
    /// atomic step. `true`: send it.
    async fn claim_email_send(
        &self,
        address_key: &str,
        now: i64,
        throttle: &EmailThrottle,
    ) -> Result<bool, StoreError>;

    /// Rotates a session's current token id in one conditional step; presenting a retired token
    /// revokes the session in the same step.
    async fn rotate_session(&self, rotation: &Rotation) -> Result<RotationOutcome, StoreError>;

    /// Revokes one session of the user (a no-op when it has ended or is unknown), if the user
    /// still exists, in one step. `false`: no such user; nothing was written.
    async fn end_session_of_user(&self, user_id: UserId, session_id: &str) -> Result<bool, StoreError>;

    /// Revokes every session of the user, if `own_session_id` (the caller's) is still one of their
    /// live sessions at `now`. `false`: it has ended, or the user is gone; nothing was written.
    async fn revoke_all_sessions_from(
        &self,
        user_id: UserId,
        own_session_id: &str,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// The user's live sessions (not revoked, not past `now`), newest first; `None`: no such user.
    async fn sessions(&self, user_id: UserId, now: i64) -> Result<Option<Vec<SessionInfo>>, StoreError>;

    /// Ends the live session `session_id` of the user on behalf of their session `own_session_id`,
    /// if that one is still live at `now` (it may be the same session).
    async fn end_session_from(
        &self,
        user_id: UserId,
        own_session_id: &str,
        session_id: &str,
        now: i64,
    ) -> Result<SessionEnd, StoreError>;

    /// The user, if `session_id` is one of their live sessions at `now`: not revoked (one by one,
    /// or all at once), not expired. `None`: the session has ended, or the user is gone. One read,
    /// in place of [`Store::user_by_id`], for the routes that refuse an ended session's token.
    async fn user_in_session(
        &self,
        user_id: UserId,
        session_id: &str,
        now: i64,
    ) -> Result<Option<UserRecord>, StoreError>;

    /// Applies a [`PasswordChange`] in one step. `false`: the user moved on meanwhile (or is gone),
    /// and nothing was written.
    async fn change_password(&self, change: &PasswordChange) -> Result<bool, StoreError>;

    /// Records `change_id` as the user's one pending email change (replacing any earlier one, whose
    /// link then confirms nothing) and writes `job` (the link's email), in one step. `false`: no
    /// such user.
    async fn begin_email_change(
        &self,
        user_id: UserId,
        change_id: &str,
        job: &JobRecord,
    ) -> Result<bool, StoreError>;

    /// Applies an [`EmailChange`] in one step if nobody else has the address.
    async fn change_email(&self, change: &EmailChange) -> Result<EmailChangeOutcome, StoreError>;

    /// Deletes a user in one atomic step that makes them unreachable (no login, username and email
    /// free, every token refused) and writes the job that purges the rest. `false`: the user was
    /// gone, or their password changed since it was checked; nothing was written.
    async fn delete_user(&self, deletion: &UserDeletion) -> Result<bool, StoreError>;

    /// Deletes what is left of a deleted user (sessions, contacts, their guards, the abuse state
    /// of `abuse_keys`), paced to the store's throughput, until nothing is left or `deadline`
    /// passes. Every step deletes by key: running it again is harmless.
    async fn purge_user(
        &self,
        user_id: UserId,
        abuse_keys: &AbuseKeys,
        deadline: tokio::time::Instant,
    ) -> Result<PurgeProgress, StoreError>;

    /// Writes a job on its own (a request whose only effect is background work).
    async fn enqueue_job(&self, job: &JobRecord) -> Result<(), StoreError>;

    /// Forgets a job that is done.
    async fn finish_job(&self, id: &str) -> Result<(), StoreError>;

    /// Replaces a job with `next` in one step (a purge that continues in a fresh job).
    async fn replace_job(&self, id: &str, next: &JobRecord) -> Result<(), StoreError>;

    /// Every job not done yet (the local server's start).
    async fn pending_jobs(&self) -> Result<Vec<JobRecord>, StoreError>;
}

/// Why a contact could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ContactWriteError {
    #[error("no such contact")]
    NotFound,
    #[error("this user has a contact with that email already")]
    EmailTaken,
    /// The user was deleted: their token must not write anything.
    #[error("no such user")]
    UserGone,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The contacts port: a user's contacts, reachable only through that user's id. Every write is
/// conditioned on the user still existing, in the same step ([`ContactWriteError::UserGone`]), so
/// that a deleted user's unexpired access token can never leave a contact behind.
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// Creates a contact with the user's next contact id; the email stays unique per user
    /// (case-insensitively) under concurrency.
    async fn create_contact(
        &self,
        user_id: UserId,
        input: &ContactInput,
        now: DateTime<Utc>,
    ) -> Result<Contact, ContactWriteError>;

    async fn contact(&self, user_id: UserId, id: ContactId) -> Result<Option<Contact>, StoreError>;

    /// Every contact of the user, ordered by id.
    async fn contacts(&self, user_id: UserId) -> Result<Vec<Contact>, StoreError>;

    /// Replaces a contact's fields (the email stays unique per user).
    async fn update_contact(
        &self,
        user_id: UserId,
        id: ContactId,
        input: &ContactInput,
        now: DateTime<Utc>,
    ) -> Result<Contact, ContactWriteError>;

    /// Deletes a contact, returning it as it was.
    async fn delete_contact(&self, user_id: UserId, id: ContactId) -> Result<Contact, ContactWriteError>;
}
