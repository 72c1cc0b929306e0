//! `GET /api/users/me/mfa` (Bearer) → 200 the user's second factors at a glance.

use ::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;
use crate::http::{self, ApiError, Request, Response};
use crate::mfa;

/// The user's second factors.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MfaStatus, example = json!({"totp": true, "recovery_codes_left": 9, "passkeys": 0}))]
pub struct MfaStatusOut {
    /// Two-factor authentication (TOTP) is on: logins need a code.
    pub totp: bool,
    /// Unused recovery codes (0 while TOTP is off).
    pub recovery_codes_left: usize,
    /// Passkeys registered.
    pub passkeys: usize,
}

/// The signed-in user's second factors
#[utoipa::path(
    get,
    path = "/api/users/me/mfa",
    operation_id = "mfa-status",
    tag = "mfa",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    responses(
        (status = 200, description = "TOTP on or off, recovery codes left, passkeys", body = MfaStatusOut),
        crate::openapi::responses::Unauthenticated, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, session_id) = http::require_session(app, &request)?;
    let status = mfa::status(app, user_id, &session_id).await?;
    Ok(http::json(
        StatusCode::OK,
        &MfaStatusOut {
            totp: status.totp,
            recovery_codes_left: status.recovery_codes_left,
            passkeys: status.passkeys,
        },
    ))
}
