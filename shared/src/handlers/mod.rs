//! One module per route, named as its Lambda function: parse the request, call the use case,
//! shape the response. Each has `pub async fn handle(&App, Request) -> Result<Response, ApiError>`.

pub mod confirm_email;
pub mod health;
pub mod login;
pub mod logout;
pub mod logout_all;
pub mod me;
pub mod refresh_token;
pub mod register;
pub mod request_email;
pub mod reset_password;
pub mod reset_password_form;
pub mod set_password;

use chrono::SecondsFormat;
use serde::Serialize;

use crate::auth::TokenPair;
use crate::domain::{User, UserId};

/// The `User` JSON of the contract.
#[derive(Debug, Serialize)]
pub struct UserOut<'a> {
    pub id: UserId,
    pub username: &'a str,
    pub email: &'a str,
    pub created_at: String,
    pub avatar: Option<&'a str>,
    pub is_verified: bool,
}

impl<'a> From<&'a User> for UserOut<'a> {
    fn from(user: &'a User) -> Self {
        Self {
            id: user.id,
            username: user.username.as_str(),
            email: user.email.as_str(),
            created_at: user.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            avatar: user.avatar.as_deref(),
            is_verified: user.is_verified,
        }
    }
}

/// The token JSON of login and refresh.
#[derive(Serialize)]
pub struct TokensOut {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
}

impl From<TokenPair> for TokensOut {
    fn from(pair: TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            token_type: "bearer",
        }
    }
}
