//! `POST /api/users/me/password` (Bearer): JSON `{current_password, new_password, code?}` → 200 a new
//! session's token pair; every other session of the user ends.

use ::http::StatusCode;

use crate::account::{self, Proof};
use crate::app::App;
use crate::domain::Password;
use crate::http::{self, ApiError, JsonBody, Request, Response, present};

use super::TokensOut;

/// Change the password
///
/// Answers with the pair of a new session; every other session of the user ends (the one of the
/// token used too), and so do reset links sent before. The current password is checked against
/// the username's login backoff. With two-factor authentication on, `code` is needed too.
#[utoipa::path(
    post,
    path = "/api/users/me/password",
    operation_id = "change-password",
    tag = "users",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    request_body(content = crate::openapi::schemas::ChangePasswordIn, content_type = "application/json"),
    responses(
        (status = 200, description = "The new session's token pair", body = super::TokensOut),
        crate::openapi::responses::IncorrectPassword, crate::openapi::responses::SecondFactor, crate::openapi::responses::Unauthenticated,
        crate::openapi::responses::PasswordBackoff, crate::openapi::responses::Invalid,
        crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, session_id) = http::require_session(app, &request)?;
    let body = JsonBody::parse(&request)?;
    let mut fields = body.fields();
    let current = fields.required("current_password", |s| Ok(s.to_owned()));
    let new = fields.required("new_password", Password::parse);
    let code = fields.optional("code", |s| Ok(s.to_owned()));
    fields.finish()?;
    let pair = account::change_password(
        app,
        &http::caller(app, &request),
        user_id,
        &session_id,
        Proof {
            password: &present(current)?,
            code: present(code)?.as_deref(),
        },
        &present(new)?,
    )
    .await?;
    Ok(http::json(StatusCode::OK, &TokensOut::from(pair)))
}
