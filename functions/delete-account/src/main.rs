//! Lambda function `delete-account`: builds the app once per cold start and serves
//! [`shared::handlers::delete_account`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::DeleteAccount,
        shared::handlers::delete_account::handle,
    )
    .await
}
