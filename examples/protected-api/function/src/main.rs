//! Lambda function `protected-api` (examples/protected-api/template.yaml): `GET /whoami`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(protected_api::handle)).await
}
