//! Abuse limits: login backoff per identifier and email-send throttling per address. The policies
//! here are pure arithmetic; the stores apply them in one atomic step each (an SQLite transaction,
//! a DynamoDB conditional write), so concurrent requests can't slip past a limit.
//!
//! Keys are keyed hashes (HMAC-SHA-256 under a key of their own, never a signing key) of the normalized identifier or
//! address, so the store never holds what someone typed into the username field, which is
//! sometimes a password.

use hmac::{KeyInit, Mac};

use crate::domain::LoginIdentifier;
use sha2::Sha256;

/// Longest login backoff window, in milliseconds (15 min).
pub const MAX_BACKOFF_MS: i64 = 15 * 60 * 1000;

/// How long backoff and throttle state outlives its last attempt before the store forgets it.
pub const STATE_RETENTION_SECONDS: i64 = 2 * 24 * 3600;

const DAY_SECONDS: i64 = 24 * 3600;

/// Login backoff: after `threshold` consecutive failures for one identifier, each further
/// attempt must wait `2^(n − threshold)` seconds (capped at 15 min) after the previous one.
/// Times are in milliseconds, so a window never shrinks to a sliver at a second boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginBackoff {
    pub threshold: i64,
}

/// One identifier's attempts so far. Attempts are counted when they start (before bcrypt), so a
/// burst of parallel guesses can't all pass the check before any failure is recorded; a correct
/// password clears the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptState {
    /// Consecutive attempts without a correct password, including any still running.
    pub failures: i64,
    /// When the latest of them started (unix milliseconds).
    pub last_at_ms: i64,
}

/// Whether a login attempt may run its password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Counted; go on.
    Open,
    /// Refused for this many more milliseconds.
    Locked { retry_after_ms: i64 },
}

impl LoginBackoff {
    /// How long (ms) after the latest attempt the next one must wait, given `failures` so far.
    pub fn window_ms(&self, failures: i64) -> i64 {
        if failures < self.threshold {
            return 0;
        }
        let exponent = failures - self.threshold;
        if exponent >= 10 {
            MAX_BACKOFF_MS
        } else {
            (1000_i64 << exponent).min(MAX_BACKOFF_MS)
        }
    }

    /// The gate for a new attempt at `now_ms`.
    pub fn gate(&self, state: Option<AttemptState>, now_ms: i64) -> Gate {
        match state {
            // Below the threshold there is no window at all: an attempt whose clock read a few
            // milliseconds before a concurrent attempt's was counted is not "too early".
            Some(state) if self.window_ms(state.failures) == 0 => Gate::Open,
            Some(state) => {
                let open_at = state.last_at_ms + self.window_ms(state.failures);
                if now_ms < open_at {
                    Gate::Locked {
                        retry_after_ms: open_at - now_ms,
                    }
                } else {
                    Gate::Open
                }
            }
            None => Gate::Open,
        }
    }

    /// The state after counting an attempt that the gate let through.
    pub fn count(&self, state: Option<AttemptState>, now_ms: i64) -> AttemptState {
        AttemptState {
            failures: state.map_or(0, |s| s.failures) + 1,
            last_at_ms: now_ms,
        }
    }

    /// Every distinct window, in order: `(failures, window in ms)` from the threshold up to the first
    /// count whose window is the cap, which then holds for every larger count. Stores that must
    /// spell the rule out as an expression (DynamoDB) enumerate these.
    pub fn windows(&self) -> Vec<(i64, i64)> {
        let mut windows = Vec::new();
        let mut failures = self.threshold;
        loop {
            let window = self.window_ms(failures);
            windows.push((failures, window));
            if window >= MAX_BACKOFF_MS {
                return windows;
            }
            failures += 1;
        }
    }
}

/// Email throttling per address: at most one email per `interval` seconds and `daily_limit` per
/// UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailThrottle {
    /// Least seconds between two emails (0: no spacing).
    pub interval: i64,
    pub daily_limit: i64,
}

/// Emails sent to one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendState {
    /// The UTC day (days since the epoch) `sent` counts.
    pub day: i64,
    pub sent: i64,
    /// When the latest email was sent (unix seconds).
    pub last_at: i64,
}

impl EmailThrottle {
    /// The UTC day of `now`.
    pub fn day(now: i64) -> i64 {
        now.div_euclid(DAY_SECONDS)
    }

    /// The state after the first email to an address (registration's, recorded with the user).
    pub fn first(now: i64) -> SendState {
        SendState {
            day: Self::day(now),
            sent: 1,
            last_at: now,
        }
    }

    /// The state after one more email at `now`, or `None` when it is throttled.
    pub fn send(&self, state: Option<SendState>, now: i64) -> Option<SendState> {
        let today = Self::day(now);
        match state {
            None => Some(Self::first(now)),
            Some(state) if now - state.last_at < self.interval => None,
            Some(state) if state.day == today && state.sent >= self.daily_limit => None,
            Some(state) => Some(SendState {
                day: today,
                sent: if state.day == today { state.sent + 1 } else { 1 },
                last_at: now,
            }),
        }
    }
}

