//! Lambda function `request-email`: builds the app once per cold start and serves
//! [`shared::handlers::request_email`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::RequestEmail,
        shared::handlers::request_email::handle,
    )
    .await
}
