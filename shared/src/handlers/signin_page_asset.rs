//! `GET /oauth2/assets/{file}` → the hosted sign-in pages' own style and script
//! (shared/assets/signin/); no CDN. Any other name is a 404.

use crate::app::App;
use crate::http::{ApiError, Request, Response};
use crate::openapi::schemas::ErrorDetail;

/// The files the hosted pages load: (name, content type, contents).
const FILES: [(&str, &str, &str); 3] = [
    (
        "signin.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/signin/signin.css"),
    ),
    (
        "signin.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/signin/signin.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../assets/signin/favicon.svg"),
    ),
];

/// A file of the hosted sign-in pages
#[utoipa::path(
    get,
    path = "/oauth2/assets/{file}",
    operation_id = "signin-page-asset",
    tag = "oidc",
    params(("file" = String, Path, description = "`signin.css`, `signin.js` or `favicon.svg`")),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/javascript"),
            (String = "text/css"),
            (String = "image/svg+xml"),
        )),
        (status = 404, description = "No such file", body = ErrorDetail, example = json!({"detail": "Not Found"})),
    ),
)]
pub async fn handle(_app: &App, request: Request) -> Result<Response, ApiError> {
    super::compiled_file(&request, &FILES)
}
