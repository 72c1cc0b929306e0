//! `POST /api/auth/passkey/options`: JSON `{}` → 200 the request options of a passwordless login
//! and the token of the ceremony's state.

use ::http::StatusCode;

use crate::app::App;
use crate::http::{self, ApiError, Request, Response};
use crate::passkeys::{self, RelyingPartyConfig};

use super::PasskeyOptionsOut;

/// Start a passkey login
///
/// Answers `navigator.credentials.get()`'s options as WebAuthn Level 3 JSON: this service's RP
/// id, no credentials listed (the authenticator offers its discoverable ones), user verification
/// required. The `challenge_token` takes the answer to `passkey-login` within 300 s, once. The
/// body is ignored.
#[utoipa::path(
    post,
    path = "/api/auth/passkey/options",
    operation_id = "passkey-login-options",
    tag = "auth",
    responses(
        (status = 200, description = "The request options and their challenge token", body = PasskeyOptionsOut),
        crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let rp = RelyingPartyConfig::for_request(app, &http::links(app, &request))?;
    let options = passkeys::login_options(app, &rp).await?;
    Ok(http::json(StatusCode::OK, &PasskeyOptionsOut::from(options)))
}
