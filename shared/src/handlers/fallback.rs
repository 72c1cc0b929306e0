//! API Gateway's `$default` route: every request that matches no route of the HTTP API reaches
//! this function, which answers from the route table exactly as the local router does: 404
//! `Not Found` for an unknown path, 405 `Method Not Allowed` for a known path and another method,
//! with `Allow` naming the path's methods; both `Cache-Control: no-store`, as every error is.

use crate::app::App;
use crate::http::{ApiError, Request, Response};
use crate::routes;

pub async fn handle(_app: &App, request: Request) -> Result<Response, ApiError> {
    match routes::resolve(request.method(), request.uri().path()) {
        Err(answer) => Err(answer),
        Ok((endpoint, _)) => {
            // API Gateway routes this request elsewhere, so it never comes here; if it does, the
            // template and the route table disagree (tests/deployment checks that they don't).
            tracing::warn!(
                function = endpoint.function_name(),
                "a request of a known route reached the fallback function"
            );
            Err(ApiError::NotFound)
        }
    }
}
