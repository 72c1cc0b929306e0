//! `GET /api/contacts/{contact_id}` (Bearer) → 200 `Contact`; someone else's is a 404.

use ::http::StatusCode;

use crate::app::App;
use crate::contacts;
use crate::http::{self, ApiError, Request, Response};

use super::{ContactOut, contact_id};

/// One contact
#[utoipa::path(
    get,
    path = "/api/contacts/{contact_id}",
    operation_id = "get-contact",
    tag = "contacts",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    params(("contact_id" = i64, Path, description = "The contact's id")),
    responses(
        (status = 200, description = "The contact", body = super::ContactOut),
        crate::openapi::responses::ContactNotFound, crate::openapi::responses::Unauthenticated, crate::openapi::responses::Invalid, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let user_id = http::require_user(app, &request)?;
    let contact = contacts::get(app, user_id, contact_id(&request)?).await?;
    Ok(http::json(StatusCode::OK, &ContactOut::from(&contact)))
}
