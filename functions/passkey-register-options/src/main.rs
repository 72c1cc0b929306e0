//! Lambda function `passkey-register-options`: builds the app once per cold start and serves
//! [`shared::handlers::passkey_register_options`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::PasskeyRegisterOptions,
        shared::handlers::passkey_register_options::handle,
    )
    .await
}
