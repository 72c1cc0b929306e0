//! Lambda function `totp-confirm`: builds the app once per cold start and serves
//! [`shared::handlers::totp_confirm`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::TotpConfirm,
        shared::handlers::totp_confirm::handle,
    )
    .await
}
