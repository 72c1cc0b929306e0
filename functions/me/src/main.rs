//! Lambda function `me`: builds the app once per cold start and serves
//! [`shared::handlers::me`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(shared::routes::Endpoint::Me, shared::handlers::me::handle).await
}
