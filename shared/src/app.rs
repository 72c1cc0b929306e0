//! The application state: config plus the adapters chosen by it, built once per process (once per
//! Lambda cold start) and borrowed by every request.

use std::sync::Arc;

use anyhow::Context;
use secrecy::ExposeSecret;

use crate::aws::{self, SdkConfig};
use crate::clock::{Clock, ShiftedClock, SystemClock};
use crate::config::{Config, MailerKind, StoreKind};
use crate::jobs::Background;
use crate::keys::deployed::{DeployedKeyStore, decode_public};
use crate::keys::file::FileKeyStore;
use crate::keys::{KeyNeeds, KeyRing, KeyStore};
use crate::mail::Mailer;
use crate::mfa::codes::MfaKeys;
use crate::password::Passwords;
use crate::store::mfa::MfaStore;
use crate::store::passkeys::PasskeyStore;
use crate::store::{ContactStore, Store, WarmUp};
use crate::throttle::{EmailThrottle, Limits, LoginBackoff};
use crate::tokens::Tokens;

/// Everything a handler needs.
pub struct App {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub contacts: Arc<dyn ContactStore>,
    /// Second factors: TOTP state and recovery codes (the same adapter as `store`).
    pub mfa: Arc<dyn MfaStore>,
    /// The keys that seal TOTP secrets and hash recovery codes; only in the functions whose
    /// route checks or stores them (`KeyNeeds::mfa`).
    pub mfa_keys: Option<MfaKeys>,
    /// Passkeys, their credential-id guards and ceremony states (the same adapter as `store`).
    pub passkeys: Arc<dyn PasskeyStore>,
    pub mailer: Arc<dyn Mailer>,
    pub passwords: Passwords,
    pub tokens: Tokens,
    pub clock: Arc<dyn Clock>,
    pub limits: Limits,
    /// How committed jobs reach their runner: the table's stream when deployed, the local
    /// server's job task locally ([`crate::jobs`]).
    pub background: Background,
}

/// The key store of the config's deployment: the data dir's files with the embedded store;
/// with DynamoDB, Secrets Manager for the local server and the operator's commands, and for a
/// deployed function its deployment's public keys plus (if it is built with them) Secrets
/// Manager's secrets ([`crate::keys::deployed`]). `sdk` is loaded when the store is DynamoDB and
/// the binary has an AWS client; without one (a function built without any) only PUBLIC_KEYS.
pub fn key_store(config: &Config, sdk: Option<&SdkConfig>) -> anyhow::Result<Arc<dyn KeyStore>> {
    if !matches!(config.store, StoreKind::DynamoDb { .. }) {
        return Ok(Arc::new(FileKeyStore::new(
            &config.data_dir,
            config.jwt_algorithm,
        )));
    }
    // A function built without any AWS client has no SDK, and verifies with PUBLIC_KEYS alone.
    let secrets = sdk
        .context("this binary is built without the AWS SDK")
        .and_then(|sdk| secrets::store(config, sdk));
    match &config.public_keys {
        None => secrets.context("the local server's DynamoDB key store is Secrets Manager"),
        Some(public) => {
            let public = decode_public(public).context("PUBLIC_KEYS (the PublicKeys parameter)")?;
            if public.session.is_empty() {
                tracing::warn!(
                    "PUBLIC_KEYS holds no session key: no token verifies until a deployment publishes the keys (README \"Signing keys\")"
                );
            }
            Ok(Arc::new(DeployedKeyStore::new(public, secrets.ok())))
        }
    }
}

impl App {
    /// Builds the adapters the config names, with the keys `needs` names (a Lambda function's
    /// route's, or all of them for the local server). The key load, the store's connection
    /// (opened by one `warm_up` read, bounded by [`WARM_UP_LIMIT`], never failing the start) and
    /// the mailer are made concurrently: one round trip of latency for all of them.
    pub async fn build(config: Config, needs: KeyNeeds, warm_up: WarmUp) -> anyhow::Result<Self> {
        // One SDK configuration for both AWS clients, loaded only when one of them is used.
        // (A binary built without any AWS client, `aws` off, has none to configure.)
        let uses_aws = cfg!(feature = "aws")
            && (matches!(config.store, StoreKind::DynamoDb { .. }) || config.mailer == MailerKind::Ses);
        let sdk = if uses_aws {
            Some(aws::sdk_config().await?)
        } else {
            None
        };
        // Against an emulator (never otherwise), create what is missing: the table, the keys,
        // the sender.
        let provision = config.aws_endpoint_url.is_some();
        if provision && let (StoreKind::DynamoDb { .. }, Some(sdk)) = (&config.store, &sdk) {
            secrets::provision(&config, sdk).await?;
        }
        let keys = key_store(&config, sdk.as_ref())?;
        let refresh = std::time::Duration::from_secs(config.keys_refresh_seconds.unsigned_abs());

        let stores = async {
            // Each adapter serves every port.
            let stores: Stores = match &config.store {
                StoreKind::DynamoDb { table } => dynamodb::store(table, sdk.as_ref(), provision).await?,
                StoreKind::Sqlite => embedded::store(&config)?,
            };
            if warm_up != WarmUp::None {
                match tokio::time::timeout(WARM_UP_LIMIT, stores.store.warm_up(warm_up)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::info!(error = %e, "the store's warm-up read failed; the first request connects")
                    }
                    Err(_) => {
                        tracing::info!("the store's warm-up read timed out; the first request connects")
                    }
                }
            }
            anyhow::Ok(stores)
        };
        let mailer = async {
            anyhow::Ok(match config.mailer {
                MailerKind::Ses => ses::mailer(&config, sdk.as_ref(), provision).await?,
                MailerKind::Outbox => embedded::mailer(&config)?,
            })
        };
        let ring = async {
            KeyRing::load(keys, needs, refresh)
                .await
                .context("Failed to load the signing keys")
        };
        let (stores, mailer, ring) = tokio::join!(stores, mailer, ring);
        let (stores, mailer, ring) = (stores?, mailer?, Arc::new(ring?));

