//! Passkeys (docs/API.md, "Second factors and passkeys"): adding one to an account, listing and
//! deleting them, and the passwordless login with a discoverable, user-verifying credential.
//!
//! A ceremony is two requests: the options (whose state is kept in the store, single use, for
//! 300 s, behind an opaque `challenge_token`) and the answer. The WebAuthn checks themselves are
//! webauthn-rs's ([`ceremony`], `passkeys` feature); a function built without it refuses the
//! ceremony routes with a 500, and only a wrong build can reach that.

#[cfg(feature = "passkeys")]
pub mod ceremony;
#[cfg(not(feature = "passkeys"))]
#[path = "absent.rs"]
pub mod ceremony;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::account::{count_attempt, in_live_session};
use crate::app::App;
use crate::audit::{self, Caller, Event, Outcome};
use crate::auth::{AuthError, Links, StartedSession, TokenPair};
use crate::domain::{Amr, UserId};
use crate::jobs::{JobRecord, SecurityNotice};
use crate::mfa::{self, Checkpoint};
use crate::store::passkeys::{AddPasskey, Challenge, ChallengeKind, NewPasskey, PasskeyLogin, StoredPasskey};
use ceremony::RelyingParty;

/// A ceremony answer that does not check out: 400 at registration, 401 at login. Deliberately
/// without detail (the cause is logged at `info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid passkey")]
pub struct Invalid;

/// Where a ceremony may come from: the RP id and the allowed origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingPartyConfig {
    /// What authenticators show as the site.
    pub name: String,
    pub rp_id: String,
    pub origins: Vec<url::Url>,
}

impl RelyingPartyConfig {
    /// `WEBAUTHN_RP_ID` and `WEBAUTHN_ORIGINS` when set; otherwise from the public base URL of the
    /// request: its host and origin, and for a loopback address (the local server) the RP id
    /// `localhost` with both `localhost` and `127.0.0.1` origins of its port.
    pub fn for_request(app: &App, links: &Links) -> Result<Self, AuthError> {
        let base = url::Url::parse(links.base())
            .map_err(|e| anyhow::anyhow!("the public base URL is no URL: {e}"))?;
        let host = base.host_str().unwrap_or_default().to_owned();
        let loopback = matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]");
        let rp_id = match &app.config.webauthn_rp_id {
            Some(rp_id) => rp_id.clone(),
            None if loopback => "localhost".to_owned(),
            None => host.clone(),
        };
        let origins = match &app.config.webauthn_origins {
            Some(origins) => origins
                .iter()
                .map(|o| url::Url::parse(o))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("WEBAUTHN_ORIGINS: {e}"))?,
            None => {
                let origin = |host: &str| -> Result<url::Url, AuthError> {
                    let mut origin = base.clone();
                    origin.set_path("");
                    origin
                        .set_host(Some(host))
                        .map_err(|e| anyhow::anyhow!("the public base URL's host: {e}"))?;
                    Ok(origin)
                };
                if loopback {
                    vec![origin("localhost")?, origin("127.0.0.1")?]
                } else {
                    vec![origin(&host)?]
                }
            }
        };
        Ok(Self {
            name: app.config.mfa_issuer.clone(),
            rp_id,
            origins,
        })
    }
}

/// A ceremony's options: the `publicKey` member the browser takes, and the token of its state.
#[derive(Debug)]
pub struct Options {
    pub public_key: Value,
    pub challenge_token: String,
}

/// A passkey as its user sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&StoredPasskey> for PasskeyView {
    fn from(passkey: &StoredPasskey) -> Self {
        Self {
            id: passkey.id.clone(),
            name: passkey.name.clone(),
            created_at: passkey.created_at,
            last_used_at: passkey.last_used_at,
        }
    }
}

/// The answer of a registration ceremony.
#[derive(Debug)]
pub struct RegistrationAnswer<'a> {
    pub challenge_token: &'a str,
    pub credential: &'a Value,
    pub name: &'a str,
    /// With TOTP on: a TOTP or recovery code.
    pub code: Option<&'a str>,
}

/// The longest credential id WebAuthn allows (bytes).
const MAX_CREDENTIAL_ID_BYTES: usize = 1023;

fn random_token() -> String {
    Uuid::new_v4().simple().to_string()
}

/// Keeps a ceremony's state for its answer (single use, [`ceremony::CHALLENGE_LIFETIME`]) and
/// hands out the options with the state's token.
async fn keep_state(
    app: &App,
    kind: ChallengeKind,
    state: String,
    public_key: Value,
) -> Result<Options, AuthError> {
    let challenge = Challenge {
        id: random_token(),
        kind,
        state,
        expires_at: app.clock.now().timestamp() + ceremony::CHALLENGE_LIFETIME.as_secs() as i64,
    };
    app.passkeys.put_challenge(&challenge).await?;
    Ok(Options {
        public_key,
        challenge_token: challenge.id,
    })
}

