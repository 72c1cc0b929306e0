//! `GET /oauth2/logout`: OpenID Connect RP-Initiated Logout 1.0. Ends the browser's sign-in
//! session (and, with a valid `id_token_hint`, the app's session it names), clears the cookie,
//! then 302 to a registered `post_logout_redirect_uri` with `state`, or 200 a signed-out page.
//! An unregistered `post_logout_redirect_uri` is never redirected to.

use ::http::{StatusCode, header};

use crate::app::App;
use crate::handlers::hosted;
use crate::http::{self, ApiError, Request, Response};
use crate::oidc::browser::{self, SIGNIN_COOKIE};
use crate::oidc::tokens::IdTokenHint;
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
    // The browser's sign-in ends whatever else the request says: that is what it asked for.
    let cookie = browser::cookie(&request, SIGNIN_COOKIE);
    let sign_in = oidc::live_sign_in(app, &caller, cookie.as_deref())
        .await?
        .map(|(sign_in, _)| sign_in);
    let answer = match where_to(app, &request, &caller.issuer) {
        Ok((return_to, hint)) => {
            // The app session a hint names ends only with this browser's own live sign-in: an
            // ID token alone (a leaked one, an old one) ends nobody's session.
            let hinted = hint
                .as_ref()
                .filter(|h| sign_in.as_ref().is_some_and(|s| s.user_id == h.user_id))
                .and_then(|h| h.session_id.as_deref().map(|sid| (h.user_id, sid)));
            oidc::end_session(app, &caller, sign_in.as_ref(), hinted).await?;
            match return_to {
                Some(location) => hosted::redirect(StatusCode::FOUND, &location),
                None => http::hosted_page(StatusCode::OK, pages::signed_out(), None),
            }
        }
        Err(message) => {
            oidc::end_session(app, &caller, sign_in.as_ref(), None).await?;
            hosted::error_page(StatusCode::BAD_REQUEST, message)
        }
    };
    let mut response = answer;
    response
        .headers_mut()
        .append(header::SET_COOKIE, hosted::sign_in_cookie(app, &request, "", 0));
    Ok(response)
}

/// Where the browser goes once signed out (`post_logout_redirect_uri` with `state`, if the app
/// registered it), and the verified hint; or why the request is refused (a 400 page).
fn where_to(
    app: &App,
    request: &Request,
    issuer: &str,
) -> Result<(Option<String>, Option<IdTokenHint>), &'static str> {
    let pairs = hosted::query_pairs(request);
    let param = |name: &str| {
        let mut values = pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (Some(v), None) if !v.is_empty() => Ok(Some(v)),
            (None, _) | (Some(_), None) => Ok(None),
            (Some(_), Some(_)) => Err("The sign-out request repeats a parameter."),
        }
    };
    let (hint, client_id, return_to, state) = (
        param("id_token_hint")?,
        param("client_id")?,
        param("post_logout_redirect_uri")?,
        param("state")?,
    );
    let clients = &app.config.oidc_clients;
    let ids: Vec<String> = clients.iter().map(|c| c.client_id.clone()).collect();
    let hint = match hint.map(|t| app.tokens.verify_id_token_hint(t, issuer, &ids)) {
        None => None,
        Some(Ok(hint)) => Some(hint),
        Some(Err(_)) => return Err("The sign-out request's id_token_hint is not valid."),
    };
    let client_id = match (client_id, &hint) {
        (Some(id), Some(hint)) if id != hint.client_id => {
            return Err("The sign-out request names two different apps.");
        }
        (Some(id), _) => Some(id.to_owned()),
        (None, hint) => hint.as_ref().map(|h| h.client_id.clone()),
    };
    let client = match client_id {
        None => None,
        Some(id) => Some(
            clients
                .iter()
                .find(|c| c.client_id == id)
                .ok_or("This app is not registered with UContact (unknown client_id).")?,
        ),
    };
    let location = match return_to {
        None => None,
        Some(uri) if client.is_some_and(|c| c.returns_to(uri)) => {
            let mut url = url::Url::parse(uri).map_err(|_| "The return address is not a URL.")?;
            if let Some(state) = state {
                url.query_pairs_mut().append_pair("state", state);
            }
            Some(url.into())
        }
        Some(_) => {
            return Err(
                "The app asked to return to an address it has not registered (post_logout_redirect_uri).",
            );
        }
    };
    Ok((location, hint))
}
