//! `GET /.well-known/openid-configuration` → 200 the OpenID Connect Discovery 1.0 document (also
//! RFC 8414 metadata) of what is served today: the issuer (byte for byte the `iss` of every
//! token), the JWKS, the password grant at the login route, and the session keys' algorithms.
//! API Gateway's JWT authorizers, PyJWT, Authlib and jose find the keys from here. The sign-in
//! pages of the OpenID Connect provider (issue 23) will add `authorization_endpoint` and the rest;
//! until then nothing is named that is not served.

use ::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;
use crate::handlers::jwks::{cacheable, published_session_keys};
use crate::http::{self, ApiError, Request, Response, issuer, links};
use crate::keys::Algorithm;
use crate::routes::Endpoint;

/// The discovery document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "issuer": "https://api.example.com",
    "jwks_uri": "https://api.example.com/.well-known/jwks.json",
    "token_endpoint": "https://api.example.com/api/auth/login",
    "grant_types_supported": ["password"],
    "token_endpoint_auth_methods_supported": ["none"],
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["RS256"],
    "claims_supported": ["iss", "sub", "aud", "exp", "iat", "jti"]
}))]
pub struct OpenidConfiguration {
    /// Exactly the `iss` of every token (`JWT_ISSUER`, default the public base URL).
    pub issuer: String,
    /// The JSON Web Key Set of the keys that verify access tokens.
    pub jwks_uri: String,
    /// The login route: an OAuth 2.0 password grant (form fields `username`, `password`).
    pub token_endpoint: String,
    /// `["password"]` (refresh has its own route, `POST /api/auth/refresh-token`).
    pub grant_types_supported: Vec<&'static str>,
    /// `["none"]`: public clients, no client authentication.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// `["public"]`: `sub` is the user id.
    pub subject_types_supported: Vec<&'static str>,
    /// The session keys' algorithms: the configured one first, then any other a published key
    /// still has (a rotation that changed `JWT_ALGORITHM`).
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    /// The claims of access tokens.
    pub claims_supported: Vec<&'static str>,
}

/// OpenID Connect discovery
#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    operation_id = "openid-configuration",
    tag = "service",
    responses((status = 200, description = "The OpenID Connect Discovery 1.0 document (RFC 8414 metadata) of what is served", body = OpenidConfiguration,
        headers(("Cache-Control" = String, description = "public, max-age=<the key refresh interval>")))),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let base = links(app, &request).base().to_owned();
    let mut algorithms = vec![app.config.jwt_algorithm];
    for key in published_session_keys(app) {
        if !algorithms.contains(&key.alg) {
            algorithms.push(key.alg);
        }
    }
    let document = OpenidConfiguration {
        issuer: issuer(app, &request),
        jwks_uri: format!("{base}{}", Endpoint::Jwks.path()),
        token_endpoint: format!("{base}{}", Endpoint::Login.path()),
        grant_types_supported: vec!["password"],
        token_endpoint_auth_methods_supported: vec!["none"],
        subject_types_supported: vec!["public"],
        id_token_signing_alg_values_supported: algorithms.into_iter().map(Algorithm::name).collect(),
        claims_supported: vec!["iss", "sub", "aud", "exp", "iat", "jti"],
    };
    Ok(cacheable(http::json(StatusCode::OK, &document), app))
}
