//! Lambda function `delete-contact`: builds the app once per cold start and serves
//! [`shared::handlers::delete_contact`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::DeleteContact,
        shared::handlers::delete_contact::handle,
    )
    .await
}
