//! What the hosted sign-in routes (`authorize`, `signin`, `end-session`) share: the sign-in page
//! with its CSRF cookie, error pages, redirects and the sign-in cookie. Not a route itself.

use ::http::{HeaderValue, StatusCode, header};

use crate::app::App;
use crate::audit::Caller;
use crate::http::FormBody;
use crate::http::{self, ApiError, Request, Response};
use crate::oidc::browser::{self, CSRF_COOKIE, CookieSite, SIGNIN_COOKIE};
use crate::oidc::pages::{self, FormContext, NewAccount};
use crate::oidc::{AuthorizationRequest, RequestError};

/// The request's query as (name, value) pairs, every value of every name.
pub fn query_pairs(request: &Request) -> Vec<(String, String)> {
    use lambda_http::RequestExt;
    let query = request.query_string_parameters();
    let mut pairs = Vec::new();
    for (name, _) in query.iter() {
        if pairs.iter().any(|(n, _): &(String, String)| n == name) {
            continue;
        }
        for value in query.all(name).unwrap_or_default() {
            pairs.push((name.to_owned(), value.to_owned()));
        }
    }
    pairs
}

/// A redirect (302, or 303 after a form) that no cache keeps.
pub fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = Response::new(lambda_http::Body::Empty);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// An authorization request that cannot go on: a 400 page, or back to the app with `error`.
pub fn refuse(caller: &Caller, error: RequestError) -> Response {
    match error.location(&caller.issuer) {
        Some(location) => redirect(StatusCode::FOUND, &location),
        None => {
            let RequestError::Page(message) = error else {
                unreachable!("only a page has no location")
            };
            error_page(StatusCode::BAD_REQUEST, message)
        }
    }
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    http::hosted_page(status, pages::error(message), None)
}

/// The origin a sign-in's redirect goes to, as a CSP source: `https://app.example`, or a native
/// app's scheme (`com.example.app:`).
fn redirect_source(redirect_uri: &str) -> Option<String> {
    let url = url::Url::parse(redirect_uri).ok()?;
    match url.origin() {
        origin @ url::Origin::Tuple(..) => Some(origin.ascii_serialization()),
        url::Origin::Opaque(_) => Some(format!("{}:", url.scheme())),
    }
}

/// Which page of the sign-in to show.
pub enum Step<'a> {
    /// Username or email and password (prefilled with `username`).
    Password {
        username: &'a str,
    },
    /// The two-factor code, after a right password for `username` (`proof`, crate::oidc::browser).
    SecondFactor {
        username: &'a str,
        proof: &'a str,
    },
    /// "Create an account", with what was sent.
    CreateAccount(NewAccount<'a>),
    ForgotPassword,
    /// What to do next, after "create an account" or "forgot password".
    CheckEmail(&'a str),
}

/// A page of the sign-in (status 200, errors in the page), keeping the browser's CSRF cookie or
/// setting a new one.
pub fn sign_in_page(
    app: &App,
    request: &Request,
    authorization: &AuthorizationRequest,
    step: Step<'_>,
    error: Option<&str>,
) -> Result<Response, ApiError> {
    let links = http::links(app, request);
    let existing = browser::cookie(request, CSRF_COOKIE).filter(|c| c.len() == 43);
    let csrf_cookie = existing.clone().unwrap_or_else(browser::new_csrf_cookie);
    let form = FormContext {
        csrf_token: &csrf_cookie,
        request: authorization,
    };
    let page = match step {
        Step::Password { username } => pages::sign_in(&form, error, username),
        Step::SecondFactor { username, proof } => pages::second_factor(&form, error, username, proof),
        Step::CreateAccount(values) => pages::create_account(&form, error, &values),
        Step::ForgotPassword => pages::forgot_password(&form, error),
        Step::CheckEmail(message) => pages::check_email(&form, message),
    };
    let mut response = http::hosted_page(
        StatusCode::OK,
        page,
        redirect_source(&authorization.redirect_uri).as_deref(),
    );
    if existing.is_none() {
        let site = CookieSite::of(&links);
        // A day: long enough for any sign-in. Lax, not Strict: a Strict cookie is not sent on the
        // navigation from the app, and would be replaced then, breaking the forms of other tabs
        // and the two-factor step; cross-site posts get it under neither.
        let set = site.set(CSRF_COOKIE, &csrf_cookie, 24 * 3600, "Lax");
        response.headers_mut().append(header::SET_COOKIE, set);
    }
    Ok(response)
}

/// A form posted from one of the pages: its fields, the authorization request it carries, and
/// whether its CSRF token is this browser's. `Err`: the request cannot go on (its answer).
pub struct PostedForm {
    pub fields: Vec<(String, String)>,
    pub authorization: AuthorizationRequest,
    pub csrf_holds: bool,
}

/// The authorization request of a page's query (`authorize` and the pages it links to), or the
/// answer that refuses it.
pub fn authorization_in_query(
    app: &App,
    request: &Request,
    caller: &Caller,
) -> Result<AuthorizationRequest, ApiError> {
    AuthorizationRequest::parse(&app.config.oidc_clients, &query_pairs(request))
        .map_err(|error| ApiError::Answered(Box::new(refuse(caller, error))))
}

impl PostedForm {
    pub async fn parse(app: &App, request: &Request, caller: &Caller) -> Result<Self, ApiError> {
        let form = FormBody::parse(request).await?;
        let authorization = AuthorizationRequest::parse(&app.config.oidc_clients, form.pairs())
            .map_err(|error| ApiError::Answered(Box::new(refuse(caller, error))))?;
        let fields = form.pairs().to_vec();
        let token = fields
            .iter()
            .find(|(n, _)| n == "csrf_token")
            .map(|(_, v)| v.as_str());
        let cookie = browser::cookie(request, CSRF_COOKIE);
        let csrf_holds = browser::csrf_holds(cookie.as_deref(), token);
        Ok(Self {
            fields,
            authorization,
            csrf_holds,
        })
    }

    /// A field's first value; empty counts as absent.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// The answer to a form whose CSRF token is not this browser's.
pub const EXPIRED_FORM: &str = "This form has expired. Please sign in again.";

/// The `Set-Cookie` of the sign-in cookie (`value`, living `max_age` seconds; 0 ends it).
pub fn sign_in_cookie(app: &App, request: &Request, value: &str, max_age: i64) -> HeaderValue {
    CookieSite::of(&http::links(app, request)).set(SIGNIN_COOKIE, value, max_age, "Lax")
}

#[cfg(test)]
mod tests {
    #[test]
    fn redirect_sources_are_origins_or_schemes() {
        assert_eq!(
            super::redirect_source("https://app.example:8443/cb?x=1").as_deref(),
            Some("https://app.example:8443")
        );
        assert_eq!(
            super::redirect_source("com.example.app:/cb").as_deref(),
            Some("com.example.app:")
        );
    }
}
