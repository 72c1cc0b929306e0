//! The AWS key store: five Secrets Manager secrets under one prefix (`KEYS_SECRET_PREFIX`).
//!
//! | secret | holds | read by |
//! |---|---|---|
//! | `<prefix>/session-signing` | the session keys' private set | `login`, `refresh-token` |
//! | `<prefix>/link-signing` | the link keys' private set | `register`, `request-email`, `reset-password` |
//! | `<prefix>/verification` | both purposes' public sets | the local server and `keys public` (deployed functions get them from `PUBLIC_KEYS`, [`super::deployed`]) |
//! | `<prefix>/abuse-hash` | the abuse-state hash key | the functions that key backoff or throttle state |
//! | `<prefix>/mfa` | the key that seals TOTP secrets and keys recovery-code hashes | the functions that check or store second factors |
//!
//! template.yaml creates them and gives each function's role `secretsmanager:GetSecretValue` on
//! exactly the ones its route's [`KeyNeeds`] names (tests/deployment proves it). Only the
//! operator's `ucontact-local keys rotate` writes the key sets: it writes the public set first,
//! so no verifier meets a kid it cannot know about once the refresh interval has passed.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::SdkError;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;

use super::{
    Algorithm, KeyMaterial, KeyNeeds, KeyStore, KeyStoreError, MalformedKeys, PrivateKeySet, PublicKeySets,
    Purpose, RotationReport, abuse_hash_key, generate_abuse_hash_key, generate_mfa_key, mfa_key, rotate_sets,
};
use crate::config::TokenLifetimes;

/// The secrets of one deployment.
#[derive(Debug, Clone)]
pub struct SecretsManagerKeyStore {
    client: Client,
    prefix: String,
}

/// The secret names under a prefix.
pub fn secret_name(prefix: &str, which: &str) -> String {
    format!("{}/{which}", prefix.trim_end_matches('/'))
}

fn set_secret(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Session => "session-signing",
        Purpose::Link => "link-signing",
    }
}

const VERIFICATION: &str = "verification";
const ABUSE_HASH: &str = "abuse-hash";
const MFA: &str = "mfa";

fn unavailable(e: impl Into<anyhow::Error>, what: String) -> KeyStoreError {
    KeyStoreError::Unavailable(e.into().context(what))
}

impl SecretsManagerKeyStore {
    pub fn new(client: Client, prefix: impl Into<String>) -> Self {
        Self {
            client,
            prefix: prefix.into(),
        }
    }

    fn name(&self, which: &str) -> String {
        secret_name(&self.prefix, which)
    }

