//! Lambda function `passkey-login`: builds the app once per cold start and serves
//! [`shared::handlers::passkey_login`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::PasskeyLogin,
        shared::handlers::passkey_login::handle,
    )
    .await
}
