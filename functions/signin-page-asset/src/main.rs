//! Lambda function `signin-page-asset`: builds the app once per cold start and serves
//! [`shared::handlers::signin_page_asset`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::SigninPageAsset,
        shared::handlers::signin_page_asset::handle,
    )
    .await
}
