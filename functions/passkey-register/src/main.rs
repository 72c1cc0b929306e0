//! Lambda function `passkey-register`: builds the app once per cold start and serves
//! [`shared::handlers::passkey_register`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::PasskeyRegister,
        shared::handlers::passkey_register::handle,
    )
    .await
}
