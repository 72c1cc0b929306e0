//! Lambda function `logout`: builds the app once per cold start and serves
//! [`shared::handlers::logout`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(shared::routes::Endpoint::Logout, shared::handlers::logout::handle).await
}