fn registration_invalid(caller: &Caller, user_id: UserId, reason: &'static str) -> AuthError {
    audit::record(
        caller,
        Event::PasskeyAdded,
        Outcome::Failure,
        Some(user_id),
        Some(reason),
    );
    AuthError::InvalidPasskey { at_login: false }
}

fn login_invalid(caller: &Caller, user_id: Option<UserId>, reason: &'static str) -> AuthError {
    audit::record(
        caller,
        Event::LoginFailed,
        Outcome::Failure,
        user_id,
        Some(reason),
    );
    AuthError::InvalidPasskey { at_login: true }
}

/// The user's passkeys, newest first (refusing an ended session's token).
pub async fn list(app: &App, user_id: UserId, session_id: &str) -> Result<Vec<PasskeyView>, AuthError> {
    let (record, passkeys) = tokio::join!(
        in_live_session(app, user_id, session_id),
        app.passkeys.passkeys(user_id)
    );
    record?;
    Ok(passkeys?.iter().map(PasskeyView::from).collect())
}

/// Deletes one of the user's passkeys: it logs nobody in from now on.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn delete(
    app: &App,
    caller: &Caller,
    user_id: UserId,
    own_session_id: &str,
    passkey_id: &str,
) -> Result<(), AuthError> {
    in_live_session(app, user_id, own_session_id).await?;
    // Passkey ids are what registration makes (32 lowercase hex digits); anything else is none.
    let well_formed =
        passkey_id.len() == 32 && passkey_id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !well_formed || !app.passkeys.delete_passkey(user_id, passkey_id).await? {
        return Err(AuthError::PasskeyNotFound);
    }
    audit::record(
        caller,
        Event::PasskeyRemoved,
        Outcome::Success,
        Some(user_id),
        None,
    );
    Ok(())
}

/// The creation options of a new passkey for the signed-in user: their random user handle, their
/// passkeys excluded, a resident key and user verification required.
pub async fn registration_options(
    app: &App,
    user_id: UserId,
    own_session_id: &str,
    rp: &RelyingPartyConfig,
) -> Result<Options, AuthError> {
    let (record, passkeys) = tokio::join!(
        in_live_session(app, user_id, own_session_id),
        app.passkeys.passkeys(user_id)
    );
    let (record, passkeys) = (record?, passkeys?);
    let candidate = URL_SAFE_NO_PAD.encode(Uuid::new_v4().as_bytes());
    let handle = app
        .passkeys
        .user_handle(user_id, &candidate)
        .await?
        .ok_or(AuthError::InvalidAccessToken)?;
    let handle_bytes = URL_SAFE_NO_PAD
        .decode(&handle)
        .map_err(|e| anyhow::anyhow!("a stored user handle is not base64url: {e}"))?;
    let exclude = passkeys
        .iter()
        .filter_map(|p| URL_SAFE_NO_PAD.decode(&p.credential_id).ok())
        .collect();
    let (public_key, state) =
        RelyingParty::new(rp).start_registration(&handle_bytes, record.user.username.as_str(), exclude)?;
    let kind = ChallengeKind::Registration {
        user_id,
        user_handle: handle,
    };
    keep_state(app, kind, state, public_key).await
}

/// Adds the passkey of a registration answer to the signed-in user's account (with TOTP on, after
/// a code, counted against the username's backoff, once the ceremony checked out), and has the
/// notice sent.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn register(
    app: &App,
    caller: &Caller,
    user_id: UserId,
    own_session_id: &str,
    answer: RegistrationAnswer<'_>,
    rp: &RelyingPartyConfig,
) -> Result<PasskeyView, AuthError> {
    let record = in_live_session(app, user_id, own_session_id).await?;
    let now = app.clock.now();
    let challenge = app
        .passkeys
        .take_challenge(answer.challenge_token, now.timestamp())
        .await?;
    let user_handle = match challenge.as_ref().map(|c| &c.kind) {
        Some(ChallengeKind::Registration {
            user_id: owner,
            user_handle,
        }) if *owner == user_id => user_handle.clone(),
        _ => return Err(registration_invalid(caller, user_id, "unknown_challenge")),
    };
    let state = challenge.map(|c| c.state).unwrap_or_default();
    let registered = RelyingParty::new(rp)
        .finish_registration(&state, answer.credential)
        .map_err(|Invalid| registration_invalid(caller, user_id, "ceremony_failed"))?;
    if registered.credential_id.is_empty() || registered.credential_id.len() > MAX_CREDENTIAL_ID_BYTES {
        return Err(registration_invalid(caller, user_id, "credential_id_length"));
    }
    // With TOTP on, a code too: checked after the ceremony, so that a refused ceremony spends no
    // code. No password here: the code's attempt is counted on its own.
    let login_key = if record.totp {
        let event = Event::PasskeyAdded;
        let login_key = count_attempt(app, caller, event, &record).await?;
        mfa::check_second_factor(app, caller, Checkpoint::Route(event), &record, answer.code).await?;
        Some(login_key)
    } else {
        None
    };
    let user = &record.user;
    let passkey = StoredPasskey {
        id: random_token(),
        user_id,
        name: answer.name.to_owned(),
        // To the millisecond: the list is newest first, and two passkeys may come in one second.
        created_at: app.clock.exact(),
        last_used_at: None,
        credential_id: URL_SAFE_NO_PAD.encode(&registered.credential_id),
        credential: registered.credential,
    };
    let notice = JobRecord::security_notice(user, SecurityNotice::PasskeyAdded);
    let new = NewPasskey {
        passkey: passkey.clone(),
        user_handle,
        notice: notice.clone(),
    };
    match app.passkeys.add_passkey(&new).await? {
        AddPasskey::Added => {}
        AddPasskey::CredentialTaken => {
            return Err(registration_invalid(caller, user_id, "credential_taken"));
        }
        AddPasskey::UserGone => return Err(AuthError::InvalidAccessToken),
    }
    if let Some(login_key) = login_key {
        app.store.clear_login_attempts(&login_key).await?;
    }
    audit::record(caller, Event::PasskeyAdded, Outcome::Success, Some(user_id), None);
    app.background.dispatch(notice);
    Ok(PasskeyView::from(&passkey))
}

