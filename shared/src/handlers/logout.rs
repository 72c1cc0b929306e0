//! `POST /api/auth/logout`: JSON `{refresh_token}` → 204; that token's session ends.

use crate::app::App;
use crate::auth;
use crate::http::{self, ApiError, Request, Response};

/// Log out: end the session of a refresh token
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    operation_id = "logout",
    tag = "auth",
    request_body(content = crate::openapi::schemas::RefreshTokenIn, content_type = "application/json"),
    responses(
        (status = 204, description = "The session has ended"),
        (status = 401, description = "Invalid or expired refresh token", body = crate::openapi::schemas::ErrorDetail,
            headers(("WWW-Authenticate" = String, description = "Always `Bearer`")),
            example = json!({"detail": crate::http::detail::INVALID_REFRESH})),
        crate::openapi::responses::Invalid, crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let token = http::json_field(&request, "refresh_token", |s| Ok(s.to_owned()))?;
    auth::logout(app, &http::caller(app, &request), &token).await?;
    Ok(http::no_content())
}
