//! `ucontact-local`: serves every route of the route table on `HOST:PORT` (default
//! 127.0.0.1:8000) from the same handlers as the Lambda functions, on the embedded store and the
//! outbox mailer by default. Stops gracefully on SIGTERM or Ctrl-C.
//!
//! `ucontact-local keys rotate` makes a new current signing key (docs/API.md, "Signing keys"):
//! in the data dir, or with `STORE=dynamodb` in the AWS key store.

mod deadline;
mod head_errors;
mod keys;
mod limits;
mod server;

use std::collections::HashMap;
use std::net::SocketAddr;

use anyhow::Context;
use shared::config::{Config, Deployment, StoreKind};
use shared::keys::KeyNeeds;
use shared::keys::file::FileKeyStore;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    shared::telemetry::init_local();
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ucontact-local: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let lookup = |name: &str| env.get(name).cloned();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        return keys::command(&args, Config::from_lookup(Deployment::Local, lookup)?).await;
    }
    let address = listen_address(&lookup)?;
    let limits = limits::Limits::from_lookup(&lookup)?;
    // The signing keys are made on first start and kept in the data dir (keys/, mode 0600).
    let config = Config::from_lookup(Deployment::Local, lookup)?;
    tracing::info!(?config, ?limits, "starting");
    if config.store == StoreKind::Sqlite {
        // The data dir's session keys follow JWT_ALGORITHM: a start with another algorithm than
        // the newest key's rotates to a key of it (earlier keys keep verifying their tokens).
        let keys = FileKeyStore::new(&config.data_dir, config.jwt_algorithm);
        if let Some(kid) = keys
            .follow_configured_algorithm(&config.lifetimes)
            .await
            .context("Failed to rotate the session keys to JWT_ALGORITHM")?
        {
            tracing::info!(kid, algorithm = %config.jwt_algorithm, "rotated the session keys to JWT_ALGORITHM");
        }
    }
    let mut app = shared::App::build(config, KeyNeeds::ALL, shared::store::WarmUp::None).await?;
    // Background jobs (emails, purges) run in this process, right after the answer.
    let (queue, jobs) = tokio::sync::mpsc::unbounded_channel();
    app.background = shared::jobs::Background::Inline(queue);
    server::serve(app, jobs, address, limits).await
}

fn listen_address(lookup: &impl Fn(&str) -> Option<String>) -> anyhow::Result<SocketAddr> {
    let host = lookup("HOST").unwrap_or_else(|| "127.0.0.1".into());
    let port = lookup("PORT").unwrap_or_else(|| "8000".into());
    let port: u16 = port
        .parse()
        .with_context(|| format!("PORT: not a port number: {port:?}"))?;
    let ip = host
        .parse()
        .with_context(|| format!("HOST: not an IP address: {host:?}"))?;
    Ok(SocketAddr::new(ip, port))
}
