//! Lambda function `login`: builds the app once per cold start and serves
//! [`shared::handlers::login`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(shared::routes::Endpoint::Login, shared::handlers::login::handle).await
}
