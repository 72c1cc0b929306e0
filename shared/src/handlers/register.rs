//! `POST /api/auth/register`: JSON `{username, email, password}` → 201 `User`.

use ::http::StatusCode;

use crate::app::App;
use crate::auth::{self, Registration};
use crate::domain::{Email, Password, Username};
use crate::http::{self, ApiError, JsonBody, Request, Response, present};

use super::UserOut;

/// Register a new user
///
/// A verification email is sent to the address; login refuses the user until its link is followed.
#[utoipa::path(
    post,
    path = "/api/auth/register",
    operation_id = "register",
    tag = "auth",
    request_body(content = crate::openapi::schemas::RegisterIn, content_type = "application/json"),
    responses(
        (status = 201, description = "The new user", body = super::UserOut),
        (status = 409, description = "The username or the email is taken (ignoring case)", body = crate::openapi::schemas::ErrorDetail, examples(
            ("username" = (value = json!({"detail": crate::http::detail::USERNAME_TAKEN}))),
            ("email" = (value = json!({"detail": crate::http::detail::EMAIL_TAKEN}))),
        )),
        crate::openapi::responses::Invalid, crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let body = JsonBody::parse(&request)?;
    let mut fields = body.fields();
    let username = fields.required("username", Username::parse);
    let email = fields.required("email", Email::parse);
    let password = fields.required("password", Password::parse);
    fields.finish()?;
    let registration = Registration {
        username: present(username)?,
        email: present(email)?,
        password: present(password)?,
    };
    let user = auth::register(
        app,
        &http::caller(app, &request),
        registration,
        &http::links(app, &request),
    )
    .await?;
    Ok(http::json(StatusCode::CREATED, &UserOut::from(&user)))
}
