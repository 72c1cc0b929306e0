//! The cryptography of second factors: TOTP secrets (RFC 6238 through `totp-rs`), sealed at rest
//! under the second-factor key, and recovery codes, kept only as keyed hashes.
//!
//! Both keys are derived from the key store's second-factor key ([`crate::keys::mfa_key`]) with
//! HMAC-SHA-256 and a label each, so that neither is ever used for two things:
//! - the sealing key: AES-256-GCM, a random 96-bit nonce per seal, the user id as associated data
//!   (a sealed secret copied onto another user does not open);
//! - the recovery-code key: HMAC-SHA-256 over the user id and the normalized code.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;

use crate::domain::UserId;

/// Bytes of a TOTP secret: 160 bits, as RFC 4226 recommends for HMAC-SHA-1.
const SECRET_BYTES: usize = 20;
/// Recovery codes a user holds after confirming TOTP or asking for new ones.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Characters of a recovery code (RFC 4648 base32, lowercase): 12 × 5 = 60 bits each.
const RECOVERY_CODE_CHARS: usize = 12;
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// RFC 6238 as docs/API.md pins it.
const DIGITS: usize = 6;
const PERIOD: u64 = 30;

/// The keys derived from the key store's second-factor key.
pub struct MfaKeys {
    seal: LessSafeKey,
    recovery: SecretBox<[u8]>,
}

impl fmt::Debug for MfaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MfaKeys(..)")
    }
}

fn derive(root: &[u8], label: &str) -> [u8; 32] {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(root).expect("HMAC takes keys of any length");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

/// A stored secret that does not open: another user's, altered, or sealed under another key.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("a sealed TOTP secret does not open")]
pub struct Unsealable;

impl MfaKeys {
    pub fn new(root: &SecretBox<[u8]>) -> Self {
        let root = root.expose_secret();
        let seal = derive(root, "ucontact totp-secret seal v1");
        let seal = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &seal).expect("a 32-byte AES-256 key"));
        let recovery = derive(root, "ucontact recovery-code hash v1");
        Self {
            seal,
            recovery: SecretBox::new(Box::new(recovery)),
        }
    }

    /// The secret, encrypted for `user_id`: base64url of nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, user_id: UserId, secret: &TotpSecret) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let mut data = secret.0.expose_secret().to_vec();
        self.seal
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(user_id.get().to_be_bytes()),
                &mut data,
            )
            .expect("AES-GCM seals any message under 64 GiB");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Opens what [`MfaKeys::seal`] made for the same user.
    pub fn open(&self, user_id: UserId, sealed: &str) -> Result<TotpSecret, Unsealable> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| Unsealable)?;
        if bytes.len() < NONCE_LEN {
            return Err(Unsealable);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unsealable)?;
        let mut data = sealed.to_vec();
        let plain = self
            .seal
            .open_in_place(nonce, Aad::from(user_id.get().to_be_bytes()), &mut data)
            .map_err(|_| Unsealable)?;
        if plain.len() != SECRET_BYTES {
            return Err(Unsealable);
        }
        Ok(TotpSecret(SecretBox::new(plain.to_vec().into_boxed_slice())))
    }

    /// The stored form of a recovery code of `user_id` (hex of a keyed hash), or `None` when the
    /// text cannot be a recovery code.
    pub fn recovery_hash(&self, user_id: UserId, code: &str) -> Option<String> {
        let normalized = normalize_recovery_code(code)?;
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(self.recovery.expose_secret())
            .expect("HMAC takes keys of any length");
        mac.update(&user_id.get().to_be_bytes());
        mac.update(normalized.as_bytes());
        Some(crate::throttle::hex(&mac.finalize().into_bytes()))
    }

    /// Ten fresh recovery codes: the text shown once, and the hashes the store keeps.
    pub fn recovery_codes(&self, user_id: UserId) -> (Vec<String>, Vec<String>) {
        let mut shown = Vec::with_capacity(RECOVERY_CODE_COUNT);
        let mut hashes = Vec::with_capacity(RECOVERY_CODE_COUNT);
        while shown.len() < RECOVERY_CODE_COUNT {
            let code = new_recovery_code();
            let hash = self
                .recovery_hash(user_id, &code)
                .expect("a code of our own format");
            if !hashes.contains(&hash) {
                shown.push(code);
                hashes.push(hash);
            }
        }
        (shown, hashes)
    }
}

