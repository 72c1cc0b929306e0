//! The local server's HTTP layer and connection limits (docs/API.md, "Conventions" and
//! "Configuration"), from outside with raw sockets: a request head the HTTP layer cannot take gets
//! the contract's JSON error; a declared body over the limit is refused before it is read; a
//! client that stalls mid-head or mid-body, idles on a kept-alive connection, or stops reading its
//! response, is dropped within its timeout while another client is served, and a slow reader gets
//! its whole response; past the connection cap, a new connection waits and the open ones keep
//! being served.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use ucontact_tests::{Server, Settings};

const HEALTH: &[u8] = b"GET /api/healthchecker HTTP/1.1\r\nHost: test\r\n\r\n";

/// One-second timeouts, so that the tests take seconds.
fn limited() -> Settings {
    Settings::default()
        .with("HEADER_READ_TIMEOUT_SECONDS", "1")
        .with("BODY_READ_TIMEOUT_SECONDS", "1")
        .with("KEEP_ALIVE_TIMEOUT_SECONDS", "1")
}

async fn connect(app: &Server) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .expect("a connection")
}

/// Reads until the server closes the connection (returns when), or `limit` passes (`None`).
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Instant>) {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), None),
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (String::from_utf8_lossy(&out).into_owned(), Some(Instant::now()));
            }
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends one health check on `stream` and reads its answer (small: one read holds it).
async fn health_on(stream: &mut TcpStream) -> String {
    stream.write_all(HEALTH).await.expect("write");
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("an answer in time")
        .expect("read");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// The connection must close the setting's time (1 s) after `since`: not at once, not never.
#[track_caller]
fn assert_closed_after_the_timeout(closed: Option<Instant>, since: Instant) {
    let closed = closed.expect("the connection was not closed");
    assert_one_timeout_after(closed, since);
}

/// `when` is the setting's time (1 s) after `since`: not at once, not much later.
#[track_caller]
fn assert_one_timeout_after(when: Instant, since: Instant) {
    let total = when - since;
    assert!(
        total >= Duration::from_millis(900) && total < Duration::from_millis(3000),
        "{total:?} after it stalled"
    );
}

/// The contract's error: the status, JSON `{"detail": detail}`, `Cache-Control: no-store`.
#[track_caller]
fn assert_contract_error(answer: &str, status: u16, detail: &str) {
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete head: {answer:?}"));
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    assert!(
        status_line.starts_with(&format!("HTTP/1.1 {status} ")),
        "{answer}"
    );
    let headers: Vec<(String, &str)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim()))
        .collect();
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    assert_eq!(header("content-type"), Some("application/json"), "{answer}");
    assert_eq!(header("cache-control"), Some("no-store"), "{answer}");
    let body: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {answer:?}"));
    assert_eq!(body, json!({ "detail": detail }), "{answer}");
}

