//! A recording proxy in front of moto for the cold starts: every function's AWS endpoints point
//! here, so the bench sees each request a function sends, and when. The cold-start table counts
//! those sent before the first `next` (during init): key reads, the store's warm-up read.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The requests seen: when, and what (the `X-Amz-Target` operation, or method and path).
pub type Seen = Arc<Mutex<Vec<(Instant, String)>>>;

pub struct Recorder {
    pub url: String,
    pub seen: Seen,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Recorder {
    /// Starts forwarding to `upstream` (moto's URL).
    pub async fn start(upstream: &str) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address: SocketAddr = listener.local_addr()?;
        let seen: Seen = Arc::default();
        let client = reqwest::Client::new();
        let upstream = upstream.trim_end_matches('/').to_owned();
        let server = {
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let (seen, client, upstream) = (Arc::clone(&seen), client.clone(), upstream.clone());
                    tokio::spawn(async move {
                        let service = service_fn(move |request| {
                            forward(Arc::clone(&seen), client.clone(), upstream.clone(), request)
                        });
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            })
        };
        Ok(Self {
            url: format!("http://{address}"),
            seen,
            server,
        })
    }

    /// The requests seen in `[from, until)`.
    pub fn between(&self, from: Instant, until: Instant) -> Vec<String> {
        self.seen
            .lock()
            .map(|seen| {
                seen.iter()
                    .filter(|(at, _)| *at >= from && *at < until)
                    .map(|(_, what)| what.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

async fn forward(
    seen: Seen,
    client: reqwest::Client,
    upstream: String,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let at = Instant::now();
    let what = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{} {}", request.method(), request.uri().path()));
    if let Ok(mut seen) = seen.lock() {
        seen.push((at, what));
    }
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = client.request(parts.method.clone(), format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        if name != http::header::HOST && name != http::header::CONTENT_LENGTH {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = match outgoing.body(body).send().await {
        Ok(answer) => answer,
        Err(e) => {
            return Ok(hyper::Response::builder()
                .status(502)
                .body(Full::new(Bytes::from(e.to_string())))
                .expect("response"));
        }
    };
    let mut response = hyper::Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != http::header::CONTENT_LENGTH && name != http::header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    Ok(response.body(Full::new(bytes)).expect("response"))
}
