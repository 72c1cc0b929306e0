//! `GET /docs` → 200 Swagger UI on `/openapi.json`. The page, its script and its style all come
//! from this service (`docs-asset` serves the vendored Swagger UI), so it works offline.

use crate::app::App;
use crate::http::{self, ApiError, Request, Response};

/// Interactive docs (Swagger UI)
///
/// Authorize with a username (or email) and password: Swagger UI logs in through the OAuth2
/// password flow and sends the access token with every call.
#[utoipa::path(
    get,
    path = "/docs",
    operation_id = "docs",
    tag = "docs",
    responses((status = 200, description = "The Swagger UI page", content_type = "text/html", body = String)),
)]
pub async fn handle(_app: &App, _request: Request) -> Result<Response, ApiError> {
    Ok(http::docs_page(PAGE))
}

/// Asset links are relative to `/docs`, so they also work under a stage prefix (`/prod/docs`).
const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>UContact API · Swagger UI</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/swagger-initializer.js"></script>
</body>
</html>
"#;
