//! A test's own authenticator app: RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30 s steps) computed
//! from the base32 secret that `totp-setup` answers, so that the second-factor tests log in with
//! codes as a phone would, without reaching into the server.
//!
//! The server accepts the step of its "now", one step before and one after, and never a step at
//! or below the last it accepted for the user (docs/API.md, "Second factors and passkeys").
//! [`Authenticator::next_code`] therefore hands out increasing steps: three at once from a fresh
//! secret (now-1, now, now+1), then one per new step, waiting for it when every step the server
//! would take is spent. Tests that need more codes quickly use recovery codes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// The length of one TOTP step.
pub const STEP_SECONDS: u64 = 30;

/// How long a request may take between the test computing its code and the server reading its
/// clock: a step is only used early (now-1) when the server's "now" cannot have moved past it by
/// then. Generous, for a loaded machine and the DynamoDB emulator.
const IN_FLIGHT: Duration = Duration::from_secs(10);

/// RFC 4226 HOTP: the `digits` low decimal digits of the dynamically truncated HMAC-SHA-1 of
/// `counter` under `key`, zero-padded.
pub fn hotp(key: &[u8], counter: u64, digits: u32) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([hash[offset], hash[offset + 1], hash[offset + 2], hash[offset + 3]])
        & 0x7fff_ffff;
    let code = binary % 10u32.pow(digits);
    format!("{code:0width$}", width = digits as usize)
}

/// The 6-digit TOTP code of `step` (RFC 6238 with SHA-1, as authenticator apps use).
pub fn totp(key: &[u8], step: u64) -> String {
    hotp(key, step, 6)
}

/// RFC 4648 base32 (the uppercase alphabet `A-Z2-7`, no padding) to bytes; `None` for anything
/// else, trailing bits that are not zero included.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // What is left must be padding bits (fewer than a byte, all zero).
    (buffer == 0).then_some(bytes)
}

/// The TOTP step of an instant.
pub fn step_at(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).expect("after 1970").as_secs() / STEP_SECONDS
}

/// The TOTP step of now.
pub fn current_step() -> u64 {
    step_at(SystemTime::now())
}

/// An authenticator app holding one secret, which remembers the last step it handed out.
#[derive(Debug, Clone)]
pub struct Authenticator {
    key: Vec<u8>,
    last_step: Option<u64>,
}

impl Authenticator {
    /// The authenticator of a base32 secret as `totp-setup` answers it; panics if it is not base32.
    pub fn new(secret: &str) -> Self {
        let key =
            base32_decode(secret).unwrap_or_else(|| panic!("the secret is not RFC 4648 base32: {secret:?}"));
        Self { key, last_step: None }
    }

    /// The secret's bytes.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The code of `step`.
    pub fn code_at(&self, step: u64) -> String {
        totp(&self.key, step)
    }

    /// The last step handed out by [`Authenticator::next_code`].
    pub fn last_step(&self) -> Option<u64> {
        self.last_step
    }

    /// The code the server takes next, marked as used: the lowest step above the last one used
    /// that lies within the server's window (its now-1 to now+1) whenever the request reaches it
    /// within [`IN_FLIGHT`]. When every such step is used (now+1 was), waits until the next step
    /// begins, exactly as long as needed.
    pub async fn next_code(&mut self) -> String {
        loop {
            let now = SystemTime::now();
            // The server's now, when it reads the code, lies between these two steps.
            let (earliest, latest) = (step_at(now), step_at(now + IN_FLIGHT));
            let lowest = latest.saturating_sub(1);
            let step = match self.last_step {
                Some(last) => lowest.max(last + 1),
                None => lowest,
            };
            if step <= earliest + 1 {
                self.last_step = Some(step);
                return self.code_at(step);
            }
            // step - 1 must be the server's now at the earliest: wait for it to begin.
            let begins = UNIX_EPOCH + Duration::from_secs((step - 1) * STEP_SECONDS);
            let wait = begins.duration_since(now).unwrap_or_default();
            tokio::time::sleep(wait + Duration::from_millis(50)).await;
        }
    }

    /// A well-formed 6-digit code that is the code of no step the server could take now or soon
    /// (nor of those just before): a wrong code for sure, not by chance.
    pub fn wrong_code(&self) -> String {
        let now = current_step();
        let near: Vec<String> = (now.saturating_sub(3)..=now + 3)
            .map(|s| self.code_at(s))
            .collect();
        (0..)
            .map(|n: u32| format!("{:06}", (n * 137_731) % 1_000_000))
            .find(|candidate| !near.contains(candidate))
            .expect("seven codes cannot cover every candidate")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B, the SHA-1 rows: the ASCII secret "12345678901234567890", 8 digits.
    #[test]
    fn totp_matches_the_rfc_6238_sha1_test_vectors() {
        let key = b"12345678901234567890";
        for (time, expected) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(hotp(key, time / STEP_SECONDS, 8), expected, "T = {time}");
            // Six digits are the last six of the eight.
            assert_eq!(totp(key, time / STEP_SECONDS), expected[2..], "T = {time}");
        }
    }

    /// RFC 4226, appendix D: HOTP values of the same secret, counters 0 to 9.
    #[test]
    fn hotp_matches_the_rfc_4226_test_vectors() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
            "520489",
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(
                hotp(b"12345678901234567890", counter as u64, 6),
                *code,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn base32_decodes_rfc_4648_vectors_and_refuses_anything_else() {
        // RFC 4648 section 10, padding dropped.
        for (encoded, decoded) in [
            ("", ""),
            ("MY", "f"),
            ("MZXQ", "fo"),
            ("MZXW6", "foo"),
            ("MZXW6YQ", "foob"),
            ("MZXW6YTB", "fooba"),
            ("MZXW6YTBOI", "foobar"),
        ] {
            assert_eq!(
                base32_decode(encoded).as_deref(),
                Some(decoded.as_bytes()),
                "{encoded}"
            );
        }
        // The RFC 6238 secret as apps are given it: 20 bytes, 32 characters.
        assert_eq!(
            base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").as_deref(),
            Some(&b"12345678901234567890"[..])
        );
        for bad in ["mzxw6", "MZXW6=", "MZ1W6", "MZ XW", "MZ"] {
            // "MZ" leaves non-zero bits over.
            assert_eq!(base32_decode(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn the_authenticator_hands_out_increasing_steps_within_the_servers_window() {
        let mut app = Authenticator::new("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let now = current_step();
        let mut steps = Vec::new();
        for _ in 0..2 {
            let code = app.next_code().await;
            let step = app.last_step().expect("a step");
            assert_eq!(code, totp(b"12345678901234567890", step));
            steps.push(step);
        }
        assert!(steps[0] < steps[1], "{steps:?}");
        assert!(
            steps[0] + 1 >= now && steps[1] <= current_step() + 1,
            "{steps:?} at {now}"
        );
        let wrong = app.wrong_code();
        assert!(
            wrong.len() == 6 && wrong.bytes().all(|b| b.is_ascii_digit()),
            "{wrong}"
        );
        assert!((now - 3..=now + 3).all(|s| app.code_at(s) != wrong));
    }
}
