//! `PUT /api/contacts/{contact_id}` (Bearer): JSON `ContactIn` → 200 `Contact`.

use ::http::StatusCode;

use crate::app::App;
use crate::contacts;
use crate::http::{self, ApiError, Request, Response};

use super::{ContactOut, contact_id, contact_input};

pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let user_id = http::require_user(app, &request)?;
    let id = contact_id(&request)?;
    let input = contact_input(app, &request)?;
    let contact = contacts::update(app, user_id, id, &input).await?;
    Ok(http::json(StatusCode::OK, &ContactOut::from(&contact)))
}
