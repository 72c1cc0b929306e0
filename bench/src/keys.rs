//! Section 8: what the signing keys cost. Per token, in-process: a sign and a verify through
//! `shared::tokens` for each `JWT_ALGORITHM` (EdDSA, ES256, RS256), beside an HS256 sign and
//! verify with jsonwebtoken (the scheme it replaced). Per cold start: one key-store load of a
//! minting function's needs (its private set and the abuse-hash key: two Secrets Manager reads in
//! parallel) against moto; of a verifying function's (its deployment's `PUBLIC_KEYS`: no
//! request); and of the local server's files.

use std::sync::Arc;
use std::time::Instant;

use anyhow::anyhow;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use shared::Config;
use shared::config::Deployment;
use shared::domain::UserId;
use shared::keys::deployed::{DeployedKeyStore, decode_public, encode_public};
use shared::keys::file::FileKeyStore;
use shared::keys::secrets_manager::SecretsManagerKeyStore;
use shared::keys::{Algorithm, KeyNeeds, KeyRing, KeyStore};
use shared::routes::Endpoint;
use shared::tokens::Tokens;

use crate::Options;

/// The measured figures, per run.
#[derive(Debug, Clone, Default)]
pub struct KeyCosts {
    pub tokens_per_run: usize,
    /// Per algorithm: (sign µs, verify µs) per run.
    pub algorithms: Vec<(Algorithm, Vec<f64>, Vec<f64>)>,
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
    // One key store per algorithm (a data dir each: the first keys follow JWT_ALGORITHM).
    let mut per_algorithm = Vec::new();
    for alg in Algorithm::ALL {
        let dir = data.path().join(alg.name());
        let store: Arc<dyn KeyStore> = Arc::new(FileKeyStore::new(&dir, alg));
        let ring = KeyRing::load(store, KeyNeeds::ALL, std::time::Duration::MAX)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let tokens = Tokens::new(&config, Arc::new(ring), Arc::new(shared::clock::SystemClock));
        per_algorithm.push((alg, tokens));
    }
    let files: Arc<dyn KeyStore> = Arc::new(FileKeyStore::new(data.path(), Algorithm::EdDSA));
    let user = UserId::new(1).ok_or_else(|| anyhow!("user id"))?;
    let now = chrono::Utc::now();

    let hs_key = b"an-hs256-key-of-the-kind-the-service-used-to-hold-0123";
    let (hs_encoding, hs_decoding) = (EncodingKey::from_secret(hs_key), DecodingKey::from_secret(hs_key));
    let hs_claims = serde_json::json!({"sub": "1", "typ": "access", "jti": "0123456789abcdef", "iat": now.timestamp(), "exp": now.timestamp() + 900});
    let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;

    let mut costs = KeyCosts {
        tokens_per_run: count,
        ..KeyCosts::default()
    };
    costs.algorithms = per_algorithm
        .iter()
        .map(|(alg, _)| (*alg, vec![], vec![]))
        .collect();
    for _ in 0..runs {
        for ((_, tokens), (alg, sign, verify)) in per_algorithm.iter().zip(&mut costs.algorithms) {
            let started = Instant::now();
            let mut minted = Vec::with_capacity(count);
            for _ in 0..count {
                minted.push(tokens.issue_access(
                    user,
                    "bench-session",
                    shared::domain::Amr::Password,
                    ISSUER,
                    now,
                )?);
            }
            sign.push(per_token_us(started, count));
            // Each token is new to the process: every verify checks its signature.
            let started = Instant::now();
            for token in &minted {
                tokens
                    .verify_access(token, ISSUER)
                    .map_err(|_| anyhow!("a minted {alg} token did not verify"))?;
            }
            verify.push(per_token_us(started, count));
        }

        let started = Instant::now();
        let mut hs = Vec::with_capacity(count);
        for _ in 0..count {
            hs.push(jsonwebtoken::encode(
                &Header::new(jsonwebtoken::Algorithm::HS256),
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
        .ensure(&config.lifetimes, Algorithm::EdDSA)
        .await
        .map_err(|e| anyhow!("{e:#}"))?;
    // A verify-only function: its deployment's public keys (PUBLIC_KEYS), parsed at start.
    let public = encode_public(&secrets.public_sets().await.map_err(|e| anyhow!("{e:#}"))?)?;
    let deployed = DeployedKeyStore::new(decode_public(&public)?, None);
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
            "deployment (PUBLIC_KEYS, no request): me's (public set)",
            &deployed,
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
