//! `POST /api/auth/refresh-token`: JSON `{refresh_token}` → 200 a new pair; the old token retires.

use ::http::StatusCode;

use crate::app::App;
use crate::auth;
use crate::http::{self, ApiError, Request, Response};

use super::TokensOut;

/// Exchange a refresh token for a new pair
///
/// The token used retires; presenting it again ends its whole session.
#[utoipa::path(
    post,
    path = "/api/auth/refresh-token",
    operation_id = "refresh-token",
    tag = "auth",
    request_body(content = crate::openapi::schemas::RefreshTokenIn, content_type = "application/json"),
    responses(
        (status = 200, description = "A new token pair of the same session", body = super::TokensOut),
        (status = 401, description = "Invalid, expired, retired or revoked refresh token", body = crate::openapi::schemas::ErrorDetail,
            headers(("WWW-Authenticate" = String, description = "Always `Bearer`")),
            example = json!({"detail": crate::http::detail::INVALID_REFRESH})),
        crate::openapi::responses::Invalid, crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let token = http::json_field(&request, "refresh_token", |s| Ok(s.to_owned()))?;
    let tokens = auth::refresh(app, &http::caller(app, &request), &token).await?;
    Ok(http::json(StatusCode::OK, &TokensOut::from(tokens)))
}
