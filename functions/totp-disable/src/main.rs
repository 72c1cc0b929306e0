//! Lambda function `totp-disable`: builds the app once per cold start and serves
//! [`shared::handlers::totp_disable`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::TotpDisable,
        shared::handlers::totp_disable::handle,
    )
    .await
}