#[tokio::test]
async fn heads_the_http_layer_cannot_take_get_json_errors_that_are_not_cached() {
    let app = Server::start().await;
    let long_uri = format!("GET /api/{} HTTP/1.1\r\nHost: test\r\n\r\n", "a".repeat(70_000));
    let many_headers = format!(
        "GET /api/healthchecker HTTP/1.1\r\nHost: test\r\n{}\r\n",
        (0..150)
            .map(|i| format!("X-Filler-{i}: x\r\n"))
            .collect::<String>()
    );
    let bad_header = "GET /api/healthchecker HTTP/1.1\r\nHost: test\r\nBad Header: x\r\n\r\n";
    let bad_transfer_encoding =
        "POST /api/auth/register HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip\r\n\r\n";
    let cases = [
        ("a URI over 65,534 bytes", long_uri.as_str(), 414, "URI Too Long"),
        (
            "over 100 header fields",
            many_headers.as_str(),
            431,
            "Request Header Fields Too Large",
        ),
        ("a header name with a space", bad_header, 400, "Bad Request"),
        (
            "a Transfer-Encoding other than chunked",
            bad_transfer_encoding,
            400,
            "Bad Request",
        ),
    ];
    for (case, request, status, detail) in cases {
        let mut stream = connect(&app).await;
        stream.write_all(request.as_bytes()).await.expect("write");
        let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(closed.is_some(), "{case}: the connection stayed open");
        assert_contract_error(&answer, status, detail);
    }
    // After a served request on the same connection too: the first answer is as it was.
    let mut stream = connect(&app).await;
    let pipelined = [HEALTH, bad_header.as_bytes()].concat();
    stream.write_all(&pipelined).await.expect("write");
    let (answers, _) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    let second = answers
        .match_indices("HTTP/1.1 ")
        .nth(1)
        .map(|(at, _)| at)
        .unwrap_or_else(|| panic!("one answer: {answers}"));
    assert!(answers.starts_with("HTTP/1.1 200 "), "{answers}");
    assert!(answers[..second].ends_with(r#"{"message":"OK"}"#), "{answers}");
    assert_contract_error(&answers[second..], 400, "Bad Request");
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_before_it_is_read() {
    let app = Server::start().await;
    let head = "POST /api/auth/register HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n";
    // A client that waits for `100 Continue` before it sends the body is told 413 instead.
    let mut waiting = connect(&app).await;
    let asked = Instant::now();
    waiting
        .write_all(format!("{head}Expect: 100-continue\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let (answer, closed) = read_until_closed(&mut waiting, Duration::from_secs(5)).await;
    assert!(!answer.contains("100 Continue"), "{answer}");
    assert_contract_error(&answer, 413, "Request body too large");
    assert!(
        closed.is_some_and(|closed| closed - asked < Duration::from_secs(2)),
        "the answer waited for the body"
    );
    // One that sends its body unasked is answered without the server waiting for the rest.
    let mut sending = connect(&app).await;
    let sent = Instant::now();
    sending
        .write_all(format!("{head}\r\n{{\"username\": \"").as_bytes())
        .await
        .expect("write");
    let (answer, closed) = read_until_closed(&mut sending, Duration::from_secs(5)).await;
    assert_contract_error(&answer, 413, "Request body too large");
    assert!(
        closed.is_some_and(|closed| closed - sent < Duration::from_secs(2)),
        "the answer waited for the body"
    );
}

#[tokio::test]
async fn a_client_stalling_mid_head_is_dropped_while_another_is_served() {
    let app = Server::start_with(limited()).await;
    let mut slow = connect(&app).await;
    let stalled = Instant::now();
    slow.write_all(b"GET /api/healthchecker HTTP/1.1\r\nHost: te")
        .await
        .expect("write");
    let served = Instant::now();
    assert_eq!(app.get("/api/healthchecker").await.status, 200);
    assert!(
        served.elapsed() < Duration::from_millis(800),
        "the other client waited"
    );
    let (_, closed) = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    assert_closed_after_the_timeout(closed, stalled);
}

#[tokio::test]
async fn a_client_stalling_mid_body_gets_a_408_and_is_dropped() {
    let app = Server::start_with(limited()).await;
    let mut slow = connect(&app).await;
    let stalled = Instant::now();
    slow.write_all(
        b"POST /api/auth/register HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user",
    )
    .await
    .expect("write");
    assert_eq!(app.get("/api/healthchecker").await.status, 200);
    let (answer, closed) = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    assert_closed_after_the_timeout(closed, stalled);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.ends_with(r#"{"detail":"Request body not received in time"}"#),
        "{answer}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_and_a_busy_one_is_not() {
    let app = Server::start_with(limited()).await;
    let mut busy = connect(&app).await;
    // Requests 0.5 s apart: each inside the keep-alive timeout, 2 s in all.
    for _ in 0..4 {
        let answer = health_on(&mut busy).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let answer = health_on(&mut busy).await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the busy connection was kept: {answer}"
    );
    // Then it idles.
    let idle = Instant::now();
    let (_, closed) = read_until_closed(&mut busy, Duration::from_secs(5)).await;
    assert_closed_after_the_timeout(closed, idle);
}

#[tokio::test]
async fn past_the_connection_cap_a_new_connection_waits_and_the_open_ones_are_served() {
    let settings = Settings::default()
        .with("MAX_CONNECTIONS", "2")
        .with("KEEP_ALIVE_TIMEOUT_SECONDS", "30");
    let app = Server::start_with(settings).await;
    let mut first = connect(&app).await;
    let mut second = connect(&app).await;
    for stream in [&mut first, &mut second] {
        let answer = health_on(stream).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    // A third gets into the kernel's backlog but is not served while both are open.
    let mut third = connect(&app).await;
    third.write_all(HEALTH).await.expect("write");
    let mut buf = [0u8; 4096];
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), third.read(&mut buf))
            .await
            .is_err(),
        "served past the cap"
    );
    // The open ones still are.
    for stream in [&mut first, &mut second] {
        let answer = health_on(stream).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    // One closes: the waiting connection is taken and answered.
    drop(first);
    let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf))
        .await
        .expect("the waiting connection was served once a slot freed")
        .expect("read");
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// A connection that takes little at a time: a 4 KiB receive buffer, so that the server's writes
/// wait on this client's reading, not on the kernel's buffers.
async fn connect_small(app: &Server) -> TcpStream {
    let address = app
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("the server's address");
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a receive buffer size");
    socket.connect(address).await.expect("a connection")
}

/// Swagger UI's script (1.7 MB), asked for `times` times on one connection. The socket buffers
/// between server and client hold about 2.8 MB on loopback with the client's 4 KiB (the kernel's
/// default ceiling, tcp_wmem, is 4 MiB): past that, an answer waits on the client.
fn bundles_request(times: usize) -> Vec<u8> {
    b"GET /docs/swagger-ui-bundle.js HTTP/1.1\r\nHost: test\r\n\r\n".repeat(times)
}

#[tokio::test]
async fn a_slow_reader_gets_its_whole_response() {
    // The keep-alive timeout is 1 s; the write timeout its default, 60 s (a slow reader empties
    // the server's full socket buffer slowly: the server's next write waits seconds for room).
    let app = Server::start_with(limited()).await;
    let bundle = app.get("/docs/swagger-ui-bundle.js").await.text;
    let mut slow = connect_small(&app).await;
    // Twice: the second answer is handed over at once (the first fits in the buffers) and then
    // waits on this client's reading.
    let times = 2;
    slow.write_all(&bundles_request(times)).await.expect("write");
    // About 100 KB/s for three times the keep-alive timeout, then the rest as it comes.
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let reading = Instant::now();
    while received.len() < times * bundle.len() {
        let n = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut buf))
            .await
            .expect("the server kept sending")
            .expect("read");
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buf[..n]);
        if reading.elapsed() < Duration::from_secs(3) {
            tokio::time::sleep(Duration::from_millis(n as u64 / 100)).await;
        }
    }
    let received = String::from_utf8_lossy(&received);
    assert_eq!(
        received.matches(bundle.as_str()).count(),
        times,
        "cut off after {} bytes",
        received.len()
    );
}

#[tokio::test]
async fn a_client_that_never_reads_is_dropped_after_the_write_timeout() {
    let settings = Settings::default()
        .with("MAX_CONNECTIONS", "1")
        .with("WRITE_TIMEOUT_SECONDS", "1")
        .with("KEEP_ALIVE_TIMEOUT_SECONDS", "30");
    let app = Server::start_with(settings).await;
    let mut stuck = connect_small(&app).await;
    // Four times (6.9 MB): well past the socket buffers, so the server's writes wait on this client.
    stuck.write_all(&bundles_request(4)).await.expect("write");
    let stalled = Instant::now();
    // The only connection slot is the stuck client's until it is dropped; then this one is served.
    let mut next = connect(&app).await;
    let answer = health_on(&mut next).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_one_timeout_after(Instant::now(), stalled);
    drop(stuck);
}

#[test]
fn a_limit_out_of_range_refuses_to_start_and_names_the_setting() {
    // (The server binary's own tests do not run: its crate is built with `test = false`.)
    for (name, value) in [
        ("MAX_CONNECTIONS", "0"),
        ("HEADER_READ_TIMEOUT_SECONDS", "0"),
        ("BODY_READ_TIMEOUT_SECONDS", "soon"),
        ("KEEP_ALIVE_TIMEOUT_SECONDS", "3601"),
        ("WRITE_TIMEOUT_SECONDS", "0"),
    ] {
        let log = Server::start_fails(Settings::default().with(name, value));
        assert!(log.contains(name), "{name}={value}: {log}");
    }
}
