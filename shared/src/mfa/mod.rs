//! Second factors (docs/API.md, "Second factors and passkeys"): turning TOTP on and off, recovery
//! codes, and the code check that login and the account routes make.
//!
//! Every code checked here counts against the login backoff of the user's username, like a
//! password: a wrong one leaves the attempt counted, a right one is followed by a write that
//! clears it. A code is spent by one conditional store step ([`MfaStore::use_factor`]) before the
//! change it allows: of two requests with the same code, one gets through.

pub mod codes;

use crate::account::{Proof, check_password, count_attempt, credentials_changed, in_live_session, signed_in};
use crate::app::App;
use crate::audit::{self, Caller, Event, Outcome};
use crate::auth::AuthError;
use crate::domain::{Amr, UserId, UserRecord};
use crate::jobs::{JobRecord, SecurityNotice};
use crate::store::mfa::{FactorUse, SetupOutcome, TotpDisabling, TotpEnabling};
use codes::{Code, MfaKeys, TotpSecret};

/// What the status route shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaStatus {
    pub totp: bool,
    pub recovery_codes_left: usize,
    pub passkeys: usize,
}

/// A new TOTP secret for an authenticator app, shown once.
pub struct TotpSetup {
    pub secret: String,
    pub otpauth_uri: String,
}

impl std::fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSetup(..)")
    }
}

/// Where a code is checked: at login (a wrong one is a 401) or on a signed-in route (a 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoint {
    Login,
    Route(Event),
}

impl Checkpoint {
    fn at_login(self) -> bool {
        self == Checkpoint::Login
    }

    fn event(self) -> Event {
        match self {
            Checkpoint::Login => Event::LoginFailed,
            Checkpoint::Route(event) => event,
        }
    }
}

/// The instant TOTP codes are checked at: the wall clock, whatever `UCONTACT_FAKE_NOW` says (the
/// authenticator app beside the user runs on real time).
fn totp_now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn keys(app: &App) -> Result<&MfaKeys, AuthError> {
    app.mfa_keys.as_ref().ok_or_else(|| {
        AuthError::Unexpected(anyhow::anyhow!(
            "this function holds no second-factor key (its route's KeyNeeds::mfa is off)"
        ))
    })
}

/// The second factor a request presents, checked but not spent: `Ok(None)` when TOTP is off (the
/// password is all it takes); otherwise `code` must be a TOTP code of a step later than the last
/// accepted (compared with the sealed secret), or a well-formed recovery code (whether it is still
/// one of the user's is the spending's condition). Missing or wrong: the contract's 400 or 401.
async fn presented_factor(
    app: &App,
    caller: &Caller,
    at: Checkpoint,
    record: &UserRecord,
    code: Option<&str>,
) -> Result<Option<FactorUse>, AuthError> {
    if !record.totp {
        return Ok(None);
    }
    let user_id = record.user.id;
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        audit::record(
            caller,
            at.event(),
            Outcome::Failure,
            Some(user_id),
            Some("code_required"),
        );
        return Err(AuthError::CodeRequired {
            at_login: at.at_login(),
        });
    };
    let state = app.mfa.mfa_state(user_id).await?;
    let Some(state) = state.filter(|state| state.totp) else {
        // Turned off since the user was read: the password is all it takes now.
        return Ok(None);
    };
    let keys = keys(app)?;
    let factor = match Code::parse(code) {
        Code::Totp(code) => {
            let secret = state
                .secret
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("TOTP is on without a secret"))?;
            let secret = keys.open(user_id, secret).map_err(anyhow::Error::from)?;
            secret
                .check(&code, totp_now())
                .filter(|step| *step > state.last_step)
                .map(|step| FactorUse::Totp { step })
        }
        Code::Recovery(code) => keys
            .recovery_hash(user_id, &code)
            .map(|hash| FactorUse::Recovery { hash }),
    };
    factor.map(Some).ok_or_else(|| invalid_code(caller, at, user_id))
}

fn invalid_code(caller: &Caller, at: Checkpoint, user_id: UserId) -> AuthError {
    audit::record(
        caller,
        at.event(),
        Outcome::Failure,
        Some(user_id),
        Some("invalid_code"),
    );
    AuthError::InvalidCode {
        at_login: at.at_login(),
    }
}

