//! The route table: the one list of function names, methods and paths. The local router, the
//! `functions/` crates and (with the AWS issue) template.yaml all follow it; a test keeps them equal.

use std::collections::HashMap;

use http::Method;

use crate::app::App;
use crate::handlers;
use crate::http::{Allowed, ApiError, Request, Response, run_handler};
use crate::keys::KeyNeeds;
use crate::store::WarmUp;

/// One route: a Lambda function, its method and its path (`{name}` marks a path parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Register,
    Login,
    RefreshToken,
    ConfirmEmail,
    RequestEmail,
    ResetPassword,
    ResetPasswordForm,
    SetPassword,
    Logout,
    LogoutAll,
    Me,
    ChangePassword,
    ChangeEmail,
    ConfirmEmailChange,
    DeleteAccount,
    ListSessions,
    RevokeSession,
    MfaStatus,
    TotpSetup,
    TotpConfirm,
    TotpDisable,
    RecoveryCodes,
    PasskeyRegisterOptions,
    PasskeyRegister,
    ListPasskeys,
    DeletePasskey,
    PasskeyLoginOptions,
    PasskeyLogin,
    Authorize,
    Signin,
    Token,
    Userinfo,
    EndSession,
    SigninPageAsset,
    SignupPage,
    Signup,
    ForgotPasswordPage,
    ForgotPassword,
    Health,
    ListContacts,
    CreateContact,
    GetContact,
    UpdateContact,
    DeleteContact,
    UpcomingBirthdays,
    Openapi,
    Docs,
    DocsAsset,
    Jwks,
    OpenidConfiguration,
}

/// The function behind API Gateway's `$default` route: it answers every request that matches no
/// route of the table, as [`resolve`] does (404 or 405).
pub const FALLBACK_FUNCTION: &str = "fallback";

impl Endpoint {
    /// Every route, in the order of the contract (docs/API.md). Requests that match none of them
    /// go to the `fallback` function ([`FALLBACK_FUNCTION`]) when deployed.
    pub const ALL: [Endpoint; 50] = [
        Endpoint::Register,
        Endpoint::Login,
        Endpoint::RefreshToken,
        Endpoint::ConfirmEmail,
        Endpoint::RequestEmail,
        Endpoint::ResetPassword,
        Endpoint::ResetPasswordForm,
        Endpoint::SetPassword,
        Endpoint::Logout,
        Endpoint::LogoutAll,
        Endpoint::Me,
        Endpoint::ChangePassword,
        Endpoint::ChangeEmail,
        Endpoint::ConfirmEmailChange,
        Endpoint::DeleteAccount,
        Endpoint::ListSessions,
        Endpoint::RevokeSession,
        Endpoint::MfaStatus,
        Endpoint::TotpSetup,
        Endpoint::TotpConfirm,
        Endpoint::TotpDisable,
        Endpoint::RecoveryCodes,
        Endpoint::PasskeyRegisterOptions,
        Endpoint::PasskeyRegister,
        Endpoint::ListPasskeys,
        Endpoint::DeletePasskey,
        Endpoint::PasskeyLoginOptions,
        Endpoint::PasskeyLogin,
        Endpoint::Authorize,
        Endpoint::Signin,
        Endpoint::Token,
        Endpoint::Userinfo,
        Endpoint::EndSession,
        Endpoint::SigninPageAsset,
        Endpoint::SignupPage,
        Endpoint::Signup,
        Endpoint::ForgotPasswordPage,
        Endpoint::ForgotPassword,
        Endpoint::Health,
        Endpoint::ListContacts,
        Endpoint::CreateContact,
        Endpoint::GetContact,
        Endpoint::UpdateContact,
        Endpoint::DeleteContact,
        Endpoint::UpcomingBirthdays,
        Endpoint::Openapi,
        Endpoint::Docs,
        Endpoint::DocsAsset,
        Endpoint::Jwks,
        Endpoint::OpenidConfiguration,
    ];

