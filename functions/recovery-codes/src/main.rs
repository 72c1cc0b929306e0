//! Lambda function `recovery-codes`: builds the app once per cold start and serves
//! [`shared::handlers::recovery_codes`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::RecoveryCodes,
        shared::handlers::recovery_codes::handle,
    )
    .await
}
