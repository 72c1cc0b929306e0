//! `POST /oauth2/signup`: the "create an account" page's form. Registers as `register` does
//! (the same rules, the verification email), then says to check the email. An address that is
//! taken answers the same page as a new one (what `login` tells of accounts is all the pages
//! tell); a taken username is said, as usernames are the user's public handle.

use crate::app::App;
use crate::auth::{self, AuthError, Registration};
use crate::domain::{Email, Password, Username};
use crate::handlers::hosted::{self, PostedForm, Step};
use crate::http::{self, ApiError, Request, Response, detail};
use crate::oidc::pages::NewAccount;

const CHECK_EMAIL: &str = "We sent a link to confirm your email address. Open it, then come back to sign in.";

/// The "create an account" form
#[utoipa::path(
    post,
    path = "/oauth2/signup",
    operation_id = "signup",
    tag = "oidc",
    request_body(content = crate::openapi::schemas::SignupForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "\"Check your email\", or the form again with the error", content_type = "text/html", body = String),
        crate::openapi::responses::PageRefusals,
        crate::openapi::responses::TooLarge, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let caller = http::caller(app, &request);
    let form = PostedForm::parse(app, &request, &caller).await?;
    let values = NewAccount {
        username: form.field("username").unwrap_or_default(),
        email: form.field("email").unwrap_or_default(),
    };
    let page = |error: &str| {
        let values = NewAccount { ..values };
        hosted::sign_in_page(
            app,
            &request,
            &form.authorization,
            Step::CreateAccount(values),
            Some(error),
        )
    };
    if !form.csrf_holds {
        return page(hosted::EXPIRED_FORM);
    }
    let registration = (|| {
        Ok::<_, &'static str>(Registration {
            username: Username::parse(values.username)
                .map_err(|_| "A username is 3 to 40 letters, digits, '.', '_' or '-'.")?,
            email: Email::parse(values.email).map_err(|_| "Enter a valid email address.")?,
            password: Password::parse(form.field("password").unwrap_or_default())
                .map_err(|_| "A password is 8 to 128 characters.")?,
        })
    })();
    let registration = match registration {
        Ok(registration) => registration,
        Err(problem) => return page(problem),
    };
    let done = || {
        hosted::sign_in_page(
            app,
            &request,
            &form.authorization,
            Step::CheckEmail(CHECK_EMAIL),
            None,
        )
    };
    match auth::register(app, &caller, registration, &http::links(app, &request)).await {
        Ok(_) | Err(AuthError::EmailTaken) => done(),
        Err(AuthError::UsernameTaken) => page("That username is taken. Choose another one."),
        Err(AuthError::WeakPassword(problem) | AuthError::InvalidField { error: problem, .. }) => {
            page(&problem.message)
        }
        Err(AuthError::TooManyAttempts { .. }) => page(detail::TOO_MANY_ATTEMPTS),
        Err(other) => Err(other.into()),
    }
}
