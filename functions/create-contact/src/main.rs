//! Lambda function `create-contact`: builds the app once per cold start and serves
//! [`shared::handlers::create_contact`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::CreateContact,
        shared::handlers::create_contact::handle,
    )
    .await
}
