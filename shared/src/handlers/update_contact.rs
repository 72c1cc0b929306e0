//! `PUT /api/contacts/{contact_id}` (Bearer): JSON `ContactIn` → 200 `Contact`.

use ::http::StatusCode;

use crate::app::App;
use crate::contacts;
use crate::http::{self, ApiError, Request, Response};

use super::{ContactOut, contact_id, contact_input};

/// Replace a contact
#[utoipa::path(
    put,
    path = "/api/contacts/{contact_id}",
    operation_id = "update-contact",
    tag = "contacts",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    params(("contact_id" = i64, Path, description = "The contact's id")),
    request_body(content = crate::openapi::schemas::ContactIn, content_type = "application/json"),
    responses(
        (status = 200, description = "The contact as it is now", body = super::ContactOut),
        crate::openapi::responses::ContactNotFound, crate::openapi::responses::ContactEmailTaken, crate::openapi::responses::Unauthenticated, crate::openapi::responses::Invalid, crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let user_id = http::require_user(app, &request)?;
    let id = contact_id(&request)?;
    let input = contact_input(app, &request)?;
    let contact = contacts::update(app, user_id, id, &input).await?;
    Ok(http::json(StatusCode::OK, &ContactOut::from(&contact)))
}
