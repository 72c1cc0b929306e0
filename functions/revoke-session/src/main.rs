//! Lambda function `revoke-session`: builds the app once per cold start and serves
//! [`shared::handlers::revoke_session`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::RevokeSession,
        shared::handlers::revoke_session::handle,
    )
    .await
}
