//! `POST /api/users/me/mfa/totp/confirm` (Bearer): JSON `{code}` → 200 ten recovery codes; TOTP is
//! on from now.

use ::http::StatusCode;

use crate::app::App;
use crate::http::{self, ApiError, Request, Response};
use crate::mfa;

use super::RecoveryCodesOut;

/// Turn on two-factor authentication
///
/// Takes a code of the pending secret from `totp-setup`. From now on logins need `otp` and the
/// account routes `code`. The answer's ten recovery codes are shown once: each works once in place
/// of a TOTP code. A wrong code counts against the username's login backoff.
#[utoipa::path(
    post,
    path = "/api/users/me/mfa/totp/confirm",
    operation_id = "totp-confirm",
    tag = "mfa",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    request_body(content = crate::openapi::schemas::TotpConfirmIn, content_type = "application/json"),
    responses(
        (status = 200, description = "TOTP is on; the recovery codes, shown once", body = RecoveryCodesOut),
        (status = 400, description = "Not a code of the pending secret (or nothing is pending, or the code was used)", body = crate::openapi::schemas::ErrorDetail,
            example = json!({"detail": crate::http::detail::INVALID_CODE})),
        crate::openapi::responses::Unauthenticated, crate::openapi::responses::MfaAlreadyOn,
        crate::openapi::responses::PasswordBackoff, crate::openapi::responses::Invalid,
        crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, session_id) = http::require_session(app, &request)?;
    let code = http::json_field(&request, "code", |s| Ok(s.to_owned()))?;
    let caller = http::caller(app, &request);
    let codes = mfa::confirm_setup(app, &caller, user_id, &session_id, &code).await?;
    Ok(http::json(StatusCode::OK, &RecoveryCodesOut::from(codes)))
}
