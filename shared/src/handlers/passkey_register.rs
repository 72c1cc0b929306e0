//! `POST /api/users/me/passkeys` (Bearer): JSON `{challenge_token, credential, name?, code?}` → 201
//! the new passkey; a notice goes to the user.

use ::http::StatusCode;

use crate::app::App;
use crate::domain::FieldError;
use crate::http::{self, ApiError, JsonBody, Request, Response, present};
use crate::passkeys::{self, RegistrationAnswer, RelyingPartyConfig};

use super::PasskeyOut;

/// The name a passkey gets when none is given.
const DEFAULT_NAME: &str = "Passkey";
/// The longest passkey name (characters).
const MAX_NAME_CHARS: usize = 64;

fn passkey_name(value: &str) -> Result<String, FieldError> {
    let name = value.trim();
    match name.chars().count() {
        0 => Err(FieldError::new(
            "string_too_short",
            "String should have at least 1 character",
        )),
        n if n > MAX_NAME_CHARS => Err(FieldError::new(
            "string_too_long",
            "String should have at most 64 characters",
        )),
        _ if name.chars().any(char::is_control) => Err(FieldError::new(
            "string_pattern_mismatch",
            "String should not contain control characters",
        )),
        _ => Ok(name.to_owned()),
    }
}

/// Add a passkey
///
/// Takes the answer of `navigator.credentials.create()` (RegistrationResponseJSON) to the options
/// of `passkey-register-options`. With two-factor authentication on, `code` (a TOTP or recovery
/// code, counted against the username's login backoff) is needed too. The user's address gets a
/// notice.
#[utoipa::path(
    post,
    path = "/api/users/me/passkeys",
    operation_id = "passkey-register",
    tag = "mfa",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    request_body(content = crate::openapi::schemas::PasskeyRegisterIn, content_type = "application/json"),
    responses(
        (status = 201, description = "The passkey is added", body = PasskeyOut),
        (status = 400, description = "The answer does not check out (challenge unknown, used or expired; wrong origin or RP id; no user verification; a credential id registered already), or two-factor authentication is on and the code is missing or wrong", body = crate::openapi::schemas::ErrorDetail,
            examples(
                ("invalid" = (value = json!({"detail": crate::http::detail::INVALID_PASSKEY}))),
                ("code required" = (value = json!({"detail": crate::http::detail::CODE_REQUIRED}))),
                ("invalid code" = (value = json!({"detail": crate::http::detail::INVALID_CODE}))),
            )),
        crate::openapi::responses::Unauthenticated, crate::openapi::responses::PasswordBackoff,
        crate::openapi::responses::Invalid, crate::openapi::responses::TooLarge,
        crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, session_id) = http::require_session(app, &request)?;
    let body = JsonBody::parse(&request)?;
    let mut fields = body.fields();
    let challenge_token = fields.string("challenge_token");
    let credential = fields.object("credential");
    let name = fields.optional("name", passkey_name);
    let code = fields.optional("code", |s| Ok(s.to_owned()));
    fields.finish()?;
    let (challenge_token, credential) = (present(challenge_token)?, present(credential)?);
    let (name, code) = (present(name)?, present(code)?);
    let rp = RelyingPartyConfig::for_request(app, &http::links(app, &request))?;
    let answer = RegistrationAnswer {
        challenge_token: &challenge_token,
        credential: &credential,
        name: name.as_deref().unwrap_or(DEFAULT_NAME),
        code: code.as_deref(),
    };
    let caller = http::caller(app, &request);
    let passkey = passkeys::register(app, &caller, user_id, &session_id, answer, &rp).await?;
    Ok(http::json(StatusCode::CREATED, &PasskeyOut::from(&passkey)))
}
