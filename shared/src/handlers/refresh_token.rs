//! `POST /api/auth/refresh-token`: JSON `{refresh_token}` → 200 a new pair; the old token retires.

use ::http::StatusCode;

use crate::app::App;
use crate::auth;
use crate::http::{self, ApiError, Request, Response};

use super::TokensOut;

pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let token = http::json_field(&request, "refresh_token", |s| Ok(s.to_owned()))?;
    let tokens = auth::refresh(app, &http::caller(&request), &token).await?;
    Ok(http::json(StatusCode::OK, &TokensOut::from(tokens)))
}