    /// The function name, method and path of this route.
    pub const fn route(self) -> (&'static str, Method, &'static str) {
        match self {
            Endpoint::Register => ("register", Method::POST, "/api/auth/register"),
            Endpoint::Login => ("login", Method::POST, "/api/auth/login"),
            Endpoint::RefreshToken => ("refresh-token", Method::POST, "/api/auth/refresh-token"),
            Endpoint::ConfirmEmail => ("confirm-email", Method::GET, "/api/auth/confirmed_email/{token}"),
            Endpoint::RequestEmail => ("request-email", Method::POST, "/api/auth/request_email"),
            Endpoint::ResetPassword => ("reset-password", Method::POST, "/api/auth/reset-password"),
            Endpoint::ResetPasswordForm => {
                ("reset-password-form", Method::GET, "/auth/reset-password/{token}")
            }
            Endpoint::SetPassword => ("set-password", Method::POST, "/api/auth/set-password"),
            Endpoint::Logout => ("logout", Method::POST, "/api/auth/logout"),
            Endpoint::LogoutAll => ("logout-all", Method::POST, "/api/auth/logout-all"),
            Endpoint::Me => ("me", Method::GET, "/api/users/me"),
            Endpoint::ChangePassword => ("change-password", Method::POST, "/api/users/me/password"),
            Endpoint::ChangeEmail => ("change-email", Method::POST, "/api/users/me/email"),
            Endpoint::ConfirmEmailChange => (
                "confirm-email-change",
                Method::GET,
                "/api/auth/confirm-email-change/{token}",
            ),
            Endpoint::DeleteAccount => ("delete-account", Method::DELETE, "/api/users/me"),
            Endpoint::ListSessions => ("list-sessions", Method::GET, "/api/users/me/sessions"),
            Endpoint::RevokeSession => (
                "revoke-session",
                Method::DELETE,
                "/api/users/me/sessions/{session_id}",
            ),
            Endpoint::MfaStatus => ("mfa-status", Method::GET, "/api/users/me/mfa"),
            Endpoint::TotpSetup => ("totp-setup", Method::POST, "/api/users/me/mfa/totp"),
            Endpoint::TotpConfirm => ("totp-confirm", Method::POST, "/api/users/me/mfa/totp/confirm"),
            Endpoint::TotpDisable => ("totp-disable", Method::DELETE, "/api/users/me/mfa/totp"),
            Endpoint::RecoveryCodes => ("recovery-codes", Method::POST, "/api/users/me/mfa/recovery-codes"),
            Endpoint::PasskeyRegisterOptions => (
                "passkey-register-options",
                Method::POST,
                "/api/users/me/passkeys/options",
            ),
            Endpoint::PasskeyRegister => ("passkey-register", Method::POST, "/api/users/me/passkeys"),
            Endpoint::ListPasskeys => ("list-passkeys", Method::GET, "/api/users/me/passkeys"),
            Endpoint::DeletePasskey => (
                "delete-passkey",
                Method::DELETE,
                "/api/users/me/passkeys/{passkey_id}",
            ),
            Endpoint::PasskeyLoginOptions => {
                ("passkey-login-options", Method::POST, "/api/auth/passkey/options")
            }
            Endpoint::PasskeyLogin => ("passkey-login", Method::POST, "/api/auth/passkey/login"),
            Endpoint::Authorize => ("authorize", Method::GET, "/oauth2/authorize"),
            Endpoint::Signin => ("signin", Method::POST, "/oauth2/signin"),
            Endpoint::Token => ("token", Method::POST, "/oauth2/token"),
            Endpoint::Userinfo => ("userinfo", Method::GET, "/oauth2/userinfo"),
            Endpoint::EndSession => ("end-session", Method::GET, "/oauth2/logout"),
            Endpoint::SigninPageAsset => ("signin-page-asset", Method::GET, "/oauth2/assets/{file}"),
            Endpoint::SignupPage => ("signup-page", Method::GET, "/oauth2/signup"),
            Endpoint::Signup => ("signup", Method::POST, "/oauth2/signup"),
            Endpoint::ForgotPasswordPage => ("forgot-password-page", Method::GET, "/oauth2/forgot-password"),
            Endpoint::ForgotPassword => ("forgot-password", Method::POST, "/oauth2/forgot-password"),
            Endpoint::Health => ("health", Method::GET, "/api/healthchecker"),
            Endpoint::ListContacts => ("list-contacts", Method::GET, "/api/contacts"),
            Endpoint::CreateContact => ("create-contact", Method::POST, "/api/contacts"),
            Endpoint::GetContact => ("get-contact", Method::GET, "/api/contacts/{contact_id}"),
            Endpoint::UpdateContact => ("update-contact", Method::PUT, "/api/contacts/{contact_id}"),
            Endpoint::DeleteContact => ("delete-contact", Method::DELETE, "/api/contacts/{contact_id}"),
            Endpoint::UpcomingBirthdays => (
                "upcoming-birthdays",
                Method::GET,
                "/api/contacts/upcoming-birthdays",
            ),
            Endpoint::Openapi => ("openapi", Method::GET, "/openapi.json"),
            Endpoint::Docs => ("docs", Method::GET, "/docs"),
            Endpoint::DocsAsset => ("docs-asset", Method::GET, "/docs/{file}"),
            Endpoint::Jwks => ("jwks", Method::GET, "/.well-known/jwks.json"),
            Endpoint::OpenidConfiguration => (
                "openid-configuration",
                Method::GET,
                "/.well-known/openid-configuration",
            ),
        }
    }

