//! `POST /api/users/me/email` (Bearer): JSON `{new_email, password, code?}` → 202; a link goes to the
//! new address, and nothing changes until it is followed.

use ::http::StatusCode;

use crate::account::{self, Proof};
use crate::app::App;
use crate::domain::Email;
use crate::http::{self, ApiError, JsonBody, Request, Response, present};

/// Change the email (step 1: send a link to the new address)
///
/// The link `{base}/api/auth/confirm-email-change/{token}` goes to the new address, within its
/// email throttle (the answer is the same whether it was sent). The password is checked against
/// the username's login backoff. With two-factor authentication on, `code` is needed too.
#[utoipa::path(
    post,
    path = "/api/users/me/email",
    operation_id = "change-email",
    tag = "users",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    request_body(content = crate::openapi::schemas::ChangeEmailIn, content_type = "application/json"),
    responses(
        (status = 202, description = "A confirmation link is on its way to the new address", body = crate::openapi::schemas::Message,
            example = json!({"message": "Check your new email for confirmation."})),
        crate::openapi::responses::IncorrectPassword, crate::openapi::responses::SecondFactor, crate::openapi::responses::Unauthenticated,
        crate::openapi::responses::EmailTaken, crate::openapi::responses::PasswordBackoff,
        crate::openapi::responses::Invalid, crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, session_id) = http::require_session(app, &request)?;
    let body = JsonBody::parse(&request)?;
    let mut fields = body.fields();
    let new_email = fields.required("new_email", Email::parse);
    let password = fields.required("password", |s| Ok(s.to_owned()));
    let code = fields.optional("code", |s| Ok(s.to_owned()));
    fields.finish()?;
    account::request_email_change(
        app,
        &http::caller(app, &request),
        user_id,
        &session_id,
        &present(new_email)?,
        Proof {
            password: &present(password)?,
            code: present(code)?.as_deref(),
        },
        &http::links(app, &request),
    )
    .await?;
    Ok(http::message(
        StatusCode::ACCEPTED,
        "Check your new email for confirmation.",
    ))
}
