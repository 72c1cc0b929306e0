//! `GET /api/users/me/passkeys` (Bearer) → 200 the user's passkeys, newest first.

use ::http::StatusCode;

use crate::app::App;
use crate::http::{self, ApiError, Request, Response};
use crate::passkeys;

use super::PasskeyOut;

/// The signed-in user's passkeys
#[utoipa::path(
    get,
    path = "/api/users/me/passkeys",
    operation_id = "list-passkeys",
    tag = "mfa",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    responses(
        (status = 200, description = "Passkeys, newest first", body = Vec<PasskeyOut>),
        crate::openapi::responses::Unauthenticated, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, session_id) = http::require_session(app, &request)?;
    let listed = passkeys::list(app, user_id, &session_id).await?;
    let body: Vec<PasskeyOut> = listed.iter().map(PasskeyOut::from).collect();
    Ok(http::json(StatusCode::OK, &body))
}
