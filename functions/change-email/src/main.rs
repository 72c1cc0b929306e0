//! Lambda function `change-email`: builds the app once per cold start and serves
//! [`shared::handlers::change_email`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::ChangeEmail,
        shared::handlers::change_email::handle,
    )
    .await
}
