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

/// A body that is JSON already.
pub fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    with_type(status, "application/json", Body::from(bytes))
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
    html_page(
        status,
        Body::from(page),
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    )
}

/// The interactive docs page: scripts and styles from this service only, calls to this service
/// only, no framing.
pub fn docs_page(page: &'static str) -> Response {
    html_page(
        StatusCode::OK,
        Body::from(page),
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; \
         frame-ancestors 'none'",
    )
}

/// A hosted sign-in page (crate::oidc::pages): its own script and style only, forms posting to
/// this service, and (a sign-in redirects there after its form) to `also_form_action`, the
/// origin of the app's redirect URI. Never cached, never framed.
pub fn hosted_page(status: StatusCode, page: String, also_form_action: Option<&str>) -> Response {
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
         form-action 'self'{}; base-uri 'none'; frame-ancestors 'none'",
        also_form_action
            .map(|source| format!(" {source}"))
            .unwrap_or_default()
    );
    let mut response = html_page(status, Body::from(page), "default-src 'none'");
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn html_page(status: StatusCode, body: Body, policy: &'static str) -> Response {
    let mut response = with_type(status, "text/html; charset=utf-8", body);
    let headers = response.headers_mut();
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    response
}

/// A static file compiled into the binary, cacheable for a day.
pub fn asset(content_type: &'static str, contents: &'static str) -> Response {
    let mut response = with_type(StatusCode::OK, content_type, Body::from(contents));
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
