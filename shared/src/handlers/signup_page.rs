//! `GET /oauth2/signup`: the hosted "create an account" page, reached from the sign-in page's
//! link with the authorization request in its query (which it carries on).

use crate::app::App;
use crate::handlers::hosted::{self, Step};
use crate::http::{self, ApiError, Request, Response};
use crate::oidc::pages::NewAccount;

/// The hosted "create an account" page
#[utoipa::path(
    get,
    path = "/oauth2/signup",
    operation_id = "signup-page",
    tag = "oidc",
    params(("client_id" = String, Query, description = "The authorization request's parameters, as `authorize` takes them")),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        crate::openapi::responses::PageRefusals,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let authorization = hosted::authorization_in_query(app, &request, &http::caller(app, &request))?;
    let step = Step::CreateAccount(NewAccount::default());
    hosted::sign_in_page(app, &request, &authorization, step, None)
}
