//! Lambda function `list-sessions`: builds the app once per cold start and serves
//! [`shared::handlers::list_sessions`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::ListSessions,
        shared::handlers::list_sessions::handle,
    )
    .await
}
