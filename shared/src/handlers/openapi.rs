//! `GET /openapi.json` → 200 the OpenAPI 3.1 document of every route ([`crate::openapi`]), its
//! server being where this deployment answers (`PUBLIC_BASE_URL`, or derived as for email links).

use ::http::StatusCode;

use crate::app::App;
use crate::http::{self, ApiError, Request, Response};

/// The OpenAPI 3.1 document of this API
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "docs",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = serde_json::Value)),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let links = http::links(app, &request);
    let document = crate::openapi::document(links.base()).map_err(|e| {
        ApiError::Unexpected(anyhow::Error::new(e).context("Failed to serialize the OpenAPI document"))
    })?;
    Ok(http::json_bytes(StatusCode::OK, document))
}
