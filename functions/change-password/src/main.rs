//! Lambda function `change-password`: builds the app once per cold start and serves
//! [`shared::handlers::change_password`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::ChangePassword,
        shared::handlers::change_password::handle,
    )
    .await
}