        let passwords = Passwords::new(config.bcrypt_cost).context("Failed to set up password hashing")?;
        let clock: Arc<dyn Clock> = match config.fake_now {
            Some(start) => Arc::new(ShiftedClock::starting_at(start)),
            None => Arc::new(SystemClock),
        };
        let abuse_hash_key = ring
            .current()
            .abuse_hash
            .as_ref()
            .map(|k| k.expose_secret().to_vec());
        let mfa_keys = ring.current().mfa.as_ref().map(MfaKeys::new);
        let tokens = Tokens::new(&config, ring, Arc::clone(&clock));
        let limits = Limits::new(
            LoginBackoff {
                threshold: config.abuse.login_backoff_threshold,
            },
            EmailThrottle {
                interval: config.abuse.email_throttle_seconds,
                daily_limit: config.abuse.email_daily_limit,
            },
            abuse_hash_key,
        );
        Ok(Self {
            config,
            store: stores.store,
            contacts: stores.contacts,
            mfa: stores.mfa,
            mfa_keys,
            passkeys: stores.passkeys,
            mailer,
            passwords,
            tokens,
            clock,
            limits,
            background: Background::Stream,
        })
    }
}

/// One adapter behind each store port.
struct Stores {
    store: Arc<dyn Store>,
    contacts: Arc<dyn ContactStore>,
    mfa: Arc<dyn MfaStore>,
    passkeys: Arc<dyn PasskeyStore>,
}

impl Stores {
    /// Every port served by one adapter.
    fn of<T>(adapter: T) -> Self
    where
        T: Store + ContactStore + MfaStore + PasskeyStore + 'static,
    {
        let adapter = Arc::new(adapter);
        Self {
            store: adapter.clone(),
            contacts: adapter.clone(),
            mfa: adapter.clone(),
            passkeys: adapter,
        }
    }
}

/// The longest a cold start waits for its warm-up read (Lambda's init phase is 10 s; a store that
/// does not answer in this time is left to the first request, as before).
pub const WARM_UP_LIMIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// The Secrets Manager key store, compiled in with the `secrets-manager` feature: the local
/// server, the operator's commands, and the functions that sign or key abuse state.
#[cfg(feature = "secrets-manager")]
mod secrets {
    use std::sync::Arc;

    use anyhow::Context;

    use crate::aws::SdkConfig;
    use crate::config::Config;
    use crate::keys::KeyStore;
    use crate::keys::secrets_manager::SecretsManagerKeyStore;

    fn manager(config: &Config, sdk: &SdkConfig) -> SecretsManagerKeyStore {
        SecretsManagerKeyStore::new(
            aws_sdk_secretsmanager::Client::new(sdk),
            config.keys_secret_prefix.clone(),
        )
    }

    pub fn store(config: &Config, sdk: &SdkConfig) -> anyhow::Result<Arc<dyn KeyStore>> {
        Ok(Arc::new(manager(config, sdk)))
    }

    /// Against an emulator: the first keys, if there are none.
    pub async fn provision(config: &Config, sdk: &SdkConfig) -> anyhow::Result<()> {
        manager(config, sdk)
            .ensure(&config.lifetimes, config.jwt_algorithm)
            .await
            .context("Failed to provision the signing keys on the emulator")
    }
}

/// Functions that only verify are built without the Secrets Manager client: their public keys
/// come with the deployment, and a secret asked of them is a start-up error.
#[cfg(not(feature = "secrets-manager"))]
mod secrets {
    use std::sync::Arc;

    use crate::aws::SdkConfig;
    use crate::config::Config;
    use crate::keys::KeyStore;

