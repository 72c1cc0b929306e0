//! Lambda function `forgot-password-page`: builds the app once per cold start and serves
//! [`shared::handlers::forgot_password_page`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::ForgotPasswordPage,
        shared::handlers::forgot_password_page::handle,
    )
    .await
}
