//! `DELETE /api/users/me/sessions/{session_id}` (Bearer) → 204; that session's refresh token is
//! dead.

use crate::account;
use crate::app::App;
use crate::http::{self, ApiError, Request, Response};

/// End one session of the signed-in user
#[utoipa::path(
    delete,
    path = "/api/users/me/sessions/{session_id}",
    operation_id = "revoke-session",
    tag = "users",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    params(("session_id" = String, Path, description = "The id from the session list")),
    responses(
        (status = 204, description = "The session has ended"),
        (status = 404, description = "No live session of this user has this id", body = crate::openapi::schemas::ErrorDetail,
            example = json!({"detail": crate::http::detail::SESSION_NOT_FOUND})),
        crate::openapi::responses::Unauthenticated, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, own_session_id) = http::require_session(app, &request)?;
    let session_id = http::path_param(&request, "session_id")?;
    let caller = http::caller(app, &request);
    account::revoke_session(app, &caller, user_id, &own_session_id, &session_id).await?;
    Ok(http::no_content())
}
