//! Lambda function `docs`: builds the app once per cold start and serves
//! [`shared::handlers::docs`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(shared::routes::Endpoint::Docs, shared::handlers::docs::handle).await
}
