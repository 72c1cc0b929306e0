//! `POST /api/auth/passkey/login`: JSON `{challenge_token, credential}` → 200 a new session's token
//! pair.

use ::http::StatusCode;

use crate::app::App;
use crate::http::{self, ApiError, JsonBody, Request, Response, present};
use crate::passkeys::{self, RelyingPartyConfig};

use super::TokensOut;

/// Log in with a passkey
///
/// Takes the answer of `navigator.credentials.get()` (AuthenticationResponseJSON) to the options
/// of `passkey-login-options`. No password and no TOTP code: a user-verifying passkey is two
/// factors. The tokens' `amr` is `["hwk", "user"]`.
#[utoipa::path(
    post,
    path = "/api/auth/passkey/login",
    operation_id = "passkey-login",
    tag = "auth",
    request_body(content = crate::openapi::schemas::PasskeyLoginIn, content_type = "application/json"),
    responses(
        (status = 200, description = "A new session's token pair", body = super::TokensOut),
        (status = 401, description = "The answer does not check out: challenge unknown, used or expired; wrong origin or RP id; no user verification; an unknown, deleted or cloned credential; a user handle that is not the credential's owner's", body = crate::openapi::schemas::ErrorDetail,
            headers(("WWW-Authenticate" = String, description = "Always `Bearer`")),
            example = json!({"detail": crate::http::detail::INVALID_PASSKEY})),
        crate::openapi::responses::Invalid, crate::openapi::responses::TooLarge,
        crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let body = JsonBody::parse(&request)?;
    let mut fields = body.fields();
    let challenge_token = fields.string("challenge_token");
    let credential = fields.object("credential");
    fields.finish()?;
    let rp = RelyingPartyConfig::for_request(app, &http::links(app, &request))?;
    let caller = http::caller(app, &request);
    let tokens = passkeys::login(
        app,
        &caller,
        &present(challenge_token)?,
        &present(credential)?,
        &rp,
    )
    .await?;
    Ok(http::json(StatusCode::OK, &TokensOut::from(tokens)))
}
