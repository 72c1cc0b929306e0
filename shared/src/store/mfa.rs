//! The second-factor port: a user's TOTP state and recovery codes (docs/API.md, "Second factors
//! and passkeys"). Secrets arrive sealed and codes hashed ([`crate::mfa::codes`]): the store never
//! sees either in the clear. Each method is one atomic step in every adapter, so that a code is
//! accepted once however many requests present it at the same time.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{User, UserId};
use crate::jobs::JobRecord;

/// A user's second-factor state as stored.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MfaState {
    /// TOTP is on: logins and the account routes need a code.
    pub totp: bool,
    /// The sealed secret of a setup not confirmed yet.
    pub pending: Option<String>,
    /// The sealed secret in use, while TOTP is on.
    pub secret: Option<String>,
    /// The last TOTP step accepted: a code of this step or an earlier one is refused.
    pub last_step: i64,
    pub recovery_codes_left: usize,
}

impl std::fmt::Debug for MfaState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaState")
            .field("totp", &self.totp)
            .field("pending", &self.pending.as_ref().map(|_| ".."))
            .field("secret", &self.secret.as_ref().map(|_| ".."))
            .field("last_step", &self.last_step)
            .field("recovery_codes_left", &self.recovery_codes_left)
            .finish()
    }
}

/// What recording a pending TOTP secret found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupOutcome {
    /// Recorded, replacing any earlier pending secret.
    Stored,
    /// TOTP is on already; nothing changed.
    AlreadyOn,
    /// No such user.
    NoUser,
}

/// Turning TOTP on, as the confirming request read the user. In one step, only if the pending
/// secret is still `pending` (a newer setup replaces it) and TOTP is still off: the secret is in
/// use, `step` is the last accepted, the recovery codes are `recovery_codes`, every copy of the
/// user says TOTP is on, and the login failures of `login_key` are forgotten.
#[derive(Debug, Clone)]
pub struct TotpEnabling {
    pub user: User,
    pub pending: String,
    pub step: i64,
    pub recovery_codes: Vec<String>,
    pub login_key: String,
}

/// Turning TOTP off, only if it is on and the password is still the one checked
/// (`password_version`): the secret and recovery codes are gone, every copy of the user says
/// TOTP is off, the notice job is written, and the login failures of `login_key` are forgotten.
#[derive(Debug, Clone)]
pub struct TotpDisabling {
    pub user: User,
    pub password_version: i64,
    pub notice: JobRecord,
    pub login_key: String,
}

/// One use of a second factor.
#[derive(Clone, PartialEq, Eq)]
pub enum FactorUse {
    /// A TOTP code of this step: accepted only if the step is later than the last accepted.
    Totp { step: i64 },
    /// A recovery code with this hash: accepted only if it is still one of the user's.
    Recovery { hash: String },
}

impl std::fmt::Debug for FactorUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FactorUse::Totp { step } => write!(f, "Totp {{ step: {step} }}"),
            FactorUse::Recovery { .. } => f.write_str("Recovery { .. }"),
        }
    }
}

/// The second-factor port.
#[async_trait]
pub trait MfaStore: Send + Sync {
    /// The user's state; `None`: no such user.
    async fn mfa_state(&self, user_id: UserId) -> Result<Option<MfaState>, StoreError>;

    /// Records `sealed` as the user's pending TOTP secret, if TOTP is off.
    async fn begin_totp_setup(&self, user_id: UserId, sealed: &str) -> Result<SetupOutcome, StoreError>;

    /// Applies a [`TotpEnabling`] in one step. `false`: the user moved on; nothing was written.
    async fn enable_totp(&self, enabling: &TotpEnabling) -> Result<bool, StoreError>;

    /// Applies a [`TotpDisabling`] in one step. `false`: TOTP is off, the password changed, or
    /// the user is gone; nothing was written.
    async fn disable_totp(&self, disabling: &TotpDisabling) -> Result<bool, StoreError>;

    /// Spends `spent` and replaces every recovery code with `hashes`, in one conditional step (TOTP
    /// on, and `spent` still good as [`MfaStore::use_factor`] says). `false`: nothing changed.
    async fn replace_recovery_codes(
        &self,
        user_id: UserId,
        spent: &FactorUse,
        hashes: &[String],
    ) -> Result<bool, StoreError>;

    /// Spends one use of a factor, if TOTP is on and the use is still good (a later step than the
    /// last accepted; a recovery code not used yet), in one conditional step: of two concurrent
    /// requests with one code, one gets `true`.
    async fn use_factor(&self, user_id: UserId, factor: &FactorUse) -> Result<bool, StoreError>;
}
