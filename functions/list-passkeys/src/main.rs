//! Lambda function `list-passkeys`: builds the app once per cold start and serves
//! [`shared::handlers::list_passkeys`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::ListPasskeys,
        shared::handlers::list_passkeys::handle,
    )
    .await
}
