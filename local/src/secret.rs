//! The JWT secret of a local data dir: generated on first start, kept in `jwt_secret` (mode 0600).

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::Path;

use anyhow::Context;
use base64::Engine;

/// Reads the data dir's secret, creating it if there is none.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("Failed to create the data directory {}", data_dir.display()))?;
    let path = data_dir.join("jwt_secret");
    let mut bytes = [0u8; 48];
    rand::fill(&mut bytes);
    let fresh = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);

    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(fresh.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("Failed to write {}", path.display()))?;
            tracing::info!(file = %path.display(), "generated a JWT secret for this data directory");
            Ok(fresh)
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let kept = std::fs::read_to_string(&path)
                .with_context(|| format!("Failed to read {}", path.display()))?;
            Ok(kept.trim().to_owned())
        }
        Err(e) => Err(e).with_context(|| format!("Failed to create {}", path.display())),
    }
}