    /// What this route's function takes from the key store (docs/API.md, "Signing keys"): the
    /// private keys only of the token kinds it mints, public keys if it verifies a token, the
    /// abuse-state hash key if it keys backoff or throttle state. template.yaml grants each
    /// function exactly these secrets (tests/deployment).
    pub const fn keys(self) -> KeyNeeds {
        const VERIFY: KeyNeeds = KeyNeeds {
            verify: true,
            ..KeyNeeds::NONE
        };
        match self {
            // Keys the address's email throttle (the verification link is minted by the worker's
            // job, crate::jobs::WORKER_KEYS).
            Endpoint::Register => KeyNeeds {
                abuse_hash: true,
                ..KeyNeeds::NONE
            },
            // Only write a job: the worker looks the address up and mints the link.
            Endpoint::RequestEmail | Endpoint::ResetPassword => KeyNeeds::NONE,
            // Mints sessions; keys the identifier's login backoff; checks second factors.
            Endpoint::Login => KeyNeeds {
                sign_session: true,
                abuse_hash: true,
                mfa: true,
                ..KeyNeeds::NONE
            },
            // Verifies the access token, checks the password (the username's backoff) and the
            // second factor, mints the answer's pair.
            Endpoint::ChangePassword => KeyNeeds {
                sign_session: true,
                verify: true,
                abuse_hash: true,
                mfa: true,
                ..KeyNeeds::NONE
            },
            // Verify the access token and check the password (the username's login backoff) and
            // the second factor; the email-change link is minted by the worker's job; a deletion
            // keys the abuse state its purge clears. The second-factor routes seal secrets and
            // hash recovery codes.
            Endpoint::ChangeEmail
            | Endpoint::DeleteAccount
            | Endpoint::TotpSetup
            | Endpoint::TotpConfirm
            | Endpoint::TotpDisable
            | Endpoint::RecoveryCodes
            | Endpoint::PasskeyRegister => KeyNeeds {
                verify: true,
                abuse_hash: true,
                mfa: true,
                ..KeyNeeds::NONE
            },
            // Mints the login's pair.
            Endpoint::PasskeyLogin => KeyNeeds {
                sign_session: true,
                ..KeyNeeds::NONE
            },
            // Only writes the ceremony's state.
            Endpoint::PasskeyLoginOptions => KeyNeeds::NONE,
            // Verifies the sign-in cookie, mints codes (session keys).
            Endpoint::Authorize => KeyNeeds {
                sign_session: true,
                verify: true,
                ..KeyNeeds::NONE
            },
            // Keys the address's email throttle, as register does (the verification link is
            // minted by the worker's job).
            Endpoint::Signup => KeyNeeds {
                abuse_hash: true,
                ..KeyNeeds::NONE
            },
            // The pages only render (their CSRF cookie is random); forgot-password only writes the
            // reset's job, as reset-password does.
            Endpoint::SignupPage | Endpoint::ForgotPasswordPage | Endpoint::ForgotPassword => KeyNeeds::NONE,
            // Both sign in as login does (the identifier's backoff, second factors) and mint the
            // sign-in cookie, codes, and the grants' tokens.
            Endpoint::Signin | Endpoint::Token => KeyNeeds {
                sign_session: true,
                verify: true,
                abuse_hash: true,
                mfa: true,
                ..KeyNeeds::NONE
            },
            // Verifies the refresh token, mints the next pair.
            Endpoint::RefreshToken => KeyNeeds {
                sign_session: true,
                verify: true,
                ..KeyNeeds::NONE
            },
            Endpoint::ConfirmEmail
            | Endpoint::ConfirmEmailChange
            | Endpoint::ResetPasswordForm
            | Endpoint::SetPassword
            | Endpoint::Logout
            | Endpoint::LogoutAll
            | Endpoint::Me
            | Endpoint::ListSessions
            | Endpoint::RevokeSession
            | Endpoint::MfaStatus
            | Endpoint::PasskeyRegisterOptions
            | Endpoint::ListPasskeys
            | Endpoint::DeletePasskey
            | Endpoint::ListContacts
            | Endpoint::CreateContact
            | Endpoint::GetContact
            | Endpoint::UpdateContact
            | Endpoint::DeleteContact
            | Endpoint::UpcomingBirthdays
            | Endpoint::Jwks
            | Endpoint::OpenidConfiguration
            | Endpoint::Userinfo
            | Endpoint::EndSession => VERIFY,
            Endpoint::Health
            | Endpoint::Openapi
            | Endpoint::Docs
            | Endpoint::DocsAsset
            | Endpoint::SigninPageAsset => KeyNeeds::NONE,
        }
    }

