//! `ucontact-local keys rotate [--activate-in SECONDS]`: adds a new signing key to each purpose's
//! set (session keys of `JWT_ALGORITHM`, link keys EdDSA) and retires the previous one at the new
//! key's activation; retired keys stay in the JWKS until every token they signed has expired, so
//! nobody is logged out. `ucontact-local keys public` prints the deployment's `PublicKeys` value.
//!
//! - Locally (the embedded store) the new key signs at once: this process and the server share
//!   the data dir, and the server rereads it within `KEYS_REFRESH_SECONDS`.
//! - With `STORE=dynamodb` it writes the Secrets Manager key store named by
//!   `KEYS_SECRET_PREFIX`, public keys first, and prints the new `PublicKeys` value. Deployed
//!   functions verify with the public keys of their deployment and sign only with published keys,
//!   so the new key signs once a deployment carries it *and* it has activated (by default an
//!   hour later: the time to deploy before it signs anywhere).

use std::io::Write;

use anyhow::{Context, bail};
use shared::config::{Config, StoreKind};

const USAGE: &str = "usage: ucontact-local [keys rotate [--activate-in SECONDS] | keys public]";

/// Seconds from a deployed rotation to its key's activation, by default: time to deploy the new
/// public keys (README "Signing keys").
const DEPLOYED_ACTIVATION_DELAY: i64 = 3600;

pub async fn command(args: &[String], config: Config) -> anyhow::Result<()> {
    let activate_in = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["keys", "public"] => return print_public(&config).await,
        ["keys", "rotate"] => None,
        ["keys", "rotate", "--activate-in", seconds] => Some(
            seconds
                .parse::<i64>()
                .ok()
                .filter(|s| (0..=7 * 24 * 3600).contains(s))
                .with_context(|| {
                    format!("--activate-in: expected whole seconds from 0 to 604800, got {seconds:?}")
                })?,
        ),
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            return Ok(());
        }
        _ => bail!("{USAGE}"),
    };
    let aws = matches!(config.store, StoreKind::DynamoDb { .. });
    let sdk = if aws {
        Some(shared::aws::sdk_config().await?)
    } else {
        None
    };
    let store = shared::app::key_store(&config, sdk.as_ref())?;
    let activate_in = activate_in.unwrap_or(if aws { DEPLOYED_ACTIVATION_DELAY } else { 0 });
    let now = chrono::Utc::now().timestamp();
    let reports = store
        .rotate(&config.lifetimes, config.jwt_algorithm, now, activate_in)
        .await
        .context("Failed to rotate the signing keys")?;
    for report in reports {
        let at = chrono::DateTime::from_timestamp(report.activates_at, 0).unwrap_or_default();
        println!(
            "{} keys: new key {} signs from {} (in {} s); keys in the set: {}",
            report.purpose.name(),
            report.new_kid,
            at.to_rfc3339(),
            report.activates_at - now,
            report.kids.join(", ")
        );
    }
    if aws {
        println!(
            "deploy the new public keys before the activation (sam deploy --parameter-overrides PublicKeys=...):"
        );
        print_public(&config).await?;
    }
    Ok(())
}

/// Prints the key store's public sets as the `PublicKeys` parameter (and `PUBLIC_KEYS`) takes
/// them: one line, nothing secret.
async fn print_public(config: &Config) -> anyhow::Result<()> {
    let sdk = match config.store {
        StoreKind::DynamoDb { .. } => Some(shared::aws::sdk_config().await?),
        StoreKind::Sqlite => None,
    };
    let store = shared::app::key_store(config, sdk.as_ref())?;
    let public = store
        .public_sets()
        .await
        .context("Failed to read the public keys")?;
    let line = shared::keys::deployed::encode_public(&public)?;
    // A closed pipe (`keys public | head -c 10`) is the reader's choice, not an error to panic on.
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
