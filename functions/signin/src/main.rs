//! Lambda function `signin`: builds the app once per cold start and serves
//! [`shared::handlers::signin`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(shared::routes::Endpoint::Signin, shared::handlers::signin::handle).await
}
