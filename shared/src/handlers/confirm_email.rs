//! `GET /api/auth/confirmed_email/{token}`: verifies the address the token names.

use ::http::StatusCode;

use crate::app::App;
use crate::auth::{self, Confirmation};
use crate::http::{self, ApiError, Request, Response};

/// Confirm an email address (the link of the verification email)
#[utoipa::path(
    get,
    path = "/api/auth/confirmed_email/{token}",
    operation_id = "confirm-email",
    tag = "auth",
    params(("token" = String, Path, description = "The token of the verification link")),
    responses(
        (status = 200, description = "Verified, now or before", body = crate::openapi::schemas::Message, examples(
            ("verified" = (value = json!({"message": "Email verified successfully"}))),
            ("already" = (value = json!({"message": "Your email has already been confirmed."}))),
        )),
        (status = 400, description = "Invalid or expired token", body = crate::openapi::schemas::ErrorDetail,
            example = json!({"detail": crate::http::detail::INVALID_VERIFICATION})),
        crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let token = http::path_param(&request, "token")?;
    let text = match auth::confirm_email(app, &http::caller(app, &request), &token).await? {
        Confirmation::Verified => "Email verified successfully",
        Confirmation::AlreadyVerified => "Your email has already been confirmed.",
    };
    Ok(http::message(StatusCode::OK, text))
}
