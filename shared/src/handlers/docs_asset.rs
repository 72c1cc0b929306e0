//! `GET /docs/{file}` → the files of the `/docs` page: Swagger UI's script and style, vendored
//! from the npm package `swagger-ui-dist` (shared/assets/swagger-ui/), and our initializer.
//! Any other name is a 404.

use crate::app::App;
use crate::http::{ApiError, Request, Response};
use crate::openapi::schemas::ErrorDetail;

/// The files `/docs` loads: (name, content type, contents).
const FILES: [(&str, &str, &str); 3] = [
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/swagger-ui/swagger-ui.css"),
    ),
    (
        "swagger-initializer.js",
        "text/javascript; charset=utf-8",
        include_str!("swagger-initializer.js"),
    ),
];

/// A file of the interactive docs (Swagger UI's script and style)
#[utoipa::path(
    get,
    path = "/docs/{file}",
    operation_id = "docs-asset",
    tag = "docs",
    params(("file" = String, Path, description = "`swagger-ui-bundle.js`, `swagger-ui.css` or `swagger-initializer.js`")),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/javascript"),
            (String = "text/css"),
        )),
        (status = 404, description = "No such file", body = ErrorDetail, example = json!({"detail": "Not Found"})),
    ),
)]
pub async fn handle(_app: &App, request: Request) -> Result<Response, ApiError> {
    super::compiled_file(&request, &FILES)
}