fn spent(caller: &Caller, user_id: UserId, factor: &FactorUse) {
    if matches!(factor, FactorUse::Recovery { .. }) {
        audit::record(
            caller,
            Event::RecoveryCodeUsed,
            Outcome::Success,
            Some(user_id),
            None,
        );
    }
}

/// Checks the second factor of a user whose password was just checked (and counted against the
/// backoff): nothing to check without TOTP; otherwise the code ([`presented_factor`]) is spent
/// here, by one conditional write. `Ok`: how the user signed in.
pub async fn check_second_factor(
    app: &App,
    caller: &Caller,
    at: Checkpoint,
    record: &UserRecord,
    code: Option<&str>,
) -> Result<Amr, AuthError> {
    let user_id = record.user.id;
    let Some(factor) = presented_factor(app, caller, at, record, code).await? else {
        return Ok(Amr::Password);
    };
    if !app.mfa.use_factor(user_id, &factor).await? {
        return Err(invalid_code(caller, at, user_id));
    }
    spent(caller, user_id, &factor);
    Ok(Amr::PasswordOtp)
}

/// For the routes that change a second factor that is on: the password first (409 if TOTP is
/// off, once it is right), then the code. `Ok`: the backoff key, cleared by the caller's write.
async fn on_with_proof(
    app: &App,
    caller: &Caller,
    event: Event,
    record: &UserRecord,
    proof: Proof<'_>,
) -> Result<String, AuthError> {
    let login_key = check_password(app, caller, event, record, proof.password).await?;
    if !record.totp {
        app.store.clear_login_attempts(&login_key).await?;
        return Err(AuthError::MfaOff);
    }
    check_second_factor(app, caller, Checkpoint::Route(event), record, proof.code).await?;
    Ok(login_key)
}

/// The user's second factors at a glance.
pub async fn status(app: &App, user_id: UserId, session_id: &str) -> Result<MfaStatus, AuthError> {
    // The session check, the state and the passkeys are independent reads: one round trip of
    // latency.
    let (record, state, passkeys) = tokio::join!(
        in_live_session(app, user_id, session_id),
        app.mfa.mfa_state(user_id),
        app.passkeys.passkeys(user_id)
    );
    record?;
    let state = state?.ok_or(AuthError::InvalidAccessToken)?;
    Ok(MfaStatus {
        totp: state.totp,
        recovery_codes_left: if state.totp { state.recovery_codes_left } else { 0 },
        passkeys: passkeys?.len(),
    })
}

/// Checks the password and makes a new pending TOTP secret (replacing any earlier one); TOTP is
/// on only once a code of it is confirmed.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn begin_setup(
    app: &App,
    caller: &Caller,
    user_id: UserId,
    own_session_id: &str,
    password: &str,
) -> Result<TotpSetup, AuthError> {
    let event = Event::MfaSetupStarted;
    let record = in_live_session(app, user_id, own_session_id).await?;
    let login_key = check_password(app, caller, event, &record, password).await?;
    app.store.clear_login_attempts(&login_key).await?;
    if record.totp {
        return Err(AuthError::MfaAlreadyOn);
    }
    let secret = TotpSecret::generate();
    let sealed = keys(app)?.seal(user_id, &secret);
    match app.mfa.begin_totp_setup(user_id, &sealed).await? {
        SetupOutcome::Stored => {}
        SetupOutcome::AlreadyOn => return Err(AuthError::MfaAlreadyOn),
        SetupOutcome::NoUser => return Err(AuthError::InvalidAccessToken),
    }
    audit::record(caller, event, Outcome::Success, Some(user_id), None);
    Ok(TotpSetup {
        otpauth_uri: secret.otpauth_uri(&app.config.mfa_issuer, record.user.username.as_str()),
        secret: secret.base32(),
    })
}

