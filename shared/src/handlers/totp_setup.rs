//! `POST /api/users/me/mfa/totp` (Bearer): JSON `{password}` → 200 a new TOTP secret, pending
//! until a code of it is confirmed.

use ::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;
use crate::http::{self, ApiError, Request, Response};
use crate::mfa;

/// A new TOTP secret, for an authenticator app.
#[derive(Serialize, ToSchema)]
#[schema(as = TotpSetup, example = json!({
    "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "otpauth_uri": "otpauth://totp/UContact:johndoe?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=UContact&algorithm=SHA1&digits=6&period=30"
}))]
pub struct TotpSetupOut {
    /// The shared secret, base32 (RFC 4648, no padding), to type into an authenticator app.
    pub secret: String,
    /// The same as an `otpauth://` URI, for a QR code.
    pub otpauth_uri: String,
}

/// Start turning on two-factor authentication
///
/// Makes a new TOTP secret (RFC 6238: SHA-1, 6 digits, 30 s). It stays pending, and logins do not
/// ask for codes, until `totp-confirm` gets a code of it; a second call replaces a pending secret.
/// The password is checked against the username's login backoff.
#[utoipa::path(
    post,
    path = "/api/users/me/mfa/totp",
    operation_id = "totp-setup",
    tag = "mfa",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    request_body(content = crate::openapi::schemas::TotpSetupIn, content_type = "application/json"),
    responses(
        (status = 200, description = "The pending secret", body = TotpSetupOut),
        crate::openapi::responses::IncorrectPassword, crate::openapi::responses::Unauthenticated,
        crate::openapi::responses::MfaAlreadyOn, crate::openapi::responses::PasswordBackoff,
        crate::openapi::responses::Invalid, crate::openapi::responses::TooLarge,
        crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, session_id) = http::require_session(app, &request)?;
    let password = http::json_field(&request, "password", |s| Ok(s.to_owned()))?;
    let caller = http::caller(app, &request);
    let setup = mfa::begin_setup(app, &caller, user_id, &session_id, &password).await?;
    Ok(http::json(
        StatusCode::OK,
        &TotpSetupOut {
            secret: setup.secret,
            otpauth_uri: setup.otpauth_uri,
        },
    ))
}
