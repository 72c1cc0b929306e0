//! Lambda function `mfa-status`: builds the app once per cold start and serves
//! [`shared::handlers::mfa_status`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::MfaStatus,
        shared::handlers::mfa_status::handle,
    )
    .await
}
