//! Lambda function `refresh-token`: builds the app once per cold start and serves
//! [`shared::handlers::refresh_token`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::RefreshToken,
        shared::handlers::refresh_token::handle,
    )
    .await
}
