//! Lambda function `delete-passkey`: builds the app once per cold start and serves
//! [`shared::handlers::delete_passkey`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::DeletePasskey,
        shared::handlers::delete_passkey::handle,
    )
    .await
}
