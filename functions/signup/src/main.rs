//! Lambda function `signup`: builds the app once per cold start and serves
//! [`shared::handlers::signup`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(shared::routes::Endpoint::Signup, shared::handlers::signup::handle).await
}
