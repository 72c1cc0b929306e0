//! Lambda function `authorize`: builds the app once per cold start and serves
//! [`shared::handlers::authorize`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::Authorize,
        shared::handlers::authorize::handle,
    )
    .await
}
