//! Lambda function `openid-configuration`: builds the app once per cold start (public keys only,
//! from its deployment) and serves [`shared::handlers::openid_configuration`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::OpenidConfiguration,
        shared::handlers::openid_configuration::handle,
    )
    .await
}
