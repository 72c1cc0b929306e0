//! Lambda function `userinfo`: builds the app once per cold start and serves
//! [`shared::handlers::userinfo`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::Userinfo,
        shared::handlers::userinfo::handle,
    )
    .await
}
