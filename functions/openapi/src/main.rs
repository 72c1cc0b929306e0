//! Lambda function `openapi`: builds the app once per cold start and serves
//! [`shared::handlers::openapi`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::Openapi,
        shared::handlers::openapi::handle,
    )
    .await
}
