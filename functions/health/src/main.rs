//! Lambda function `health`: builds the app once per cold start and serves
//! [`shared::handlers::health`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(shared::routes::Endpoint::Health, shared::handlers::health::handle).await
}
