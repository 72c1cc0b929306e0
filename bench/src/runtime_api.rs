//! Cold starts: each function binary is started against a minimal Lambda Runtime API served here
//! (`GET /2018-06-01/runtime/invocation/next`, `POST .../{id}/response` and `.../error`,
//! `POST .../init/error`), as Lambda starts a `provided.al2023` bootstrap. Timed from process
//! start to its first `next` (init) and to its first response, for every function and for the
//! hello-world baseline in the same run.

use std::convert::Infallible;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use shared::jobs::WORKER_FUNCTION;
use shared::routes::{Endpoint, FALLBACK_FUNCTION};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::Options;

/// The baseline binary's name.
pub const HELLO: &str = "hello-lambda";

/// One function's cold starts.
#[derive(Debug, Clone)]
pub struct ColdStart {
    pub function: String,
    /// Process start to the first `next`, per run (ms).
    pub init_ms: Vec<f64>,
    /// Process start to the first response, per run (ms).
    pub first_response_ms: Vec<f64>,
    /// The status code of the first response (API Gateway's `statusCode`).
    pub status: Option<u16>,
    /// The AWS requests sent during init, per run, and their kinds (over all runs).
    pub init_requests: Vec<Vec<String>>,
    pub init_request_kinds: std::collections::BTreeSet<String>,
    /// How long init had an AWS request in flight, per run (ms): the round trips it waited on.
    pub init_waiting_ms: Vec<f64>,
}

#[derive(Default)]
struct Times {
    started: Option<Instant>,
    init: Option<Duration>,
    response: Option<(Duration, Bytes)>,
    done: Option<oneshot::Sender<()>>,
}

/// The baseline, then every function of template.yaml that this run measures: the routes, the
/// fallback and the worker.
pub fn measured_functions(options: &Options) -> Vec<String> {
    let mut names: Vec<String> = vec![HELLO.to_owned()];
    names.extend(
        Endpoint::ALL
            .iter()
            .map(|e| e.function_name().to_owned())
            .chain([FALLBACK_FUNCTION.to_owned(), WORKER_FUNCTION.to_owned()])
            .filter(|name| options.measures(name)),
    );
    names
}

/// Every function of the route table, then the baseline.
pub async fn cold_starts(options: &Options) -> anyhow::Result<Vec<ColdStart>> {
    let runs = options.pick(10, 1);
    let table = format!("ucontact-bench-{}", uuid::Uuid::new_v4().simple());
    crate::round_trips::create_table(options, &table).await?;
    let defaults = shared::Config::from_lookup(shared::config::Deployment::Lambda, |name| match name {
        "STORE" => Some("dynamodb".into()),
        "TABLE_NAME" => Some(table.clone()),
        _ => None,
    })
    .map_err(|e| anyhow!("{e}"))?;
    let public_keys =
        crate::round_trips::create_keys(options, &format!("{table}/keys"), &defaults.lifetimes).await?;
    let recorder = crate::recorder::Recorder::start(&options.moto).await?;
    let mut results = Vec::new();
    let names = measured_functions(options);
    for name in names {
        let binary = options.bins.join(&name);
        if !binary.exists() {
            bail!("{} is missing: build it first (bench/run does)", binary.display());
        }
        let event = if name == HELLO {
            Bytes::from_static(b"{}")
        } else {
            let path = options.events.join(format!("{name}.json"));
            Bytes::from(std::fs::read(&path).with_context(|| format!("read {}", path.display()))?)
        };
        let mut result = ColdStart {
            function: name.clone(),
            init_ms: Vec::new(),
            first_response_ms: Vec::new(),
            status: None,
            init_requests: Vec::new(),
            init_request_kinds: Default::default(),
            init_waiting_ms: Vec::new(),
        };
        for _ in 0..runs {
            let started = Instant::now();
            let (init, response, body) =
                one_cold_start(&recorder, &binary, &name, &table, &public_keys, event.clone()).await?;
            let at_init = recorder.between(started, started + init);
            let waiting = recorder.in_flight(started, started + init);
            result.init_waiting_ms.push(waiting.as_secs_f64() * 1e3);
            result.init_request_kinds.extend(at_init.iter().cloned());
            result.init_requests.push(at_init);
            result.init_ms.push(init.as_secs_f64() * 1e3);
            result.first_response_ms.push(response.as_secs_f64() * 1e3);
            result.status = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
                match v["batchItemFailures"].as_array() {
                    // The worker answers a stream batch: no failed item is its 200.
                    Some(failures) => Some(if failures.is_empty() { 200 } else { 500 }),
                    None => v["statusCode"].as_u64().and_then(|s| u16::try_from(s).ok()),
                }
            });
        }
        eprintln!(
            "  {name}: init {:?} ms, first response {:?} ms, status {:?}, requests at init {:?}",
            result.init_ms.iter().map(|v| v.round()).collect::<Vec<_>>(),
            result
                .first_response_ms
                .iter()
                .map(|v| v.round())
                .collect::<Vec<_>>(),
            result.status,
            result.init_request_kinds
        );
        results.push(result);
    }
    Ok(results)
}

