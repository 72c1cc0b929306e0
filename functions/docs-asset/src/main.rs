//! Lambda function `docs-asset`: builds the app once per cold start and serves
//! [`shared::handlers::docs_asset`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::DocsAsset,
        shared::handlers::docs_asset::handle,
    )
    .await
}
