//! Lambda function `confirm-email-change`: builds the app once per cold start and serves
//! [`shared::handlers::confirm_email_change`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::ConfirmEmailChange,
        shared::handlers::confirm_email_change::handle,
    )
    .await
}
