//! Lambda function `jwks`: builds the app once per cold start (public keys only) and serves
//! [`shared::handlers::jwks`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(shared::routes::Endpoint::Jwks, shared::handlers::jwks::handle).await
}
