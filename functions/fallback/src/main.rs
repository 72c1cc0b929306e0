//! Lambda function `fallback`: API Gateway's `$default` route. Builds the app once per cold start
//! and serves [`shared::handlers::fallback`]: the local router's 404 and 405 for requests that
//! match no route.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run_fallback().await
}
