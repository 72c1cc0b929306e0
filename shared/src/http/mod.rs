//! The HTTP glue every handler shares: request bodies and fields, Bearer extraction, the error
//! type and its responses. Types are `lambda_http`'s, so the same code runs behind API Gateway and
//! behind the local server.

mod auth;
mod body;
mod error;
mod response;

use std::future::Future;

pub use auth::{PublicBase, bearer_token, caller, issuer, links, require_session, require_user};
pub use body::{Fields, FormBody, JsonBody, QueryParams, json_field, path_id, path_param, present};
pub use error::{Allowed, ApiError, Issue, detail};
pub use response::{asset, docs_page, hosted_page, html, json, json_bytes, message, no_content};

use crate::app::App;

/// A request as both transports deliver it.
pub type Request = lambda_http::Request;
/// A response as both transports send it.
pub type Response = http::Response<lambda_http::Body>;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Runs one handler the way every route runs: size limit first, errors turned into the contract's
/// responses (and 5xx causes logged once), responses marked as not cacheable.
pub async fn run_handler<'a, F, Fut>(app: &'a App, request: Request, handler: F) -> Response
where
    F: FnOnce(&'a App, Request) -> Fut,
    Fut: Future<Output = Result<Response, ApiError>>,
{
    // A rotation reaches warm processes within the refresh interval.
    app.tokens.ring().refresh_if_stale().await;
    let mut response = if request.body().len() > MAX_BODY_BYTES {
        ApiError::PayloadTooLarge.into_response()
    } else {
        handler(app, request)
            .await
            .unwrap_or_else(ApiError::into_response)
    };
    response
        .headers_mut()
        .entry(http::header::CACHE_CONTROL)
        .or_insert(http::HeaderValue::from_static("no-store"));
    response
}