/// A TOTP shared secret in the clear. Never printed: `Debug` shows nothing of it.
pub struct TotpSecret(SecretBox<[u8]>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::fill(bytes.as_mut_slice());
        Self(SecretBox::new(bytes.into_boxed_slice()))
    }

    fn totp(&self) -> totp_rs::Totp {
        totp_rs::Builder::new()
            .with_algorithm(totp_rs::Algorithm::SHA1)
            .with_digits(DIGITS as u8)
            .with_step_duration(PERIOD)
            .with_skew(1)
            .with_secret(totp_rs::Secret::new(
                self.0.expose_secret().to_vec().into_boxed_slice(),
            ))
            .build()
            .expect("RFC 6238 parameters and a 160-bit secret")
    }

    /// The secret of [`TotpSecret::base32`]'s text (the bench computes codes as an app would).
    pub fn from_base32(text: &str) -> Option<Self> {
        let mut bytes = Vec::with_capacity(SECRET_BYTES);
        let (mut buffer, mut bits) = (0u32, 0u32);
        for c in text.bytes() {
            let value = BASE32.iter().position(|&b| b == c.to_ascii_lowercase())? as u32;
            buffer = (buffer << 5) | value;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes.push((buffer >> bits) as u8);
                buffer &= (1 << bits) - 1;
            }
        }
        (bytes.len() == SECRET_BYTES).then(|| Self(SecretBox::new(bytes.into_boxed_slice())))
    }

    /// RFC 4648 base32, uppercase, without padding: what an authenticator app takes.
    pub fn base32(&self) -> String {
        let bytes = self.0.expose_secret();
        let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
        let (mut buffer, mut bits) = (0u32, 0u32);
        for &byte in bytes.iter() {
            buffer = (buffer << 8) | u32::from(byte);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                out.push(BASE32[((buffer >> bits) & 31) as usize].to_ascii_uppercase() as char);
            }
        }
        if bits > 0 {
            out.push(BASE32[((buffer << (5 - bits)) & 31) as usize].to_ascii_uppercase() as char);
        }
        out
    }

    /// The `otpauth://` URI of an authenticator app's QR code (Google's key-uri format), exactly
    /// as docs/API.md gives it.
    pub fn otpauth_uri(&self, issuer: &str, username: &str) -> String {
        let issuer = percent_encode(issuer);
        format!(
            "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={PERIOD}",
            percent_encode(username),
            self.base32()
        )
    }

    /// The step a 6-digit `code` belongs to, if it is the code of the step of `now` or of one step
    /// either side (compared in constant time by `totp-rs`).
    pub fn check(&self, code: &str, now: i64) -> Option<i64> {
        let now = u64::try_from(now).ok()?;
        self.totp()
            .check(code, now)
            .and_then(|step| i64::try_from(step).ok())
    }

    /// The code of `step` (tests and the bench).
    pub fn code_at(&self, step: i64) -> String {
        self.totp()
            .generate(u64::try_from(step).unwrap_or_default() * PERIOD)
            .to_string()
    }
}

/// The RFC 6238 step of a unix time.
pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(PERIOD as i64)
}

/// What a `code` or `otp` field holds: six digits are a TOTP code, anything else a recovery code.
#[derive(Clone, PartialEq, Eq)]
pub enum Code {
    Totp(String),
    Recovery(String),
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Code::Totp(_) => "Code::Totp(..)",
            Code::Recovery(_) => "Code::Recovery(..)",
        })
    }
}

impl Code {
    /// Spaces do not count (apps show codes as `123 456`).
    pub fn parse(text: &str) -> Self {
        let digits: String = text.chars().filter(|c| *c != ' ').collect();
        if digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
            Code::Totp(digits)
        } else {
            Code::Recovery(text.to_owned())
        }
    }
}

/// A recovery code as it is hashed: lowercase, without the hyphens and spaces it may be typed
/// with; `None` if it cannot be one.
fn normalize_recovery_code(code: &str) -> Option<String> {
    let normalized: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (normalized.len() == RECOVERY_CODE_CHARS && normalized.bytes().all(|b| BASE32.contains(&b)))
        .then_some(normalized)
}

