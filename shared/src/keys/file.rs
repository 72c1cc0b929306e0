//! The local key store: files in `$UCONTACT_DATA_DIR/keys/` (directory 0700, files 0600),
//! generated on first start and kept across restarts.
//!
//! - `session.json`, `link.json`: each purpose's private key set (the public halves are derived
//!   from them: the local process runs every route).
//! - `abuse_hash_key`: the key of abuse-state hashes.
//! - `mfa_key`: the key that seals TOTP secrets and keys recovery-code hashes.
//!
//! A first start creates each file only if it is absent (a hard link of a fully written temporary
//! file), so two processes starting together agree on one key; a rotation replaces a set by an
//! atomic rename.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{
    Algorithm, KeyMaterial, KeyNeeds, KeyStore, KeyStoreError, MalformedKeys, PrivateKeySet, PublicKeySets,
    Purpose, RotationReport, abuse_hash_key, generate_abuse_hash_key, generate_mfa_key, mfa_key, rotate_sets,
};
use crate::config::TokenLifetimes;

/// Key files in a data directory.
#[derive(Debug, Clone)]
pub struct FileKeyStore {
    dir: PathBuf,
    /// The algorithm of first session keys (`JWT_ALGORITHM`).
    session_alg: Algorithm,
}

impl FileKeyStore {
    pub fn new(data_dir: &Path, session_alg: Algorithm) -> Self {
        Self {
            dir: data_dir.join("keys"),
            session_alg,
        }
    }

    /// At the local server's start: if `JWT_ALGORITHM` names another algorithm than the newest
    /// session key's, rotates to a key of the configured one, at once (the previous keys keep
    /// verifying their tokens). Returns the new session kid if it rotated.
    pub async fn follow_configured_algorithm(
        &self,
        lifetimes: &TokenLifetimes,
    ) -> Result<Option<String>, KeyStoreError> {
        let store = self.clone();
        let current = tokio::task::spawn_blocking(move || store.read_set(Purpose::Session, unix_now()))
            .await
            .map_err(|e| KeyStoreError::Unavailable(e.into()))??
            .newest_algorithm();
        if current == Some(self.session_alg) {
            return Ok(None);
        }
        let reports = self.rotate(lifetimes, self.session_alg, unix_now(), 0).await?;
        Ok(reports
            .into_iter()
            .find(|r| r.purpose == Purpose::Session)
            .map(|r| r.new_kid))
    }

    fn set_path(&self, purpose: Purpose) -> PathBuf {
        self.dir.join(format!("{}.json", purpose.name()))
    }

    fn unavailable(what: &str, path: &Path, e: std::io::Error) -> KeyStoreError {
        KeyStoreError::Unavailable(anyhow::Error::new(e).context(format!("{what} {}", path.display())))
    }

    fn ensure_dir(&self) -> Result<(), KeyStoreError> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&self.dir)
            .map_err(|e| Self::unavailable("Failed to create", &self.dir, e))
    }

    /// The file's text, creating it with `fresh()` if it does not exist yet.
    fn read_or_create(
        &self,
        path: &Path,
        fresh: impl FnOnce() -> Result<String, KeyStoreError>,
    ) -> Result<String, KeyStoreError> {
        match fs::read_to_string(path) {
            Ok(text) => return Ok(text),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Self::unavailable("Failed to read", path, e)),
        }
        self.ensure_dir()?;
        let text = fresh()?;
        let temporary = self.write_temporary(path, &text)?;
        let linked = fs::hard_link(&temporary, path);
        let _ = fs::remove_file(&temporary);
        match linked {
            Ok(()) => {
                tracing::info!(file = %path.display(), "generated a key for this data directory");
                Ok(text)
            }
            // Another process made it first: use theirs.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                fs::read_to_string(path).map_err(|e| Self::unavailable("Failed to read", path, e))
            }
            Err(e) => Err(Self::unavailable("Failed to create", path, e)),
        }
    }

    fn write_temporary(&self, path: &Path, text: &str) -> Result<PathBuf, KeyStoreError> {
        let temporary = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&temporary)
            .map_err(|e| Self::unavailable("Failed to create", &temporary, e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| Self::unavailable("Failed to write", &temporary, e))?;
        Ok(temporary)
    }

    fn read_set(&self, purpose: Purpose, now: i64) -> Result<PrivateKeySet, KeyStoreError> {
        let path = self.set_path(purpose);
        let text =
            self.read_or_create(&path, || {
                Ok(serde_json::to_string_pretty(&PrivateKeySet::first(
                    purpose.algorithm(self.session_alg),
                    now,
                )?)
                .map_err(|e| MalformedKeys(e.to_string()))?)
            })?;
        serde_json::from_str(&text).map_err(|e| MalformedKeys(format!("{}: {e}", path.display())).into())
    }

    fn read_abuse_hash_key(&self) -> Result<String, KeyStoreError> {
        self.read_or_create(&self.dir.join("abuse_hash_key"), || Ok(generate_abuse_hash_key()))
    }

    fn read_mfa_key(&self) -> Result<String, KeyStoreError> {
        self.read_or_create(&self.dir.join("mfa_key"), || Ok(generate_mfa_key()))
    }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[async_trait]
