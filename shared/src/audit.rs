//! The audit trail: one structured log event per auth event, with who asked (source IP, user
//! agent, request id), the user where known, and the outcome. Events go to the `audit` tracing
//! target, so they can be filtered (`RUST_LOG=audit=info`) and shipped on their own.
//!
//! What never goes in: passwords, tokens, hashes, secrets, and identifiers typed at login (they
//! are sometimes passwords typed into the wrong field). Only the fields below exist.

use crate::domain::{Amr, UserId};

/// Who made a request, as the transport saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// The `iss` tokens minted for this request carry and tokens presented to it must carry:
    /// `JWT_ISSUER`, else the public base URL the request came to. Not an audit field.
    pub issuer: String,
}

/// An auth event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    UserRegistered,
    EmailVerified,
    VerificationEmailRequested,
    LoginSucceeded,
    LoginFailed,
    LoginThrottled,
    RefreshRotated,
    RefreshReuseDetected,
    LoggedOut,
    LoggedOutEverywhere,
    PasswordResetRequested,
    PasswordResetCompleted,
    PasswordChanged,
    EmailChangeRequested,
    EmailChanged,
    AccountDeleted,
    SessionRevoked,
    MfaSetupStarted,
    MfaEnabled,
    MfaDisabled,
    RecoveryCodesRegenerated,
    RecoveryCodeUsed,
    PasskeyAdded,
    PasskeyRemoved,
}

impl Event {
    pub fn name(self) -> &'static str {
        match self {
            Event::UserRegistered => "user_registered",
            Event::EmailVerified => "email_verified",
            Event::VerificationEmailRequested => "verification_email_requested",
            Event::LoginSucceeded => "login_succeeded",
            Event::LoginFailed => "login_failed",
            Event::LoginThrottled => "login_throttled",
            Event::RefreshRotated => "refresh_rotated",
            Event::RefreshReuseDetected => "refresh_reuse_detected",
            Event::LoggedOut => "logged_out",
            Event::LoggedOutEverywhere => "logged_out_everywhere",
            Event::PasswordResetRequested => "password_reset_requested",
            Event::PasswordResetCompleted => "password_reset_completed",
            Event::PasswordChanged => "password_changed",
            Event::EmailChangeRequested => "email_change_requested",
            Event::EmailChanged => "email_changed",
            Event::AccountDeleted => "account_deleted",
            Event::SessionRevoked => "session_revoked",
            Event::MfaSetupStarted => "mfa_setup_started",
            Event::MfaEnabled => "mfa_enabled",
            Event::MfaDisabled => "mfa_disabled",
            Event::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Event::RecoveryCodeUsed => "recovery_code_used",
            Event::PasskeyAdded => "passkey_added",
            Event::PasskeyRemoved => "passkey_removed",
        }
    }
}

/// How an event ended, in a word an alert rule can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    /// Refused by a limit (login backoff, email throttling).
    Throttled,
    /// Nothing to do: unknown address, already verified (the caller's answer is the same).
    Skipped,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Throttled => "throttled",
            Outcome::Skipped => "skipped",
        }
    }
}

/// Writes one audit event. `reason` says why a failure or skip happened, in a fixed word.
pub fn record(
    caller: &Caller,
    event: Event,
    outcome: Outcome,
    user_id: Option<UserId>,
    reason: Option<&'static str>,
) {
    tracing::info!(
        target: "audit",
        audit = true,
        event = event.name(),
        outcome = outcome.name(),
        user_id = user_id.map(UserId::get),
        reason,
        source_ip = caller.source_ip.as_deref(),
        user_agent = caller.user_agent.as_deref(),
        request_id = caller.request_id.as_deref(),
        "auth event"
    );
}

/// Writes the audit event of a login that started a session, with how it signed in (`amr`).
pub fn record_login(caller: &Caller, user_id: UserId, amr: Amr) {
    tracing::info!(
        target: "audit",
        audit = true,
        event = Event::LoginSucceeded.name(),
        outcome = Outcome::Success.name(),
        user_id = user_id.get(),
        amr = amr.as_str(),
        source_ip = caller.source_ip.as_deref(),
        user_agent = caller.user_agent.as_deref(),
        request_id = caller.request_id.as_deref(),
        "auth event"
    );
}
