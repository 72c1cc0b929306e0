//! Lambda function `logout-all`: builds the app once per cold start and serves
//! [`shared::handlers::logout_all`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::LogoutAll,
        shared::handlers::logout_all::handle,
    )
    .await
}
