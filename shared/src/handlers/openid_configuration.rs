//! `GET /.well-known/openid-configuration` → 200 the OpenID Connect Discovery 1.0 document (also
//! RFC 8414 metadata) of what is served: the issuer (byte for byte the `iss` of every token), the
//! JWKS, the OpenID Connect provider's endpoints (crate::oidc), and the session keys'
//! algorithms. API Gateway's JWT authorizers, PyJWT, Authlib and jose find the keys from here;
//! OpenID Connect clients find everything.

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
    "authorization_endpoint": "https://api.example.com/oauth2/authorize",
    "token_endpoint": "https://api.example.com/oauth2/token",
    "userinfo_endpoint": "https://api.example.com/oauth2/userinfo",
    "end_session_endpoint": "https://api.example.com/oauth2/logout",
    "response_types_supported": ["code"],
    "response_modes_supported": ["query"],
    "grant_types_supported": ["authorization_code", "refresh_token", "password"],
    "code_challenge_methods_supported": ["S256"],
    "token_endpoint_auth_methods_supported": ["none"],
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["RS256"],
    "scopes_supported": ["openid", "email", "profile", "offline_access"],
    "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "sid", "email", "email_verified", "preferred_username"],
    "prompt_values_supported": ["none", "login"],
    "authorization_response_iss_parameter_supported": true
}))]
pub struct OpenidConfiguration {
    /// Exactly the `iss` of every token (`JWT_ISSUER`, default the public base URL).
    pub issuer: String,
    /// The JSON Web Key Set of the keys that verify access tokens.
    pub jwks_uri: String,
    /// The hosted sign-in: the authorization code flow with PKCE.
    pub authorization_endpoint: String,
    /// The OAuth 2.0 token endpoint (RFC 6749 form; the three grants below).
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    /// RP-Initiated Logout 1.0.
    pub end_session_endpoint: String,
    /// `["code"]`.
    pub response_types_supported: Vec<&'static str>,
    /// `["query"]`.
    pub response_modes_supported: Vec<&'static str>,
    /// `["authorization_code", "refresh_token", "password"]`.
    pub grant_types_supported: Vec<&'static str>,
    /// `["S256"]`: PKCE is required.
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// `["none"]`: public clients, no client authentication.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// `["public"]`: `sub` is the user id.
    pub subject_types_supported: Vec<&'static str>,
    /// The session keys' algorithms: the configured one first, then any other a published key
    /// still has (a rotation that changed `JWT_ALGORITHM`).
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    /// `openid`, `email`, `profile`, `offline_access`.
    pub scopes_supported: Vec<&'static str>,
    /// The claims of ID tokens.
    pub claims_supported: Vec<&'static str>,
    /// `["none", "login"]`.
    pub prompt_values_supported: Vec<&'static str>,
    /// RFC 9207: every authorization response carries `iss`.
    pub authorization_response_iss_parameter_supported: bool,
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
        authorization_endpoint: format!("{base}{}", Endpoint::Authorize.path()),
        token_endpoint: format!("{base}{}", Endpoint::Token.path()),
        userinfo_endpoint: format!("{base}{}", Endpoint::Userinfo.path()),
        end_session_endpoint: format!("{base}{}", Endpoint::EndSession.path()),
        response_types_supported: vec!["code"],
        response_modes_supported: vec!["query"],
        grant_types_supported: vec!["authorization_code", "refresh_token", "password"],
        code_challenge_methods_supported: vec!["S256"],
        token_endpoint_auth_methods_supported: vec!["none"],
        subject_types_supported: vec!["public"],
        id_token_signing_alg_values_supported: algorithms.into_iter().map(Algorithm::name).collect(),
        scopes_supported: crate::oidc::request::SCOPES.to_vec(),
        claims_supported: vec![
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "amr",
            "sid",
            "email",
            "email_verified",
            "preferred_username",
        ],
        prompt_values_supported: vec!["none", "login"],
        authorization_response_iss_parameter_supported: true,
    };
    Ok(cacheable(http::json(StatusCode::OK, &document), app))
}
