//! `POST /api/auth/logout`: JSON `{refresh_token}` → 204; that token's session ends.

use crate::app::App;
use crate::auth;
use crate::http::{self, ApiError, Request, Response};

pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let token = http::json_field(&request, "refresh_token", |s| Ok(s.to_owned()))?;
    auth::logout(app, &http::caller(&request), &token).await?;
    Ok(http::no_content())
}