impl KeyStore for FileKeyStore {
    async fn load(&self, needs: KeyNeeds) -> Result<KeyMaterial, KeyStoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            let now = unix_now();
            // Only the sets this process signs with or verifies against (the public halves come
            // from the private sets here).
            let read = |needed: bool, purpose| match needed || needs.verify {
                true => store.read_set(purpose, now),
                false => Ok(PrivateKeySet::default()),
            };
            let session = read(needs.sign_session, Purpose::Session)?;
            let link = read(needs.sign_link, Purpose::Link)?;
            let abuse = if needs.abuse_hash {
                Some(abuse_hash_key(&store.read_abuse_hash_key()?)?)
            } else {
                None
            };
            let mfa = if needs.mfa {
                Some(mfa_key(&store.read_mfa_key()?)?)
            } else {
                None
            };
            Ok(KeyMaterial::from_private(
                needs, &session, &link, None, abuse, mfa,
            )?)
        })
        .await
        .map_err(|e| KeyStoreError::Unavailable(e.into()))?
    }

    async fn public_sets(&self) -> Result<PublicKeySets, KeyStoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            let now = unix_now();
            Ok(PublicKeySets {
                session: store.read_set(Purpose::Session, now)?.public()?,
                link: store.read_set(Purpose::Link, now)?.public()?,
            })
        })
        .await
        .map_err(|e| KeyStoreError::Unavailable(e.into()))?
    }

    async fn rotate(
        &self,
        lifetimes: &TokenLifetimes,
        session_alg: Algorithm,
        now: i64,
        activate_in: i64,
    ) -> Result<Vec<RotationReport>, KeyStoreError> {
        let store = self.clone();
        let lifetimes = *lifetimes;
        tokio::task::spawn_blocking(move || {
            let sets = Purpose::ALL
                .into_iter()
                .map(|purpose| Ok((purpose, store.read_set(purpose, now)?)))
                .collect::<Result<Vec<_>, KeyStoreError>>()?;
            let (sets, reports) = rotate_sets(sets, &lifetimes, session_alg, now, activate_in)?;
            for (purpose, set) in sets {
                let path = store.set_path(purpose);
                let text = serde_json::to_string_pretty(&set).map_err(|e| MalformedKeys(e.to_string()))?;
                let temporary = store.write_temporary(&path, &text)?;
                fs::rename(&temporary, &path)
                    .map_err(|e| Self::unavailable("Failed to replace", &path, e))?;
            }
            Ok(reports)
        })
        .await
        .map_err(|e| KeyStoreError::Unavailable(e.into()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIFETIMES: TokenLifetimes = TokenLifetimes {
        access: 60,
        refresh: 120,
        email_verification: 300,
        password_reset: 60,
    };

    #[tokio::test]
    async fn keys_are_made_once_kept_private_and_rotated_in_place() {
        let dir = std::env::temp_dir().join(format!("ucontact-keys-{}", uuid::Uuid::new_v4().simple()));
        let store = FileKeyStore::new(&dir, Algorithm::EdDSA);
        let now = unix_now();
        let session_kid = |material: &KeyMaterial| {
            let current = material.signing(Purpose::Session).unwrap().current(now);
            current.unwrap().kid.clone()
        };
        let kid = session_kid(&store.load(KeyNeeds::ALL).await.unwrap());
        // A second load (a restart) finds the same key.
        assert_eq!(session_kid(&store.load(KeyNeeds::ALL).await.unwrap()), kid);
        #[cfg(unix)]
        for file in ["session.json", "link.json", "abuse_hash_key", "mfa_key"] {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join("keys").join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }

        let reports = store.rotate(&LIFETIMES, Algorithm::EdDSA, now, 0).await.unwrap();
        assert_eq!(reports.len(), 2);
        let rotated = store.load(KeyNeeds::ALL).await.unwrap();
        let new_kid = session_kid(&rotated);
        assert_eq!(new_kid, reports[0].new_kid);
        assert_ne!(new_kid, kid);
        assert_eq!(reports[0].kids, vec![kid.clone(), new_kid.clone()]);
        assert!(rotated.verifying.find(Purpose::Session, &kid, now, 120).is_some());

        // A start with another JWT_ALGORITHM rotates the session keys to it, at once; link keys
        // stay EdDSA, and the earlier keys keep verifying.
        let rs256 = FileKeyStore::new(&dir, Algorithm::RS256);
        let rotated_to = rs256
            .follow_configured_algorithm(&LIFETIMES)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rs256.follow_configured_algorithm(&LIFETIMES).await.unwrap(), None);
        let now = unix_now();
        let material = rs256.load(KeyNeeds::ALL).await.unwrap();
        let signing = material.signing(Purpose::Session).unwrap().current(now).unwrap();
        assert_eq!(
            (signing.kid.as_str(), signing.alg),
            (rotated_to.as_str(), Algorithm::RS256)
        );
        assert_eq!(
            material.signing(Purpose::Link).unwrap().current(now).unwrap().alg,
            Algorithm::EdDSA
        );
        assert!(
            material
                .verifying
                .find(Purpose::Session, &new_kid, now, 120)
                .is_some()
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
