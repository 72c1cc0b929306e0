//! `DELETE /api/users/me/passkeys/{passkey_id}` (Bearer) → 204; the passkey logs nobody in from
//! now on.

use crate::app::App;
use crate::http::{self, ApiError, Request, Response};
use crate::passkeys;

/// Delete a passkey
#[utoipa::path(
    delete,
    path = "/api/users/me/passkeys/{passkey_id}",
    operation_id = "delete-passkey",
    tag = "mfa",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    params(("passkey_id" = String, Path, description = "The id from the passkey list")),
    responses(
        (status = 204, description = "The passkey is gone"),
        (status = 404, description = "No passkey of this user has this id", body = crate::openapi::schemas::ErrorDetail,
            example = json!({"detail": crate::http::detail::PASSKEY_NOT_FOUND})),
        crate::openapi::responses::Unauthenticated, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, session_id) = http::require_session(app, &request)?;
    let passkey_id = http::path_param(&request, "passkey_id")?;
    let caller = http::caller(app, &request);
    passkeys::delete(app, &caller, user_id, &session_id, &passkey_id).await?;
    Ok(http::no_content())
}
