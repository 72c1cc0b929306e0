//! `POST /api/auth/register`: JSON `{username, email, password}` → 201 `User`.

use ::http::StatusCode;

use crate::app::App;
use crate::auth::{self, Registration};
use crate::domain::{Email, Password, Username};
use crate::http::{self, ApiError, JsonBody, Request, Response, present};

use super::UserOut;

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
        &http::caller(&request),
        registration,
        &http::links(app, &request),
    )
    .await?;
    Ok(http::json(StatusCode::CREATED, &UserOut::from(&user)))
}
