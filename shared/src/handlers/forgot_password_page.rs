//! `GET /oauth2/forgot-password`: the hosted "forgot password" page, reached from the sign-in
//! page's link with the authorization request in its query (which it carries on).

use crate::app::App;
use crate::handlers::hosted::{self, Step};
use crate::http::{self, ApiError, Request, Response};

/// The hosted "forgot password" page
#[utoipa::path(
    get,
    path = "/oauth2/forgot-password",
    operation_id = "forgot-password-page",
    tag = "oidc",
    params(("client_id" = String, Query, description = "The authorization request's parameters, as `authorize` takes them")),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        crate::openapi::responses::PageRefusals,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let authorization = hosted::authorization_in_query(app, &request, &http::caller(app, &request))?;
    hosted::sign_in_page(app, &request, &authorization, Step::ForgotPassword, None)
}
