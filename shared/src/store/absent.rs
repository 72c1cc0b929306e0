//! The adapter of a binary built without the DynamoDB store (`shared`'s `dynamodb` feature off)
//! when the config says `STORE=dynamodb`: the Lambda functions whose routes touch no store (no
//! DynamoDB permission in template.yaml: the JWKS, the discovery document, the docs, the reset
//! form, the fallback). They need an [`App`](crate::app::App) like every other function, and
//! leave out the DynamoDB client and the AWS SDK with it; a call reaching this adapter would be
//! a build mistake, and answers 500 rather than panicking.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::mfa::{FactorUse, MfaState, MfaStore, SetupOutcome, TotpDisabling, TotpEnabling};
use super::passkeys::{
    AddPasskey, Challenge, NewPasskey, PasskeyLogin, PasskeyOwner, PasskeyStore, StoredPasskey,
};
use super::{
    AbuseKeys, ContactStore, ContactWriteError, CreateUserError, EmailChange, EmailChangeOutcome, NewSession,
    NewUser, PasswordChange, PasswordReset, PurgeProgress, Rotation, RotationOutcome, SessionEnd,
    SessionInfo, Store, StoreError, UserDeletion, Verification,
};
use crate::domain::{Contact, ContactId, ContactInput, Email, User, UserId, UserRecord};
use crate::jobs::JobRecord;
use crate::throttle::{EmailThrottle, Gate, LoginBackoff};

/// Refuses every call: this binary has no store.
#[derive(Debug, Clone, Copy, Default)]
pub struct AbsentStore;

fn absent() -> StoreError {
    StoreError::Unexpected(anyhow::anyhow!(
        "this binary is built without a store (cargo feature `dynamodb` or `embedded` of `shared`)"
    ))
}

#[async_trait]
impl Store for AbsentStore {
    async fn ping(&self) -> Result<(), StoreError> {
        Err(absent())
    }

    async fn create_user(&self, _user: NewUser) -> Result<User, CreateUserError> {
        Err(absent().into())
    }

    async fn user_by_id(&self, _id: UserId) -> Result<Option<UserRecord>, StoreError> {
        Err(absent())
    }

    async fn user_by_username(&self, _username_key: &str) -> Result<Option<UserRecord>, StoreError> {
        Err(absent())
    }

    async fn user_by_email(&self, _email_key: &str) -> Result<Option<UserRecord>, StoreError> {
        Err(absent())
    }

    async fn mark_email_verified(&self, _id: UserId, _email: &Email) -> Result<Verification, StoreError> {
        Err(absent())
    }

    async fn replace_password(&self, _reset: &PasswordReset) -> Result<bool, StoreError> {
        Err(absent())
    }

    async fn create_session(
        &self,
        _session: &NewSession,
        _login_key: Option<&str>,
    ) -> Result<bool, StoreError> {
        Err(absent())
    }

    async fn begin_login_attempt(
        &self,
        _login_key: &str,
        _now_ms: i64,
        _backoff: &LoginBackoff,
    ) -> Result<Gate, StoreError> {
        Err(absent())
    }

    async fn clear_login_attempts(&self, _login_key: &str) -> Result<(), StoreError> {
        Err(absent())
    }

    async fn claim_email_send(
        &self,
        _address_key: &str,
        _now: i64,
        _throttle: &EmailThrottle,
    ) -> Result<bool, StoreError> {
        Err(absent())
    }

    async fn rotate_session(&self, _rotation: &Rotation) -> Result<RotationOutcome, StoreError> {
        Err(absent())
    }

    async fn end_session_of_user(&self, _user_id: UserId, _session_id: &str) -> Result<bool, StoreError> {
        Err(absent())
    }

    async fn revoke_all_sessions_from(
        &self,
        _user_id: UserId,
        _own_session_id: &str,
        _now: i64,
    ) -> Result<bool, StoreError> {
        Err(absent())
    }

    async fn sessions(&self, _user_id: UserId, _now: i64) -> Result<Option<Vec<SessionInfo>>, StoreError> {
        Err(absent())
    }

    async fn end_session_from(
        &self,
        _user_id: UserId,
        _own_session_id: &str,
        _session_id: &str,
        _now: i64,
    ) -> Result<SessionEnd, StoreError> {
        Err(absent())
    }

    async fn user_in_session(
        &self,
        _user_id: UserId,
        _session_id: &str,
        _now: i64,
    ) -> Result<Option<UserRecord>, StoreError> {
        Err(absent())
    }

    async fn change_password(&self, _change: &PasswordChange) -> Result<bool, StoreError> {
        Err(absent())
    }

    async fn begin_email_change(
        &self,
        _user_id: UserId,
        _change_id: &str,
        _job: &JobRecord,
    ) -> Result<bool, StoreError> {
        Err(absent())
    }

