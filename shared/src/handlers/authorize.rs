//! `GET /oauth2/authorize`: the OpenID Connect authorization endpoint. With a live sign-in
//! session (cookie) and no `prompt=login`: 302 to the app with a code; otherwise the hosted
//! sign-in page (or, with `prompt=none`, back to the app with `login_required`). An unknown app
//! or an unregistered redirect URI: a 400 page, never a redirect.

use ::http::StatusCode;

use crate::app::App;
use crate::handlers::hosted::{self, Step};
use crate::http::{self, ApiError, Request, Response};
use crate::oidc::browser::{self, SIGNIN_COOKIE};
use crate::oidc::{self, Prompt, RequestError};

/// Sign in with UContact (OpenID Connect authorization endpoint)
///
/// The authorization code flow with PKCE (S256 only). Parameters as OpenID Connect Core 1.0
/// 3.1.2.1; `client_id` and `redirect_uri` as registered in `OIDC_CLIENTS`.
#[utoipa::path(
    get,
    path = "/oauth2/authorize",
    operation_id = "authorize",
    tag = "oidc",
    params(
        ("response_type" = String, Query, description = "`code`"),
        ("client_id" = String, Query, description = "A registered client"),
        ("redirect_uri" = String, Query, description = "One of the client's redirect URIs, exactly"),
        ("scope" = String, Query, description = "`openid`, and any of `email`, `profile`, `offline_access`"),
        ("state" = Option<String>, Query, description = "Returned as given"),
        ("nonce" = Option<String>, Query, description = "Returned in the ID token"),
        ("code_challenge" = String, Query, description = "BASE64URL(SHA-256(code_verifier))"),
        ("code_challenge_method" = String, Query, description = "`S256`"),
        ("prompt" = Option<String>, Query, description = "`login` (always show the page) or `none` (never)"),
        ("max_age" = Option<i64>, Query, description = "A sign-in older than this (seconds) is asked again"),
        ("response_mode" = Option<String>, Query, description = "`query` (the only one)"),
        ("login_hint" = Option<String>, Query, description = "Prefills the username"),
    ),
    responses(
        (status = 200, description = "The sign-in page", content_type = "text/html", body = String),
        (status = 302, description = "To `redirect_uri` with `code`, `state` and `iss`, or with `error` (`invalid_request`, `unsupported_response_type`, `invalid_scope`, `login_required`), `state` and `iss`"),
        (status = 400, description = "An unknown client or an unregistered redirect URI: an error page", content_type = "text/html", body = String),
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let caller = http::caller(app, &request);
    let authorization = hosted::authorization_in_query(app, &request, &caller)?;
    if authorization.prompt != Some(Prompt::Login) {
        let cookie = browser::cookie(&request, SIGNIN_COOKIE);
        let fresh_enough = |auth_time: i64| {
            authorization
                .max_age
                .is_none_or(|max_age| app.clock.now().timestamp() - auth_time <= max_age)
        };
        if let Some((sign_in, record)) = oidc::live_sign_in(app, &caller, cookie.as_deref()).await?
            && fresh_enough(sign_in.auth_time)
            && let Some(location) = oidc::issue_code(
                app,
                &caller,
                &authorization,
                &record,
                sign_in.amr,
                sign_in.auth_time,
            )
            .await?
        {
            return Ok(hosted::redirect(StatusCode::FOUND, &location));
        }
    }
    if authorization.prompt == Some(Prompt::None) {
        let error = RequestError::Redirect {
            redirect_uri: authorization.redirect_uri.clone(),
            state: authorization.state.clone(),
            error: "login_required",
            description: "The user is not signed in",
        };
        return Ok(hosted::refuse(&caller, error));
    }
    let username = authorization.login_hint.clone().unwrap_or_default();
    hosted::sign_in_page(
        app,
        &request,
        &authorization,
        Step::Password { username: &username },
        None,
    )
}