    /// The store read this route's function makes during its cold start, to open the store's
    /// connection before the first request (a family its role may read: template.yaml).
    pub const fn warm_up(self) -> WarmUp {
        match self {
            // Only write job items, or touch no store at all.
            Endpoint::RequestEmail
            | Endpoint::ResetPassword
            | Endpoint::ResetPasswordForm
            | Endpoint::Openapi
            | Endpoint::Docs
            | Endpoint::DocsAsset
            | Endpoint::Jwks
            | Endpoint::OpenidConfiguration
            | Endpoint::SigninPageAsset
            | Endpoint::SignupPage
            | Endpoint::ForgotPasswordPage
            | Endpoint::ForgotPassword => WarmUp::None,
            // Their roles only write (UpdateItem, transactions): no read to warm with.
            Endpoint::Logout | Endpoint::CreateContact | Endpoint::PasskeyLoginOptions => WarmUp::None,
            Endpoint::Health => WarmUp::Health,
            Endpoint::RefreshToken
            | Endpoint::LogoutAll
            | Endpoint::RevokeSession
            | Endpoint::PasskeyRegisterOptions
            | Endpoint::ListPasskeys
            | Endpoint::Authorize
            | Endpoint::Userinfo
            | Endpoint::EndSession => WarmUp::UserPartitionBatch,
            Endpoint::Register
            | Endpoint::Signup
            | Endpoint::Login
            | Endpoint::ConfirmEmail
            | Endpoint::SetPassword
            | Endpoint::Me
            | Endpoint::ChangePassword
            | Endpoint::ChangeEmail
            | Endpoint::ConfirmEmailChange
            | Endpoint::DeleteAccount
            | Endpoint::ListSessions
            | Endpoint::MfaStatus
            | Endpoint::TotpSetup
            | Endpoint::TotpConfirm
            | Endpoint::TotpDisable
            | Endpoint::RecoveryCodes
            | Endpoint::PasskeyRegister
            | Endpoint::DeletePasskey
            | Endpoint::PasskeyLogin
            | Endpoint::Signin
            | Endpoint::Token
            | Endpoint::ListContacts
            | Endpoint::GetContact
            | Endpoint::UpdateContact
            | Endpoint::DeleteContact
            | Endpoint::UpcomingBirthdays => WarmUp::UserPartition,
        }
    }

