//! `DELETE /api/users/me` (Bearer): JSON `{password}` → 204; the user and all their data are
//! gone, and every token of theirs stops working.

use crate::account;
use crate::app::App;
use crate::http::{self, ApiError, Request, Response};

/// Delete the account
///
/// The user, every session and every contact are deleted; the username and the email are free
/// again; every token of the user is refused from then on. The password is checked against the
/// username's login backoff.
#[utoipa::path(
    delete,
    path = "/api/users/me",
    operation_id = "delete-account",
    tag = "users",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    request_body(content = crate::openapi::schemas::PasswordIn, content_type = "application/json"),
    responses(
        (status = 204, description = "The account is deleted"),
        crate::openapi::responses::IncorrectPassword, crate::openapi::responses::Unauthenticated,
        crate::openapi::responses::PasswordBackoff, crate::openapi::responses::Invalid,
        crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, session_id) = http::require_session(app, &request)?;
    let password = http::json_field(&request, "password", |s| Ok(s.to_owned()))?;
    let caller = http::caller(app, &request);
    account::delete_account(app, &caller, user_id, &session_id, &password).await?;
    Ok(http::no_content())
}
