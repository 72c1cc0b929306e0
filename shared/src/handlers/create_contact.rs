//! `POST /api/contacts` (Bearer): JSON `ContactIn` → 201 `Contact`.

use ::http::StatusCode;

use crate::app::App;
use crate::contacts;
use crate::http::{self, ApiError, Request, Response};

use super::{ContactOut, contact_input};

pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let user_id = http::require_user(app, &request)?;
    let input = contact_input(app, &request)?;
    let contact = contacts::create(app, user_id, &input).await?;
    Ok(http::json(StatusCode::CREATED, &ContactOut::from(&contact)))
}
