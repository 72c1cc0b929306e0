//! `GET /oauth2/logout`: OpenID Connect RP-Initiated Logout 1.0. Ends the browser's sign-in
//! session (and, with a valid `id_token_hint`, the app's session it names), clears the cookie,
//! then 302 to a registered `post_logout_redirect_uri` with `state`, or 200 a signed-out page.
//! An unregistered `post_logout_redirect_uri` is never redirected to.

use ::http::{StatusCode, header};

use crate::app::App;
use crate::handlers::hosted;
use crate::http::{self, ApiError, Request, Response};
use crate::oidc::browser::{self, SIGNIN_COOKIE};
use crate::oidc::{self, pages};

/// Sign out of UContact (OpenID Connect end-session endpoint)
#[utoipa::path(
    get,
    path = "/oauth2/logout",
    operation_id = "end-session",
    tag = "oidc",
    params(
        ("id_token_hint" = Option<String>, Query, description = "An ID token this service issued (expired or not)"),
        ("client_id" = Option<String>, Query, description = "The app, when no `id_token_hint` names it"),
        ("post_logout_redirect_uri" = Option<String>, Query, description = "One of the app's registered `post_logout_redirect_uris`"),
        ("state" = Option<String>, Query, description = "Returned as given"),
    ),
    responses(
        (status = 302, description = "Signed out: to `post_logout_redirect_uri` with `state`"),
        (status = 200, description = "Signed out: the signed-out page", content_type = "text/html", body = String),
        (status = 400, description = "A bad `id_token_hint`, an unknown client or an unregistered `post_logout_redirect_uri`: an error page", content_type = "text/html", body = String),
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let caller = http::caller(app, &request);
    let pairs = hosted::query_pairs(&request);
    let param = |name: &str| {
        let mut values = pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (Some(v), None) if !v.is_empty() => Ok(Some(v)),
            (None, _) | (Some(_), None) => Ok(None),
            (Some(_), Some(_)) => Err(()),
        }
    };
    let bad = |message: &str| Ok(hosted::error_page(StatusCode::BAD_REQUEST, message));
    let (Ok(hint), Ok(client_id), Ok(return_to), Ok(state)) = (
        param("id_token_hint"),
        param("client_id"),
        param("post_logout_redirect_uri"),
        param("state"),
    ) else {
        return bad("The sign-out request repeats a parameter.");
    };
    let clients = &app.config.oidc_clients;
    let ids: Vec<String> = clients.iter().map(|c| c.client_id.clone()).collect();
    let hint = match hint.map(|t| app.tokens.verify_id_token_hint(t, &caller.issuer, &ids)) {
        None => None,
        Some(Ok(hint)) => Some(hint),
        Some(Err(_)) => return bad("The sign-out request's id_token_hint is not valid."),
    };
    let client_id = match (client_id, &hint) {
        (Some(id), Some(hint)) if id != hint.client_id => {
            return bad("The sign-out request names two different apps.");
        }
        (Some(id), _) => Some(id.to_owned()),
        (None, hint) => hint.as_ref().map(|h| h.client_id.clone()),
    };
    let client = match client_id {
        None => None,
        Some(id) => match clients.iter().find(|c| c.client_id == id) {
            Some(client) => Some(client),
            None => return bad("This app is not registered with UContact (unknown client_id)."),
        },
    };
    if let Some(uri) = return_to
        && !client.is_some_and(|c| c.returns_to(uri))
    {
        return bad(
            "The app asked to return to an address it has not registered (post_logout_redirect_uri).",
        );
    }
    let cookie = browser::cookie(&request, SIGNIN_COOKIE);
    let sign_in = match cookie.as_deref() {
        Some(value) => app.tokens.verify_signin(value, &caller.issuer).ok(),
        None => None,
    };
    // The app session a hint names ends only with this browser's own sign-in: an ID token alone
    // (a leaked one, an old one) ends nobody's session.
    let hinted = hint
        .as_ref()
        .filter(|h| sign_in.as_ref().is_some_and(|s| s.user_id == h.user_id))
        .and_then(|h| h.session_id.as_deref().map(|sid| (h.user_id, sid)));
    oidc::end_session(app, &caller, sign_in.as_ref(), hinted).await?;
    let mut response = match return_to {
        Some(uri) => {
            let mut url = url::Url::parse(uri).map_err(|e| ApiError::Unexpected(e.into()))?;
            if let Some(state) = state {
                url.query_pairs_mut().append_pair("state", state);
            }
            hosted::redirect(StatusCode::FOUND, url.as_str())
        }
        None => http::hosted_page(StatusCode::OK, pages::signed_out(), None),
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, hosted::sign_in_cookie(app, &request, "", 0));
    Ok(response)
}
