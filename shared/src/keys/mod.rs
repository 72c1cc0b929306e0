//! Signing keys (docs/API.md, "Signing keys"): key sets per purpose, their public halves,
//! rotation, and the key that hashes abuse state.
//!
//! - Two purposes: **session** keys sign access and refresh tokens (with `JWT_ALGORITHM`: EdDSA,
//!   ES256 or RS256, [`Algorithm`]), **link** keys sign the tokens in emails (always EdDSA). A function holds the private set only of the purposes it mints
//!   ([`KeyNeeds`], declared per route in [`crate::routes`]); every other one holds public keys.
//! - A key set is a list of keys, oldest first. Each key has an activation instant: the newest
//!   activated key signs. [`PrivateKeySet::rotate`] adds a key and retires the previous one at the
//!   new key's activation; a retired key keeps verifying until every token it can have signed has
//!   expired (its purpose's longest token lifetime), then drops out of the set and the JWKS.
//! - The key store port ([`KeyStore`]) has two adapters: files in the local data dir
//!   ([`file`]) and AWS Secrets Manager ([`secrets_manager`]).
//!
//! Private key material is held in [`secrecy`] boxes and never printed: `Debug` shows kids only.

pub mod algorithm;
pub mod deployed;
pub mod file;
mod secret_keys;
#[cfg(feature = "secrets-manager")]
pub mod secrets_manager;
pub use secret_keys::{abuse_hash_key, generate_abuse_hash_key, generate_mfa_key, mfa_key};

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::{Deserialize, Serialize};

pub use algorithm::{Algorithm, KeySigner, PublicJwk};

use crate::config::TokenLifetimes;

/// What a key set signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Access and refresh tokens.
    Session,
    /// The tokens in emails: email verification and password reset.
    Link,
}

impl Purpose {
    pub const ALL: [Purpose; 2] = [Purpose::Session, Purpose::Link];

    pub fn name(self) -> &'static str {
        match self {
            Purpose::Session => "session",
            Purpose::Link => "link",
        }
    }

    /// The algorithm of this purpose's new keys: the configured one for session keys, EdDSA for
    /// link keys (their tokens never leave the service).
    pub fn algorithm(self, session: Algorithm) -> Algorithm {
        match self {
            Purpose::Session => session,
            Purpose::Link => Algorithm::EdDSA,
        }
    }

    /// The longest lifetime of a token signed with this purpose's keys: how long a retired key
    /// must keep verifying.
    pub fn max_token_lifetime(self, lifetimes: &TokenLifetimes) -> i64 {
        match self {
            Purpose::Session => lifetimes.access.max(lifetimes.refresh),
            Purpose::Link => lifetimes.email_verification.max(lifetimes.password_reset),
        }
    }
}

/// What one function takes from the key store at cold start: the private sets of the purposes it
/// mints, the public sets if it verifies any token, the abuse-state hash key if it keys
/// backoff or throttle state, and the second-factor key if it checks or stores TOTP secrets or
/// recovery codes. Nothing else is read, and its role can read nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyNeeds {
    pub sign_session: bool,
    pub sign_link: bool,
    pub verify: bool,
    pub abuse_hash: bool,
    pub mfa: bool,
}

impl KeyNeeds {
    /// The local server runs every route.
    pub const ALL: KeyNeeds = KeyNeeds {
        sign_session: true,
        sign_link: true,
        verify: true,
        abuse_hash: true,
        mfa: true,
    };
    pub const NONE: KeyNeeds = KeyNeeds {
        sign_session: false,
        sign_link: false,
        verify: false,
        abuse_hash: false,
        mfa: false,
    };

    /// Whether these needs include a secret (a private set, the abuse-state hash key, the
    /// second-factor key): what only the key store can give. Public keys travel with a deployment.
    pub const fn secret(self) -> bool {
        self.sign_session || self.sign_link || self.abuse_hash || self.mfa
    }
}

/// One private key as the store keeps it.
#[derive(Clone, Deserialize)]
pub struct StoredKey {
    pub kid: String,
    /// Absent in sets written before keys had a choice of algorithm: those are Ed25519.
    #[serde(default)]
    pub alg: Algorithm,
    /// Unix seconds.
    pub created_at: i64,
    /// From this instant on, if it is the newest activated key, it signs.
    pub activates_at: i64,
    /// Set when a newer key takes over (at that key's activation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<i64>,
    /// The PKCS#8 document, base64url without padding.
    #[serde(deserialize_with = "secret_string")]
    private_key: SecretString,
}

