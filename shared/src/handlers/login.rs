//! `POST /api/auth/login`: OAuth2 password form (`username` may be the email) → 200 tokens.
//! `grant_type` may be absent, empty or `password` (FastAPI's `OAuth2PasswordRequestForm`
//! answers 422 for anything else); `scope`, `client_id`, `client_secret` and any other field are
//! accepted and ignored.

use ::http::StatusCode;

use crate::app::App;
use crate::auth;
use crate::domain::FieldError;
use crate::http::{self, ApiError, FormBody, Request, Response, present};

use super::TokensOut;

/// Log in (OAuth2 password grant)
///
/// `username` may be the username or the email. `grant_type`, when present, must be `password`;
/// `scope`, `client_id` and `client_secret` (also as `Authorization: Basic`) are accepted and ignored.
/// With two-factor authentication on, `otp` takes a TOTP code or an unused recovery code; the
/// password is checked first, then the verified email, then the code.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    operation_id = "login",
    tag = "auth",
    request_body(content(
        (crate::openapi::schemas::LoginForm = "application/x-www-form-urlencoded"),
        (crate::openapi::schemas::LoginForm = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "A new session's token pair", body = super::TokensOut),
        (status = 400, description = "A multipart body that cannot be parsed", body = crate::openapi::schemas::ErrorDetail,
            example = json!({"detail": crate::http::detail::BODY_PARSE})),
        (status = 401, description = "Unknown user or wrong password, an unverified email, or (two-factor authentication on) a missing or wrong `otp`", body = crate::openapi::schemas::ErrorDetail,
            headers(("WWW-Authenticate" = String, description = "Always `Bearer`")),
            examples(
                ("bad login" = (value = json!({"detail": crate::http::detail::BAD_LOGIN}))),
                ("unverified" = (value = json!({"detail": crate::http::detail::EMAIL_NOT_VERIFIED}))),
                ("code required" = (value = json!({"detail": crate::http::detail::CODE_REQUIRED}))),
                ("invalid code" = (value = json!({"detail": crate::http::detail::INVALID_CODE}))),
            )),
        crate::openapi::responses::Throttled, crate::openapi::responses::Invalid, crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let form = FormBody::parse(&request).await?;
    let mut fields = form.fields();
    let username = fields.string("username");
    let password = fields.string("password");
    fields.optional("grant_type", password_grant);
    let otp = fields.optional("otp", |s| Ok(s.to_owned()));
    fields.finish()?;
    let tokens = auth::login(
        app,
        &http::caller(app, &request),
        &present(username)?,
        &present(password)?,
        present(otp)?.as_deref(),
    )
    .await?;
    Ok(http::json(StatusCode::OK, &TokensOut::from(tokens)))
}

/// The one grant login serves. An empty value counts as absent, as in FastAPI's forms.
fn password_grant(value: &str) -> Result<(), FieldError> {
    match value {
        "" | "password" => Ok(()),
        _ => Err(FieldError::new(
            "string_pattern_mismatch",
            "String should match pattern '^password$'",
        )),
    }
}
