//! Lambda function `worker`: builds the app once per cold start and runs the background jobs
//! (emails, purges) that the table's DynamoDB stream delivers ([`shared::jobs`]).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run_worker().await
}
