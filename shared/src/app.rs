//! The application state: config plus the adapters chosen by it, built once per process (once per
//! Lambda cold start) and borrowed by every request.

use std::sync::Arc;

use anyhow::{Context, bail};

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, MailerKind, StoreKind};
use crate::mail::Mailer;
use crate::mail::outbox::OutboxMailer;
use crate::password::Passwords;
use crate::store::Store;
use crate::store::sqlite::SqliteStore;
use crate::tokens::Tokens;

/// Everything a handler needs.
pub struct App {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub passwords: Passwords,
    pub tokens: Tokens,
    pub clock: Arc<dyn Clock>,
}

impl App {
    /// Builds the adapters the config names.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store: Arc<dyn Store> = match &config.store {
            StoreKind::Sqlite => Arc::new(SqliteStore::open(&config.data_dir)?),
            StoreKind::DynamoDb { .. } => {
                bail!("STORE=dynamodb is not available in this build yet")
            }
        };
        let mailer: Arc<dyn Mailer> = match config.mailer {
            MailerKind::Outbox => Arc::new(OutboxMailer::new(
                config.data_dir.join("outbox"),
                config.mail_from.clone(),
            )?),
            MailerKind::Ses => bail!("MAILER=ses is not available in this build yet"),
        };
        let passwords = Passwords::new(config.bcrypt_cost).context("Failed to set up password hashing")?;
        let tokens = Tokens::new(&config);
        Ok(Self {
            config,
            store,
            mailer,
            passwords,
            tokens,
            clock: Arc::new(SystemClock),
        })
    }
}
