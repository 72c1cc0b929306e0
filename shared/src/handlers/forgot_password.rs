//! `POST /oauth2/forgot-password`: the "forgot password" page's form. Sends the reset email as
//! `reset-password` does (known and unknown addresses alike), then says to check the email.

use crate::app::App;
use crate::auth;
use crate::domain::Email;
use crate::handlers::hosted::{self, PostedForm, Step};
use crate::http::{self, ApiError, Request, Response};

const CHECK_EMAIL: &str = "If an account uses that address, we sent it a link to choose a new password.";

/// The "forgot password" form
#[utoipa::path(
    post,
    path = "/oauth2/forgot-password",
    operation_id = "forgot-password",
    tag = "oidc",
    request_body(content = crate::openapi::schemas::ForgotPasswordForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "\"Check your email\", or the form again with the error", content_type = "text/html", body = String),
        crate::openapi::responses::PageRefusals,
        crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let caller = http::caller(app, &request);
    let form = PostedForm::parse(app, &request, &caller).await?;
    let page = |step: Step<'_>, error: Option<&str>| {
        hosted::sign_in_page(app, &request, &form.authorization, step, error)
    };
    if !form.csrf_holds {
        return page(Step::ForgotPassword, Some(hosted::EXPIRED_FORM));
    }
    let Ok(email) = Email::parse(form.field("email").unwrap_or_default()) else {
        return page(Step::ForgotPassword, Some("Enter a valid email address."));
    };
    auth::request_password_reset(app, &caller, &email, &http::links(app, &request)).await?;
    page(Step::CheckEmail(CHECK_EMAIL), None)
}
