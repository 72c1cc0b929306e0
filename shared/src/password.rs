//! Password hashing with bcrypt, on a blocking thread so it never stalls the async workers.
//!
//! bcrypt reads at most 72 bytes. To keep longer passwords distinct, every password is first
//! reduced to a fixed 44-byte string: base64(SHA-256(domain tag ‖ password)). The domain tag keeps
//! these pre-hashes from matching unsalted SHA-256 hashes leaked elsewhere ("hash shucking").
//! Unknown users cost one verification against a dummy hash of the configured cost, so that
//! timing does not tell which accounts exist.

use anyhow::Context;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::domain::{Password, PasswordHash};

const PREHASH_TAG: &[u8] = b"ucontact/bcrypt-prehash/v1\0";

/// Hashes and verifies passwords at the configured cost.
#[derive(Debug, Clone)]
pub struct Passwords {
    cost: u32,
    dummy_hash: String,
}

/// bcrypt("dummy") at cost 4 with a fixed salt, computed once and written down (a test recomputes
/// it), so that start-up computes no hash at all: the relabelled copy below makes verifying
/// against it run the full key schedule of the configured cost.
const DUMMY_HASH_COST_4: &str = "$2b$04$/uaF/uaF/uaF/uaF/uaF/udDjbFvqLG28qYqgpKd1Q8ALZMop9Vmm";

impl Passwords {
    pub fn new(cost: u32) -> anyhow::Result<Self> {
        anyhow::ensure!((4..=31).contains(&cost), "bcrypt cost {cost} is outside 4..=31");
        let dummy_hash = DUMMY_HASH_COST_4.replacen("$04$", &format!("${cost:02}$"), 1);
        Ok(Self { cost, dummy_hash })
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: &Password) -> anyhow::Result<PasswordHash> {
        let input = prehash(password.expose());
        let cost = self.cost;
        let hash = tokio::task::spawn_blocking(move || bcrypt::hash(input, cost))
            .await
            .context("Password hashing task failed")?
            .context("Failed to hash a password")?;
        Ok(PasswordHash::new(hash))
    }

    /// Checks `candidate` against `hash`; with no hash (unknown user) it burns the same time on a
    /// dummy and answers `false`.
    pub async fn verify(&self, candidate: &str, hash: Option<&PasswordHash>) -> anyhow::Result<bool> {
        let input = prehash(candidate);
        let (hash, known) = match hash {
            Some(h) => (h.as_str().to_owned(), true),
            None => (self.dummy_hash.clone(), false),
        };
        let matches = tokio::task::spawn_blocking(move || bcrypt::verify(input, &hash))
            .await
            .context("Password verification task failed")?
            .context("Failed to verify a password")?;
        Ok(known && matches)
    }
}

/// The fixed-length string bcrypt actually sees. It is itself a secret: never log it.
fn prehash(password: &str) -> String {
    let digest = Sha256::new()
        .chain_update(PREHASH_TAG)
        .chain_update(password.as_bytes())
        .finalize();
    base64::engine::general_purpose::STANDARD.encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let passwords = Passwords::new(4).unwrap();
        let hash = passwords
            .hash(&Password::parse("correct horse").unwrap())
            .await
            .unwrap();
        assert!(passwords.verify("correct horse", Some(&hash)).await.unwrap());
        assert!(!passwords.verify("correct horsf", Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn passwords_differing_after_72_bytes_stay_distinct() {
        let passwords = Passwords::new(4).unwrap();
        let base = "x".repeat(72);
        let hash = passwords
            .hash(&Password::parse(&format!("{base}-one")).unwrap())
            .await
            .unwrap();
        assert!(
            passwords
                .verify(&format!("{base}-one"), Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify(&format!("{base}-two"), Some(&hash))
                .await
                .unwrap()
        );
        assert!(!passwords.verify(&base, Some(&hash)).await.unwrap());
    }

    #[test]
    fn the_written_down_dummy_hash_is_what_bcrypt_computes() {
        let computed = bcrypt::hash_with_salt(b"dummy", 4, [7u8; 16]).unwrap();
        assert_eq!(
            computed.format_for_version(bcrypt::Version::TwoB),
            DUMMY_HASH_COST_4
        );
    }

    #[tokio::test]
    async fn the_dummy_hash_has_the_configured_cost_and_never_matches() {
        let passwords = Passwords::new(10).unwrap();
        assert!(
            passwords.dummy_hash.starts_with("$2b$10$"),
            "{}",
            passwords.dummy_hash
        );
        assert!(!passwords.verify("dummy", None).await.unwrap());
    }
}
