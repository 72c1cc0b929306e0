//! The sample events of examples/protected-api/events through the function's handler: the caller
//! comes from the JWT authorizer's claims, and without them the answer is a 401 in JSON.

use std::path::Path;

use lambda_http::Body;
use lambda_http::http::{StatusCode, header};
use serde_json::{Value, json};

/// The event `events/<name>.json`, as text.
fn event(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The handler's status, headers and JSON body for an API Gateway HTTP API (payload 2.0) event.
async fn answer(event: &str) -> (StatusCode, lambda_http::http::HeaderMap, Value) {
    let request = lambda_http::request::from_str(event).expect("an API Gateway HTTP API event");
    let response = protected_api::handle(request).await.expect("an answer");
    let (parts, body) = response.into_parts();
    let Body::Text(text) = body else {
        panic!("not a text body: {body:?}");
    };
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (parts.status, parts.headers, body)
}

#[tokio::test]
async fn the_caller_comes_from_the_authorizers_claims() {
    let (status, headers, body) = answer(&event("whoami")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        body,
        json!({
            "user_id": "42",
            "session_id": "4f9b2c1e8d7a4b3c9e0f1a2b3c4d5e6f",
            "expires_at": 1764116110,
        })
    );
}

#[tokio::test]
async fn without_the_authorizers_claims_the_answer_is_401_json() {
    let (status, headers, body) = answer(&event("whoami-no-claims")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(body, json!({"detail": "Not authenticated"}));
}

#[tokio::test]
async fn claims_of_another_token_kind_or_without_a_subject_are_refused() {
    let claims_event = |edit: &dyn Fn(&mut Value)| {
        let mut value: Value = serde_json::from_str(&event("whoami")).expect("JSON");
        edit(&mut value["requestContext"]["authorizer"]["jwt"]["claims"]);
        value.to_string()
    };
    for (case, edited) in [
        ("a refresh token", claims_event(&|c| c["typ"] = json!("refresh"))),
        (
            "no typ",
            claims_event(&|c| drop(c.as_object_mut().unwrap().remove("typ"))),
        ),
        (
            "no sub",
            claims_event(&|c| drop(c.as_object_mut().unwrap().remove("sub"))),
        ),
        ("an empty sub", claims_event(&|c| c["sub"] = json!(""))),
    ] {
        let (status, _, body) = answer(&edited).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
        assert_eq!(body, json!({"detail": "Not authenticated"}), "{case}");
    }
}
