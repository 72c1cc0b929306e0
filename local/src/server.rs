//! The HTTP/1.1 transport: turns each hyper request into the `lambda_http::Request` the handlers
//! take (path and query parameters filled in as API Gateway would), runs the route table, and
//! sends the response back. Connections are bounded ([`Limits`]): a cap on how many are served
//! at once, read deadlines on the socket for the request head and idle keep-alives and a write
//! timeout for a client that stops taking its response ([`crate::deadline`]), a deadline on the
//! body, and a declared body over the limit refused before it is read. hyper's own answers to a
//! head it cannot parse are made the contract's JSON ([`crate::head_errors`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body as _, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use lambda_http::RequestExt;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use shared::App;
use shared::http::{ApiError, MAX_BODY_BYTES, PublicBase};
use shared::jobs::JobRecord;
use shared::routes;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::deadline::{DeadlineIo, Deadlines};
use crate::head_errors::HeadErrorIo;
use crate::limits::Limits;

/// How long in-flight requests get to finish after a stop signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn serve(
    app: App,
    jobs: UnboundedReceiver<JobRecord>,
    address: SocketAddr,
    limits: Limits,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("Failed to listen on {address}"))?;
    let bound = listener.local_addr()?;
    let base: Arc<str> = format!("http://{bound}").into();
    let app: &'static App = Box::leak(Box::new(app));
    // Jobs a stop or repeated failures left behind run first.
    tokio::spawn(shared::jobs::serve_inline(app, jobs));
    shared::jobs::resume(app).await?;
    // Standard output carries only this line, so scripts and tests can read the address.
    println!("UContact listening on {base}");
    tracing::info!("UContact listening on {base} (Ctrl-C to stop)");

    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop_signal());
    // One permit per open connection: at the cap, the next connection waits in the listen
    // backlog (not accepted) until one closes; the open ones keep being served.
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let (stream, peer) = match accepted {
            Ok(connection) => connection,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        if permits.available_permits() == 0 {
            tracing::warn!(
                max = limits.max_connections,
                "connection cap reached: new connections wait"
            );
        }
        // The public base (links, issuer) is the address the request reached: with HOST=0.0.0.0
        // the listening address is no address a client can use, so it is the connection's own.
        let base = match stream.local_addr() {
            Ok(local) if bound.ip().is_unspecified() => format!("http://{local}").into(),
            _ => Arc::clone(&base),
        };
        let deadlines = Deadlines::new(&limits);
        let io = TokioIo::new(HeadErrorIo::new(DeadlineIo::new(stream, deadlines.clone())));
        let service = service_fn(move |request| {
            let deadlines = deadlines.clone();
            let base = Arc::clone(&base);
            async move {
                deadlines.request_started();
                let response = handle(app, &base, peer, limits.body_read, request).await;
                deadlines.response_sent();
                response
            }
        });
        // One flat write buffer: hyper's own error head then ends a write (crate::head_errors).
        let connection = http1::Builder::new().writev(false).serve_connection(io, service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("stopping: finishing in-flight requests");
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish in time");
    }
    tracing::info!("stopped");
    Ok(())
}

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

async fn handle(
    app: &'static App,
    base: &str,
    peer: SocketAddr,
    body_read: Duration,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    // The route's pattern, not the path: paths can carry tokens (`/auth/reset-password/{token}`).
    let pattern =
        routes::resolve(&method, parts.uri.path()).map_or("(no route)", |(endpoint, _)| endpoint.route().2);
    let context = request_context(&parts, peer);
    let request_id = context.request_id.clone().unwrap_or_default();
    // A declared length over the limit is refused unread: hyper sends `100 Continue` only when
    // the body is polled, so a client that asked for it is told 413 instead.
    if body.size_hint().lower() > MAX_BODY_BYTES as u64 {
        let response = closing(ApiError::PayloadTooLarge.into_response());
        return Ok(log_and_send(response, &method, pattern, started, &request_id));
    }
    let body = tokio::time::timeout(body_read, Limited::new(body, MAX_BODY_BYTES).collect()).await;
    let response = match body {
        // The body did not arrive in time: answer, and close the connection.
        Err(_elapsed) => closing(ApiError::RequestTimeout.into_response()),
        Ok(Ok(collected)) => {
            let body = lambda_http::Body::from(collected.to_bytes().to_vec());
            let request = http::Request::from_parts(parts, body)
                .with_request_context(RequestContext::ApiGatewayV2(context));
            route(app, base, request).await
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            closing(ApiError::PayloadTooLarge.into_response())
        }
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "request body could not be read");
            ApiError::bad_request(shared::http::detail::BODY_PARSE).into_response()
        }
    };
    Ok(log_and_send(response, &method, pattern, started, &request_id))
}

/// The response with `Connection: close`: the rest of the request is not read.
fn closing(mut response: shared::http::Response) -> shared::http::Response {
    response
        .headers_mut()
        .insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
    response
}

fn log_and_send(
    response: shared::http::Response,
    method: &http::Method,
    pattern: &str,
    started: Instant,
    request_id: &str,
) -> hyper::Response<Full<Bytes>> {
    tracing::info!(%method, route = pattern, status = response.status().as_u16(), ms = started.elapsed().as_secs_f64() * 1e3, %request_id, "request");
    let (parts, body) = response.into_parts();
    hyper::Response::from_parts(parts, Full::new(Bytes::from(body.to_vec())))
}

async fn route(app: &'static App, base: &str, request: shared::http::Request) -> shared::http::Response {
    match routes::route(request) {
        Ok((endpoint, mut request)) => {
            request.extensions_mut().insert(PublicBase(base.to_owned()));
            endpoint.call(app, request).await
        }
        Err(e) => e.into_response(),
    }
}

/// The request context API Gateway would attach: a fresh request id, the peer's address (the
/// TCP peer, never a forwarded-for header) and the user agent.
fn request_context(parts: &http::request::Parts, peer: SocketAddr) -> ApiGatewayV2httpRequestContext {
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.request_id = Some(uuid::Uuid::new_v4().to_string());
    context.http.method = parts.method.clone();
    context.http.path = Some(parts.uri.path().to_owned());
    context.http.source_ip = Some(peer.ip().to_canonical().to_string());
    context.http.user_agent = parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    context
}
