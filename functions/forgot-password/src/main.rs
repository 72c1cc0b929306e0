//! Lambda function `forgot-password`: builds the app once per cold start and serves
//! [`shared::handlers::forgot_password`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::ForgotPassword,
        shared::handlers::forgot_password::handle,
    )
    .await
}
