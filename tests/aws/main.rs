//! AWS-only behaviour: what the service does when DynamoDB or SES cannot be reached. The servers
//! run on DynamoDB + SES (moto) behind a proxy this test controls. Needs the emulator that
//! scripts/test starts; fails loudly without it. Multi-threaded runtimes: the proxy runs on the
//! test's runtime while the harness blocks one thread waiting for the server to start.

mod deployed_rotation;

use std::time::{Duration, Instant};

use ucontact_tests::{PASSWORD, Proxy, Server, Settings, aws_endpoint};

#[track_caller]
fn assert_unavailable(answer: &ucontact_tests::Answer) {
    answer.assert_detail(503, "Service temporarily unavailable");
    assert!(
        answer.header("retry-after").is_some(),
        "no Retry-After: {answer:?}"
    );
}

async fn server_behind(proxy: &Proxy) -> Server {
    let settings = Settings::aws().with("AWS_ENDPOINT_URL", &proxy.endpoint());
    Server::start_with(settings).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_is_a_503_and_leaves_nothing_half_written() {
    let mut proxy = Proxy::start(&aws_endpoint());
    let app = server_behind(&proxy).await;
    app.verified_user("alice", "alice@example.com").await;
    let tokens = app.tokens("alice").await;

    proxy.refuse().await;
    assert_unavailable(&app.get("/api/healthchecker").await);
    assert_unavailable(&app.register("bob", "bob@example.com", PASSWORD).await);
    assert_unavailable(&app.login("alice", PASSWORD).await);
    assert_unavailable(&app.get_with_token("/api/users/me", &tokens.access).await);
    assert_unavailable(&app.refresh(&tokens.refresh).await);

    proxy.forward().await;
    assert_eq!(app.get("/api/healthchecker").await.status, 200);
    // The refused registration left no guard item behind: the same names register now.
    let bob = app.register("bob", "bob@example.com", PASSWORD).await;
    assert_eq!(bob.status, 201, "{}", bob.text);
    // The refresh token was not spent by the failed attempt.
    ucontact_tests::tokens_of(&app.refresh(&tokens.refresh).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_store_is_a_503_within_the_timeout() {
    let mut proxy = Proxy::start(&aws_endpoint());
    let app = server_behind(&proxy).await;
    proxy.stall().await;
    let started = Instant::now();
    assert_unavailable(&app.get("/api/healthchecker").await);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_email_refused_by_the_mail_provider_is_retried_until_sent() {
    // The store is reachable directly; only SES goes through the proxy.
    let mut proxy = Proxy::start(&aws_endpoint());
    let settings = Settings::aws().with("AWS_ENDPOINT_URL_SESV2", &proxy.endpoint());
    let app = Server::start_with(settings).await;
    proxy.refuse().await;

    let registered = app.register("carol", "carol@example.com", PASSWORD).await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    // The email's job fails while SES is unreachable, and is tried again.
    let log = app.data_dir().join("server.log");
    let failed = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("job failed; retrying")
    };
    for _ in 0..200 {
        if failed() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(failed(), "the failure is logged");

    proxy.forward().await;
    // No new request: the retry sends it.
    let token = app.verification_token("carol@example.com").await;
    assert_eq!(
        app.get(&format!("/api/auth/confirmed_email/{token}"))
            .await
            .status,
        200
    );
}