fn secret_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<SecretString, D::Error> {
    String::deserialize(deserializer).map(SecretString::from)
}

impl Serialize for SecretWrapper<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.expose_secret())
    }
}
struct SecretWrapper<'a>(&'a SecretString);

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("activates_at", &self.activates_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// A bad key set in the store.
#[derive(Debug, thiserror::Error)]
#[error("malformed key set: {0}")]
pub struct MalformedKeys(pub String);

impl StoredKey {
    /// A fresh key of `alg`.
    pub fn generate(alg: Algorithm, now: i64, activates_at: i64) -> Result<Self, MalformedKeys> {
        let document = alg.generate_pkcs8()?;
        let kid = KeySigner::from_pkcs8(alg, &document)?.public()?.thumbprint(alg)?;
        Ok(Self {
            kid,
            alg,
            created_at: now,
            activates_at,
            retired_at: None,
            private_key: SecretString::from(URL_SAFE_NO_PAD.encode(&document)),
        })
    }

    fn pkcs8(&self) -> Result<Vec<u8>, MalformedKeys> {
        URL_SAFE_NO_PAD
            .decode(self.private_key.expose_secret())
            .map_err(|_| MalformedKeys(format!("key {}: private key is not base64url", self.kid)))
    }

    /// The parsed private key.
    fn signer(&self) -> Result<KeySigner, MalformedKeys> {
        KeySigner::from_pkcs8(self.alg, &self.pkcs8()?)
            .map_err(|e| MalformedKeys(format!("key {}: {}", self.kid, e.0)))
    }

    /// The public half, as the verification set keeps it.
    pub fn public(&self) -> Result<PublicKeyEntry, MalformedKeys> {
        Ok(PublicKeyEntry {
            kid: self.kid.clone(),
            alg: self.alg,
            created_at: self.created_at,
            activates_at: self.activates_at,
            retired_at: self.retired_at,
            jwk: self.signer()?.public()?,
        })
    }

    /// Until when tokens signed with this key can still be valid (`None`: not retired).
    fn needed_until(&self, max_lifetime: i64) -> Option<i64> {
        self.retired_at.map(|retired| retired + max_lifetime)
    }
}

/// The private keys of one purpose, oldest first.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PrivateKeySet {
    #[serde(default)]
    pub keys: Vec<StoredKey>,
}

impl Serialize for PrivateKeySet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Key<'a> {
            kid: &'a str,
            alg: Algorithm,
            created_at: i64,
            activates_at: i64,
            #[serde(skip_serializing_if = "Option::is_none")]
            retired_at: Option<i64>,
            private_key: SecretWrapper<'a>,
        }
        #[derive(Serialize)]
        struct Set<'a> {
            keys: Vec<Key<'a>>,
        }
        Set {
            keys: self
                .keys
                .iter()
                .map(|k| Key {
                    kid: &k.kid,
                    alg: k.alg,
                    created_at: k.created_at,
                    activates_at: k.activates_at,
                    retired_at: k.retired_at,
                    private_key: SecretWrapper(&k.private_key),
                })
                .collect(),
        }
        .serialize(serializer)
    }
}

impl PrivateKeySet {
    /// A set with one key of `alg`, active at once (a first start).
    pub fn first(alg: Algorithm, now: i64) -> Result<Self, MalformedKeys> {
        Ok(Self {
            keys: vec![StoredKey::generate(alg, now, now)?],
        })
    }

    /// The algorithm of the newest key (the one that signs once activated).
    pub fn newest_algorithm(&self) -> Option<Algorithm> {
        self.keys.iter().max_by_key(|k| k.activates_at).map(|k| k.alg)
    }

    /// Adds a key that signs from `activates_at` on, retires the keys it replaces at that instant,
    /// and drops the retired keys no unexpired token can need any more. Returns the new kid.
    pub fn rotate(
        &mut self,
        alg: Algorithm,
        now: i64,
        activates_at: i64,
        max_lifetime: i64,
    ) -> Result<String, MalformedKeys> {
        let activates_at = if self.keys.is_empty() { now } else { activates_at };
        for key in &mut self.keys {
            key.retired_at.get_or_insert(activates_at);
        }
        self.keys
            .retain(|k| k.needed_until(max_lifetime).is_none_or(|until| until >= now));
        let key = StoredKey::generate(alg, now, activates_at)?;
        let kid = key.kid.clone();
        self.keys.push(key);
        Ok(kid)
    }

