//! `POST /api/auth/set-password`: form `token`, `password`, `confirm_password` → 200; the reset
//! token is spent and every session of the user ends.

use ::http::StatusCode;

use crate::app::App;
use crate::auth;
use crate::domain::Password;
use crate::http::{self, ApiError, FormBody, Request, Response, present};

/// Set a new password with a reset token
///
/// The token is spent, and every session of the user ends.
#[utoipa::path(
    post,
    path = "/api/auth/set-password",
    operation_id = "set-password",
    tag = "auth",
    request_body(content(
        (crate::openapi::schemas::SetPasswordForm = "application/x-www-form-urlencoded"),
        (crate::openapi::schemas::SetPasswordForm = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "The password is changed", body = crate::openapi::schemas::Message,
            example = json!({"message": "Password successfully updated"})),
        (status = 400, description = "Invalid, expired or spent token; passwords that differ; an unparsable multipart body", body = crate::openapi::schemas::ErrorDetail, examples(
            ("bad token" = (value = json!({"detail": crate::http::detail::INVALID_RESET}))),
            ("differ" = (value = json!({"detail": crate::http::detail::PASSWORDS_DIFFER}))),
        )),
        crate::openapi::responses::Invalid, crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let form = FormBody::parse(&request).await?;
    let mut fields = form.fields();
    let token = fields.string("token");
    let password = fields.required("password", Password::parse);
    let confirmation = fields.string("confirm_password");
    fields.finish()?;
    auth::set_password(
        app,
        &http::caller(app, &request),
        &present(token)?,
        &present(password)?,
        &present(confirmation)?,
    )
    .await?;
    Ok(http::message(StatusCode::OK, "Password successfully updated"))
}
