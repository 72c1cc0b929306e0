use std::time::{Duration, Instant};

use serde_json::json;
use ucontact_tests::{PASSWORD, Server, Settings, tokens_of};

#[tokio::test]
async fn login_fails_for_an_unverified_user_with_the_right_password() {
    let app = Server::start().await;
    app.register("johndoe", "john@example.com", PASSWORD).await;
    let answer = app.login("johndoe", PASSWORD).await;
    answer.assert_detail(401, "Email not verified");
}

#[tokio::test]
async fn login_takes_the_username_or_the_email_in_any_case() {
    let app = Server::start().await;
    // A local part keeps its case where a domain does not ("John@Example.com" is held as
    // "John@example.com", where the verification email goes).
    app.verified_user("JohnDoe", "John@example.com").await;
    for identifier in [
        "JohnDoe",
        "johndoe",
        "John@Example.com",
        "john@example.com",
        "JOHN@EXAMPLE.COM",
    ] {
        tokens_of(&app.login(identifier, PASSWORD).await);
    }
}

#[tokio::test]
async fn login_takes_any_spelling_of_the_email() {
    let app = Server::start().await;
    app.verified_user("joerg", "j\u{F6}rg@xn--bcher-kva.example")
        .await;
    for identifier in [
        "j\u{F6}rg@bücher.example",
        "JO\u{308}RG@XN--BCHER-KVA.EXAMPLE",
        "jo\u{308}rg@bu\u{308}cher.example",
    ] {
        tokens_of(&app.login(identifier, PASSWORD).await);
    }
}

#[tokio::test]
async fn login_accepts_the_full_oauth2_password_form_and_multipart() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let form = [
        ("grant_type", "password"),
        ("username", "johndoe"),
        ("password", PASSWORD),
        ("scope", "read write"),
        ("client_id", "my-client"),
        ("client_secret", "shh"),
        ("unknown_extra", "ignored"),
    ];
    tokens_of(&app.post_form("/api/auth/login", &form).await);

    // Some OAuth2 clients send their credentials as Basic auth: ignored too.
    let basic = app
        .client()
        .post(app.url("/api/auth/login"))
        .basic_auth("my-client", Some("shh"))
        .form(&form[..3]);
    tokens_of(&app.send(basic).await);

    let multipart = reqwest::multipart::Form::new()
        .text("username", "johndoe")
        .text("password", PASSWORD);
    tokens_of(
        &app.send(app.client().post(app.url("/api/auth/login")).multipart(multipart))
            .await,
    );
}

#[tokio::test]
async fn login_refuses_any_grant_type_but_password_with_a_422_and_no_password_check() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    for grant in ["client_credentials", "Password", "refresh_token", " password"] {
        let answer = app
            .post_form(
                "/api/auth/login",
                &[
                    ("grant_type", grant),
                    ("username", "johndoe"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        answer.assert_422_on("grant_type");
        let issue = &answer.json()["detail"][0];
        assert_eq!(
            (&issue["loc"], &issue["type"]),
            (&json!(["body", "grant_type"]), &json!("string_pattern_mismatch")),
            "grant_type={grant:?}: {}",
            answer.text
        );
        if !grant.to_lowercase().contains("password") {
            assert!(
                !answer.text.contains(grant),
                "the value is echoed: {}",
                answer.text
            );
        }
    }
    // None of those counted as a failed login: the right password still logs in at once.
    // An empty grant_type is absent, as FastAPI's forms read it.
    tokens_of(
        &app.post_form(
            "/api/auth/login",
            &[
                ("grant_type", ""),
                ("username", "johndoe"),
                ("password", PASSWORD),
            ],
        )
        .await,
    );
    let multipart = reqwest::multipart::Form::new()
        .text("grant_type", "client_credentials")
        .text("username", "johndoe")
        .text("password", PASSWORD);
    app.send(app.client().post(app.url("/api/auth/login")).multipart(multipart))
        .await
        .assert_422_on("grant_type");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let wrong = app.login("johndoe", "wrong-password").await;
    let unknown = app.login("nobody", "wrong-password").await;
    let unknown_email = app.login("nobody@example.com", "wrong-password").await;
    for answer in [&wrong, &unknown, &unknown_email] {
        answer.assert_detail(401, "Incorrect username or password");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    }
    assert_eq!(wrong.text, unknown.text);
}

#[tokio::test]
async fn unknown_users_take_as_long_as_wrong_passwords() {
    // A realistic cost, so that a skipped bcrypt would stand out by an order of magnitude.
    // Backoff would answer 429 without bcrypt after 5 failures: keep it out of this measurement.
    let settings = Settings::default()
        .with("BCRYPT_COST", "10")
        .with("LOGIN_BACKOFF_THRESHOLD", "100");
    let app = Server::start_with(settings).await;
    app.verified_user("johndoe", "john@example.com").await;
    // Interleaved samples, compared by their fastest run: the minimum is what the work costs,
    // free of the scheduling noise of a busy machine (the suite runs tests in parallel).
    let (mut known, mut unknown) = (Duration::MAX, Duration::MAX);
    for _ in 0..9 {
        let started = Instant::now();
        assert_eq!(app.login("johndoe", "wrong-password").await.status, 401);
        known = known.min(started.elapsed());
        let started = Instant::now();
        assert_eq!(app.login("nobody", "wrong-password").await.status, 401);
        unknown = unknown.min(started.elapsed());
    }
    let ratio = unknown.as_secs_f64() / known.as_secs_f64();
    assert!(
        (0.6..1.6).contains(&ratio),
        "unknown user {unknown:?} vs wrong password {known:?}"
    );
}

#[tokio::test]
async fn passwords_are_not_truncated_at_72_bytes() {
    let app = Server::start().await;
    let prefix = "a".repeat(72);
    let password = format!("{prefix}-the-rest-matters");
    app.register("longpass", "long@example.com", &password).await;
    let token = app.verification_token("long@example.com").await;
    app.get(&format!("/api/auth/confirmed_email/{token}")).await;

    tokens_of(&app.login("longpass", &password).await);
    app.login("longpass", &prefix)
        .await
        .assert_detail(401, "Incorrect username or password");
    app.login("longpass", &format!("{prefix}-another-ending"))
        .await
        .assert_detail(401, "Incorrect username or password");
}

#[tokio::test]
async fn login_without_its_fields_is_a_422() {
    let app = Server::start().await;
    let answer = app.post_form("/api/auth/login", &[("username", "johndoe")]).await;
    answer.assert_422_on("password");
    // A JSON body is not a form: both fields are missing.
    let answer = app
        .post_json(
            "/api/auth/login",
            json!({"username": "johndoe", "password": PASSWORD}),
        )
        .await;
    answer.assert_422_on("username");
    answer.assert_422_on("password");
}
