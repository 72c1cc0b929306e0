//! `POST /oauth2/signin`: the hosted sign-in page's forms: username or email and password, then
//! (TOTP on) the two-factor code; or a passkey's assertion. Right: 303 to the app with a code,
//! and the sign-in session cookie. Wrong: 200 the page again with `login`'s text and backoff.

use ::http::{StatusCode, header};
use serde_json::Value;

use crate::app::App;
use crate::audit::Caller;
use crate::auth::{self, AuthError, FirstFactor, StartedSession};
use crate::handlers::hosted::{self, PostedForm, Step};
use crate::http::{self, ApiError, Request, Response, detail};
use crate::oidc::browser::{self, CSRF_COOKIE, SIGNIN_COOKIE};
use crate::oidc::{self, AuthorizationRequest};
use crate::passkeys::{self, RelyingPartyConfig};

/// The hosted sign-in page's form
///
/// Posted by the page `authorize` shows (form fields `username`, `password`; on the two-factor
/// step `otp`; or the passkey button's `challenge_token` and `credential`), with its
/// `csrf_token` and the authorization request's parameters.
#[utoipa::path(
    post,
    path = "/oauth2/signin",
    operation_id = "signin",
    tag = "oidc",
    request_body(content = crate::openapi::schemas::SigninForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: to `redirect_uri` with `code`, `state` and `iss`; sets the sign-in session cookie"),
        (status = 200, description = "The page again, with the error (or the two-factor step)", content_type = "text/html", body = String),
        crate::openapi::responses::PageRefusals,
        crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let caller = http::caller(app, &request);
    let form = PostedForm::parse(app, &request, &caller).await?;
    let field = |name: &str| form.field(name);
    let authorization = &form.authorization;
    let username = field("username").unwrap_or_default();
    let page =
        |step: Step<'_>, error: &str| hosted::sign_in_page(app, &request, authorization, step, Some(error));
    let csrf_cookie = browser::cookie(&request, CSRF_COOKIE);
    if !form.csrf_holds {
        return page(Step::Password { username }, hosted::EXPIRED_FORM);
    }
    let now = app.clock.now().timestamp();
    let started = if let Some(credential) = field("credential") {
        passkey(app, &request, &caller, field("challenge_token"), credential).await
    } else if let Some(proof) = field("second_step") {
        let Some((identifier, credentials)) =
            browser::check_second_step(&app.limits, csrf_cookie.as_deref(), proof, now)
                .map_err(|e| ApiError::Unexpected(e.into()))?
        else {
            return page(Step::Password { username }, TOO_LONG);
        };
        let first = FirstFactor::Proven(credentials);
        match auth::start_login(app, &caller, &identifier, first, field("otp"), None).await {
            // The password changed, the sessions were ended or TOTP went off since the step began.
            Err(AuthError::BadCredentials) => {
                return page(
                    Step::Password {
                        username: &identifier,
                    },
                    TOO_LONG,
                );
            }
            Err(e @ (AuthError::CodeRequiredAfter(_) | AuthError::InvalidCode { .. })) => {
                let step = Step::SecondFactor {
                    username: &identifier,
                    proof,
                };
                return page(step, refusal(e)?);
            }
            other => other,
        }
    } else {
        let password = field("password").unwrap_or_default();
        let first = FirstFactor::Password(password);
        match auth::start_login(app, &caller, username, first, None, None).await {
            // The password was right and TOTP is on: the two-factor step, for this browser only,
            // while the user's password and sessions stay as they are now.
            Err(AuthError::CodeRequiredAfter(credentials)) => {
                let cookie = csrf_cookie.as_deref().unwrap_or_default();
                let proof = browser::second_step_proof(&app.limits, cookie, username, credentials, now)
                    .map_err(|e| ApiError::Unexpected(e.into()))?;
                let step = Step::SecondFactor {
                    username,
                    proof: &proof,
                };
                return hosted::sign_in_page(app, &request, authorization, step, None);
            }
            other => other,
        }
    };
    let started = match started {
        Ok(started) => started,
        Err(e) => return page(Step::Password { username }, refusal(e)?),
    };
    signed_in(app, &request, &caller, authorization, &started).await
}

async fn passkey(
    app: &App,
    request: &Request,
    caller: &Caller,
    challenge_token: Option<&str>,
    credential: &str,
) -> Result<StartedSession, AuthError> {
    let invalid = AuthError::InvalidPasskey { at_login: true };
    let (Some(challenge_token), Ok(credential)) =
        (challenge_token, serde_json::from_str::<Value>(credential))
    else {
        return Err(invalid);
    };
    let rp = RelyingPartyConfig::for_request(app, &http::links(app, request))?;
    passkeys::start_login(app, caller, challenge_token, &credential, &rp).await
}

const TOO_LONG: &str = "The sign-in took too long. Please sign in again.";

/// A sign-in's refusal in the page: `login`'s texts; anything else is the service's own error.
fn refusal(e: AuthError) -> Result<&'static str, ApiError> {
    match e {
        AuthError::BadCredentials => Ok(detail::BAD_LOGIN),
        AuthError::EmailNotVerified => {
            Ok("Email not verified. Open the link we sent to your email address, then sign in again.")
        }
        AuthError::CodeRequired { .. } | AuthError::CodeRequiredAfter(_) => Ok(detail::CODE_REQUIRED),
        AuthError::InvalidCode { .. } => Ok(detail::INVALID_CODE),
        AuthError::InvalidPasskey { .. } => Ok(detail::INVALID_PASSKEY),
        AuthError::TooManyAttempts { .. } => Ok(detail::TOO_MANY_ATTEMPTS),
        other => Err(other.into()),
    }
}

/// The sign-in session is created: its cookie, and a code for the app.
async fn signed_in(
    app: &App,
    request: &Request,
    caller: &Caller,
    authorization: &AuthorizationRequest,
    started: &StartedSession,
) -> Result<Response, ApiError> {
    let session = &started.session;
    // A browser holds one sign-in: the one this replaces (another user's, or a re-authentication
    // that prompt=login or max_age asked for) ends now rather than live on unseen.
    let previous = browser::cookie(request, SIGNIN_COOKIE)
        .and_then(|v| app.tokens.verify_signin(&v, &caller.issuer).ok());
    oidc::end_session(app, caller, previous.as_ref(), None).await?;
    let cookie = oidc::sign_in_cookie(app, caller, started)?;
    let live = oidc::live_sign_in(app, caller, Some(&cookie)).await?;
    let location = match live {
        Some((sign_in, record)) => {
            oidc::issue_code(
                app,
                caller,
                authorization,
                &record,
                sign_in.amr,
                sign_in.auth_time,
            )
            .await?
        }
        None => None,
    };
    let Some(location) = location else {
        // A reset or a logout-all ended the session in between: start over.
        let step = Step::Password { username: "" };
        return hosted::sign_in_page(app, request, authorization, step, Some(detail::BAD_LOGIN));
    };
    let mut response = hosted::redirect(StatusCode::SEE_OTHER, &location);
    let max_age = session.expires_at - session.created_at.timestamp();
    response.headers_mut().append(
        header::SET_COOKIE,
        hosted::sign_in_cookie(app, request, &cookie, max_age),
    );
    Ok(response)
}