async fn one_cold_start(
    recorder: &crate::recorder::Recorder,
    binary: &Path,
    name: &str,
    table: &str,
    public_keys: &str,
    event: Bytes,
) -> anyhow::Result<(Duration, Duration, Bytes)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (done_tx, done_rx) = oneshot::channel();
    let times = Arc::new(Mutex::new(Times {
        done: Some(done_tx),
        ..Times::default()
    }));
    let server = {
        let times = Arc::clone(&times);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let times = Arc::clone(&times);
                let event = event.clone();
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request| serve(Arc::clone(&times), event.clone(), request));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        })
    };
    let mut command = std::process::Command::new(binary);
    command
        .env_clear()
        .envs(function_env(
            &recorder.url,
            name,
            table,
            public_keys,
            &address.to_string(),
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    times.lock().map_err(|_| anyhow!("lock"))?.started = Some(Instant::now());
    let mut child = command
        .spawn()
        .with_context(|| format!("start {}", binary.display()))?;
    let finished = tokio::time::timeout(Duration::from_secs(30), done_rx).await;
    let _ = child.kill();
    let _ = child.wait();
    server.abort();
    finished
        .map_err(|_| anyhow!("{name}: no response within 30 s"))?
        .map_err(|_| anyhow!("{name}: the runtime API stopped"))?;
    let times = times.lock().map_err(|_| anyhow!("lock"))?;
    match (&times.init, &times.response) {
        (Some(init), Some((response, body))) => Ok((*init, *response, body.clone())),
        _ => bail!("{name}: reported an init error"),
    }
}

/// The environment Lambda gives a function, plus the settings template.yaml gives ours. The
/// store and mailer point at moto (through the recording proxy) by the per-service endpoint
/// variables, which the SDK reads, so that nothing is provisioned at start (AWS_ENDPOINT_URL
/// would ask for that).
fn function_env(
    aws: &str,
    name: &str,
    table: &str,
    public_keys: &str,
    runtime_api: &str,
) -> Vec<(String, String)> {
    let keys_prefix = format!("{table}/keys");
    let pairs = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", name),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "bench"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_ENDPOINT_URL_DYNAMODB", aws),
        ("AWS_ENDPOINT_URL_SESV2", aws),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws),
        ("STORE", "dynamodb"),
        ("TABLE_NAME", table),
        ("MAILER", "ses"),
        ("MAIL_FROM", "UContact <noreply@example.com>"),
        ("KEYS_SECRET_PREFIX", &keys_prefix),
        // The deployment's public keys (template.yaml's PublicKeys).
        ("PUBLIC_KEYS", public_keys),
        ("BCRYPT_COST", "12"),
        ("RUST_LOG", "info"),
    ];
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn serve(
    times: Arc<Mutex<Times>>,
    event: Bytes,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let now = Instant::now();
    let elapsed = |times: &Times| times.started.map(|s| now - s).unwrap_or_default();
    if path == "/2018-06-01/runtime/invocation/next" {
        let first = {
            let mut times = times.lock().expect("lock");
            let first = times.init.is_none();
            if first {
                times.init = Some(elapsed(&times));
            }
            first
        };
        if !first {
            // One invocation per cold start: the next `next` waits until the process is killed.
            std::future::pending::<()>().await;
        }
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() + 10_000)
            .unwrap_or_default();
        let response = hyper::Response::builder()
            .header("lambda-runtime-aws-request-id", "bench-request-1")
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench",
            )
            .header(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000",
            )
            .header("content-type", "application/json")
            .body(Full::new(event))
            .expect("response");
        return Ok(response);
    }
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    {
        let mut times = times.lock().expect("lock");
        if path.ends_with("/response") {
            times.response = Some((elapsed(&times), body));
        }
        if (path.ends_with("/response") || path.ends_with("/error"))
            && let Some(done) = times.done.take()
        {
            let _ = done.send(());
        }
    }
    Ok(hyper::Response::builder()
        .status(202)
        .body(Full::new(Bytes::from_static(b"{}")))
        .expect("response"))
}