    /// The public halves of the keys still needed at `now`.
    pub fn public(&self) -> Result<Vec<PublicKeyEntry>, MalformedKeys> {
        self.keys.iter().map(StoredKey::public).collect()
    }

    /// The signing keys, parsed.
    pub fn signing(&self) -> Result<SigningKeys, MalformedKeys> {
        let mut keys = Vec::with_capacity(self.keys.len());
        for key in &self.keys {
            // Parsed once here, kept for every token it signs.
            let signer = key.signer()?;
            check_kid(&key.kid, key.alg, &signer.public()?)?;
            keys.push(SigningKey {
                kid: key.kid.clone(),
                alg: key.alg,
                activates_at: key.activates_at,
                signer,
            });
        }
        Ok(SigningKeys(keys))
    }
}

/// One public key as the verification set keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyEntry {
    pub kid: String,
    /// Absent in sets written before keys had a choice of algorithm: those are Ed25519.
    #[serde(default)]
    pub alg: Algorithm,
    #[serde(default)]
    pub created_at: i64,
    pub activates_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<i64>,
    /// The public key's JWK members (`x`; `x`, `y`; or `n`, `e`).
    #[serde(flatten)]
    pub jwk: PublicJwk,
}

/// The public halves of both purposes' keys: what every verifying function reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeySets {
    #[serde(default)]
    pub session: Vec<PublicKeyEntry>,
    #[serde(default)]
    pub link: Vec<PublicKeyEntry>,
}

impl PublicKeySets {
    pub fn of(&self, purpose: Purpose) -> &[PublicKeyEntry] {
        match purpose {
            Purpose::Session => &self.session,
            Purpose::Link => &self.link,
        }
    }

    pub fn set(&mut self, purpose: Purpose, keys: Vec<PublicKeyEntry>) {
        match purpose {
            Purpose::Session => self.session = keys,
            Purpose::Link => self.link = keys,
        }
    }
}

/// A private key ready to sign.
pub struct SigningKey {
    pub kid: String,
    pub alg: Algorithm,
    activates_at: i64,
    pub signer: KeySigner,
}

/// The parsed private keys of one purpose.
pub struct SigningKeys(Vec<SigningKey>);

impl SigningKeys {
    /// The key that signs at `now`: the newest activated one.
    pub fn current(&self, now: i64) -> Option<&SigningKey> {
        self.0
            .iter()
            .filter(|k| k.activates_at <= now)
            .max_by_key(|k| k.activates_at)
    }

    /// Keeps only the keys `keep` accepts (a deployment signs only with keys it publishes).
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.0.retain(|k| keep(&k.kid));
    }

    /// The kids held, oldest activation first.
    pub fn kids(&self) -> Vec<&str> {
        self.0.iter().map(|k| k.kid.as_str()).collect()
    }
}

/// A public key ready to verify.
#[derive(Clone)]
pub struct VerifyingKey {
    pub entry: PublicKeyEntry,
    pub key: DecodingKey,
}

/// The parsed public keys of both purposes, by kid.
#[derive(Clone, Default)]
pub struct VerifyingKeys {
    by_purpose: HashMap<Purpose, HashMap<String, VerifyingKey>>,
}

impl VerifyingKeys {
    pub fn new(sets: &PublicKeySets) -> Result<Self, MalformedKeys> {
        let mut by_purpose = HashMap::new();
        for purpose in Purpose::ALL {
            let mut keys = HashMap::new();
            for entry in sets.of(purpose) {
                let key = entry
                    .jwk
                    .decoding_key(entry.alg)
                    .map_err(|e| MalformedKeys(format!("public key {}: {}", entry.kid, e.0)))?;
                check_kid(&entry.kid, entry.alg, &entry.jwk)?;
                keys.insert(
                    entry.kid.clone(),
                    VerifyingKey {
                        entry: entry.clone(),
                        key,
                    },
                );
            }
            by_purpose.insert(purpose, keys);
        }
        Ok(Self { by_purpose })
    }

