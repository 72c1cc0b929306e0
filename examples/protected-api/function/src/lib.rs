//! A team's own function behind an API Gateway HTTP API whose JWT authorizer accepts UContact
//! access tokens. API Gateway has checked the token before the function runs (RS256 signature
//! against UContact's JWKS, `iss`, `aud`, `exp`) and hands its claims over in the request
//! context, `requestContext.authorizer.jwt.claims`, every value a string. So the function only
//! reads them: no key, no JWT library, no call to UContact.
//!
//! What the claims do not say is whether the session is still live: a revoked session's access
//! token passes until it expires (`ACCESS_JWT_EXPIRATION_SECONDS`, 15 minutes by default).

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response};
use serde_json::{Value, json};

/// Who called, from the authorizer's claims of a UContact access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `sub`: the UContact user id.
    pub user_id: String,
    /// `sid`: the session (login) the token belongs to.
    pub session_id: Option<String>,
    /// `exp`: when the token expires (Unix seconds).
    pub expires_at: Option<i64>,
}

/// The caller of a request that came through the JWT authorizer; `None` without its claims (a
/// route without the authorizer, a test event) or for a token that is not an access token.
pub fn caller(request: &Request) -> Option<Caller> {
    let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref() else {
        return None;
    };
    let claims = &context.authorizer.as_ref()?.jwt.as_ref()?.claims;
    // The authorizer's audience already keeps UContact's other tokens out (a refresh token's
    // `aud` is "<audience>:refresh"); `typ` says the same, so a misconfigured audience fails closed.
    if claims.get("typ").map(String::as_str) != Some("access") {
        return None;
    }
    let user_id = claims.get("sub").filter(|sub| !sub.is_empty())?.clone();
    Some(Caller {
        user_id,
        session_id: claims.get("sid").cloned(),
        expires_at: claims.get("exp").and_then(|exp| exp.parse().ok()),
    })
}

/// `GET /whoami`: the caller as JSON; 401 `{"detail": "Not authenticated"}` (UContact's own
/// answer) when the request carries no access token's claims.
pub async fn handle(request: Request) -> Result<Response<Body>, Error> {
    let Some(caller) = caller(&request) else {
        let mut response = json_response(StatusCode::UNAUTHORIZED, &json!({"detail": "Not authenticated"}))?;
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return Ok(response);
    };
    json_response(
        StatusCode::OK,
        &json!({
            "user_id": caller.user_id,
            "session_id": caller.session_id,
            "expires_at": caller.expires_at,
        }),
    )
}

fn json_response(status: StatusCode, body: &Value) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Text(body.to_string()))?)
}
