//! `GET /oauth2/userinfo` (Bearer) → 200 the signed-in user's claims, as the access token's scope
//! allows (OpenID Connect Core 5.3). The token's session must be live.

use ::http::StatusCode;

use crate::app::App;
use crate::http::{self, ApiError, Request, Response, detail};
use crate::oidc;

/// The OpenID Connect UserInfo endpoint
#[utoipa::path(
    get,
    path = "/oauth2/userinfo",
    operation_id = "userinfo",
    tag = "oidc",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    responses(
        (status = 200, description = "`sub`, and per scope `preferred_username` (profile), `email` and `email_verified` (email)", body = crate::oidc::UserInfo),
        crate::openapi::responses::Unauthenticated, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let token = http::bearer_token(&request)?;
    let claims = app
        .tokens
        .verify_access(token, &http::issuer(app, &request))
        .map_err(|_| ApiError::Unauthorized(detail::INVALID_CREDENTIALS))?;
    let info = oidc::user_info(app, &claims).await?;
    Ok(http::json(StatusCode::OK, &info))
}
