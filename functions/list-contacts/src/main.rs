//! Lambda function `list-contacts`: builds the app once per cold start and serves
//! [`shared::handlers::list_contacts`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::ListContacts,
        shared::handlers::list_contacts::handle,
    )
    .await
}
