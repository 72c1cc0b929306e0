//! `GET /api/users/me` (Bearer) → 200 `User`.

use ::http::StatusCode;

use crate::app::App;
use crate::auth;
use crate::http::{self, ApiError, Request, Response};

use super::UserOut;

pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let user_id = http::require_user(app, &request)?;
    let user = auth::current_user(app, user_id).await?;
    Ok(http::json(StatusCode::OK, &UserOut::from(&user)))
}