/// Confirms the pending secret with a code of it: TOTP is on from now, and the answer carries the
/// recovery codes (shown once, stored hashed).
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn confirm_setup(
    app: &App,
    caller: &Caller,
    user_id: UserId,
    own_session_id: &str,
    code: &str,
) -> Result<Vec<String>, AuthError> {
    let event = Event::MfaEnabled;
    let record = in_live_session(app, user_id, own_session_id).await?;
    if record.totp {
        return Err(AuthError::MfaAlreadyOn);
    }
    // Counted like a password check: a wrong code is a failure of the username's backoff.
    let (login_key, state) = tokio::join!(
        count_attempt(app, caller, event, &record),
        app.mfa.mfa_state(user_id)
    );
    let login_key = login_key?;
    let state = state?.ok_or(AuthError::InvalidAccessToken)?;
    let keys = keys(app)?;
    let now = totp_now();
    let confirmed = match (&state.pending, Code::parse(code)) {
        (Some(pending), Code::Totp(code)) => {
            let secret = keys.open(user_id, pending).map_err(anyhow::Error::from)?;
            secret.check(&code, now).map(|step| (pending.clone(), step))
        }
        _ => None,
    };
    let Some((pending, step)) = confirmed else {
        audit::record(
            caller,
            event,
            Outcome::Failure,
            Some(user_id),
            Some("invalid_code"),
        );
        return Err(AuthError::InvalidCode { at_login: false });
    };
    let (shown, hashes) = keys.recovery_codes(user_id);
    let enabling = TotpEnabling {
        user: record.user.clone(),
        pending,
        step,
        recovery_codes: hashes,
        login_key,
    };
    if !app.mfa.enable_totp(&enabling).await? {
        // A concurrent confirmation won, or a newer setup replaced the secret this code is of.
        let now_on = app.mfa.mfa_state(user_id).await?.is_some_and(|s| s.totp);
        audit::record(
            caller,
            event,
            Outcome::Failure,
            Some(user_id),
            Some("stale_setup"),
        );
        return Err(if now_on {
            AuthError::MfaAlreadyOn
        } else {
            AuthError::InvalidCode { at_login: false }
        });
    }
    audit::record(caller, event, Outcome::Success, Some(user_id), None);
    Ok(shown)
}

/// Checks the password and a code, then turns TOTP off (the recovery codes go with it) and has
/// the notice sent.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn disable(
    app: &App,
    caller: &Caller,
    user_id: UserId,
    own_session_id: &str,
    proof: Proof<'_>,
) -> Result<(), AuthError> {
    let event = Event::MfaDisabled;
    let record = in_live_session(app, user_id, own_session_id).await?;
    let login_key = on_with_proof(app, caller, event, &record, proof).await?;
    let user = &record.user;
    let notice = JobRecord::security_notice(user, SecurityNotice::TotpDisabled);
    let disabling = TotpDisabling {
        user: user.clone(),
        password_version: record.password_version,
        notice: notice.clone(),
        login_key,
    };
    if !app.mfa.disable_totp(&disabling).await? {
        let now = signed_in(app, user_id).await?;
        if now.password_version != record.password_version {
            return Err(credentials_changed(caller, event, user_id));
        }
        return Err(AuthError::MfaOff);
    }
    audit::record(caller, event, Outcome::Success, Some(user_id), None);
    app.background.dispatch(notice);
    Ok(())
}

/// Checks the password and a code, then replaces every recovery code with ten new ones.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn regenerate_recovery_codes(
    app: &App,
    caller: &Caller,
    user_id: UserId,
    own_session_id: &str,
    proof: Proof<'_>,
) -> Result<Vec<String>, AuthError> {
    let event = Event::RecoveryCodesRegenerated;
    let record = in_live_session(app, user_id, own_session_id).await?;
    let login_key = check_password(app, caller, event, &record, proof.password).await?;
    if !record.totp {
        app.store.clear_login_attempts(&login_key).await?;
        return Err(AuthError::MfaOff);
    }
    let at = Checkpoint::Route(event);
    let factor = presented_factor(app, caller, at, &record, proof.code)
        .await?
        .ok_or(AuthError::MfaOff)?;
    let (shown, hashes) = keys(app)?.recovery_codes(user_id);
    // The code is spent by the step that replaces the codes: of two regenerations at once, each
    // with a code of the same set, one gets through (the other's code is gone with the set).
    if !app.mfa.replace_recovery_codes(user_id, &factor, &hashes).await? {
        let on = app.mfa.mfa_state(user_id).await?.is_some_and(|s| s.totp);
        return Err(if on {
            invalid_code(caller, at, user_id)
        } else {
            AuthError::MfaOff
        });
    }
    spent(caller, user_id, &factor);
    app.store.clear_login_attempts(&login_key).await?;
    audit::record(caller, event, Outcome::Success, Some(user_id), None);
    Ok(shown)
}
