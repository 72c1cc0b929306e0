//! `GET /api/contacts/upcoming-birthdays?days=7` (Bearer) → 200 `[Contact]` whose birthday falls
//! from today (UTC) through today + `days` (1–366), soonest first.

use crate::app::App;
use crate::contacts;
use crate::http::{self, ApiError, QueryParams, Request, Response};

use super::contacts_json;

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
