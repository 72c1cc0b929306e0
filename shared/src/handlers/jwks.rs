//! `GET /.well-known/jwks.json` → 200 the public keys that verify access tokens (RFC 7517): every
//! session key that can still have signed an unexpired token, never a private part, never a link
//! key. Cacheable for the key refresh interval, so that a cache learns a new key before any token
//! carries it (a deployed rotation activates its key an hour after `keys rotate`, and signs with
//! it only once a deployment publishes it: keys::deployed).

use ::http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;
use crate::http::{self, ApiError, Request, Response};
use crate::keys::{PublicJwk, PublicKeyEntry, Purpose};

/// A JSON Web Key Set.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JwkSet)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// One public key (RFC 7517/7518, RFC 8037): `OKP`/`Ed25519` with `x` for EdDSA, `EC`/`P-256`
/// with `x`, `y` for ES256, `RSA` with `n`, `e` for RS256.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "alg": "EdDSA", "use": "sig"}))]
pub struct Jwk {
    /// `OKP`, `EC` or `RSA`.
    pub kty: &'static str,
    /// `Ed25519` or `P-256` (absent for RSA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<&'static str>,
    /// The public key (OKP), or its x coordinate (EC); base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// The y coordinate (EC); base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// The modulus (RSA); base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// The public exponent (RSA); base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// The key's RFC 7638 thumbprint, as in the `kid` header of the tokens it signed.
    pub kid: String,
    /// `EdDSA`, `ES256` or `RS256`.
    pub alg: &'static str,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: &'static str,
}

impl Jwk {
    fn of(entry: &PublicKeyEntry) -> Self {
        let (kty, crv) = PublicJwk::kty_crv(entry.alg);
        let PublicJwk { x, y, n, e } = entry.jwk.clone();
        Jwk {
            kty,
            crv,
            x,
            y,
            n,
            e,
            kid: entry.kid.clone(),
            alg: entry.alg.name(),
            use_: "sig",
        }
    }
}

/// The session keys published now (oldest first): every one that can still have signed an
/// unexpired token.
pub fn published_session_keys(app: &App) -> Vec<PublicKeyEntry> {
    // Keys live in real time, whatever the app clock says (UCONTACT_FAKE_NOW).
    let now = chrono::Utc::now().timestamp();
    let lifetime = Purpose::Session.max_token_lifetime(&app.tokens.lifetimes());
    let keys = app.tokens.ring().current();
    keys.verifying
        .published(Purpose::Session, now, lifetime)
        .into_iter()
        .cloned()
        .collect()
}

/// `Cache-Control` of the JWKS and the discovery document: public, for the key refresh interval.
pub fn cacheable(mut response: Response, app: &App) -> Response {
    let cache = format!("public, max-age={}", app.config.keys_refresh_seconds);
    if let Ok(value) = HeaderValue::from_str(&cache) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
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
    let set = JwkSet {
        keys: published_session_keys(app).iter().map(Jwk::of).collect(),
    };
    Ok(cacheable(http::json(StatusCode::OK, &set), app))
}
