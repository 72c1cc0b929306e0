//! `GET /api/users/me/sessions` (Bearer) → 200 the user's live sessions, newest first.

use ::http::StatusCode;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::account::{self, ListedSession};
use crate::app::App;
use crate::http::{self, ApiError, Request, Response};

/// One live session (one login's refresh-token family) in the list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Session, example = json!({
    "id": "9f1c2e4b7a8d4c0e8b6a5d3f2e1c0b9a", "created_at": "2025-04-16T12:00:00Z",
    "last_used_at": "2025-04-16T12:14:00Z", "expires_at": "2025-04-23T12:00:00Z",
    "user_agent": "Mozilla/5.0", "source_ip": "203.0.113.7", "amr": ["pwd", "otp"], "client": null, "current": true
}))]
pub struct SessionOut<'a> {
    /// The id `revoke-session` takes.
    pub id: &'a str,
    /// The login that started it.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Its last refresh (or its login).
    #[schema(format = DateTime)]
    pub last_used_at: String,
    /// When it ends at the latest (refreshing never extends it).
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// The login's `User-Agent`.
    pub user_agent: Option<&'a str>,
    /// The login's source address, as API Gateway (or the local server) saw it.
    pub source_ip: Option<&'a str>,
    /// How the login signed in (RFC 8176): `["pwd"]`, `["pwd", "otp"]` or `["hwk", "user"]`.
    pub amr: &'static [&'static str],
    /// The app the session was authorized for through "Sign in with UContact" (its name), or
    /// `null` for a login of the API itself.
    pub client: Option<&'a str>,
    /// Whether the access token of this request belongs to this session.
    pub current: bool,
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl<'a> From<&'a ListedSession> for SessionOut<'a> {
    fn from(listed: &'a ListedSession) -> Self {
        let session = &listed.session;
        Self {
            id: &session.id,
            created_at: timestamp(session.created_at),
            last_used_at: timestamp(session.last_used_at),
            expires_at: timestamp(DateTime::from_timestamp(session.expires_at, 0).unwrap_or_default()),
            user_agent: session.user_agent.as_deref(),
            source_ip: session.source_ip.as_deref(),
            amr: session.amr.methods(),
            client: session.client.as_deref(),
            current: listed.current,
        }
    }
}

/// The signed-in user's live sessions
#[utoipa::path(
    get,
    path = "/api/users/me/sessions",
    operation_id = "list-sessions",
    tag = "users",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    responses(
        (status = 200, description = "Live sessions, newest first", body = Vec<SessionOut>),
        crate::openapi::responses::Unauthenticated, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let (user_id, session_id) = http::require_session(app, &request)?;
    let sessions = account::sessions(app, user_id, &session_id).await?;
    let body: Vec<SessionOut<'_>> = sessions.iter().map(SessionOut::from).collect();
    Ok(http::json(StatusCode::OK, &body))
}
