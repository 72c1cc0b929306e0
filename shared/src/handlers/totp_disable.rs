//! `DELETE /api/users/me/mfa/totp` (Bearer): JSON `{password, code}` → 204; TOTP and the recovery
//! codes are gone, and a notice goes to the user.

use crate::app::App;
use crate::http::{self, ApiError, Request, Response};
use crate::mfa;

use super::proof;

/// Turn off two-factor authentication
///
/// Needs the password and a TOTP or recovery code (each checked against the username's login
/// backoff). The recovery codes go too, and the user's address gets a notice.
#[utoipa::path(
    delete,
    path = "/api/users/me/mfa/totp",
    operation_id = "totp-disable",
    tag = "mfa",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    request_body(content = crate::openapi::schemas::PasswordAndCodeIn, content_type = "application/json"),
    responses(
        (status = 204, description = "Two-factor authentication is off"),
        crate::openapi::responses::IncorrectPassword, crate::openapi::responses::SecondFactor,
        crate::openapi::responses::Unauthenticated, crate::openapi::responses::MfaOff,
        crate::openapi::responses::PasswordBackoff, crate::openapi::responses::Invalid,
        crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, session_id) = http::require_session(app, &request)?;
    let (password, code) = super::password_and_code(&request)?;
    let caller = http::caller(app, &request);
    mfa::disable(app, &caller, user_id, &session_id, proof(&password, &code)).await?;
    Ok(http::no_content())
}
