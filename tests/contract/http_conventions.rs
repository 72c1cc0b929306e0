use serde_json::json;
use ucontact_tests::{PASSWORD, Server, Settings};

#[tokio::test]
async fn health_answers_ok() {
    let app = Server::start().await;
    let answer = app.get("/api/healthchecker").await;
    assert_eq!((answer.status, answer.json()), (200, json!({"message": "OK"})));
}

#[tokio::test]
async fn unknown_paths_and_methods_get_json_404_and_405_that_are_not_cached() {
    let app = Server::start().await;
    for path in ["/api/nothing-here", "/api/auth/confirmed_email/"] {
        let answer = app.get(path).await;
        answer.assert_detail(404, "Not Found");
        assert_eq!(answer.header("cache-control"), Some("no-store"), "{path}");
    }
    let register = app.get("/api/auth/register").await;
    let me = app.send(app.client().patch(app.url("/api/users/me"))).await;
    // A parameter segment matches the literal one too: PUT and DELETE reach `{contact_id}`.
    let birthdays = app
        .send(app.client().post(app.url("/api/contacts/upcoming-birthdays")))
        .await;
    for (answer, allow) in [
        (register, "POST"),
        (me, "GET, DELETE"),
        (birthdays, "GET, PUT, DELETE"),
    ] {
        answer.assert_detail(405, "Method Not Allowed");
        assert_eq!(answer.header("allow"), Some(allow), "{}", answer.text);
        assert_eq!(answer.header("cache-control"), Some("no-store"));
    }
}

#[tokio::test]
async fn malformed_bodies_are_422s_never_500s() {
    let app = Server::start().await;
    let post = |body: &'static str, content_type: &'static str| {
        app.client()
            .post(app.url("/api/auth/register"))
            .header("content-type", content_type)
            .body(body)
    };
    let cases = [
        (
            "broken JSON",
            post("{\"username\": ", "application/json"),
            "json_invalid",
        ),
        ("empty body", post("", "application/json"), "missing"),
        (
            "JSON array",
            post("[1, 2]", "application/json"),
            "model_attributes_type",
        ),
        (
            "wrong content type",
            post("username=johndoe", "text/plain"),
            "model_attributes_type",
        ),
        (
            "form instead of JSON",
            post("username=johndoe", "application/x-www-form-urlencoded"),
            "model_attributes_type",
        ),
    ];
    for (case, request, kind) in cases {
        let answer = app.send(request).await;
        assert_eq!(answer.status, 422, "{case}: {}", answer.text);
        assert_eq!(
            answer.json()["detail"][0]["type"],
            kind,
            "{case}: {}",
            answer.text
        );
        assert_eq!(answer.json()["detail"][0]["loc"][0], "body", "{case}");
    }
    let broken_multipart = app
        .client()
        .post(app.url("/api/auth/login"))
        .header("content-type", "multipart/form-data; boundary=XX")
        .body("--XX\r\nno headers end");
    app.send(broken_multipart)
        .await
        .assert_detail(400, "There was an error parsing the body");
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_refused_with_413() {
    let app = Server::start().await;
    let big = format!("{{\"username\": \"{}\"}}", "a".repeat(1024 * 1024));
    let answer = app
        .send(
            app.client()
                .post(app.url("/api/auth/register"))
                .header("content-type", "application/json")
                .body(big),
        )
        .await;
    answer.assert_detail(413, "Request body too large");
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    // The server is fine afterwards.
    assert_eq!(app.get("/api/healthchecker").await.status, 200);
}

#[tokio::test]
async fn token_answers_are_not_cacheable() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let answer = app.login("johndoe", PASSWORD).await;
    assert_eq!(answer.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn a_leftover_hmac_secret_refuses_to_start_and_is_not_echoed() {
    let secret = "an-old-hmac-secret-of-at-least-32-bytes!!";
    let log = Server::start_fails(Settings::default().with("JWT_SECRET", secret));
    assert!(log.contains("JWT_SECRET"), "{log}");
    assert!(!log.contains(secret), "{log}");
}

#[tokio::test]
async fn links_ignore_the_host_header() {
    let app = Server::start().await;
    let request = app
        .client()
        .post(app.url("/api/auth/register"))
        .header("host", "evil.example.com")
        .json(&json!({"username": "johndoe", "email": "john@example.com", "password": PASSWORD}));
    assert_eq!(app.send(request).await.status, 201);
    let email = &app.emails_to("john@example.com").await[0];
    assert!(!email.decoded.contains("evil.example.com"), "{}", email.decoded);
    assert!(email.link(&app.url("/api/auth/confirmed_email/")).is_some());
}

#[tokio::test]
async fn public_base_url_sets_the_links_in_emails() {
    let app =
        Server::start_with(Settings::default().with("PUBLIC_BASE_URL", "https://api.example.com/")).await;
    app.register("johndoe", "john@example.com", PASSWORD).await;
    let email = &app.emails_to("john@example.com").await[0];
    assert!(
        email
            .link("https://api.example.com/api/auth/confirmed_email/")
            .is_some(),
        "{}",
        email.decoded
    );
}
