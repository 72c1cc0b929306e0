//! `POST /api/auth/reset-password`: JSON `{email}` → 200, the same answer whether or not the
//! address is known; a known user gets a reset link.

use ::http::StatusCode;

use crate::app::App;
use crate::auth;
use crate::domain::Email;
use crate::http::{self, ApiError, Request, Response};

/// Send a password reset email
///
/// The answer is the same whether or not the address is known.
#[utoipa::path(
    post,
    path = "/api/auth/reset-password",
    operation_id = "reset-password",
    tag = "auth",
    request_body(content = crate::openapi::schemas::EmailIn, content_type = "application/json"),
    responses(
        (status = 200, description = "Always this answer", body = crate::openapi::schemas::Message,
            example = json!({"message": "If the email exists, a reset link was sent."})),
        crate::openapi::responses::Invalid, crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let email = http::json_field(&request, "email", Email::parse)?;
    auth::request_password_reset(
        app,
        &http::caller(app, &request),
        &email,
        &http::links(app, &request),
    )
    .await?;
    Ok(http::message(
        StatusCode::OK,
        "If the email exists, a reset link was sent.",
    ))
}
