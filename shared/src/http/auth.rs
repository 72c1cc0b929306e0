//! Who is calling: Bearer access tokens, the caller's address and agent for the audit trail, and
//! where links in emails should point.

use http::header;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

use super::{ApiError, Request, detail};
use crate::app::App;
use crate::audit::Caller;
use crate::auth::{self, Links};
use crate::domain::UserId;

/// The token of an `Authorization: Bearer <token>` header; anything else is "Not authenticated".
pub fn bearer_token(request: &Request) -> Result<&str, ApiError> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .map(|(_, token)| token.trim())
        .ok_or(ApiError::Unauthorized(detail::NOT_AUTHENTICATED))
}

/// The user of a valid access token, checked without a store read.
pub fn require_user(app: &App, request: &Request) -> Result<UserId, ApiError> {
    Ok(auth::authenticate(
        app,
        &issuer(app, request),
        bearer_token(request)?,
    )?)
}

/// The user and session of a valid access token, checked without a store read (whether the
/// session is still live is the use case's read). A token that names no session is refused.
pub fn require_session(app: &App, request: &Request) -> Result<(UserId, String), ApiError> {
    Ok(crate::account::authenticate(
        app,
        &issuer(app, request),
        bearer_token(request)?,
    )?)
}

/// The `iss` of tokens for this request: `JWT_ISSUER`, else the public base URL (docs/API.md).
pub fn issuer(app: &App, request: &Request) -> String {
    match &app.config.jwt_issuer {
        Some(issuer) => issuer.clone(),
        None => links(app, request).base().to_owned(),
    }
}

/// The most characters of a User-Agent kept in sessions and audit logs (docs/API.md).
pub const USER_AGENT_MAX_CHARS: usize = 256;

/// Who sent the request, from the trusted request context: API Gateway's (or the one the local
/// server builds the same way) source IP, user agent and request id; never from headers a client
/// can forge, such as `X-Forwarded-For`. The user agent is cut to [`USER_AGENT_MAX_CHARS`].
pub fn caller(app: &App, request: &Request) -> Caller {
    let mut caller = Caller {
        issuer: issuer(app, request),
        ..Caller::default()
    };
    if let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref() {
        caller.source_ip = context.http.source_ip.clone();
        caller.user_agent = context.http.user_agent.clone();
        caller.request_id = context.request_id.clone();
    }
    if caller.request_id.is_none() {
        caller.request_id = request.lambda_context_ref().map(|c| c.request_id.clone());
    }
    if caller.user_agent.is_none() {
        caller.user_agent = request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
    }
    caller.user_agent = caller.user_agent.map(clip_user_agent);
    caller
}

/// The first [`USER_AGENT_MAX_CHARS`] characters of a user agent (characters, not bytes: API
/// Gateway passes on UTF-8).
fn clip_user_agent(mut agent: String) -> String {
    if let Some((cut, _)) = agent.char_indices().nth(USER_AGENT_MAX_CHARS) {
        agent.truncate(cut);
    }
    agent
}

/// The base URL the local server put on a request: its own listening address.
#[derive(Debug, Clone)]
pub struct PublicBase(pub String);

/// Where the links in emails point: `PUBLIC_BASE_URL` if set; else derived from the trusted
/// parts of the request (the local server's own address, or API Gateway's domain and stage),
/// never from the client's `Host` header, which would let anyone point reset links elsewhere.
pub fn links(app: &App, request: &Request) -> Links {
    if let Some(base) = &app.config.public_base_url {
        return Links::new(base.as_str());
    }
    if let Some(PublicBase(base)) = request.extensions().get::<PublicBase>() {
        return Links::new(base.as_str());
    }
    if let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref()
        && let Some(domain) = &context.domain_name
    {
        let stage = match context.stage.as_deref() {
            None | Some("$default") => String::new(),
            Some(stage) => format!("/{stage}"),
        };
        return Links::new(format!("https://{domain}{stage}"));
    }
    Links::new("http://localhost:8000")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: Option<&str>) -> Request {
        let mut builder = http::Request::builder().uri("/api/users/me");
        if let Some(v) = value {
            builder = builder.header("authorization", v);
        }
        builder.body(lambda_http::Body::Empty).unwrap()
    }

    #[test]
    fn a_user_agent_is_cut_to_256_characters_not_bytes() {
        for (agent, kept) in [
            ("curl/8".to_owned(), "curl/8".to_owned()),
            ("a".repeat(256), "a".repeat(256)),
            ("a".repeat(300_000), "a".repeat(256)),
            (format!("{}é", "a".repeat(255)), format!("{}é", "a".repeat(255))),
            ("é".repeat(1000), "é".repeat(256)),
        ] {
            assert_eq!(clip_user_agent(agent.clone()), kept, "{}", agent.len());
        }
    }

    #[test]
    fn only_bearer_credentials_are_taken() {
        assert_eq!(bearer_token(&with_auth(Some("Bearer abc"))).unwrap(), "abc");
        assert_eq!(bearer_token(&with_auth(Some("bearer abc"))).unwrap(), "abc");
        for bad in [
            None,
            Some("Basic abc"),
            Some("Bearer"),
            Some("Bearer  "),
            Some("abc"),
        ] {
            assert!(matches!(
                bearer_token(&with_auth(bad)),
                Err(ApiError::Unauthorized(detail::NOT_AUTHENTICATED))
            ));
        }
    }
}
