//! The Lambda entry point every `functions/<name>` crate calls: set up logging, build the
//! [`App`] once per cold start, then serve one route's handler.

use std::convert::Infallible;
use std::future::Future;

use lambda_http::{Error, service_fn};

use crate::app::App;
use crate::config::{Config, Deployment};
use crate::http::{ApiError, Request, Response, run_handler};

/// Runs `handler` as a Lambda function until the runtime stops it.
pub async fn run<F, Fut>(handler: F) -> Result<(), Error>
where
    F: Fn(&'static App, Request) -> Fut + Copy + Send,
    Fut: Future<Output = Result<Response, ApiError>> + Send,
{
    crate::telemetry::init_lambda();
    let config = Config::from_env(Deployment::Lambda)?;
    // One App for the life of the execution environment, borrowed by every invocation.
    let app: &'static App = Box::leak(Box::new(App::build(config).await?));
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(run_handler(app, request, handler).await)
    }))
    .await
}
