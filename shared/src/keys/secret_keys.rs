//! The two keys of the key store that sign nothing: the abuse-state hash key and the
//! second-factor key, as stored text (random text of at least 32 bytes; Secrets Manager generates
//! them deployed).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretBox;

use super::MalformedKeys;

/// The abuse-state hash key from stored text (at least 32 bytes).
pub fn abuse_hash_key(text: &str) -> Result<SecretBox<[u8]>, MalformedKeys> {
    let text = text.trim();
    if text.len() < 32 {
        return Err(MalformedKeys(
            "the abuse-state hash key is shorter than 32 bytes".into(),
        ));
    }
    Ok(SecretBox::new(text.as_bytes().to_vec().into_boxed_slice()))
}

/// A fresh abuse-state hash key, as text.
pub fn generate_abuse_hash_key() -> String {
    let mut bytes = [0u8; 48];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The second-factor key from stored text (at least 32 bytes of random text; Secrets Manager
/// generates it deployed). [`crate::mfa`] derives its sealing and hashing keys from it.
pub fn mfa_key(text: &str) -> Result<SecretBox<[u8]>, MalformedKeys> {
    let text = text.trim();
    if text.len() < 32 {
        return Err(MalformedKeys(
            "the second-factor key is shorter than 32 bytes".into(),
        ));
    }
    Ok(SecretBox::new(text.as_bytes().to_vec().into_boxed_slice()))
}

/// A fresh second-factor key, as text.
pub fn generate_mfa_key() -> String {
    generate_abuse_hash_key()
}
