//! Lambda function `upcoming-birthdays`: builds the app once per cold start and serves
//! [`shared::handlers::upcoming_birthdays`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(
        shared::routes::Endpoint::UpcomingBirthdays,
        shared::handlers::upcoming_birthdays::handle,
    )
    .await
}