    /// The key named `kid`, if it belongs to `purpose` and can still have signed an unexpired
    /// token at `now`.
    pub fn find(&self, purpose: Purpose, kid: &str, now: i64, max_lifetime: i64) -> Option<&VerifyingKey> {
        let key = self.by_purpose.get(&purpose)?.get(kid)?;
        published(&key.entry, now, max_lifetime).then_some(key)
    }

    /// The published public keys of `purpose` at `now`, oldest first.
    pub fn published(&self, purpose: Purpose, now: i64, max_lifetime: i64) -> Vec<&PublicKeyEntry> {
        let mut keys: Vec<&PublicKeyEntry> = self
            .by_purpose
            .get(&purpose)
            .into_iter()
            .flat_map(|keys| keys.values())
            .map(|k| &k.entry)
            .filter(|entry| published(entry, now, max_lifetime))
            .collect();
        keys.sort_by(|a, b| (a.activates_at, &a.kid).cmp(&(b.activates_at, &b.kid)));
        keys
    }
}

/// Every kid is its key's RFC 7638 thumbprint: a kid names one key material for good, so nothing
/// a process remembers about a kid (the verified-token cache) can outlive a change of the key
/// behind it, and a hand-edited set with another key under a known kid is refused whole.
fn check_kid(kid: &str, alg: Algorithm, jwk: &PublicJwk) -> Result<(), MalformedKeys> {
    if jwk.thumbprint(alg)? == kid {
        Ok(())
    } else {
        Err(MalformedKeys(format!(
            "key {kid}: the kid is not the key's RFC 7638 thumbprint"
        )))
    }
}

fn published(entry: &PublicKeyEntry, now: i64, max_lifetime: i64) -> bool {
    entry
        .retired_at
        .is_none_or(|retired| now <= retired + max_lifetime)
}

/// Everything one function took from the key store.
#[derive(Default)]
pub struct KeyMaterial {
    pub session_signing: Option<SigningKeys>,
    pub link_signing: Option<SigningKeys>,
    pub verifying: VerifyingKeys,
    /// The HMAC key of abuse-state hashes.
    pub abuse_hash: Option<SecretBox<[u8]>>,
    /// The key that seals TOTP secrets and keys recovery-code hashes (32 bytes).
    pub mfa: Option<SecretBox<[u8]>>,
}

impl KeyMaterial {
    pub fn signing(&self, purpose: Purpose) -> Option<&SigningKeys> {
        match purpose {
            Purpose::Session => self.session_signing.as_ref(),
            Purpose::Link => self.link_signing.as_ref(),
        }
    }

    pub fn signing_mut(&mut self, purpose: Purpose) -> Option<&mut SigningKeys> {
        match purpose {
            Purpose::Session => self.session_signing.as_mut(),
            Purpose::Link => self.link_signing.as_mut(),
        }
    }

    /// Builds the material of `needs` from private sets (the local store holds both).
    pub fn from_private(
        needs: KeyNeeds,
        session: &PrivateKeySet,
        link: &PrivateKeySet,
        public: Option<&PublicKeySets>,
        abuse_hash: Option<SecretBox<[u8]>>,
        mfa: Option<SecretBox<[u8]>>,
    ) -> Result<Self, MalformedKeys> {
        let derived;
        let public = match public {
            Some(public) => public,
            None => {
                derived = PublicKeySets {
                    session: session.public()?,
                    link: link.public()?,
                };
                &derived
            }
        };
        Ok(Self {
            session_signing: needs.sign_session.then(|| session.signing()).transpose()?,
            link_signing: needs.sign_link.then(|| link.signing()).transpose()?,
            verifying: if needs.verify {
                VerifyingKeys::new(public)?
            } else {
                VerifyingKeys::default()
            },
            abuse_hash: if needs.abuse_hash { abuse_hash } else { None },
            mfa: if needs.mfa { mfa } else { None },
        })
    }
}

/// A failure of the key store.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error(transparent)]
    Malformed(#[from] MalformedKeys),
    #[error("key store unavailable")]
    Unavailable(#[source] anyhow::Error),
}

/// What a rotation did, per purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationReport {
    pub purpose: Purpose,
    pub new_kid: String,
    pub activates_at: i64,
    /// The kids still in the set after the rotation, oldest first (the new one last).
    pub kids: Vec<String>,
}