    pub fn function_name(self) -> &'static str {
        self.route().0
    }

    pub fn method(self) -> Method {
        self.route().1
    }

    pub fn path(self) -> &'static str {
        self.route().2
    }

    /// Runs this route's handler.
    pub async fn call(self, app: &App, request: Request) -> Response {
        match self {
            Endpoint::Register => run_handler(app, request, handlers::register::handle).await,
            Endpoint::Login => run_handler(app, request, handlers::login::handle).await,
            Endpoint::RefreshToken => run_handler(app, request, handlers::refresh_token::handle).await,
            Endpoint::ConfirmEmail => run_handler(app, request, handlers::confirm_email::handle).await,
            Endpoint::RequestEmail => run_handler(app, request, handlers::request_email::handle).await,
            Endpoint::ResetPassword => run_handler(app, request, handlers::reset_password::handle).await,
            Endpoint::ResetPasswordForm => {
                run_handler(app, request, handlers::reset_password_form::handle).await
            }
            Endpoint::SetPassword => run_handler(app, request, handlers::set_password::handle).await,
            Endpoint::Logout => run_handler(app, request, handlers::logout::handle).await,
            Endpoint::LogoutAll => run_handler(app, request, handlers::logout_all::handle).await,
            Endpoint::Me => run_handler(app, request, handlers::me::handle).await,
            Endpoint::ChangePassword => run_handler(app, request, handlers::change_password::handle).await,
            Endpoint::ChangeEmail => run_handler(app, request, handlers::change_email::handle).await,
            Endpoint::ConfirmEmailChange => {
                run_handler(app, request, handlers::confirm_email_change::handle).await
            }
            Endpoint::DeleteAccount => run_handler(app, request, handlers::delete_account::handle).await,
            Endpoint::ListSessions => run_handler(app, request, handlers::list_sessions::handle).await,
            Endpoint::RevokeSession => run_handler(app, request, handlers::revoke_session::handle).await,
            Endpoint::MfaStatus => run_handler(app, request, handlers::mfa_status::handle).await,
            Endpoint::TotpSetup => run_handler(app, request, handlers::totp_setup::handle).await,
            Endpoint::TotpConfirm => run_handler(app, request, handlers::totp_confirm::handle).await,
            Endpoint::TotpDisable => run_handler(app, request, handlers::totp_disable::handle).await,
            Endpoint::RecoveryCodes => run_handler(app, request, handlers::recovery_codes::handle).await,
            Endpoint::PasskeyRegisterOptions => {
                run_handler(app, request, handlers::passkey_register_options::handle).await
            }
            Endpoint::PasskeyRegister => run_handler(app, request, handlers::passkey_register::handle).await,
            Endpoint::ListPasskeys => run_handler(app, request, handlers::list_passkeys::handle).await,
            Endpoint::DeletePasskey => run_handler(app, request, handlers::delete_passkey::handle).await,
            Endpoint::PasskeyLoginOptions => {
                run_handler(app, request, handlers::passkey_login_options::handle).await
            }
            Endpoint::PasskeyLogin => run_handler(app, request, handlers::passkey_login::handle).await,
            Endpoint::Authorize => run_handler(app, request, handlers::authorize::handle).await,
            Endpoint::Signin => run_handler(app, request, handlers::signin::handle).await,
            Endpoint::Token => run_handler(app, request, handlers::token::handle).await,
            Endpoint::Userinfo => run_handler(app, request, handlers::userinfo::handle).await,
            Endpoint::EndSession => run_handler(app, request, handlers::end_session::handle).await,
            Endpoint::SigninPageAsset => run_handler(app, request, handlers::signin_page_asset::handle).await,
            Endpoint::SignupPage => run_handler(app, request, handlers::signup_page::handle).await,
            Endpoint::Signup => run_handler(app, request, handlers::signup::handle).await,
            Endpoint::ForgotPasswordPage => {
                run_handler(app, request, handlers::forgot_password_page::handle).await
            }
            Endpoint::ForgotPassword => run_handler(app, request, handlers::forgot_password::handle).await,
            Endpoint::Health => run_handler(app, request, handlers::health::handle).await,
            Endpoint::ListContacts => run_handler(app, request, handlers::list_contacts::handle).await,
            Endpoint::CreateContact => run_handler(app, request, handlers::create_contact::handle).await,
            Endpoint::GetContact => run_handler(app, request, handlers::get_contact::handle).await,
            Endpoint::UpdateContact => run_handler(app, request, handlers::update_contact::handle).await,
            Endpoint::DeleteContact => run_handler(app, request, handlers::delete_contact::handle).await,
            Endpoint::UpcomingBirthdays => {
                run_handler(app, request, handlers::upcoming_birthdays::handle).await
            }
            Endpoint::Openapi => run_handler(app, request, handlers::openapi::handle).await,
            Endpoint::Docs => run_handler(app, request, handlers::docs::handle).await,
            Endpoint::DocsAsset => run_handler(app, request, handlers::docs_asset::handle).await,
            Endpoint::Jwks => run_handler(app, request, handlers::jwks::handle).await,
            Endpoint::OpenidConfiguration => {
                run_handler(app, request, handlers::openid_configuration::handle).await
            }
        }
    }
}

/// Finds the route of a raw request (a transport other than API Gateway: the local server, the
/// bench) and fills in its path and query parameters the way API Gateway does.
pub fn route(request: Request) -> Result<(Endpoint, Request), ApiError> {
    use lambda_http::RequestExt;
    let (endpoint, path_parameters) = resolve(request.method(), request.uri().path())?;
    let query = query_parameters(request.uri().query());
    let request = request
        .with_path_parameters(path_parameters)
        .with_query_string_parameters(query);
    Ok((endpoint, request))
}