    pub fn store(_: &Config, _: &SdkConfig) -> anyhow::Result<Arc<dyn KeyStore>> {
        anyhow::bail!(
            "this binary is built without the Secrets Manager key store (cargo feature `secrets-manager`)"
        )
    }

    pub async fn provision(_: &Config, _: &SdkConfig) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The SES mailer, compiled in with the `ses` feature.
#[cfg(feature = "ses")]
mod ses {
    use std::sync::Arc;

    use anyhow::Context;

    use crate::aws::SdkConfig;
    use crate::config::Config;
    use crate::mail::Mailer;
    use crate::mail::ses::SesMailer;

    pub async fn mailer(
        config: &Config,
        sdk: Option<&SdkConfig>,
        provision: bool,
    ) -> anyhow::Result<Arc<dyn Mailer>> {
        let sdk = sdk.context("MAILER=ses without an AWS SDK configuration")?;
        let mailer = SesMailer::new(aws_sdk_sesv2::Client::new(sdk), config.mail_from.clone());
        if provision {
            mailer.ensure_identity().await?;
        }
        Ok(Arc::new(mailer))
    }
}

/// Functions that send no email are built without the SES client (feature `ses` off): their
/// mailer refuses, which only a wrong build could ever reach.
#[cfg(not(feature = "ses"))]
mod ses {
    use std::sync::Arc;

    use async_trait::async_trait;

    use crate::aws::SdkConfig;
    use crate::config::Config;
    use crate::mail::{MailError, Mailer, OutgoingEmail};

    struct NoMailer;

    #[async_trait]
    impl Mailer for NoMailer {
        async fn send(&self, _: OutgoingEmail) -> Result<(), MailError> {
            Err(MailError(anyhow::anyhow!(
                "this function is built without the SES mailer (cargo feature `ses`)"
            )))
        }
    }

    pub async fn mailer(_: &Config, _: Option<&SdkConfig>, _: bool) -> anyhow::Result<Arc<dyn Mailer>> {
        Ok(Arc::new(NoMailer))
    }
}

/// The DynamoDB store, compiled in with the `dynamodb` feature.
#[cfg(feature = "dynamodb")]
mod dynamodb {
    use anyhow::Context;

    use super::Stores;
    use crate::aws::SdkConfig;
    use crate::store::dynamodb::DynamoStore;

    pub async fn store(table: &str, sdk: Option<&SdkConfig>, provision: bool) -> anyhow::Result<Stores> {
        let sdk = sdk.context("STORE=dynamodb without an AWS SDK configuration")?;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table.to_owned());
        if provision {
            store.ensure_table().await?;
        }
        Ok(Stores::of(store))
    }
}

/// Functions whose routes touch no store (no DynamoDB permission in template.yaml) are built
/// without it, and without the AWS SDK: their store refuses every call
/// ([`crate::store::absent`]), which only a wrong build could ever reach.
#[cfg(not(feature = "dynamodb"))]
mod dynamodb {
    use super::Stores;
    use crate::aws::SdkConfig;
    use crate::store::absent::AbsentStore;

    pub async fn store(_: &str, _: Option<&SdkConfig>, _: bool) -> anyhow::Result<Stores> {
        Ok(Stores::of(AbsentStore))
    }
}

/// The embedded adapters, compiled in with the `embedded` feature (the local server's).
#[cfg(feature = "embedded")]
mod embedded {
    use std::sync::Arc;

    use super::Stores;
    use crate::config::Config;
    use crate::mail::Mailer;
    use crate::mail::outbox::OutboxMailer;
    use crate::store::sqlite::SqliteStore;

    pub fn store(config: &Config) -> anyhow::Result<Stores> {
        Ok(Stores::of(SqliteStore::open(&config.data_dir)?))
    }

    pub fn mailer(config: &Config) -> anyhow::Result<Arc<dyn Mailer>> {
        Ok(Arc::new(OutboxMailer::new(
            config.data_dir.join("outbox"),
            config.mail_from.clone(),
        )?))
    }
}

/// Without the `embedded` feature (Lambda functions), asking for SQLite or the outbox is a clear
/// start-up error.
#[cfg(not(feature = "embedded"))]
mod embedded {
    use std::sync::Arc;

    use super::Stores;
    use crate::config::Config;
    use crate::mail::Mailer;

    pub fn store(_: &Config) -> anyhow::Result<Stores> {
        anyhow::bail!(
            "STORE=sqlite: this binary is built without the embedded store (cargo feature `embedded`); use STORE=dynamodb"
        )
    }

    pub fn mailer(_: &Config) -> anyhow::Result<Arc<dyn Mailer>> {
        anyhow::bail!(
            "MAILER=outbox: this binary is built without the outbox (cargo feature `embedded`); use MAILER=ses"
        )
    }
}
