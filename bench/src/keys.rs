//! Section 8: what the signing keys cost. Per token, in-process: an EdDSA (Ed25519) sign and
//! verify through `shared::tokens`, beside an HS256 sign and verify with the same library (the
//! scheme it replaced). Per cold start: one key-store load of a minting function's needs (its
//! private set and the abuse-hash key: two Secrets Manager reads in parallel), of a verifying
//! function's (the public set: one read), against moto; and of the local server's files.

use std::sync::Arc;
use std::time::Instant;

use anyhow::anyhow;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use shared::Config;
use shared::config::Deployment;
use shared::domain::UserId;
use shared::keys::file::FileKeyStore;
use shared::keys::secrets_manager::SecretsManagerKeyStore;
use shared::keys::{KeyNeeds, KeyRing, KeyStore};
use shared::routes::Endpoint;
use shared::tokens::Tokens;

use crate::Options;

/// The measured figures, per run.
#[derive(Debug, Clone, Default)]
pub struct KeyCosts {
    pub tokens_per_run: usize,
    pub eddsa_sign_us: Vec<f64>,
    pub eddsa_verify_us: Vec<f64>,
    pub hs256_sign_us: Vec<f64>,
    pub hs256_verify_us: Vec<f64>,
    /// Key-store loads (ms), per needs: (label, runs).
    pub loads: Vec<(String, Vec<f64>)>,
}

const ISSUER: &str = "https://bench.example.com";

fn per_token_us(started: Instant, count: usize) -> f64 {
    started.elapsed().as_secs_f64() * 1e6 / count as f64
}

pub async fn run(options: &Options) -> anyhow::Result<KeyCosts> {
    let runs = options.pick(5, 1);
    let count = options.pick(20_000, 50);
    let data = tempfile::tempdir()?;
    let data_dir = data.path().display().to_string();
    let config = Config::from_lookup(Deployment::Local, |name| match name {
        "UCONTACT_DATA_DIR" => Some(data_dir.clone()),
        _ => None,
    })
    .map_err(|e| anyhow!("{e}"))?;
    let files: Arc<dyn KeyStore> = Arc::new(FileKeyStore::new(data.path()));
    let ring = KeyRing::load(Arc::clone(&files), KeyNeeds::ALL, std::time::Duration::MAX)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let tokens = Tokens::new(&config, Arc::new(ring), Arc::new(shared::clock::SystemClock));
    let user = UserId::new(1).ok_or_else(|| anyhow!("user id"))?;
    let now = chrono::Utc::now();

    let hs_key = b"an-hs256-key-of-the-kind-the-service-used-to-hold-0123";
    let (hs_encoding, hs_decoding) = (EncodingKey::from_secret(hs_key), DecodingKey::from_secret(hs_key));
    let hs_claims = serde_json::json!({"sub": "1", "typ": "access", "jti": "0123456789abcdef", "iat": now.timestamp(), "exp": now.timestamp() + 900});
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;

    let mut costs = KeyCosts {
        tokens_per_run: count,
        ..KeyCosts::default()
    };
    for _ in 0..runs {
        let started = Instant::now();
        let mut minted = Vec::with_capacity(count);
        for _ in 0..count {
            minted.push(tokens.issue_access(user, "bench-session", ISSUER, now)?);
        }
        costs.eddsa_sign_us.push(per_token_us(started, count));
        let started = Instant::now();
        for token in &minted {
            tokens
                .verify_access(token, ISSUER)
                .map_err(|_| anyhow!("a minted token did not verify"))?;
        }
        costs.eddsa_verify_us.push(per_token_us(started, count));

        let started = Instant::now();
        let mut hs = Vec::with_capacity(count);
        for _ in 0..count {
            hs.push(jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &hs_claims,
                &hs_encoding,
            )?);
        }
        costs.hs256_sign_us.push(per_token_us(started, count));
        let started = Instant::now();
        for token in &hs {
            jsonwebtoken::decode::<serde_json::Value>(token, &hs_decoding, &validation)?;
        }
        costs.hs256_verify_us.push(per_token_us(started, count));
    }

    // Key-store loads, as each kind of function does once per cold start.
    let sdk = crate::round_trips::moto_sdk(options).await;
    let prefix = format!("ucontact-bench-keys-{}/keys", uuid::Uuid::new_v4().simple());
    let secrets = SecretsManagerKeyStore::new(aws_sdk_secretsmanager::Client::new(&sdk), &prefix);
    secrets
        .ensure(&config.lifetimes)
        .await
        .map_err(|e| anyhow!("{e:#}"))?;
    let cases: [(&str, &dyn KeyStore, KeyNeeds); 4] = [
        (
            "Secrets Manager (moto): login's needs (session set + abuse key)",
            &secrets,
            Endpoint::Login.keys(),
        ),
        (
            "Secrets Manager (moto): refresh-token's (session set + public set)",
            &secrets,
            Endpoint::RefreshToken.keys(),
        ),
        (
            "Secrets Manager (moto): me's (public set)",
            &secrets,
            Endpoint::Me.keys(),
        ),
        (
            "data-dir files: the local server's (all)",
            files.as_ref(),
            KeyNeeds::ALL,
        ),
    ];
    for (label, store, needs) in cases {
        let mut times = Vec::new();
        for _ in 0..options.pick(20, 2) {
            let started = Instant::now();
            store.load(needs).await.map_err(|e| anyhow!("{label}: {e:#}"))?;
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        costs.loads.push((label.to_owned(), times));
    }
    Ok(costs)
}
