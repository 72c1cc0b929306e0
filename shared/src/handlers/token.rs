//! `POST /oauth2/token`: the OpenID Connect token endpoint (RFC 6749 form): the
//! `authorization_code` (PKCE), `refresh_token` and `password` grants of registered public
//! clients. 200 the tokens; errors 400 `{"error", "error_description"}` (RFC 6749 5.2). Never
//! cached.

use ::http::{HeaderValue, StatusCode, header};
use serde_json::json;

use crate::app::App;
use crate::http::{self, ApiError, FormBody, Request, Response};
use crate::oidc::{self, OAuthError, request::parse_scope};

/// The OAuth 2.0 / OpenID Connect token endpoint
///
/// `grant_type=authorization_code` (`code`, `redirect_uri`, `client_id`, `code_verifier`),
/// `grant_type=refresh_token` (`refresh_token`, `client_id`) or `grant_type=password`
/// (`username`, `password`, `otp` with TOTP on, `client_id`, optional `scope`).
#[utoipa::path(
    post,
    path = "/oauth2/token",
    operation_id = "token",
    tag = "oidc",
    request_body(content = crate::openapi::schemas::TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The tokens", body = crate::oidc::TokenResponse,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "RFC 6749 5.2", body = crate::openapi::schemas::OAuthErrorBody,
            examples(
                ("invalid_grant" = (value = json!({"error": "invalid_grant", "error_description": "Invalid or expired authorization code"}))),
                ("invalid_client" = (value = json!({"error": "invalid_client", "error_description": "Unknown client_id"}))),
                ("invalid_request" = (value = json!({"error": "invalid_request", "error_description": "code_verifier is required"}))),
                ("unsupported_grant_type" = (value = json!({"error": "unsupported_grant_type", "error_description": "grant_type may be authorization_code, refresh_token or password"}))),
            )),
        crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let answer = match FormBody::parse(&request).await {
        Ok(form) => grant(app, &request, form.pairs()).await,
        Err(ApiError::PayloadTooLarge) => return Err(ApiError::PayloadTooLarge),
        Err(_) => Err(OAuthError::invalid_request("The body is not a form")),
    };
    let mut response = match answer {
        Ok(tokens) => http::json(StatusCode::OK, &tokens),
        Err(OAuthError::Refused {
            error,
            description,
            retry_after,
        }) => {
            let mut response = http::json(
                StatusCode::BAD_REQUEST,
                &json!({"error": error, "error_description": description}),
            );
            if let Some(wait) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(wait.max(1)));
            }
            response
        }
        Err(OAuthError::Failed(e)) => return Err(e.into()),
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

async fn grant(
    app: &App,
    request: &Request,
    pairs: &[(String, String)],
) -> Result<oidc::TokenResponse, OAuthError> {
    // RFC 6749 3.2: a parameter sent twice is an invalid request; an empty one counts as absent.
    let field = |name: &'static str| -> Result<Option<&str>, OAuthError> {
        let mut values = pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (_, Some(_)) => Err(OAuthError::invalid_request("A parameter is repeated")),
            (Some(""), None) | (None, None) => Ok(None),
            (Some(value), None) => Ok(Some(value)),
        }
    };
    let required =
        |name: &'static str, missing: &'static str| field(name)?.ok_or(OAuthError::invalid_request(missing));
    let grant_type = required("grant_type", "grant_type is required")?;
    if !matches!(grant_type, "authorization_code" | "refresh_token" | "password") {
        return Err(OAuthError::refused(
            "unsupported_grant_type",
            "grant_type may be authorization_code, refresh_token or password",
        ));
    }
    let client_id = required("client_id", "client_id is required")?;
    let client = app
        .config
        .oidc_clients
        .iter()
        .find(|c| c.client_id == client_id)
        .ok_or(OAuthError::refused("invalid_client", "Unknown client_id"))?;
    let caller = http::caller(app, request);
    match grant_type {
        "authorization_code" => {
            let code = required("code", "code is required")?;
            let redirect_uri = required("redirect_uri", "redirect_uri is required")?;
            let verifier = required("code_verifier", "code_verifier is required")?;
            oidc::exchange_code(app, &caller, client, code, redirect_uri, verifier).await
        }
        "refresh_token" => {
            let token = required("refresh_token", "refresh_token is required")?;
            oidc::refresh(app, &caller, client, token).await
        }
        _ => {
            let username = required("username", "username is required")?;
            let password = required("password", "password is required")?;
            let scope = parse_scope(field("scope")?.unwrap_or("openid"))
                .map_err(|why| OAuthError::refused("invalid_scope", why))?;
            oidc::password_grant(app, &caller, client, username, password, field("otp")?, &scope).await
        }
    }
}
