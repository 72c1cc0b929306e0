//! `DELETE /api/users/me` (Bearer): JSON `{password, code?}` → 204; the user and all their data are
//! gone, and every token of theirs stops working.

use crate::account::{self, Proof};
use crate::app::App;
use crate::http::{self, ApiError, JsonBody, Request, Response, present};

/// Delete the account
///
/// The user, every session and every contact are deleted; the username and the email are free
/// again; every token of the user is refused from then on. The password is checked against the
/// username's login backoff. With two-factor authentication on, `code` is needed too.
#[utoipa::path(
    delete,
    path = "/api/users/me",
    operation_id = "delete-account",
    tag = "users",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    request_body(content = crate::openapi::schemas::PasswordIn, content_type = "application/json"),
    responses(
        (status = 204, description = "The account is deleted"),
        crate::openapi::responses::IncorrectPassword, crate::openapi::responses::SecondFactor, crate::openapi::responses::Unauthenticated,
        crate::openapi::responses::PasswordBackoff, crate::openapi::responses::Invalid,
        crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, session_id) = http::require_session(app, &request)?;
    let body = JsonBody::parse(&request)?;
    let mut fields = body.fields();
    let password = fields.required("password", |s| Ok(s.to_owned()));
    let code = fields.optional("code", |s| Ok(s.to_owned()));
    fields.finish()?;
    let caller = http::caller(app, &request);
    account::delete_account(
        app,
        &caller,
        user_id,
        &session_id,
        Proof {
            password: &present(password)?,
            code: present(code)?.as_deref(),
        },
    )
    .await?;
    Ok(http::no_content())
}