/// The key store port.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Reads what `needs` names.
    async fn load(&self, needs: KeyNeeds) -> Result<KeyMaterial, KeyStoreError>;

    /// Both purposes' public sets, as a deployment publishes them (`keys public`).
    async fn public_sets(&self) -> Result<PublicKeySets, KeyStoreError> {
        Err(KeyStoreError::Unavailable(anyhow::anyhow!(
            "this key store does not hand out the public sets"
        )))
    }

    /// Adds a new key to each purpose's set, activating `activate_in` seconds from `now`, and drops
    /// retired keys that no unexpired token needs. Only the operator's key stores rotate.
    async fn rotate(
        &self,
        lifetimes: &TokenLifetimes,
        session_alg: Algorithm,
        now: i64,
        activate_in: i64,
    ) -> Result<Vec<RotationReport>, KeyStoreError> {
        let _ = (lifetimes, session_alg, now, activate_in);
        Err(KeyStoreError::Unavailable(anyhow::anyhow!(
            "this key store does not rotate: the operator runs `ucontact-local keys rotate`"
        )))
    }
}

/// Each purpose's private set.
pub type PurposeSets = Vec<(Purpose, PrivateKeySet)>;

/// Rotates both purposes' private sets and returns them with the report (shared by the adapters).
pub fn rotate_sets(
    mut sets: PurposeSets,
    lifetimes: &TokenLifetimes,
    session_alg: Algorithm,
    now: i64,
    activate_in: i64,
) -> Result<(PurposeSets, Vec<RotationReport>), MalformedKeys> {
    let mut reports = Vec::new();
    for (purpose, set) in &mut sets {
        let new_kid = set.rotate(
            purpose.algorithm(session_alg),
            now,
            now + activate_in,
            purpose.max_token_lifetime(lifetimes),
        )?;
        let activates_at = set.keys.last().map_or(now, |k| k.activates_at);
        reports.push(RotationReport {
            purpose: *purpose,
            new_kid,
            activates_at,
            kids: set.keys.iter().map(|k| k.kid.clone()).collect(),
        });
    }
    Ok((sets, reports))
}

/// The keys a running process holds, reloaded from the store every `refresh` so that a rotation
/// reaches warm instances without a restart. A failed reload keeps the keys it had.
pub struct KeyRing {
    store: Arc<dyn KeyStore>,
    needs: KeyNeeds,
    refresh: Duration,
    current: RwLock<Arc<KeyMaterial>>,
    loaded_at: Mutex<Instant>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("needs", &self.needs)
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    pub async fn load(
        store: Arc<dyn KeyStore>,
        needs: KeyNeeds,
        refresh: Duration,
    ) -> Result<Self, KeyStoreError> {
        let material = store.load(needs).await?;
        Ok(Self {
            store,
            needs,
            refresh,
            current: RwLock::new(Arc::new(material)),
            loaded_at: Mutex::new(Instant::now()),
        })
    }

    /// A ring over fixed material (unit tests).
    pub fn fixed(material: KeyMaterial) -> Self {
        struct Fixed;
        #[async_trait]
        impl KeyStore for Fixed {
            async fn load(&self, _: KeyNeeds) -> Result<KeyMaterial, KeyStoreError> {
                Err(KeyStoreError::Unavailable(anyhow::anyhow!("fixed key ring")))
            }
        }
        Self {
            store: Arc::new(Fixed),
            needs: KeyNeeds::NONE,
            refresh: Duration::MAX,
            current: RwLock::new(Arc::new(material)),
            loaded_at: Mutex::new(Instant::now()),
        }
    }

