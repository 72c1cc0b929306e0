//! The key store of a deployed function (Lambda on DynamoDB).
//!
//! - **Public keys travel with the deployment**: the `PUBLIC_KEYS` environment variable, set from
//!   template.yaml's `PublicKeys` parameter, which `ucontact-local keys rotate` and `keys public`
//!   print. A function that only verifies makes no network request at cold start to learn its
//!   keys, and is built without the Secrets Manager client (cargo feature `secrets-manager` off).
//! - **Secrets come from the key store**: a function that signs, or keys abuse state, reads its
//!   private set and the hash key from Secrets Manager once per cold start (and at each key
//!   refresh), concurrently with the rest of its init ([`crate::app`]).
//! - **A key signs only once it is deployed**: a private key whose kid is not in `PUBLIC_KEYS`
//!   is set aside, so a rotation's new key cannot sign before this deployment publishes it, and
//!   every function of a deployment carries the same `PUBLIC_KEYS`.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{
    Algorithm, KeyMaterial, KeyNeeds, KeyStore, KeyStoreError, MalformedKeys, PublicKeySets, Purpose,
    VerifyingKeys,
};

/// The environment variable that carries the public keys.
pub const PUBLIC_KEYS_VAR: &str = "PUBLIC_KEYS";

/// The value of `PUBLIC_KEYS` (and of the `PublicKeys` parameter): the public sets as compact
/// JSON, base64url without padding, so that it passes through `--parameter-overrides` and shells
/// unquoted.
pub fn encode_public(sets: &PublicKeySets) -> Result<String, MalformedKeys> {
    let json = serde_json::to_vec(sets).map_err(|e| MalformedKeys(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// Reads a `PUBLIC_KEYS` value; empty means no keys yet (a stack before its first rotation).
/// Every key is checked here, so that a bad value stops the cold start rather than a request.
pub fn decode_public(value: &str) -> Result<PublicKeySets, MalformedKeys> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(PublicKeySets::default());
    }
    let json = URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| MalformedKeys(format!("{PUBLIC_KEYS_VAR} is not base64url")))?;
    let sets: PublicKeySets =
        serde_json::from_slice(&json).map_err(|e| MalformedKeys(format!("{PUBLIC_KEYS_VAR}: {e}")))?;
    VerifyingKeys::new(&sets)?;
    if sets.link.iter().any(|k| k.alg != Algorithm::EdDSA) {
        return Err(MalformedKeys(format!("{PUBLIC_KEYS_VAR}: link keys are EdDSA")));
    }
    Ok(sets)
}

/// Public keys from the deployment, secrets from `secrets` (Secrets Manager when the function is
/// built with it).
pub struct DeployedKeyStore {
    public: PublicKeySets,
    secrets: Option<Arc<dyn KeyStore>>,
}

impl DeployedKeyStore {
    pub fn new(public: PublicKeySets, secrets: Option<Arc<dyn KeyStore>>) -> Self {
        Self { public, secrets }
    }
}

#[async_trait]
impl KeyStore for DeployedKeyStore {
    async fn load(&self, needs: KeyNeeds) -> Result<KeyMaterial, KeyStoreError> {
        let mut material = if needs.secret() {
            let secrets = self.secrets.as_ref().ok_or_else(|| {
                KeyStoreError::Unavailable(anyhow::anyhow!(
                    "this function needs a private key, the abuse-state hash key or the second-factor key, but is built without the Secrets Manager key store (cargo feature `secrets-manager`)"
                ))
            })?;
            secrets
                .load(KeyNeeds {
                    verify: false,
                    ..needs
                })
                .await?
        } else {
            KeyMaterial::default()
        };
        if needs.verify {
            material.verifying = VerifyingKeys::new(&self.public)?;
        }
        for purpose in Purpose::ALL {
            let published: HashSet<&str> = self.public.of(purpose).iter().map(|k| k.kid.as_str()).collect();
            if let Some(set) = material.signing_mut(purpose) {
                let unpublished: Vec<String> = set
                    .kids()
                    .into_iter()
                    .filter(|kid| !published.contains(kid))
                    .map(str::to_owned)
                    .collect();
                if !unpublished.is_empty() {
                    tracing::warn!(
                        purpose = purpose.name(),
                        kids = ?unpublished,
                        "private keys not in PUBLIC_KEYS are not used to sign until a deployment publishes them (README \"Signing keys\")"
                    );
                    set.retain(|kid| published.contains(kid));
                }
            }
        }
        Ok(material)
    }

    async fn public_sets(&self) -> Result<PublicKeySets, KeyStoreError> {
        Ok(self.public.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PrivateKeySet;

    struct Secrets(PrivateKeySet);

    #[async_trait]
    impl KeyStore for Secrets {
        async fn load(&self, needs: KeyNeeds) -> Result<KeyMaterial, KeyStoreError> {
            assert!(!needs.verify, "public keys come from the deployment");
            Ok(KeyMaterial::from_private(
                needs,
                &self.0,
                &PrivateKeySet::default(),
                Some(&PublicKeySets::default()),
                None,
                None,
            )?)
        }
    }

    #[tokio::test]
    async fn verifiers_need_no_secrets_and_signers_sign_only_with_published_keys() {
        let mut private = PrivateKeySet::first(Algorithm::RS256, 0).unwrap();
        let old = private.keys[0].kid.clone();
        let published = PublicKeySets {
            session: private.public().unwrap(),
            link: vec![],
        };
        // Rotated after the deployment: the new key is not published yet.
        let new = private.rotate(Algorithm::RS256, 1, 1, 100).unwrap();
        let value = encode_public(&published).unwrap();
        assert!(
            value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let public = decode_public(&value).unwrap();
        assert_eq!(public, published);

        let verify_only = DeployedKeyStore::new(public.clone(), None);
        let needs = KeyNeeds {
            verify: true,
            ..KeyNeeds::NONE
        };
        let material = verify_only.load(needs).await.unwrap();
        assert!(material.verifying.find(Purpose::Session, &old, 2, 100).is_some());
        assert!(material.verifying.find(Purpose::Session, &new, 2, 100).is_none());
        let signer = KeyNeeds {
            sign_session: true,
            ..KeyNeeds::NONE
        };
        assert!(verify_only.load(signer).await.is_err(), "no secret store linked");

        let signing = DeployedKeyStore::new(public, Some(Arc::new(Secrets(private))));
        let material = signing.load(signer).await.unwrap();
        assert_eq!(
            material
                .signing(Purpose::Session)
                .unwrap()
                .current(5)
                .unwrap()
                .kid,
            old
        );
    }

    #[test]
    fn bad_values_are_refused_and_empty_is_no_keys() {
        assert_eq!(decode_public("  ").unwrap(), PublicKeySets::default());
        assert!(decode_public("{not base64}").is_err());
        assert!(decode_public(&URL_SAFE_NO_PAD.encode(b"\"keys\"")).is_err());
        let bad_key = r#"{"session":[{"kid":"k","alg":"RS256","activates_at":0,"x":"AAAA"}]}"#;
        assert!(decode_public(&URL_SAFE_NO_PAD.encode(bad_key)).is_err());
    }
}
