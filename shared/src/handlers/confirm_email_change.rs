//! `GET /api/auth/confirm-email-change/{token}`: the link of the email-change email; the new
//! address becomes the user's and every session ends.

use ::http::StatusCode;

use crate::account;
use crate::app::App;
use crate::http::{self, ApiError, Request, Response};

/// Change the email (step 2: the link sent to the new address)
///
/// The address becomes the user's (verified), every session ends, and the old address gets a
/// notice. Single use; a later password change, reset or logout-all cancels the link.
#[utoipa::path(
    get,
    path = "/api/auth/confirm-email-change/{token}",
    operation_id = "confirm-email-change",
    tag = "auth",
    params(("token" = String, Path, description = "The token of the email-change link")),
    responses(
        (status = 200, description = "The email is the new one", body = crate::openapi::schemas::Message,
            example = json!({"message": "Email changed successfully"})),
        (status = 400, description = "Invalid, expired, used or cancelled token", body = crate::openapi::schemas::ErrorDetail,
            example = json!({"detail": crate::http::detail::INVALID_EMAIL_CHANGE})),
        crate::openapi::responses::EmailTaken, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let token = http::path_param(&request, "token")?;
    account::confirm_email_change(app, &http::caller(app, &request), &token).await?;
    Ok(http::message(StatusCode::OK, "Email changed successfully"))
}
