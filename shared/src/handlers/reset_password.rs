//! `POST /api/auth/reset-password`: JSON `{email}` → 200, the same answer whether or not the
//! address is known; a known user gets a reset link.

use ::http::StatusCode;

use crate::app::App;
use crate::auth;
use crate::domain::Email;
use crate::http::{self, ApiError, Request, Response};

pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let email = http::json_field(&request, "email", Email::parse)?;
    auth::request_password_reset(app, &http::caller(&request), &email, &http::links(app, &request)).await?;
    Ok(http::message(
        StatusCode::OK,
        "If the email exists, a reset link was sent.",
    ))
}
