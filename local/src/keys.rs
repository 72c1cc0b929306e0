//! `ucontact-local keys rotate [--activate-in SECONDS]`: adds a new signing key to each purpose's
//! set (session and link keys) and retires the previous one at the new key's activation; retired
//! keys stay in the JWKS until every token they signed has expired, so nobody is logged out.
//!
//! - Locally (the embedded store) the new key signs at once: this process and the server share
//!   the data dir, and the server rereads it within `KEYS_REFRESH_SECONDS`.
//! - With `STORE=dynamodb` it writes the Secrets Manager key store named by
//!   `KEYS_SECRET_PREFIX`, public keys first. By default the new key activates two refresh
//!   intervals later, when every warm function has read the new public key.

use anyhow::{Context, bail};
use shared::config::{Config, StoreKind};

const USAGE: &str = "usage: ucontact-local [keys rotate [--activate-in SECONDS]]";

pub async fn command(args: &[String], config: Config) -> anyhow::Result<()> {
    let activate_in = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
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
    let store = shared::app::key_store(&config, sdk.as_ref());
    let activate_in = activate_in.unwrap_or(if aws { 2 * config.keys_refresh_seconds } else { 0 });
    let now = chrono::Utc::now().timestamp();
    let reports = store
        .rotate(&config.lifetimes, now, activate_in)
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
    Ok(())
}
