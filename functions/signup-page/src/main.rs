//! Lambda function `signup-page`: builds the app once per cold start and serves
//! [`shared::handlers::signup_page`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::SignupPage,
        shared::handlers::signup_page::handle,
    )
    .await
}