    /// The keys held now.
    pub fn current(&self) -> Arc<KeyMaterial> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Reloads the keys if the last load is older than the refresh interval. One caller reloads;
    /// the others go on with the keys they have.
    pub async fn refresh_if_stale(&self) {
        {
            let Ok(mut loaded_at) = self.loaded_at.lock() else {
                return;
            };
            if loaded_at.elapsed() < self.refresh {
                return;
            }
            // Claimed: concurrent requests see a fresh instant and do not reload too.
            *loaded_at = Instant::now();
        }
        match self.store.load(self.needs).await {
            Ok(material) => {
                if let Ok(mut current) = self.current.write() {
                    *current = Arc::new(material);
                }
            }
            Err(e) => tracing::warn!(error = %e, "reloading the signing keys failed; keeping the ones held"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIFE: i64 = 100;

    #[test]
    fn rotation_keeps_the_old_key_until_its_tokens_expire_then_drops_it() {
        let mut set = PrivateKeySet::first(Algorithm::EdDSA, 1000).unwrap();
        let first = set.keys[0].kid.clone();
        // A rotation may change the algorithm.
        let second = set.rotate(Algorithm::ES256, 1010, 1010, LIFE).unwrap();
        assert_ne!(first, second);
        let signing = set.signing().unwrap();
        assert_eq!(signing.current(1010).unwrap().kid, second);
        assert_eq!(signing.current(1010).unwrap().alg, Algorithm::ES256);

        let public = PublicKeySets {
            session: set.public().unwrap(),
            link: vec![],
        };
        let verifying = VerifyingKeys::new(&public).unwrap();
        assert!(
            verifying
                .find(Purpose::Session, &first, 1010 + LIFE, LIFE)
                .is_some()
        );
        assert!(
            verifying
                .find(Purpose::Session, &first, 1011 + LIFE, LIFE)
                .is_none()
        );
        assert!(
            verifying.find(Purpose::Link, &second, 1011, LIFE).is_none(),
            "wrong purpose"
        );
        let kids = |now| -> Vec<String> {
            verifying
                .published(Purpose::Session, now, LIFE)
                .iter()
                .map(|k| k.kid.clone())
                .collect()
        };
        assert_eq!(kids(1020), vec![first.clone(), second.clone()]);
        assert_eq!(kids(1011 + LIFE), vec![second.clone()]);

        // The next rotation forgets the key nobody needs any more.
        let third = set
            .rotate(Algorithm::RS256, 1011 + LIFE, 1011 + LIFE, LIFE)
            .unwrap();
        let kids: Vec<&str> = set.keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, vec![second.as_str(), third.as_str()]);
    }

    #[test]
    fn a_key_activating_later_does_not_sign_yet() {
        let mut set = PrivateKeySet::first(Algorithm::EdDSA, 0).unwrap();
        let first = set.keys[0].kid.clone();
        let next = set.rotate(Algorithm::EdDSA, 10, 70, LIFE).unwrap();
        let signing = set.signing().unwrap();
        assert_eq!(signing.current(69).unwrap().kid, first);
        assert_eq!(signing.current(70).unwrap().kid, next);
    }

    #[test]
    fn kids_are_rfc7638_thumbprints_and_private_keys_never_print() {
        for alg in Algorithm::ALL {
            let set = PrivateKeySet::first(alg, 0).unwrap();
            let public = set.public().unwrap().remove(0);
            assert_eq!(public.kid, public.jwk.thumbprint(alg).unwrap());
            assert_eq!(public.alg, alg);
            let secret = set.keys[0].private_key.expose_secret().to_owned();
            assert!(!format!("{set:?}").contains(&secret));
            assert!(!format!("{:?}", set.signing().unwrap().current(0).unwrap().signer).contains(&secret));
            // Serialized, the private key is there (that is the store's format), and it round-trips.
            let json = serde_json::to_string(&set).unwrap();
            assert!(json.contains(&secret));
            let back: PrivateKeySet = serde_json::from_str(&json).unwrap();
            assert_eq!(back.public().unwrap(), set.public().unwrap());
        }
    }

    #[test]
    fn sets_written_before_algorithms_read_as_ed25519() {
        let set = PrivateKeySet::first(Algorithm::EdDSA, 0).unwrap();
        let mut json: serde_json::Value = serde_json::to_value(&set).unwrap();
        json["keys"][0].as_object_mut().unwrap().remove("alg");
        let back: PrivateKeySet = serde_json::from_value(json).unwrap();
        assert_eq!(back.keys[0].alg, Algorithm::EdDSA);
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let kid = PublicJwk {
            x: Some(x.into()),
            ..PublicJwk::default()
        }
        .thumbprint(Algorithm::EdDSA)
        .unwrap();
        let public =
            serde_json::json!({"session": [{"kid": kid, "created_at": 0, "activates_at": 0, "x": x}]});
        let mut sets: PublicKeySets = serde_json::from_value(public).unwrap();
        assert_eq!(sets.session[0].alg, Algorithm::EdDSA);
        assert!(VerifyingKeys::new(&sets).is_ok());
        // Another key under that kid is refused.
        sets.session[0].jwk.x = Some(URL_SAFE_NO_PAD.encode([7u8; 32]));
        assert!(VerifyingKeys::new(&sets).is_err());
    }
}
