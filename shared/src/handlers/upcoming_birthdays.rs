//! `GET /api/contacts/upcoming-birthdays?days=7` (Bearer) → 200 `[Contact]` whose birthday falls
//! from today (UTC) through today + `days` (1–366), soonest first.

use crate::app::App;
use crate::contacts;
use crate::http::{self, ApiError, QueryParams, Request, Response};

use super::contacts_json;

/// Contacts whose birthday comes within `days` days
///
/// From today (UTC) through today + `days`, across the year's end, soonest first; Feb 29 counts
/// as Feb 28 in other years.
#[utoipa::path(
    get,
    path = "/api/contacts/upcoming-birthdays",
    operation_id = "upcoming-birthdays",
    tag = "contacts",
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
    params(("days" = Option<i64>, Query, minimum = 1, maximum = 366, description = "How many days ahead (default 7)")),
    responses(
        (status = 200, description = "The contacts, by next birthday", body = Vec<super::ContactOut>),
        crate::openapi::responses::Unauthenticated, crate::openapi::responses::Invalid, crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let user_id = http::require_user(app, &request)?;
    let mut params = QueryParams::new(&request);
    let days = params.integer("days", 7, 1, 366);
    params.finish()?;
    let days = u32::try_from(days).unwrap_or(7);
    Ok(contacts_json(
        &contacts::upcoming_birthdays(app, user_id, days).await?,
    ))
}