/// The query string as API Gateway hands it over: every value of every name, decoded.
fn query_parameters(query: Option<&str>) -> HashMap<String, Vec<String>> {
    let pairs: Vec<(String, String)> = query
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in pairs {
        map.entry(name).or_default().push(value);
    }
    map
}

/// Finds the route for a method and path, with its path parameters; 404 for an unknown path,
/// 405 for a known path and another method (allowing every method the table has for that path:
/// a parameter segment matches a literal one too). Literal segments win over parameters.
pub fn resolve(method: &Method, path: &str) -> Result<(Endpoint, HashMap<String, String>), ApiError> {
    let mut candidates: Vec<(Endpoint, HashMap<String, String>)> = Endpoint::ALL
        .into_iter()
        .filter_map(|endpoint| match_path(endpoint.path(), path).map(|params| (endpoint, params)))
        .collect();
    if candidates.is_empty() {
        return Err(ApiError::NotFound);
    }
    let allowed = Allowed::new(candidates.iter().map(|(endpoint, _)| endpoint.method()));
    candidates.sort_by_key(|(_, params)| params.len());
    candidates
        .into_iter()
        .find(|(endpoint, _)| endpoint.method() == *method)
        .ok_or(ApiError::MethodNotAllowed(allowed))
}

fn match_path(pattern: &str, path: &str) -> Option<HashMap<String, String>> {
    let mut params = HashMap::new();
    let mut actual = path.split('/');
    for expected in pattern.split('/') {
        let segment = actual.next()?;
        match expected.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if !segment.is_empty() => {
                params.insert(name.to_owned(), percent_decode(segment)?);
            }
            Some(_) => return None,
            None if expected == segment => {}
            None => return None,
        }
    }
    actual.next().is_none().then_some(params)
}

/// Decodes `%XX` escapes of a path segment, as API Gateway does for path parameters.
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_and_paths_are_unique() {
        let names: std::collections::HashSet<_> = Endpoint::ALL.iter().map(|e| e.function_name()).collect();
        let routes: std::collections::HashSet<_> =
            Endpoint::ALL.iter().map(|e| (e.method(), e.path())).collect();
        assert_eq!(names.len(), Endpoint::ALL.len());
        assert_eq!(routes.len(), Endpoint::ALL.len());
    }

    #[test]
    fn resolves_paths_methods_and_parameters() {
        let (endpoint, params) = resolve(&Method::GET, "/api/auth/confirmed_email/abc.def").unwrap();
        assert_eq!(endpoint, Endpoint::ConfirmEmail);
        assert_eq!(params["token"], "abc.def");
        assert_eq!(resolve(&Method::GET, "/api/users/me").unwrap().0, Endpoint::Me);
        assert!(matches!(
            resolve(&Method::GET, "/api/auth/register"),
            Err(ApiError::MethodNotAllowed(_))
        ));
        assert!(matches!(
            resolve(&Method::GET, "/api/nothing"),
            Err(ApiError::NotFound)
        ));
        assert!(matches!(
            resolve(&Method::GET, "/api/auth/confirmed_email/"),
            Err(ApiError::NotFound)
        ));
        assert!(matches!(
            resolve(&Method::GET, "/api/users/me/extra"),
            Err(ApiError::NotFound)
        ));
        assert_eq!(
            resolve(&Method::GET, "/auth/reset-password/a%2Eb").unwrap().1["token"],
            "a.b"
        );
    }

    #[test]
    fn a_405_allows_every_method_the_table_has_for_the_path() {
        let allowed = |method: Method, path: &str| match resolve(&method, path) {
            Err(ApiError::MethodNotAllowed(allowed)) => allowed.methods().to_vec(),
            other => panic!("{method} {path}: not a 405: {other:?}"),
        };
        assert_eq!(allowed(Method::GET, "/api/auth/register"), [Method::POST]);
        assert_eq!(
            allowed(Method::PATCH, "/api/users/me"),
            [Method::GET, Method::DELETE]
        );
        // A parameter segment matches the literal one too: PUT and DELETE reach `{contact_id}`.
        assert_eq!(
            allowed(Method::POST, "/api/contacts/upcoming-birthdays"),
            [Method::GET, Method::PUT, Method::DELETE]
        );
        assert_eq!(allowed(Method::HEAD, "/api/healthchecker"), [Method::GET]);
    }
}
