//! A recording proxy in front of moto for the cold starts: every function's AWS endpoints point
//! here, so the bench sees each request a function sends, and when. The cold-start table counts
//! those sent before the first `next` (during init): key reads, the store's warm-up read, and
//! how long init had one of them in flight.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// One request seen: when it came, when its answer went back, and what it was (the
/// `X-Amz-Target` operation, or method and path).
pub struct Exchange {
    pub at: Instant,
    pub answered: Option<Instant>,
    pub what: String,
}

/// The requests seen, in arrival order.
pub type Seen = Arc<Mutex<Vec<Exchange>>>;

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
                    .filter(|e| e.at >= from && e.at < until)
                    .map(|e| e.what.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How much of `[from, until)` had at least one request in flight (the union of the
    /// requests' intervals, cut to the window): the time a cold start spent waiting on AWS.
    pub fn in_flight(&self, from: Instant, until: Instant) -> Duration {
        let intervals: Vec<(Instant, Instant)> = self
            .seen
            .lock()
            .map(|seen| {
                seen.iter()
                    .filter(|e| e.at >= from && e.at < until)
                    .map(|e| (e.at, e.answered.unwrap_or(until).min(until)))
                    .collect()
            })
            .unwrap_or_default();
        union_length(intervals)
    }
}

/// The total length of the union of `intervals`.
fn union_length(mut intervals: Vec<(Instant, Instant)>) -> Duration {
    intervals.sort();
    let mut total = Duration::ZERO;
    let mut current: Option<(Instant, Instant)> = None;
    for (start, end) in intervals {
        current = match current {
            Some((s, e)) if start <= e => Some((s, e.max(end))),
            Some((s, e)) => {
                total += e - s;
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    total + current.map_or(Duration::ZERO, |(s, e)| e - s)
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
    let index = seen.lock().ok().map(|mut seen| {
        seen.push(Exchange {
            at,
            answered: None,
            what,
        });
        seen.len() - 1
    });
    let response = answer(client, upstream, request).await;
    if let (Some(index), Ok(mut seen)) = (index, seen.lock()) {
        seen[index].answered = Some(Instant::now());
    }
    Ok(response)
}

/// Forwards one request to moto, and its answer back (502 if moto cannot be reached).
async fn answer(
    client: reqwest::Client,
    upstream: String,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
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
            return hyper::Response::builder()
                .status(502)
                .body(Full::new(Bytes::from(e.to_string())))
                .expect("response");
        }
    };
    let mut response = hyper::Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != http::header::CONTENT_LENGTH && name != http::header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    response.body(Full::new(bytes)).expect("response")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_union_counts_overlapping_time_once() {
        let t = Instant::now();
        let ms = Duration::from_millis;
        // [0,4) and [2,5) overlap into [0,5); [7,8) stands alone; [8,8) is empty.
        let intervals = vec![
            (t + ms(7), t + ms(8)),
            (t, t + ms(4)),
            (t + ms(2), t + ms(5)),
            (t + ms(8), t + ms(8)),
        ];
        assert_eq!(union_length(intervals), ms(6));
        assert_eq!(union_length(Vec::new()), Duration::ZERO);
    }
}
