//! `ucontact-local`: serves every route of the route table on `HOST:PORT` (default
//! 127.0.0.1:8000) from the same handlers as the Lambda functions, on the embedded store and the
//! outbox mailer by default. Stops gracefully on SIGTERM or Ctrl-C.

mod secret;
mod server;

use std::collections::HashMap;
use std::net::SocketAddr;

use anyhow::Context;
use shared::config::{self, Config, Deployment};

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
    let address = listen_address(&lookup)?;

    // Without JWT_SECRET, a secret is generated once and kept in the data dir, so that tokens
    // survive a restart.
    let generated = match lookup("JWT_SECRET").filter(|s| !s.is_empty()) {
        Some(_) => None,
        None => Some(secret::load_or_create(&config::data_dir(&lookup))?),
    };
    let config = Config::from_lookup(Deployment::Local, |name| match (name, &generated) {
        ("JWT_SECRET", Some(secret)) => Some(secret.clone()),
        _ => lookup(name),
    })?;
    tracing::info!(?config, "starting");
    let app = shared::App::build(config).await?;
    server::serve(app, address).await
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
