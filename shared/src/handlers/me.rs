//! `GET /api/users/me` (Bearer) → 200 `User`.

use ::http::StatusCode;

use crate::app::App;
use crate::auth;
use crate::http::{self, ApiError, Request, Response};

use super::UserOut;

/// The signed-in user
#[utoipa::path(
    get,
    path = "/api/users/me",
    operation_id = "me",
    tag = "users",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    responses(
        (status = 200, description = "The user of the access token", body = super::UserOut),
        crate::openapi::responses::Unauthenticated, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let user_id = http::require_user(app, &request)?;
    let user = auth::current_user(app, user_id).await?;
    Ok(http::json(StatusCode::OK, &UserOut::from(&user)))
}
