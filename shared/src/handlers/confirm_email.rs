//! `GET /api/auth/confirmed_email/{token}`: verifies the address the token names.

use ::http::StatusCode;

use crate::app::App;
use crate::auth::{self, Confirmation};
use crate::http::{self, ApiError, Request, Response};

pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let token = http::path_param(&request, "token")?;
    let text = match auth::confirm_email(app, &http::caller(&request), &token).await? {
        Confirmation::Verified => "Email verified successfully",
        Confirmation::AlreadyVerified => "Your email has already been confirmed.",
    };
    Ok(http::message(StatusCode::OK, text))
}
