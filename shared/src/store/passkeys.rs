//! The passkey port: a user's passkeys, their credential-id guard (a credential id belongs to one
//! passkey of one user), the random user handle, and the single-use state of a ceremony between
//! its two requests. Each method is one atomic step in every adapter.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{NewSession, StoreError};
use crate::domain::{UserId, UserRecord};
use crate::jobs::JobRecord;

/// A registered passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    pub id: String,
    pub user_id: UserId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The credential id, base64url: unique across users.
    pub credential_id: String,
    /// The credential as the WebAuthn library keeps it (public key, counter, flags).
    pub credential: String,
}

/// Who a ceremony is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeKind {
    /// Adding a passkey to this user's account, whose handle the options carried.
    Registration { user_id: UserId, user_handle: String },
    /// A passwordless login (the user is whoever answers).
    Login,
}

/// A ceremony's state between its options and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The `challenge_token`: random, and the only way to the state.
    pub id: String,
    pub kind: ChallengeKind,
    /// The WebAuthn library's state (the challenge, the policy).
    pub state: String,
    /// Unix seconds; a challenge taken later counts as absent.
    pub expires_at: i64,
}

/// A passkey to add, with the notice that goes to its user, in one step, only if the user still
/// exists with the user handle the ceremony used and nobody holds the credential id.
#[derive(Debug, Clone)]
pub struct NewPasskey {
    pub passkey: StoredPasskey,
    pub user_handle: String,
    pub notice: JobRecord,
}

/// What adding a passkey found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddPasskey {
    Added,
    /// A passkey (this user's or another's) has this credential id already; nothing changed.
    CredentialTaken,
    /// The user is gone; nothing changed.
    UserGone,
}

/// A passkey found by its credential id, with its user as the login reads them.
#[derive(Debug, Clone)]
pub struct PasskeyOwner {
    pub passkey: StoredPasskey,
    pub user: UserRecord,
    /// The user's handle (what the authenticator must answer with).
    pub user_handle: Option<String>,
}

/// A passkey login's write, in one step: the credential moves from `previous` to `credential`
/// (its counter) and records its use, and the session is created, only if the passkey still is
/// `previous` (not deleted, not used meanwhile) and the user is still as the login read them
/// (`session.precondition`) with `user_handle`.
#[derive(Debug, Clone)]
pub struct PasskeyLogin {
    pub passkey_id: String,
    pub previous: String,
    pub credential: String,
    pub used_at: DateTime<Utc>,
    pub user_handle: String,
    pub session: NewSession,
}

/// The passkey port.
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// Keeps a ceremony's state until it is taken or expires.
    async fn put_challenge(&self, challenge: &Challenge) -> Result<(), StoreError>;

    /// Takes a ceremony's state: it is gone from the store in the same step, so that of two
    /// requests with one token one gets it. `None`: unknown, taken, or expired at `now`.
    async fn take_challenge(&self, id: &str, now: i64) -> Result<Option<Challenge>, StoreError>;

    /// The user's handle: the one stored, or `candidate`, stored now if they had none. `None`: no
    /// such user.
    async fn user_handle(&self, user_id: UserId, candidate: &str) -> Result<Option<String>, StoreError>;

    /// The user's passkeys, newest first.
    async fn passkeys(&self, user_id: UserId) -> Result<Vec<StoredPasskey>, StoreError>;

    /// Applies a [`NewPasskey`] in one step.
    async fn add_passkey(&self, new: &NewPasskey) -> Result<AddPasskey, StoreError>;

    /// Deletes one of the user's passkeys and its guard. `false`: no such passkey of theirs.
    async fn delete_passkey(&self, user_id: UserId, passkey_id: &str) -> Result<bool, StoreError>;

    /// The passkey with this credential id (base64url) and its user. `None`: no such passkey, or
    /// its user is gone.
    async fn passkey_by_credential(&self, credential_id: &str) -> Result<Option<PasskeyOwner>, StoreError>;

    /// Applies a [`PasskeyLogin`] in one step. `false`: the passkey or the user moved on; nothing
    /// was written.
    async fn use_passkey(&self, login: &PasskeyLogin) -> Result<bool, StoreError>;
}
