//! `GET /oauth2/forgot-password`: the hosted "forgot password" page, reached from the sign-in
//! page's link with the authorization request in its query (which it carries on).

use crate::app::App;
use crate::handlers::hosted::{self, Step};
use crate::http::{self, ApiError, Request, Response};
use crate::oidc::AuthorizationRequest;

/// The hosted "forgot password" page
#[utoipa::path(
    get,
    path = "/oauth2/forgot-password",
    operation_id = "forgot-password-page",
    tag = "oidc",
    params(("client_id" = String, Query, description = "The authorization request's parameters, as `authorize` takes them")),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 302, description = "A request error that goes back to the app (`error`, `state`, `iss`)"),
        (status = 400, description = "An unknown client or an unregistered redirect URI: an error page", content_type = "text/html", body = String),
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let caller = http::caller(app, &request);
    match AuthorizationRequest::parse(&app.config.oidc_clients, &hosted::query_pairs(&request)) {
        Ok(authorization) => hosted::sign_in_page(app, &request, &authorization, Step::ForgotPassword, None),
        Err(error) => Ok(hosted::refuse(&caller, error)),
    }
}
