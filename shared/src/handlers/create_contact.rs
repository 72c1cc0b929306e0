//! `POST /api/contacts` (Bearer): JSON `ContactIn` → 201 `Contact`.

use ::http::StatusCode;

use crate::app::App;
use crate::contacts;
use crate::http::{self, ApiError, Request, Response};

use super::{ContactOut, contact_input};

/// Create a contact
#[utoipa::path(
    post,
    path = "/api/contacts",
    operation_id = "create-contact",
    tag = "contacts",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    request_body(content = crate::openapi::schemas::ContactIn, content_type = "application/json"),
    responses(
        (status = 201, description = "The new contact", body = super::ContactOut),
        crate::openapi::responses::ContactEmailTaken, crate::openapi::responses::Unauthenticated, crate::openapi::responses::Invalid, crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let user_id = http::require_user(app, &request)?;
    let input = contact_input(app, &request)?;
    let contact = contacts::create(app, user_id, &input).await?;
    Ok(http::json(StatusCode::CREATED, &ContactOut::from(&contact)))
}