/// The request options of a passwordless login: no credentials listed (the authenticator finds
/// its discoverable credential), user verification required.
pub async fn login_options(app: &App, rp: &RelyingPartyConfig) -> Result<Options, AuthError> {
    let (public_key, state) = RelyingParty::new(rp).start_login()?;
    keep_state(app, ChallengeKind::Login, state, public_key).await
}

/// Logs in with a passkey's answer: a new session whose tokens say `amr` `["hwk", "user"]` (a
/// user-verifying passkey is two factors: no password and no TOTP asked).
#[tracing::instrument(skip_all)]
pub async fn login(
    app: &App,
    caller: &Caller,
    challenge_token: &str,
    credential: &Value,
    rp: &RelyingPartyConfig,
) -> Result<TokenPair, AuthError> {
    start_login(app, caller, challenge_token, credential, rp)
        .await?
        .pair(app, caller)
}

/// [`login`], up to the created session: also the hosted sign-in page's passkey button
/// (crate::oidc).
pub async fn start_login(
    app: &App,
    caller: &Caller,
    challenge_token: &str,
    credential: &Value,
    rp: &RelyingPartyConfig,
) -> Result<StartedSession, AuthError> {
    let now = app.clock.now();
    let challenge = app
        .passkeys
        .take_challenge(challenge_token, now.timestamp())
        .await?;
    let Some(Challenge {
        kind: ChallengeKind::Login,
        state,
        ..
    }) = challenge
    else {
        return Err(login_invalid(caller, None, "unknown_challenge"));
    };
    let (handle, credential_id) =
        RelyingParty::identify(credential).map_err(|Invalid| login_invalid(caller, None, "malformed"))?;
    if credential_id.is_empty() || credential_id.len() > MAX_CREDENTIAL_ID_BYTES {
        return Err(login_invalid(caller, None, "malformed"));
    }
    let Some(owner) = app
        .passkeys
        .passkey_by_credential(&URL_SAFE_NO_PAD.encode(&credential_id))
        .await?
    else {
        return Err(login_invalid(caller, None, "unknown_credential"));
    };
    let user_id = owner.passkey.user_id;
    // The authenticator's user handle must be the credential's owner's.
    let handle = URL_SAFE_NO_PAD.encode(&handle);
    if owner.user_handle.as_deref() != Some(handle.as_str()) {
        return Err(login_invalid(caller, Some(user_id), "user_handle_mismatch"));
    }
    let updated = RelyingParty::new(rp)
        .finish_login(&state, credential, &owner.passkey.credential)
        .map_err(|Invalid| login_invalid(caller, Some(user_id), "ceremony_failed"))?;
    let amr = Amr::Passkey;
    let started = StartedSession::new(app, caller, &owner.user, amr)?;
    let login = PasskeyLogin {
        passkey_id: owner.passkey.id.clone(),
        previous: owner.passkey.credential.clone(),
        credential: updated,
        used_at: started.session.created_at,
        user_handle: handle,
        session: started.session.clone(),
    };
    // Only if the passkey is still as read (not deleted, not used by a concurrent login: its
    // counter) and the user too.
    if !app.passkeys.use_passkey(&login).await? {
        return Err(login_invalid(caller, Some(user_id), "passkey_or_user_changed"));
    }
    audit::record_login(caller, user_id, amr);
    Ok(started)
}
