//! [`ApiError`]: the one error type at the HTTP edge. Each variant knows its status; causes of
//! 5xx answers are logged here, once, and never reach the body. Every error answer is
//! `Cache-Control: no-store`, whichever transport or layer produces it.

use http::{HeaderValue, Method, StatusCode, header};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Response, response};
use crate::auth::AuthError;
use crate::contacts::ContactError;
use crate::store::StoreError;

/// The contract's fixed error texts.
pub mod detail {
    pub const NOT_AUTHENTICATED: &str = "Not authenticated";
    pub const INVALID_CREDENTIALS: &str = "Could not validate credentials";
    pub const USERNAME_TAKEN: &str = "User with this username already exists";
    pub const EMAIL_TAKEN: &str = "User with this email already exists";
    pub const BAD_LOGIN: &str = "Incorrect username or password";
    pub const EMAIL_NOT_VERIFIED: &str = "Email not verified";
    pub const INVALID_REFRESH: &str = "Invalid or expired refresh token";
    pub const INVALID_VERIFICATION: &str = "Invalid or expired verification token";
    pub const INVALID_RESET: &str = "Invalid or expired reset token";
    pub const PASSWORDS_DIFFER: &str = "Passwords do not match";
    pub const UNAVAILABLE: &str = "Service temporarily unavailable";
    pub const INTERNAL: &str = "Internal Server Error";
    pub const NOT_FOUND: &str = "Not Found";
    pub const METHOD_NOT_ALLOWED: &str = "Method Not Allowed";
    /// The local server's answer to a request it cannot parse (a malformed request line or header,
    /// a `Transfer-Encoding` other than `chunked`).
    pub const BAD_REQUEST: &str = "Bad Request";
    pub const URI_TOO_LONG: &str = "URI Too Long";
    pub const HEADERS_TOO_LARGE: &str = "Request Header Fields Too Large";
    pub const TOO_LARGE: &str = "Request body too large";
    pub const REQUEST_TIMEOUT: &str = "Request body not received in time";
    pub const BODY_PARSE: &str = "There was an error parsing the body";
    pub const CONTACT_NOT_FOUND: &str = "Contact not found";
    pub const CONTACT_EMAIL_TAKEN: &str = "Contact with this email already exists";
    pub const TOO_MANY_ATTEMPTS: &str = "Too many failed attempts, try again later";
    pub const INCORRECT_PASSWORD: &str = "Incorrect password";
    pub const INVALID_EMAIL_CHANGE: &str = "Invalid or expired email change token";
    pub const SESSION_NOT_FOUND: &str = "Session not found";
    pub const CODE_REQUIRED: &str = "Two-factor code required";
    pub const INVALID_CODE: &str = "Invalid two-factor code";
    pub const MFA_ALREADY_ON: &str = "Two-factor authentication is already on";
    pub const MFA_OFF: &str = "Two-factor authentication is off";
    pub const INVALID_PASSKEY: &str = "Invalid passkey";
    pub const PASSKEY_NOT_FOUND: &str = "Passkey not found";
}

/// One entry of a FastAPI-shaped 422 body.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Issue {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub loc: Vec<Value>,
    pub msg: String,
}

impl Issue {
    pub fn body(kind: &'static str, msg: impl Into<String>) -> Self {
        Self {
            kind,
            loc: vec![json!("body")],
            msg: msg.into(),
        }
    }

    pub fn field(location: &str, name: &str, kind: &'static str, msg: impl Into<String>) -> Self {
        Self {
            kind,
            loc: vec![json!(location), json!(name)],
            msg: msg.into(),
        }
    }
}

/// Every answer that is not a success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(Vec<Issue>),
    #[error("{detail}")]
    Detail {
        status: StatusCode,
        detail: &'static str,
    },
    /// 401 with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("payload too large")]
    PayloadTooLarge,
    /// 408: the local server's body deadline passed (`BODY_READ_TIMEOUT_SECONDS`).
    #[error("request timeout")]
    RequestTimeout,
    #[error("not found")]
    NotFound,
    /// 405 with `Allow`: the methods the route table has for the path.
    #[error("method not allowed")]
    MethodNotAllowed(Allowed),
    /// 429 with `Retry-After`.
    #[error("too many attempts")]
    TooManyAttempts { retry_after: i64 },
    /// 503 with `Retry-After`.
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// 500 with an opaque body.
    #[error("unexpected error")]
    Unexpected(#[source] anyhow::Error),
    /// An answer made already: a hosted sign-in page's refusal of the authorization request it
    /// carries (an error page, or a redirect back to the app; crate::handlers::hosted).
    #[error("answered by a hosted page")]
    Answered(Box<Response>),
}

impl ApiError {
    pub fn bad_request(detail: &'static str) -> Self {
        Self::Detail {
            status: StatusCode::BAD_REQUEST,
            detail,
        }
    }

    pub fn conflict(detail: &'static str) -> Self {
        Self::Detail {
            status: StatusCode::CONFLICT,
            detail,
        }
    }

