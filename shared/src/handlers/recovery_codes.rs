//! `POST /api/users/me/mfa/recovery-codes` (Bearer): JSON `{password, code}` → 200 ten new
//! recovery codes; the old ones are dead.

use ::http::StatusCode;

use crate::app::App;
use crate::http::{self, ApiError, Request, Response};
use crate::mfa;

use super::proof;

use super::RecoveryCodesOut;

/// Replace the recovery codes
///
/// Needs the password and a TOTP or recovery code (each checked against the username's login
/// backoff). Every earlier recovery code stops working.
#[utoipa::path(
    post,
    path = "/api/users/me/mfa/recovery-codes",
    operation_id = "recovery-codes",
    tag = "mfa",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    request_body(content = crate::openapi::schemas::PasswordAndCodeIn, content_type = "application/json"),
    responses(
        (status = 200, description = "Ten new recovery codes, shown once", body = RecoveryCodesOut),
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
    let codes =
        mfa::regenerate_recovery_codes(app, &caller, user_id, &session_id, proof(&password, &code)).await?;
    Ok(http::json(StatusCode::OK, &RecoveryCodesOut::from(codes)))
}
