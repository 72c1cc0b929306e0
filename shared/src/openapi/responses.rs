//! The error answers many operations share, as [`IntoResponses`] types that a handler's
//! `#[utoipa::path(responses(...))]` lists by name: the body schema, the contract's texts as
//! examples, and the headers that come with them.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use utoipa::IntoResponses;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, Object, Ref, RefOr, Type};

use crate::http::detail;

/// One answer: its status, description, body schema, named examples, and headers.
struct Answer<'a> {
    status: u16,
    description: &'a str,
    schema: &'a str,
    examples: Vec<(&'a str, Value)>,
    headers: &'a [(&'a str, &'a str, Type)],
}

impl Answer<'_> {
    fn responses(self) -> BTreeMap<String, RefOr<Response>> {
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(self.schema)))
            .examples_from_iter(
                self.examples
                    .into_iter()
                    .map(|(name, value)| (name, ExampleBuilder::new().value(Some(value)).build())),
            )
            .build();
        let mut response = ResponseBuilder::new()
            .description(self.description)
            .content("application/json", content);
        for (name, description, kind) in self.headers {
            let header = HeaderBuilder::new()
                .schema(Some(Object::with_type(kind.clone())))
                .description(Some(*description))
                .build();
            response = response.header(*name, header);
        }
        BTreeMap::from([(self.status.to_string(), response.build().into())])
    }
}

/// `{"detail": text}` as an example named `name`.
fn detail_example(name: &str, text: &str) -> (String, Value) {
    (name.to_owned(), json!({ "detail": text }))
}

const WWW_AUTHENTICATE: (&str, &str, Type) = ("WWW-Authenticate", "Always `Bearer`", Type::String);
const RETRY_AFTER: (&str, &str, Type) = ("Retry-After", "Seconds to wait", Type::Integer);

/// Declares a unit type whose [`IntoResponses`] is one `{"detail": ...}` answer.
macro_rules! detail_answer {
    ($(#[$doc:meta])* $name:ident, $status:literal, $description:literal,
     [$(($example:literal, $text:expr)),+ $(,)?], [$($header:expr),*]) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                let examples = [$(detail_example($example, $text)),+];
                Answer {
                    status: $status,
                    description: $description,
                    schema: "ErrorDetail",
                    examples: examples.iter().map(|(n, v)| (n.as_str(), v.clone())).collect(),
                    headers: &[$($header),*],
                }
                .responses()
            }
        }
    };
}

detail_answer!(
    /// 401 of a guarded route: no Bearer token, or one that is invalid, expired or of another kind.
    Unauthenticated, 401,
    "No `Authorization: Bearer` header, or a token that is invalid, expired or not an access token",
    [("missing", detail::NOT_AUTHENTICATED), ("invalid", detail::INVALID_CREDENTIALS)],
    [WWW_AUTHENTICATE]
);

detail_answer!(
    /// 413: a body over 1 MiB.
    TooLarge, 413, "The request body is larger than 1 MiB",
    [("too large", detail::TOO_LARGE)], []
);

detail_answer!(
    /// 503: the store or the mail provider is unreachable or throttling.
    Unavailable, 503,
    "The store is unreachable or throttling; try again after `Retry-After` seconds",
    [("unavailable", detail::UNAVAILABLE)], [RETRY_AFTER]
);

detail_answer!(
    /// 429: the login backoff of a username or email is running.
    Throttled, 429,
    "Too many consecutive failed logins for this username or email; the password was not checked",
    [("throttled", detail::TOO_MANY_ATTEMPTS)], [RETRY_AFTER]
);

detail_answer!(
    /// 400 of the account routes that check the user's own password.
    IncorrectPassword, 400, "The password is not the user's (counted against the login backoff)",
    [("incorrect", detail::INCORRECT_PASSWORD)], []
);

detail_answer!(
    /// 409 of the email-change routes.
    EmailTaken, 409, "Another user has this email (ignoring case), or it is the user's own already",
    [("taken", detail::EMAIL_TAKEN)], []
);

detail_answer!(
    /// 429 of the account routes that check the user's own password.
    PasswordBackoff, 429,
    "Too many consecutive failed password checks for this username (login's backoff); the password was not checked",
    [("throttled", detail::TOO_MANY_ATTEMPTS)], [RETRY_AFTER]
);

detail_answer!(
    /// 400 of the account routes that take a second factor while it is on.
    SecondFactor, 400,
    "Two-factor authentication is on and no code came, or the code is wrong, used or replayed (counted against the login backoff)",
    [("required", detail::CODE_REQUIRED), ("invalid", detail::INVALID_CODE)], []
);

detail_answer!(
    /// 409 of the routes that turn TOTP on.
    MfaAlreadyOn, 409, "Two-factor authentication is on already",
    [("on", detail::MFA_ALREADY_ON)], []
);

detail_answer!(
    /// 409 of the routes that need TOTP on.
    MfaOff, 409, "Two-factor authentication is off",
    [("off", detail::MFA_OFF)], []
);

detail_answer!(
    /// 404 of the contacts routes with an id.
    ContactNotFound, 404, "No contact of this user has this id",
    [("not found", detail::CONTACT_NOT_FOUND)], []
);

detail_answer!(
    /// 409 of create and update contact.
    ContactEmailTaken, 409, "Another contact of this user has this email",
    [("taken", detail::CONTACT_EMAIL_TAKEN)], []
);

/// 422: the request's body, query or path does not validate (every problem at once).
pub struct Invalid;

impl IntoResponses for Invalid {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        Answer {
            status: 422,
            description: "Validation error: malformed JSON, a wrong content type, a missing or invalid field",
            schema: "HTTPValidationError",
            examples: vec![(
                "missing field",
                json!({"detail": [{"type": "missing", "loc": ["body", "email"], "msg": "Field required"}]}),
            )],
            headers: &[],
        }
        .responses()
    }
}

/// The hosted sign-in pages' refusals of the authorization request they carry
/// (crate::oidc::request): 302 back to the app with `error`, or a 400 error page where the app
/// cannot be trusted with a redirect.
pub struct PageRefusals;

impl IntoResponses for PageRefusals {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let page = ContentBuilder::new()
            .schema(Some(Object::with_type(Type::String)))
            .build();
        BTreeMap::from([
            (
                "302".to_owned(),
                ResponseBuilder::new()
                    .description("A request error that goes back to the app (`error`, `state`, `iss`)")
                    .build()
                    .into(),
            ),
            (
                "400".to_owned(),
                ResponseBuilder::new()
                    .description("An unknown client or an unregistered redirect URI: an error page")
                    .content("text/html", page)
                    .build()
                    .into(),
            ),
        ])
    }
}