    pub fn into_response(self) -> Response {
        let mut response = self.answer();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    fn answer(self) -> Response {
        match self {
            ApiError::Validation(issues) => {
                response::json(StatusCode::UNPROCESSABLE_ENTITY, &json!({ "detail": issues }))
            }
            ApiError::Detail { status, detail } => response::message_detail(status, detail),
            ApiError::Unauthorized(detail) => {
                let mut response = response::message_detail(StatusCode::UNAUTHORIZED, detail);
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
            ApiError::PayloadTooLarge => {
                response::message_detail(StatusCode::PAYLOAD_TOO_LARGE, detail::TOO_LARGE)
            }
            ApiError::RequestTimeout => {
                response::message_detail(StatusCode::REQUEST_TIMEOUT, detail::REQUEST_TIMEOUT)
            }
            ApiError::NotFound => response::message_detail(StatusCode::NOT_FOUND, detail::NOT_FOUND),
            ApiError::MethodNotAllowed(allowed) => {
                let mut response =
                    response::message_detail(StatusCode::METHOD_NOT_ALLOWED, detail::METHOD_NOT_ALLOWED);
                response
                    .headers_mut()
                    .insert(header::ALLOW, allowed.header_value());
                response
            }
            ApiError::TooManyAttempts { retry_after } => {
                let mut response =
                    response::message_detail(StatusCode::TOO_MANY_REQUESTS, detail::TOO_MANY_ATTEMPTS);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
                response
            }
            ApiError::Unavailable(cause) => {
                tracing::warn!(error = ?cause, "answering 503");
                let mut response =
                    response::message_detail(StatusCode::SERVICE_UNAVAILABLE, detail::UNAVAILABLE);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                response
            }
            ApiError::Answered(response) => *response,
            ApiError::Unexpected(cause) => {
                tracing::error!(error = ?cause, "answering 500");
                response::message_detail(StatusCode::INTERNAL_SERVER_ERROR, detail::INTERNAL)
            }
        }
    }
}

/// The methods a path has in the route table, in the table's order, each once: a 405's `Allow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed(Vec<Method>);

impl Allowed {
    /// The distinct methods of `methods`, in their order.
    pub fn new(methods: impl IntoIterator<Item = Method>) -> Self {
        let mut distinct: Vec<Method> = Vec::new();
        for method in methods {
            if !distinct.contains(&method) {
                distinct.push(method);
            }
        }
        Self(distinct)
    }

    pub fn methods(&self) -> &[Method] {
        &self.0
    }

    /// `GET, DELETE`. Method names are tokens, always valid in a header value.
    fn header_value(&self) -> HeaderValue {
        let names: Vec<&str> = self.0.iter().map(Method::as_str).collect();
        HeaderValue::from_str(&names.join(", ")).unwrap_or(HeaderValue::from_static(""))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            StoreError::Unexpected(cause) => ApiError::Unexpected(cause),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::UsernameTaken => ApiError::conflict(detail::USERNAME_TAKEN),
            AuthError::EmailTaken => ApiError::conflict(detail::EMAIL_TAKEN),
            AuthError::BadCredentials => ApiError::Unauthorized(detail::BAD_LOGIN),
            AuthError::EmailNotVerified => ApiError::Unauthorized(detail::EMAIL_NOT_VERIFIED),
            AuthError::InvalidAccessToken => ApiError::Unauthorized(detail::INVALID_CREDENTIALS),
            AuthError::InvalidRefreshToken => ApiError::Unauthorized(detail::INVALID_REFRESH),
            AuthError::InvalidVerificationToken => ApiError::bad_request(detail::INVALID_VERIFICATION),
            AuthError::InvalidResetToken => ApiError::bad_request(detail::INVALID_RESET),
            AuthError::PasswordsDiffer => ApiError::bad_request(detail::PASSWORDS_DIFFER),
            AuthError::WeakPassword(e) => {
                ApiError::Validation(vec![Issue::field("body", "password", e.kind, e.message)])
            }
            AuthError::InvalidField { field, error } => {
                ApiError::Validation(vec![Issue::field("body", field, error.kind, error.message)])
            }
            AuthError::IncorrectPassword => ApiError::bad_request(detail::INCORRECT_PASSWORD),
            AuthError::InvalidEmailChangeToken => ApiError::bad_request(detail::INVALID_EMAIL_CHANGE),
            AuthError::SessionNotFound => ApiError::Detail {
                status: StatusCode::NOT_FOUND,
                detail: detail::SESSION_NOT_FOUND,
            },
            AuthError::TooManyAttempts { retry_after } => ApiError::TooManyAttempts { retry_after },
            AuthError::CodeRequired { at_login: true } | AuthError::CodeRequiredAfter(_) => {
                ApiError::Unauthorized(detail::CODE_REQUIRED)
            }
            AuthError::CodeRequired { at_login: false } => ApiError::bad_request(detail::CODE_REQUIRED),
            AuthError::InvalidCode { at_login: true } => ApiError::Unauthorized(detail::INVALID_CODE),
            AuthError::InvalidCode { at_login: false } => ApiError::bad_request(detail::INVALID_CODE),
            AuthError::MfaAlreadyOn => ApiError::conflict(detail::MFA_ALREADY_ON),
            AuthError::MfaOff => ApiError::conflict(detail::MFA_OFF),
            AuthError::InvalidPasskey { at_login: true } => ApiError::Unauthorized(detail::INVALID_PASSKEY),
            AuthError::InvalidPasskey { at_login: false } => ApiError::bad_request(detail::INVALID_PASSKEY),
            AuthError::PasskeyNotFound => ApiError::Detail {
                status: StatusCode::NOT_FOUND,
                detail: detail::PASSKEY_NOT_FOUND,
            },
            AuthError::Store(e) => e.into(),
            AuthError::Unexpected(cause) => ApiError::Unexpected(cause),
        }
    }
}

impl From<ContactError> for ApiError {
    fn from(e: ContactError) -> Self {
        match e {
            ContactError::NotFound => ApiError::Detail {
                status: StatusCode::NOT_FOUND,
                detail: detail::CONTACT_NOT_FOUND,
            },
            ContactError::EmailTaken => ApiError::conflict(detail::CONTACT_EMAIL_TAKEN),
            ContactError::UserGone => ApiError::Unauthorized(detail::INVALID_CREDENTIALS),
            ContactError::Store(e) => e.into(),
        }
    }
}