    async fn change_email(&self, _change: &EmailChange) -> Result<EmailChangeOutcome, StoreError> {
        Err(absent())
    }

    async fn delete_user(&self, _deletion: &UserDeletion) -> Result<bool, StoreError> {
        Err(absent())
    }

    async fn purge_user(
        &self,
        _user_id: UserId,
        _abuse_keys: &AbuseKeys,
        _deadline: tokio::time::Instant,
    ) -> Result<PurgeProgress, StoreError> {
        Err(absent())
    }

    async fn enqueue_job(&self, _job: &JobRecord) -> Result<(), StoreError> {
        Err(absent())
    }

    async fn finish_job(&self, _id: &str) -> Result<(), StoreError> {
        Err(absent())
    }

    async fn replace_job(&self, _id: &str, _next: &JobRecord) -> Result<(), StoreError> {
        Err(absent())
    }

    async fn pending_jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        Err(absent())
    }
}

#[async_trait]
impl ContactStore for AbsentStore {
    async fn create_contact(
        &self,
        _user_id: UserId,
        _input: &ContactInput,
        _now: DateTime<Utc>,
    ) -> Result<Contact, ContactWriteError> {
        Err(absent().into())
    }

    async fn contact(&self, _user_id: UserId, _id: ContactId) -> Result<Option<Contact>, StoreError> {
        Err(absent())
    }

    async fn contacts(&self, _user_id: UserId) -> Result<Vec<Contact>, StoreError> {
        Err(absent())
    }

    async fn update_contact(
        &self,
        _user_id: UserId,
        _id: ContactId,
        _input: &ContactInput,
        _now: DateTime<Utc>,
    ) -> Result<Contact, ContactWriteError> {
        Err(absent().into())
    }

    async fn delete_contact(&self, _user_id: UserId, _id: ContactId) -> Result<Contact, ContactWriteError> {
        Err(absent().into())
    }
}

#[async_trait]
impl MfaStore for AbsentStore {
    async fn mfa_state(&self, _user_id: UserId) -> Result<Option<MfaState>, StoreError> {
        Err(absent())
    }

    async fn begin_totp_setup(&self, _user_id: UserId, _sealed: &str) -> Result<SetupOutcome, StoreError> {
        Err(absent())
    }

    async fn enable_totp(&self, _enabling: &TotpEnabling) -> Result<bool, StoreError> {
        Err(absent())
    }

    async fn disable_totp(&self, _disabling: &TotpDisabling) -> Result<bool, StoreError> {
        Err(absent())
    }

    async fn replace_recovery_codes(
        &self,
        _user_id: UserId,
        _spent: &FactorUse,
        _hashes: &[String],
    ) -> Result<bool, StoreError> {
        Err(absent())
    }

    async fn use_factor(&self, _user_id: UserId, _factor: &FactorUse) -> Result<bool, StoreError> {
        Err(absent())
    }
}

#[async_trait]
impl PasskeyStore for AbsentStore {
    async fn put_challenge(&self, _challenge: &Challenge) -> Result<(), StoreError> {
        Err(absent())
    }

    async fn take_challenge(&self, _id: &str, _now: i64) -> Result<Option<Challenge>, StoreError> {
        Err(absent())
    }

    async fn user_handle(&self, _user_id: UserId, _candidate: &str) -> Result<Option<String>, StoreError> {
        Err(absent())
    }

    async fn passkeys(&self, _user_id: UserId) -> Result<Vec<StoredPasskey>, StoreError> {
        Err(absent())
    }

    async fn add_passkey(&self, _new: &NewPasskey) -> Result<AddPasskey, StoreError> {
        Err(absent())
    }

    async fn delete_passkey(&self, _user_id: UserId, _passkey_id: &str) -> Result<bool, StoreError> {
        Err(absent())
    }

    async fn passkey_by_credential(&self, _credential_id: &str) -> Result<Option<PasskeyOwner>, StoreError> {
        Err(absent())
    }

    async fn use_passkey(&self, _login: &PasskeyLogin) -> Result<bool, StoreError> {
        Err(absent())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_call_is_refused_as_a_server_error_not_a_panic() {
        let store = AbsentStore;
        assert!(matches!(store.ping().await, Err(StoreError::Unexpected(_))));
        assert!(matches!(
            store.user_by_id(UserId::new(1).unwrap()).await,
            Err(StoreError::Unexpected(_))
        ));
        assert!(matches!(
            store.pending_jobs().await,
            Err(StoreError::Unexpected(_))
        ));
        assert!(matches!(
            store.contacts(UserId::new(1).unwrap()).await,
            Err(StoreError::Unexpected(_))
        ));
        // The warm-up of a cold start never fails: there is nothing to open.
        assert!(store.warm_up(super::super::WarmUp::UserPartition).await.is_ok());
    }
}
