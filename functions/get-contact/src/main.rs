//! Lambda function `get-contact`: builds the app once per cold start and serves
//! [`shared::handlers::get_contact`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::GetContact,
        shared::handlers::get_contact::handle,
    )
    .await
}
