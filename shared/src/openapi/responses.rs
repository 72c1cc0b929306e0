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

/// A JSON answer of schema `schema` with one named example per `(name, value)`.
fn json_response(description: &str, schema: &str, examples: &[(&str, Value)]) -> ResponseBuilder {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(schema)))
        .examples_from_iter(
            examples
                .iter()
                .map(|(name, value)| (*name, ExampleBuilder::new().value(Some(value.clone())).build())),
        )
        .build();
    ResponseBuilder::new()
        .description(description)
        .content("application/json", content)
}

fn detail_example(text: &str) -> Value {
    json!({ "detail": text })
}

fn one(status: u16, response: ResponseBuilder) -> BTreeMap<String, RefOr<Response>> {
    BTreeMap::from([(status.to_string(), response.build().into())])
}

fn header(description: &str, kind: Type) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(Object::with_type(kind)))
        .description(Some(description))
        .build()
}

/// 401 of a guarded route: no Bearer token, or one that is invalid, expired or of another kind.
pub struct Unauthenticated;

impl IntoResponses for Unauthenticated {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        one(
            401,
            json_response(
                "No `Authorization: Bearer` header, or a token that is invalid, expired or not an access token",
                "ErrorDetail",
                &[
                    ("missing", detail_example(detail::NOT_AUTHENTICATED)),
                    ("invalid", detail_example(detail::INVALID_CREDENTIALS)),
                ],
            )
            .header("WWW-Authenticate", header("Always `Bearer`", Type::String)),
        )
    }
}

/// 422: the request's body, query or path does not validate (every problem at once).
pub struct Invalid;

impl IntoResponses for Invalid {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        one(
            422,
            json_response(
                "Validation error: malformed JSON, a wrong content type, a missing or invalid field",
                "HTTPValidationError",
                &[(
                    "missing field",
                    json!({"detail": [{"type": "missing", "loc": ["body", "email"], "msg": "Field required"}]}),
                )],
            ),
        )
    }
}

/// 413: a body over 1 MiB.
pub struct TooLarge;

impl IntoResponses for TooLarge {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        one(
            413,
            json_response(
                "The request body is larger than 1 MiB",
                "ErrorDetail",
                &[("too large", detail_example(detail::TOO_LARGE))],
            ),
        )
    }
}

/// 503: the store or the mail provider is unreachable or throttling.
pub struct Unavailable;

impl IntoResponses for Unavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        one(
            503,
            json_response(
                "The store is unreachable or throttling; try again after `Retry-After` seconds",
                "ErrorDetail",
                &[("unavailable", detail_example(detail::UNAVAILABLE))],
            )
            .header("Retry-After", header("Seconds to wait", Type::Integer)),
        )
    }
}

/// 429: the login backoff of a username or email is running.
pub struct Throttled;

impl IntoResponses for Throttled {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        one(
            429,
            json_response(
                "Too many consecutive failed logins for this username or email; the password was not checked",
                "ErrorDetail",
                &[("throttled", detail_example(detail::TOO_MANY_ATTEMPTS))],
            )
            .header("Retry-After", header("Seconds to wait", Type::Integer)),
        )
    }
}

/// 404 of the contacts routes with an id.
pub struct ContactNotFound;

impl IntoResponses for ContactNotFound {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        one(
            404,
            json_response(
                "No contact of this user has this id",
                "ErrorDetail",
                &[("not found", detail_example(detail::CONTACT_NOT_FOUND))],
            ),
        )
    }
}

/// 409 of create and update contact.
pub struct ContactEmailTaken;

impl IntoResponses for ContactEmailTaken {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        one(
            409,
            json_response(
                "Another contact of this user has this email",
                "ErrorDetail",
                &[("taken", detail_example(detail::CONTACT_EMAIL_TAKEN))],
            ),
        )
    }
}
