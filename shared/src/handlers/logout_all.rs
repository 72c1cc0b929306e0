//! `POST /api/auth/logout-all` (Bearer) → 204; every session of the user ends.

use crate::app::App;
use crate::auth;
use crate::http::{self, ApiError, Request, Response};

/// Log out everywhere: end every session of the user
#[utoipa::path(
    post,
    path = "/api/auth/logout-all",
    operation_id = "logout-all",
    tag = "auth",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    responses(
        (status = 204, description = "Every session has ended"),
        crate::openapi::responses::Unauthenticated, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, session_id) = http::require_session(app, &request)?;
    auth::logout_all(app, &http::caller(app, &request), user_id, &session_id).await?;
    Ok(http::no_content())
}
