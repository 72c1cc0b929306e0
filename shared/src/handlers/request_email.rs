//! `POST /api/auth/request_email`: JSON `{email}` → 200, the same answer whether or not the
//! address is known; an unverified user gets a new verification link.

use ::http::StatusCode;

use crate::app::App;
use crate::auth;
use crate::domain::Email;
use crate::http::{self, ApiError, Request, Response};

pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let email = http::json_field(&request, "email", Email::parse)?;
    auth::request_verification_email(app, &http::caller(&request), &email, &http::links(app, &request))
        .await?;
    Ok(http::message(
        StatusCode::OK,
        "Check your email for confirmation.",
    ))
}
