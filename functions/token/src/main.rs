//! Lambda function `token`: builds the app once per cold start and serves
//! [`shared::handlers::token`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(shared::routes::Endpoint::Token, shared::handlers::token::handle).await
}
