//! Lambda function `reset-password`: builds the app once per cold start and serves
//! [`shared::handlers::reset_password`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::ResetPassword,
        shared::handlers::reset_password::handle,
    )
    .await
}
