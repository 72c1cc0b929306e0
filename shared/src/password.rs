//! Password hashing with bcrypt, on its own small pool of low-priority threads, so that it never
//! stalls the async workers nor crowds out their CPU (see [`pool`]).
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
        let hash = pool::run(move || bcrypt::hash(input, cost))
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
        let matches = pool::run(move || bcrypt::verify(input, &hash))
            .await
            .context("Password verification task failed")?
            .context("Failed to verify a password")?;
        Ok(known && matches)
    }
}

/// The threads bcrypt runs on. bcrypt is pure CPU for a quarter of a second at cost 12: on
/// tokio's blocking pool, a few concurrent logins would take every core from the async workers
/// and every other request would wait behind them. Here one thread per core takes jobs in order,
/// at the lowest scheduling priority (nice 19 on Linux): bcrypt uses every core that is free,
/// and whenever a request handler wants a core the scheduler gives it almost all of it (weight
/// 1024 against 15). The threads start on first use: a cold start that checks no password pays
/// nothing. In Lambda nothing changes: one request per instance.
mod pool {
    use std::sync::mpsc::{Receiver, Sender, channel};
    use std::sync::{Arc, Mutex, OnceLock};

    type Job = Box<dyn FnOnce() + Send>;

    fn queue() -> &'static Mutex<Sender<Job>> {
        static QUEUE: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
        QUEUE.get_or_init(|| {
            let (sender, receiver) = channel::<Job>();
            let receiver = Arc::new(Mutex::new(receiver));
            let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
            for i in 0..threads {
                let receiver = Arc::clone(&receiver);
                std::thread::Builder::new()
                    .name(format!("bcrypt-{i}"))
                    .spawn(move || work(&receiver))
                    .expect("a bcrypt thread");
            }
            Mutex::new(sender)
        })
    }

    fn work(receiver: &Mutex<Receiver<Job>>) {
        lower_priority();
        loop {
            let job = match receiver.lock() {
                Ok(receiver) => receiver.recv(),
                Err(_) => return,
            };
            match job {
                Ok(job) => job(),
                Err(_) => return,
            }
        }
    }

    /// The nice value of bcrypt threads: the lowest priority there is.
    pub(super) const NICE: i32 = 19;

    /// [`NICE`] for the calling thread (on Linux the nice value is per thread).
    fn lower_priority() {
        #[cfg(target_os = "linux")]
        // SAFETY: setpriority only reads its integer arguments; who = 0 is the calling thread.
        unsafe {
            libc::setpriority(libc::PRIO_PROCESS, 0, NICE);
        }
    }

    /// Runs `f` on the pool and waits for it without blocking the async worker.
    pub async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // The request may have gone while this waited in the queue (the client hung up):
            // then nobody wants the answer, and the quarter second of CPU is not spent.
            if !done.is_closed() {
                let _ = done.send(f());
            }
        });
        queue()
            .lock()
            .map_err(|_| anyhow::anyhow!("bcrypt queue poisoned"))?
            .send(job)
            .map_err(|_| anyhow::anyhow!("bcrypt threads stopped"))?;
        Ok(result.await?)
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

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn bcrypt_runs_on_low_priority_threads_of_its_own() {
        let (priority, name) = pool::run(|| {
            // SAFETY: getpriority only reads its integer arguments; who = 0 is this thread.
            let priority = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
            (priority, std::thread::current().name().map(str::to_owned))
        })
        .await
        .unwrap();
        assert_eq!(priority, pool::NICE);
        assert!(name.is_some_and(|n| n.starts_with("bcrypt-")));
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
