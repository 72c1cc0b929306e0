//! Lambda function `register`: builds the app once per cold start and serves
//! [`shared::handlers::register`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::Register,
        shared::handlers::register::handle,
    )
    .await
}