    /// The secret's text; `None` if the secret does not exist.
    async fn read(&self, which: &str) -> Result<Option<String>, KeyStoreError> {
        let name = self.name(which);
        match self.client.get_secret_value().secret_id(&name).send().await {
            Ok(output) => Ok(output.secret_string().map(str::to_owned)),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), GetSecretValueError::ResourceNotFoundException(_)) =>
            {
                Ok(None)
            }
            Err(e) => Err(unavailable(
                aws_sdk_secretsmanager::Error::from(e),
                format!("Secrets Manager GetSecretValue {name} failed"),
            )),
        }
    }

    async fn read_set(&self, purpose: Purpose) -> Result<PrivateKeySet, KeyStoreError> {
        match self.read(set_secret(purpose)).await? {
            None => Ok(PrivateKeySet::default()),
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| MalformedKeys(format!("secret {}: {e}", self.name(set_secret(purpose)))).into()),
        }
    }

    async fn read_public(&self) -> Result<PublicKeySets, KeyStoreError> {
        match self.read(VERIFICATION).await? {
            None => Ok(PublicKeySets::default()),
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| MalformedKeys(format!("secret {}: {e}", self.name(VERIFICATION))).into()),
        }
    }

    /// Writes a secret's new value, creating the secret if it does not exist.
    async fn write(&self, which: &str, text: String) -> Result<(), KeyStoreError> {
        let name = self.name(which);
        let put = self
            .client
            .put_secret_value()
            .secret_id(&name)
            .secret_string(text.clone())
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                self.client
                    .create_secret()
                    .name(&name)
                    .description("UContact signing keys (written by `ucontact-local keys rotate`)")
                    .secret_string(text)
                    .send()
                    .await
                    .map_err(|e| {
                        unavailable(
                            aws_sdk_secretsmanager::Error::from(e),
                            format!("Secrets Manager CreateSecret {name} failed"),
                        )
                    })?;
                Ok(())
            }
            Err(e) => Err(unavailable(
                aws_sdk_secretsmanager::Error::from(e),
                format!("Secrets Manager PutSecretValue {name} failed"),
            )),
        }
    }

    /// Against an emulator (the local server with `AWS_ENDPOINT_URL`, or the tests): makes the
    /// first keys and the abuse-state hash key if there are none. Deployed, the template creates
    /// the hash key and the operator's first `keys rotate` makes the signing keys.
    pub async fn ensure(
        &self,
        lifetimes: &TokenLifetimes,
        session_alg: Algorithm,
    ) -> Result<(), KeyStoreError> {
        if self.read_set(Purpose::Session).await?.keys.is_empty()
            || self.read_set(Purpose::Link).await?.keys.is_empty()
        {
            self.rotate(lifetimes, session_alg, chrono::Utc::now().timestamp(), 0)
                .await?;
        }
        if self.read(ABUSE_HASH).await?.is_none() {
            self.write(ABUSE_HASH, generate_abuse_hash_key()).await?;
        }
        if self.read(MFA).await?.is_none() {
            self.write(MFA, generate_mfa_key()).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl KeyStore for SecretsManagerKeyStore {
    async fn load(&self, needs: KeyNeeds) -> Result<KeyMaterial, KeyStoreError> {
        // Only what this function needs, and all of it at once: one round trip of latency.
        let (session, link, public, abuse, mfa) = tokio::join!(
            async {
                match needs.sign_session {
                    true => self.read_set(Purpose::Session).await.map(Some),
                    false => Ok(None),
                }
            },
            async {
                match needs.sign_link {
                    true => self.read_set(Purpose::Link).await.map(Some),
                    false => Ok(None),
                }
            },
            async {
                match needs.verify {
                    true => self.read_public().await,
                    false => Ok(PublicKeySets::default()),
                }
            },
            async {
                match needs.abuse_hash {
                    true => match self.read(ABUSE_HASH).await? {
                        Some(text) => Ok(Some(abuse_hash_key(&text)?)),
                        None => Err(unavailable(
                            anyhow::anyhow!("no such secret"),
                            format!("the abuse-state hash key {} is missing", self.name(ABUSE_HASH)),
                        )),
                    },
                    false => Ok(None),
                }
            },
            async {
                match needs.mfa {
                    true => match self.read(MFA).await? {
                        Some(text) => Ok(Some(mfa_key(&text)?)),
                        None => Err(unavailable(
                            anyhow::anyhow!("no such secret"),
                            format!("the second-factor key {} is missing", self.name(MFA)),
                        )),
                    },
                    false => Ok(None),
                }
            },
        );
        let (session, link, public, abuse, mfa) = (session?, link?, public?, abuse?, mfa?);
        for (purpose, set) in [(Purpose::Session, &session), (Purpose::Link, &link)] {
            if set.as_ref().is_some_and(|set| set.keys.is_empty()) {
                tracing::error!(
                    secret = %self.name(set_secret(purpose)),
                    "no {} signing key yet: run `ucontact-local keys rotate` against this stack (README, \"Signing keys\")",
                    purpose.name()
                );
            }
        }
        Ok(KeyMaterial::from_private(
            needs,
            &session.unwrap_or_default(),
            &link.unwrap_or_default(),
            Some(&public),
            abuse,
            mfa,
        )?)
    }

    async fn public_sets(&self) -> Result<PublicKeySets, KeyStoreError> {
        self.read_public().await
    }

    async fn rotate(
        &self,
        lifetimes: &TokenLifetimes,
        session_alg: Algorithm,
        now: i64,
        activate_in: i64,
    ) -> Result<Vec<RotationReport>, KeyStoreError> {
        let (session, link) = tokio::join!(self.read_set(Purpose::Session), self.read_set(Purpose::Link));
        let sets = vec![(Purpose::Session, session?), (Purpose::Link, link?)];
        let (sets, reports) = rotate_sets(sets, lifetimes, session_alg, now, activate_in)?;
        // Public halves first: a verifier learns a key before any token carries its kid.
        let mut public = PublicKeySets::default();
        for (purpose, set) in &sets {
            public.set(*purpose, set.public()?);
        }
        let text = serde_json::to_string(&public).map_err(|e| MalformedKeys(e.to_string()))?;
        self.write(VERIFICATION, text).await?;
        for (purpose, set) in &sets {
            let text = serde_json::to_string(set).map_err(|e| MalformedKeys(e.to_string()))?;
            self.write(set_secret(*purpose), text).await?;
        }
        Ok(reports)
    }
}
