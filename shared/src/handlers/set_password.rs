//! `POST /api/auth/set-password`: form `token`, `password`, `confirm_password` → 200; the reset
//! token is spent and every session of the user ends.

use ::http::StatusCode;

use crate::app::App;
use crate::auth;
use crate::domain::Password;
use crate::http::{self, ApiError, FormBody, Request, Response, present};

pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let form = FormBody::parse(&request).await?;
    let mut fields = form.fields();
    let token = fields.string("token");
    let password = fields.required("password", Password::parse);
    let confirmation = fields.string("confirm_password");
    fields.finish()?;
    auth::set_password(
        app,
        &http::caller(&request),
        &present(token)?,
        &present(password)?,
        &present(confirmation)?,
    )
    .await?;
    Ok(http::message(StatusCode::OK, "Password successfully updated"))
}
