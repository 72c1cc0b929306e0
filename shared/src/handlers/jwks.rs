//! `GET /.well-known/jwks.json` → 200 the public keys that verify access tokens (RFC 7517): every
//! session key that can still have signed an unexpired token, never a private part, never a link
//! key. Cacheable for the key refresh interval, so that a cache learns a new key before any token
//! carries it (a deployed rotation activates its key two intervals later).

use ::http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;
use crate::http::{self, ApiError, Request, Response};
use crate::keys::Purpose;
use crate::tokens::ALGORITHM_NAME;

/// A JSON Web Key Set.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JwkSet)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// One Ed25519 public key (RFC 8037).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "alg": "EdDSA", "use": "sig"}))]
pub struct Jwk {
    /// Always `OKP`.
    pub kty: &'static str,
    /// Always `Ed25519`.
    pub crv: &'static str,
    /// The public key, base64url.
    pub x: String,
    /// The key's RFC 7638 thumbprint, as in the `kid` header of the tokens it signed.
    pub kid: String,
    /// Always `EdDSA`.
    pub alg: &'static str,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: &'static str,
}

/// The public keys that verify access tokens
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = "jwks",
    tag = "service",
    responses((status = 200, description = "The JSON Web Key Set (RFC 7517) of the keys that verify access tokens", body = JwkSet,
        headers(("Cache-Control" = String, description = "public, max-age=<the key refresh interval>")))),
)]
pub async fn handle(app: &App, _request: Request) -> Result<Response, ApiError> {
    // Keys live in real time, whatever the app clock says (UCONTACT_FAKE_NOW).
    let now = chrono::Utc::now().timestamp();
    let lifetime = Purpose::Session.max_token_lifetime(&app.tokens.lifetimes());
    let keys = app.tokens.ring().current();
    let set = JwkSet {
        keys: keys
            .verifying
            .published(Purpose::Session, now, lifetime)
            .into_iter()
            .map(|entry| Jwk {
                kty: "OKP",
                crv: "Ed25519",
                x: entry.x.clone(),
                kid: entry.kid.clone(),
                alg: ALGORITHM_NAME,
                use_: "sig",
            })
            .collect(),
    };
    let mut response = http::json(StatusCode::OK, &set);
    let cache = format!("public, max-age={}", app.config.keys_refresh_seconds);
    if let Ok(value) = HeaderValue::from_str(&cache) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    Ok(response)
}
