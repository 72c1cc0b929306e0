//! `DELETE /api/contacts/{contact_id}` (Bearer) → 200 the deleted `Contact`.

use ::http::StatusCode;

use crate::app::App;
use crate::contacts;
use crate::http::{self, ApiError, Request, Response};

use super::{ContactOut, contact_id};

/// Delete a contact
#[utoipa::path(
    delete,
    path = "/api/contacts/{contact_id}",
    operation_id = "delete-contact",
    tag = "contacts",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    params(("contact_id" = i64, Path, description = "The contact's id")),
    responses(
        (status = 200, description = "The deleted contact", body = super::ContactOut),
        crate::openapi::responses::ContactNotFound, crate::openapi::responses::Unauthenticated, crate::openapi::responses::Invalid, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let user_id = http::require_user(app, &request)?;
    let contact = contacts::delete(app, user_id, contact_id(&request)?).await?;
    Ok(http::json(StatusCode::OK, &ContactOut::from(&contact)))
}
