//! The WebAuthn ceremonies, through webauthn-rs's core (`passkeys` feature): what the `webauthn-rs`
//! facade's `start_passkey_registration` and discoverable authentication do, with two differences
//! docs/API.md asks for: `pubKeyCredParams` lists ES256, EdDSA and RS256 (the facade cannot list
//! EdDSA), and a resident (discoverable) key is required. User verification is required in both
//! ceremonies, attestation is `none`, and the signature counter is enforced by the core (a counter
//! that does not move forward where the authenticator keeps one refuses the login).
//!
//! Ceremony states are serialised to JSON: the store keeps them between the options request and
//! the answer (two Lambda invocations).

use std::time::Duration;

use serde_json::Value;
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, AuthenticationState, COSEAlgorithm, CredProtect, Credential,
    CredentialProtectionPolicy, PublicKeyCredential, RegisterPublicKeyCredential, RegistrationState,
    RequestAuthenticationExtensions, RequestRegistrationExtensions, UserVerificationPolicy,
};

use super::{Invalid, RelyingPartyConfig};

/// How long a ceremony's options are good for (docs/API.md: a challenge lives 300 s).
pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(300);

/// The relying party of one request: its RP id and the origins a ceremony may come from.
pub struct RelyingParty {
    core: WebauthnCore,
}

/// A credential the registration accepted.
pub struct Registered {
    pub credential_id: Vec<u8>,
    /// The credential as the store keeps it (public key, counter, flags).
    pub credential: String,
}

fn invalid(error: impl std::fmt::Debug) -> Invalid {
    tracing::info!(error = ?error, "passkey ceremony refused");
    Invalid
}

impl RelyingParty {
    pub fn new(config: &RelyingPartyConfig) -> Self {
        Self {
            core: WebauthnCore::new_unsafe_experts_only(
                &config.name,
                &config.rp_id,
                config.origins.clone(),
                CHALLENGE_LIFETIME,
                Some(false),
                Some(false),
            ),
        }
    }

    /// The creation options (the `publicKey` member) and the state to keep.
    pub fn start_registration(
        &self,
        user_handle: &[u8],
        username: &str,
        exclude: Vec<Vec<u8>>,
    ) -> anyhow::Result<(Value, String)> {
        let extensions = RequestRegistrationExtensions {
            cred_protect: Some(CredProtect {
                credential_protection_policy: CredentialProtectionPolicy::UserVerificationRequired,
                enforce_credential_protection_policy: Some(false),
            }),
            uvm: Some(true),
            cred_props: Some(true),
            min_pin_length: None,
            hmac_create_secret: None,
        };
        let builder = self
            .core
            .new_challenge_register_builder(user_handle, username, username)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
            .attestation(AttestationConveyancePreference::None)
            .credential_algorithms(vec![
                COSEAlgorithm::ES256,
                COSEAlgorithm::EDDSA,
                COSEAlgorithm::RS256,
            ])
            .require_resident_key(true)
            .authenticator_attachment(None)
            .user_verification_policy(UserVerificationPolicy::Required)
            .reject_synchronised_authenticators(false)
            .exclude_credentials(Some(exclude.into_iter().map(Into::into).collect()))
            .hints(None)
            .extensions(Some(extensions));
        let (options, state) = self
            .core
            .generate_challenge_register(builder)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok((
            serde_json::to_value(options.public_key)?,
            serde_json::to_string(&state)?,
        ))
    }

    /// Checks a registration answer against its state: the challenge, the origin, the RP id, user
    /// presence and verification, an algorithm offered, a well-formed credential.
    pub fn finish_registration(&self, state: &str, credential: &Value) -> Result<Registered, Invalid> {
        let state: RegistrationState = serde_json::from_str(state).map_err(invalid)?;
        let answer: RegisterPublicKeyCredential =
            serde_json::from_value(credential.clone()).map_err(invalid)?;
        let credential = self
            .core
            .register_credential(&answer, &state, None)
            .map_err(invalid)?;
        if !credential.user_verified {
            return Err(invalid("registered without user verification"));
        }
        // The answer's own id must be the attested one (the store keys the passkey by the
        // attested id; an answer claiming another is malformed).
        if answer.raw_id.as_ref() != credential.cred_id.as_ref() {
            return Err(invalid("the answer's id is not the attested credential id"));
        }
        Ok(Registered {
            credential_id: credential.cred_id.as_ref().to_vec(),
            credential: serde_json::to_string(&credential).map_err(invalid)?,
        })
    }

    /// The request options of a discoverable login (no credentials listed, user verification
    /// required) and the state to keep.
    pub fn start_login(&self) -> anyhow::Result<(Value, String)> {
        let builder = self
            .core
            .new_challenge_authenticate_builder(Vec::new(), Some(UserVerificationPolicy::Required))
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
            .extensions(Some(RequestAuthenticationExtensions {
                appid: None,
                uvm: Some(true),
                hmac_get_secret: None,
            }))
            .allow_backup_eligible_upgrade(false)
            .hints(None);
        let (options, state) = self
            .core
            .generate_challenge_authenticate(builder)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok((
            serde_json::to_value(options.public_key)?,
            serde_json::to_string(&state)?,
        ))
    }

    /// The user handle and credential id a login answer names (before any check).
    pub fn identify(credential: &Value) -> Result<(Vec<u8>, Vec<u8>), Invalid> {
        let answer: PublicKeyCredential = serde_json::from_value(credential.clone()).map_err(invalid)?;
        let handle = answer.get_user_unique_id().ok_or(Invalid)?.to_vec();
        Ok((handle, answer.get_credential_id().to_vec()))
    }

    /// Checks a login answer against its state and the stored credential it names: the
    /// challenge, the origin, the RP id, user presence and verification, the signature, and a
    /// signature counter that moved forward (where the authenticator keeps one). `Ok`: the
    /// credential as it is to be stored now (its counter and backup flags updated).
    pub fn finish_login(&self, state: &str, credential: &Value, stored: &str) -> Result<String, Invalid> {
        let state: AuthenticationState = serde_json::from_str(state).map_err(invalid)?;
        let answer: PublicKeyCredential = serde_json::from_value(credential.clone()).map_err(invalid)?;
        if answer.type_ != "public-key" {
            return Err(invalid("not a public-key credential"));
        }
        let mut stored: Credential = serde_json::from_str(stored).map_err(invalid)?;
        // The one credential the answer names (found by its id): the only one allowed.
        let mut state = state;
        state.set_allowed_credentials(vec![stored.clone()]);
        let result = self
            .core
            .authenticate_credential(&answer, &state)
            .map_err(invalid)?;
        if !result.user_verified() {
            return Err(invalid("login without user verification"));
        }
        // As webauthn-rs's `Passkey::update_credential`.
        if result.counter() > stored.counter {
            stored.counter = result.counter();
        }
        stored.backup_state = result.backup_state();
        if result.backup_eligible() {
            stored.backup_eligible = true;
        }
        serde_json::to_string(&stored).map_err(invalid)
    }
}
