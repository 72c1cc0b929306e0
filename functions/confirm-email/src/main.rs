//! Lambda function `confirm-email`: builds the app once per cold start and serves
//! [`shared::handlers::confirm_email`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::ConfirmEmail,
        shared::handlers::confirm_email::handle,
    )
    .await
}
