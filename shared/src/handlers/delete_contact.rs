//! `DELETE /api/contacts/{contact_id}` (Bearer) → 200 the deleted `Contact`.

use ::http::StatusCode;

use crate::app::App;
use crate::contacts;
use crate::http::{self, ApiError, Request, Response};

use super::{ContactOut, contact_id};

pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let user_id = http::require_user(app, &request)?;
    let contact = contacts::delete(app, user_id, contact_id(&request)?).await?;
    Ok(http::json(StatusCode::OK, &ContactOut::from(&contact)))
}
