//! Lambda function `passkey-login-options`: builds the app once per cold start and serves
//! [`shared::handlers::passkey_login_options`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::PasskeyLoginOptions,
        shared::handlers::passkey_login_options::handle,
    )
    .await
}
