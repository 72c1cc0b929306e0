//! `POST /api/auth/request_email`: JSON `{email}` → 200, the same answer whether or not the
//! address is known; an unverified user gets a new verification link.

use ::http::StatusCode;

use crate::app::App;
use crate::auth;
use crate::domain::Email;
use crate::http::{self, ApiError, Request, Response};

/// Send a new verification email
///
/// The answer is the same whether or not the address is known or already verified.
#[utoipa::path(
    post,
    path = "/api/auth/request_email",
    operation_id = "request-email",
    tag = "auth",
    request_body(content = crate::openapi::schemas::EmailIn, content_type = "application/json"),
    responses(
        (status = 200, description = "Always this answer", body = crate::openapi::schemas::Message,
            example = json!({"message": "Check your email for confirmation."})),
        crate::openapi::responses::Invalid, crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let email = http::json_field(&request, "email", Email::parse)?;
    auth::request_verification_email(
        app,
        &http::caller(app, &request),
        &email,
        &http::links(app, &request),
    )
    .await?;
    Ok(http::message(
        StatusCode::OK,
        "Check your email for confirmation.",
    ))
}
