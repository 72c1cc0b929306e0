//! bcrypt's own speed, against the reference the login goal is set by: one hash at cost 12 in
//! this build (`shared::password::Passwords`, the server's code, so the release profile's
//! overrides for `bcrypt` and `blowfish` apply) and one by pyca/bcrypt 5.0 (Python's `bcrypt`,
//! pinned in scripts/requirements-dev.txt), one after the other in the same run.
//! `--only bcrypt` runs just this (a minute), for before/after figures of a profile change.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use shared::domain::Password;
use shared::password::Passwords;

use crate::Options;

pub const COST: u32 = 12;
const PASSWORD: &str = "bench-passphrase-not-common";

/// Per-hash times (ms), one entry per sample.
#[derive(Debug, Clone)]
pub struct BcryptSpeed {
    pub this_build_ms: Vec<f64>,
    pub pyca_ms: Vec<f64>,
    /// `bcrypt.__version__` as the venv's Python reports it.
    pub pyca_version: String,
}

/// pyca/bcrypt, timed with `timeit` in the project's venv: one line with the version, then one
/// line per sample (seconds for one `hashpw` at [`COST`]).
fn pyca(python: &Path, samples: usize) -> anyhow::Result<(String, Vec<f64>)> {
    let script = format!(
        "import bcrypt, timeit\n\
         print(bcrypt.__version__)\n\
         salt = bcrypt.gensalt({COST})\n\
         for _ in range({samples}):\n    \
             print(timeit.timeit(lambda: bcrypt.hashpw(b'{PASSWORD}', salt), number=1))\n"
    );
    let output = Command::new(python)
        .args(["-c", &script])
        .output()
        .with_context(|| format!("run {} (scripts/setup makes the venv)", python.display()))?;
    if !output.status.success() {
        bail!(
            "pyca/bcrypt timing failed (is bcrypt in .venv? scripts/setup installs it): {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let version = lines.next().context("pyca/bcrypt printed nothing")?.to_owned();
    let times = lines
        .map(|line| line.trim().parse::<f64>().map(|s| s * 1e3))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("pyca/bcrypt timing output: {text:?}"))?;
    if times.len() != samples {
        bail!("pyca/bcrypt gave {} samples, not {samples}", times.len());
    }
    Ok((version, times))
}

pub async fn run(options: &Options) -> anyhow::Result<BcryptSpeed> {
    let samples = options.pick(9, 1);
    let passwords = Passwords::new(COST)?;
    let password = Password::parse(PASSWORD).map_err(|e| anyhow!(e.message))?;
    // One untimed hash first: it starts the bcrypt threads.
    passwords.hash(&password).await?;
    let mut this_build_ms = Vec::new();
    for _ in 0..samples {
        let started = Instant::now();
        passwords.hash(&password).await?;
        this_build_ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let (pyca_version, pyca_ms) = pyca(&options.python, samples)?;
    if !pyca_version.starts_with("5.0.") {
        bail!("pyca/bcrypt {pyca_version} in the venv; the goal is set by 5.0 (scripts/setup)");
    }
    Ok(BcryptSpeed {
        this_build_ms,
        pyca_ms,
        pyca_version,
    })
}
