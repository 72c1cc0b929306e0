//! `GET /api/healthchecker` → 200 `{"message": "OK"}` when the store answers, 503 otherwise.

use ::http::StatusCode;

use crate::app::App;
use crate::http::{self, ApiError, Request, Response};
use crate::store::StoreError;

/// Health check: the store answers
#[utoipa::path(
    get,
    path = "/api/healthchecker",
    operation_id = "health",
    tag = "service",
    responses(
        (status = 200, description = "The service and its store answer", body = crate::openapi::schemas::Message, example = json!({"message": "OK"})),
        crate::openapi::responses::Unavailable,
    ),
)]
pub async fn handle(app: &App, _request: Request) -> Result<Response, ApiError> {
    app.store.ping().await.map_err(|e| match e {
        StoreError::Unavailable(cause) | StoreError::Unexpected(cause) => ApiError::Unavailable(cause),
    })?;
    Ok(http::message(StatusCode::OK, "OK"))
}
