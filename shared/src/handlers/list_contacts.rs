//! `GET /api/contacts?skip=0&limit=100&query=` (Bearer) → 200 `[Contact]` in id order.

use crate::app::App;
use crate::contacts::{self, ListQuery};
use crate::http::{self, ApiError, QueryParams, Request, Response};

use super::contacts_json;

/// List and search the user's contacts
#[utoipa::path(
    get,
    path = "/api/contacts",
    operation_id = "list-contacts",
    tag = "contacts",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    params(
        ("skip" = Option<i64>, Query, minimum = 0, description = "How many matches to skip (default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "At most this many (default 100)"),
        ("query" = Option<String>, Query, description = "A case-insensitive part of the first name, last name or email"),
    ),
    responses(
        (status = 200, description = "The matching contacts, in id order", body = Vec<super::ContactOut>),
        crate::openapi::responses::Unauthenticated, crate::openapi::responses::Invalid, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let user_id = http::require_user(app, &request)?;
    let mut params = QueryParams::new(&request);
    let skip = params.integer("skip", 0, 0, i64::MAX);
    let limit = params.integer("limit", 100, 1, 100);
    let search = params.string("query");
    params.finish()?;
    let query = ListQuery {
        skip: usize::try_from(skip).unwrap_or(usize::MAX),
        limit: usize::try_from(limit).unwrap_or(100),
        search,
    };
    Ok(contacts_json(&contacts::list(app, user_id, &query).await?))
}
