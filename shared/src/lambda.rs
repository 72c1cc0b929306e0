//! The Lambda entry point every `functions/<name>` crate calls: set up logging, build the
//! [`App`] once per cold start with the keys its route needs, then serve one route.

use std::convert::Infallible;
use std::future::Future;

use lambda_http::{Error, service_fn};

use crate::app::App;
use crate::config::{Config, Deployment};
use crate::handlers;
use crate::http::{ApiError, Request, Response, run_handler};
use crate::jobs;
use crate::keys::KeyNeeds;
use crate::routes::Endpoint;
use crate::store::WarmUp;

/// Runs `handler`, the handler of `endpoint`'s route, as a Lambda function until the runtime
/// stops it, with the keys the route table gives `endpoint`. The handler is named in each
/// function's `main` (not looked up from the endpoint) so that each binary links only its own
/// handler; tests/deployment checks that the two belong together.
pub async fn run<F, Fut>(endpoint: Endpoint, handler: F) -> Result<(), Error>
where
    F: Fn(&'static App, Request) -> Fut + Copy + Send,
    Fut: Future<Output = Result<Response, ApiError>> + Send,
{
    let app = start(endpoint.keys(), endpoint.warm_up()).await?;
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(run_handler(app, request, handler).await)
    }))
    .await
}

/// Runs the `fallback` function (API Gateway's `$default` route): 404 or 405, from the route
/// table alone, with no key.
pub async fn run_fallback() -> Result<(), Error> {
    let app = start(KeyNeeds::NONE, WarmUp::None).await?;
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(run_handler(app, request, handlers::fallback::handle).await)
    }))
    .await
}

/// Runs the `worker` function: the background jobs (crate::jobs) that the table's stream
/// delivers. A purge stops 10 s before the invocation's deadline and continues in a fresh job.
pub async fn run_worker() -> Result<(), Error> {
    let app = start(jobs::WORKER_KEYS, WarmUp::UserPartition).await?;
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: lambda_http::lambda_runtime::LambdaEvent<jobs::StreamEvent>| async move {
            let left = event
                .context
                .deadline()
                .duration_since(std::time::SystemTime::now())
                .unwrap_or_default()
                .saturating_sub(WORKER_MARGIN);
            let deadline = tokio::time::Instant::now() + left;
            Ok::<_, Error>(jobs::run_stream_batch(app, event.payload, deadline).await)
        },
    ))
    .await
}

/// Time a worker invocation keeps for itself after its last purge batch.
const WORKER_MARGIN: std::time::Duration = std::time::Duration::from_secs(10);

/// One App for the life of the execution environment, borrowed by every invocation.
async fn start(needs: KeyNeeds, warm_up: WarmUp) -> Result<&'static App, Error> {
    crate::telemetry::init_lambda();
    let config = Config::from_env(Deployment::Lambda)?;
    Ok(Box::leak(Box::new(App::build(config, needs, warm_up).await?)))
}
