//! `GET /oauth2/signup`: the hosted "create an account" page, reached from the sign-in page's
//! link with the authorization request in its query (which it carries on).

use crate::app::App;
use crate::handlers::hosted::{self, Step};
use crate::http::{self, ApiError, Request, Response};
use crate::oidc::AuthorizationRequest;
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
        (status = 302, description = "A request error that goes back to the app (`error`, `state`, `iss`)"),
        (status = 400, description = "An unknown client or an unregistered redirect URI: an error page", content_type = "text/html", body = String),
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let caller = http::caller(app, &request);
    match AuthorizationRequest::parse(&app.config.oidc_clients, &hosted::query_pairs(&request)) {
        Ok(authorization) => {
            let step = Step::CreateAccount(NewAccount::default());
            hosted::sign_in_page(app, &request, &authorization, step, None)
        }
        Err(error) => Ok(hosted::refuse(&caller, error)),
    }
}
