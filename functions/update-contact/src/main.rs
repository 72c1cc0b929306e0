//! Lambda function `update-contact`: builds the app once per cold start and serves
//! [`shared::handlers::update_contact`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::UpdateContact,
        shared::handlers::update_contact::handle,
    )
    .await
}
