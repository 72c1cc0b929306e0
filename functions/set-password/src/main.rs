//! Lambda function `set-password`: builds the app once per cold start and serves
//! [`shared::handlers::set_password`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::SetPassword,
        shared::handlers::set_password::handle,
    )
    .await
}
