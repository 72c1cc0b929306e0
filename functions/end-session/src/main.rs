//! Lambda function `end-session`: builds the app once per cold start and serves
//! [`shared::handlers::end_session`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::EndSession,
        shared::handlers::end_session::handle,
    )
    .await
}