/// The limits in force and the key that turns identifiers into store keys.
#[derive(Clone)]
pub struct Limits {
    pub login: LoginBackoff,
    pub email: EmailThrottle,
    /// The abuse-state hash key; `None` in functions that key no abuse state.
    key: Option<Vec<u8>>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("login", &self.login)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

impl Limits {
    pub fn new(login: LoginBackoff, email: EmailThrottle, key: Option<Vec<u8>>) -> Self {
        Self { login, email, key }
    }

    /// The backoff key of a login identifier (the username or the email, normalized), so known
    /// and unknown accounts are treated alike.
    pub fn login_key(&self, identifier: &LoginIdentifier) -> Result<String, NoHashKey> {
        match identifier {
            LoginIdentifier::Email(key) => self.digest(&format!("email:{key}")),
            LoginIdentifier::Username(key) => self.digest(&format!("username:{key}")),
        }
    }

    /// The throttle key of an email address key.
    pub fn email_key(&self, address_key: &str) -> Result<String, NoHashKey> {
        self.digest(&format!("mail:{address_key}"))
    }

    /// HMAC-SHA-256 of `value` under the abuse-state hash key, hex: also what the hosted pages
    /// bind their forms with (crate::oidc::browser), each use under its own prefix.
    pub(crate) fn digest(&self, value: &str) -> Result<String, NoHashKey> {
        let key = self.key.as_deref().ok_or(NoHashKey)?;
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).map_err(|_| NoHashKey)?;
        mac.update(value.as_bytes());
        Ok(hex(&mac.finalize().into_bytes()))
    }
}

/// This function was built without the abuse-state hash key (its route declares no need for it).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("this function holds no abuse-state hash key (shared::routes key needs)")]
pub struct NoHashKey;

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: LoginBackoff = LoginBackoff { threshold: 5 };

    #[test]
    fn the_window_doubles_from_the_threshold_and_stops_at_fifteen_minutes() {
        assert_eq!(BACKOFF.window_ms(0), 0);
        assert_eq!(BACKOFF.window_ms(4), 0);
        assert_eq!(BACKOFF.window_ms(5), 1000);
        assert_eq!(BACKOFF.window_ms(6), 2000);
        assert_eq!(BACKOFF.window_ms(14), 512_000);
        assert_eq!(BACKOFF.window_ms(15), 900_000);
        assert_eq!(BACKOFF.window_ms(i64::MAX), 900_000);
        let windows = BACKOFF.windows();
        assert_eq!(windows.first(), Some(&(5, 1000)));
        assert_eq!(windows.last(), Some(&(15, 900_000)));
    }

    #[test]
    fn the_gate_opens_when_the_window_has_passed() {
        let state = |failures| {
            Some(AttemptState {
                failures,
                last_at_ms: 1_000_000,
            })
        };
        let locked = |retry_after_ms| Gate::Locked { retry_after_ms };
        assert_eq!(BACKOFF.gate(None, 1_000_000), Gate::Open);
        assert_eq!(BACKOFF.gate(state(4), 1_000_000), Gate::Open);
        // Concurrent attempts read the clock before they are counted: one that read it just
        // before another's count landed is still open below the threshold.
        assert_eq!(BACKOFF.gate(state(4), 999_997), Gate::Open);
        assert_eq!(BACKOFF.gate(state(5), 1_000_000), locked(1000));
        assert_eq!(BACKOFF.gate(state(5), 1_000_999), locked(1));
        assert_eq!(BACKOFF.gate(state(5), 1_001_000), Gate::Open);
        assert_eq!(BACKOFF.gate(state(7), 1_001_000), locked(3000));
        assert_eq!(BACKOFF.gate(state(40), 1_000_000), locked(900_000));
        assert_eq!(BACKOFF.count(state(5), 1_004_000).failures, 6);
    }

    #[test]
    fn emails_are_spaced_and_counted_per_day() {
        let throttle = EmailThrottle {
            interval: 60,
            daily_limit: 3,
        };
        let day = 20_000 * DAY_SECONDS;
        let first = throttle.send(None, day + 10).unwrap();
        assert_eq!(throttle.send(Some(first), day + 69), None);
        let second = throttle.send(Some(first), day + 70).unwrap();
        let third = throttle.send(Some(second), day + 200).unwrap();
        assert_eq!(third.sent, 3);
        assert_eq!(throttle.send(Some(third), day + 5000), None);
        let next_day = throttle.send(Some(third), day + DAY_SECONDS).unwrap();
        assert_eq!((next_day.sent, next_day.day), (1, 20_001));
        // No spacing at all when the interval is 0.
        let free = EmailThrottle {
            interval: 0,
            daily_limit: 10,
        };
        assert!(free.send(Some(first), day + 10).is_some());
    }

    #[test]
    fn keys_hide_the_identifier_and_ignore_case() {
        let limits = Limits::new(
            BACKOFF,
            EmailThrottle {
                interval: 60,
                daily_limit: 10,
            },
            Some(b"key".to_vec()),
        );
        let key = |presented: &str| limits.login_key(&LoginIdentifier::parse(presented)).unwrap();
        assert_eq!(key("Alice"), key("alice"));
        assert_eq!(key("Alice@Example.org"), key("alice@example.org"));
        assert_ne!(key("alice"), key("alice@example.org"));
        assert!(!key("alice").contains("alice"));
        assert_eq!(key("alice").len(), 64);
        let keyless = Limits::new(BACKOFF, limits.email, None);
        assert!(keyless.email_key("alice@example.org").is_err());
    }
}
