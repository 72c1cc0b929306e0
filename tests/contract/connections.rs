//! The local server's connection limits (docs/API.md, "Configuration"), from outside with raw
//! sockets: a client that stalls mid-head or mid-body, or idles on a kept-alive connection, is
//! dropped within its timeout while another client is served; past the connection cap, a new
//! connection waits and the open ones keep being served.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
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
    let total = closed - since;
    assert!(
        total >= Duration::from_millis(900) && total < Duration::from_millis(3000),
        "closed {total:?} after it stalled"
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

#[test]
fn a_limit_out_of_range_refuses_to_start_and_names_the_setting() {
    // (The server binary's own tests do not run: its crate is built with `test = false`.)
    for (name, value) in [
        ("MAX_CONNECTIONS", "0"),
        ("HEADER_READ_TIMEOUT_SECONDS", "0"),
        ("BODY_READ_TIMEOUT_SECONDS", "soon"),
        ("KEEP_ALIVE_TIMEOUT_SECONDS", "3601"),
    ] {
        let log = Server::start_fails(Settings::default().with(name, value));
        assert!(log.contains(name), "{name}={value}: {log}");
    }
}
