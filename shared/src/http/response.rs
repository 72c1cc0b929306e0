//! Response builders.

use http::{HeaderValue, StatusCode, header};
use lambda_http::Body;
use serde::Serialize;
use serde_json::json;

use super::Response;

fn with_type(status: StatusCode, content_type: &'static str, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A JSON body. Serializing plain data cannot fail; if it ever did, the answer is an opaque 500.
pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => with_type(status, "application/json", Body::from(bytes)),
        Err(e) => {
            tracing::error!(error = %e, "response serialization failed");
            message_detail(StatusCode::INTERNAL_SERVER_ERROR, super::detail::INTERNAL)
        }
    }
}

/// `{"message": ...}`.
pub fn message(status: StatusCode, text: &str) -> Response {
    json(status, &json!({ "message": text }))
}

/// `{"detail": ...}`.
pub(super) fn message_detail(status: StatusCode, text: &str) -> Response {
    with_type(
        status,
        "application/json",
        Body::from(json!({ "detail": text }).to_string()),
    )
}

/// 204 with no body.
pub fn no_content() -> Response {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// An HTML page that holds a token in its URL: no referrer, no framing, no caching, no scripts.
pub fn html(status: StatusCode, page: String) -> Response {
    let mut response = with_type(status, "text/html; charset=utf-8", Body::from(page));
    let headers = response.headers_mut();
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    response
}
