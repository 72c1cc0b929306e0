//! `POST /api/auth/login`: OAuth2 password form (`username` may be the email) → 200 tokens.
//! `grant_type`, `scope`, `client_id`, `client_secret` and any other field are accepted and ignored.

use ::http::StatusCode;

use crate::app::App;
use crate::auth;
use crate::http::{self, ApiError, FormBody, Request, Response, present};

use super::TokensOut;

pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let form = FormBody::parse(&request).await?;
    let mut fields = form.fields();
    let username = fields.string("username");
    let password = fields.string("password");
    fields.finish()?;
    let tokens = auth::login(
        app,
        &http::caller(&request),
        &present(username)?,
        &present(password)?,
    )
    .await?;
    Ok(http::json(StatusCode::OK, &TokensOut::from(tokens)))
}
