//! The smallest Lambda function lambda_runtime makes: answers every event with `{"hello":"world"}`.
//! The bench times its cold start beside UContact's functions, as the floor they are held to.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({"hello": "world"}))
    }))
    .await
}
