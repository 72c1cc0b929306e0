//! Lambda function `totp-setup`: builds the app once per cold start and serves
//! [`shared::handlers::totp_setup`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::TotpSetup,
        shared::handlers::totp_setup::handle,
    )
    .await
}