/// `xxxx-xxxx-xxxx` from the base32 alphabet.
fn new_recovery_code() -> String {
    let mut bytes = [0u8; RECOVERY_CODE_CHARS];
    rand::fill(&mut bytes);
    let mut code = String::with_capacity(RECOVERY_CODE_CHARS + 2);
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        code.push(BASE32[usize::from(byte & 31)] as char);
    }
    code
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> MfaKeys {
        MfaKeys::new(&SecretBox::new(
            b"0123456789abcdef0123456789abcdef".to_vec().into_boxed_slice(),
        ))
    }

    fn uid(id: i64) -> UserId {
        UserId::new(id).unwrap()
    }

    #[test]
    fn rfc_6238_vectors() {
        // RFC 6238 appendix B, SHA-1, the last six digits of its eight.
        let secret = TotpSecret(SecretBox::new(
            b"12345678901234567890".to_vec().into_boxed_slice(),
        ));
        for (time, code) in [
            (59, "287082"),
            (1111111109, "081804"),
            (1234567890, "005924"),
            (2000000000, "279037"),
        ] {
            assert_eq!(secret.code_at(step_of(time)), code);
            assert_eq!(secret.check(code, time), Some(step_of(time)));
            // One step either side, no further.
            assert_eq!(secret.check(code, time + 30), Some(step_of(time)));
            assert_eq!(secret.check(code, time - 30), Some(step_of(time)));
            assert_eq!(secret.check(code, time + 60), None);
        }
        assert_eq!(secret.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let again = TotpSecret::from_base32(&secret.base32()).unwrap();
        assert_eq!(again.code_at(step_of(59)), "287082");
        assert!(TotpSecret::from_base32("GEZDGNBVGY3TQOJQ").is_none());
        assert!(TotpSecret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1").is_none());
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_user_and_key() {
        let keys = keys();
        let secret = TotpSecret::generate();
        let sealed = keys.seal(uid(7), &secret);
        assert!(!sealed.contains(&secret.base32()));
        assert_eq!(keys.open(uid(7), &sealed).unwrap().base32(), secret.base32());
        assert!(keys.open(uid(8), &sealed).is_err());
        let other = MfaKeys::new(&SecretBox::new(vec![b'x'; 32].into_boxed_slice()));
        assert!(other.open(uid(7), &sealed).is_err());
        // Two seals of one secret differ (fresh nonces).
        assert_ne!(keys.seal(uid(7), &secret), sealed);
        assert!(keys.open(uid(7), "not base64!").is_err());
        assert!(format!("{secret:?} {keys:?}").find(&secret.base32()).is_none());
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_per_user_in_any_typing() {
        let keys = keys();
        let (shown, hashes) = keys.recovery_codes(uid(1));
        assert_eq!(shown.len(), RECOVERY_CODE_COUNT);
        let distinct: std::collections::HashSet<_> = hashes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODE_COUNT);
        let code = &shown[0];
        assert_eq!(code.len(), 14);
        assert_eq!(keys.recovery_hash(uid(1), code).as_ref(), Some(&hashes[0]));
        let typed = code.replace('-', " ").to_uppercase();
        assert_eq!(keys.recovery_hash(uid(1), &typed).as_ref(), Some(&hashes[0]));
        assert_ne!(keys.recovery_hash(uid(2), code).as_ref(), Some(&hashes[0]));
        assert_eq!(keys.recovery_hash(uid(1), "short"), None);
        assert_eq!(keys.recovery_hash(uid(1), "0000-0000-0000"), None);
    }

    #[test]
    fn codes_are_told_apart_by_shape_and_uris_are_encoded() {
        assert_eq!(Code::parse(" 123456 "), Code::Totp("123456".into()));
        assert_eq!(Code::parse("123 456"), Code::Totp("123456".into()));
        assert!(matches!(Code::parse("12345"), Code::Recovery(_)));
        assert!(matches!(Code::parse("１２３４５６"), Code::Recovery(_)));
        let secret = TotpSecret::generate();
        let uri = secret.otpauth_uri("My Co", "alice.b");
        assert_eq!(
            uri,
            format!(
                "otpauth://totp/My%20Co:alice.b?secret={}&issuer=My%20Co&algorithm=SHA1&digits=6&period=30",
                secret.base32()
            )
        );
        assert_eq!(secret.base32().len(), 32);
    }
}
