//! Lambda function `reset-password-form`: builds the app once per cold start and serves
//! [`shared::handlers::reset_password_form`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::ResetPasswordForm,
        shared::handlers::reset_password_form::handle,
    )
    .await
}
