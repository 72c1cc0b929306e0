//! `POST /api/users/me/passkeys/options` (Bearer) → 200 the creation options of a new passkey and
//! the token of the ceremony's state.

use ::http::StatusCode;

use crate::app::App;
use crate::http::{self, ApiError, Request, Response};
use crate::passkeys::{self, RelyingPartyConfig};

use super::PasskeyOptionsOut;

/// Start adding a passkey
///
/// Answers `navigator.credentials.create()`'s options as WebAuthn Level 3 JSON (base64url): this
/// service's RP id, the user's random handle, a resident key and user verification required,
/// attestation `none`, ES256, EdDSA and RS256, the user's passkeys excluded. The
/// `challenge_token` takes the answer to `passkey-register` within 300 s, once.
#[utoipa::path(
    post,
    path = "/api/users/me/passkeys/options",
    operation_id = "passkey-register-options",
    tag = "mfa",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    responses(
        (status = 200, description = "The creation options and their challenge token", body = PasskeyOptionsOut),
        crate::openapi::responses::Unauthenticated, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, session_id) = http::require_session(app, &request)?;
    let rp = RelyingPartyConfig::for_request(app, &http::links(app, &request))?;
    let options = passkeys::registration_options(app, user_id, &session_id, &rp).await?;
    Ok(http::json(StatusCode::OK, &PasskeyOptionsOut::from(options)))
}
