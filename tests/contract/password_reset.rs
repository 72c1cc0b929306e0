use serde_json::json;
use ucontact_tests::{PASSWORD, Server, Settings, tokens_of};

const NEW_PASSWORD: &str = "a-brand-new-passphrase";

async fn request_reset(app: &Server, email: &str) -> String {
    let answer = app
        .post_json("/api/auth/reset-password", json!({ "email": email }))
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            200,
            json!({"message": "If the email exists, a reset link was sent."})
        )
    );
    app.reset_token(email).await
}

fn set_password_form<'a>(token: &'a str, password: &'a str, confirm: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("token", token),
        ("password", password),
        ("confirm_password", confirm),
    ]
}

#[tokio::test]
async fn reset_answers_alike_for_known_and_unknown_addresses() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let known = app
        .post_json("/api/auth/reset-password", json!({"email": "john@example.com"}))
        .await;
    let unknown = app
        .post_json("/api/auth/reset-password", json!({"email": "nobody@example.com"}))
        .await;
    assert_eq!((known.status, &known.text), (unknown.status, &unknown.text));
    assert_eq!(
        app.emails_to("john@example.com").await.len(),
        2,
        "verification + reset"
    );
    assert!(app.emails_to("nobody@example.com").await.is_empty());
    app.post_json("/api/auth/reset-password", json!({"email": "nope"}))
        .await
        .assert_422_on("email");
}

#[tokio::test]
async fn the_reset_link_opens_a_form_that_posts_to_set_password() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let token = request_reset(&app, "john@example.com").await;
    let page = app.get(&format!("/auth/reset-password/{token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert!(
        page.text.contains(r#"action="/api/auth/set-password""#),
        "{}",
        page.text
    );
    assert!(page.text.contains(&format!(r#"name="token" value="{token}""#)));
    assert!(page.text.contains(r#"name="password""#) && page.text.contains(r#"name="confirm_password""#));

    app.get("/auth/reset-password/not-a-token")
        .await
        .assert_detail(400, "Invalid or expired reset token");
}

#[tokio::test]
async fn set_password_changes_the_password_once_and_ends_every_session() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let session = app.tokens("johndoe").await;
    let token = request_reset(&app, "john@example.com").await;

    let answer = app
        .post_form(
            "/api/auth/set-password",
            &set_password_form(&token, NEW_PASSWORD, NEW_PASSWORD),
        )
        .await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({"message": "Password successfully updated"}))
    );

    app.login("johndoe", PASSWORD)
        .await
        .assert_detail(401, "Incorrect username or password");
    tokens_of(&app.login("johndoe", NEW_PASSWORD).await);
    app.refresh(&session.refresh)
        .await
        .assert_detail(401, "Invalid or expired refresh token");
    // The token is spent.
    app.post_form(
        "/api/auth/set-password",
        &set_password_form(&token, "yet-another-passphrase", "yet-another-passphrase"),
    )
    .await
    .assert_detail(400, "Invalid or expired reset token");
    tokens_of(&app.login("johndoe", NEW_PASSWORD).await);
}

#[tokio::test]
async fn an_older_reset_link_dies_when_a_newer_one_is_used() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let older = request_reset(&app, "john@example.com").await;
    let newer = request_reset(&app, "john@example.com").await;
    assert_eq!(
        app.post_form(
            "/api/auth/set-password",
            &set_password_form(&newer, NEW_PASSWORD, NEW_PASSWORD)
        )
        .await
        .status,
        200
    );
    app.post_form(
        "/api/auth/set-password",
        &set_password_form(&older, "yet-another-passphrase", "yet-another-passphrase"),
    )
    .await
    .assert_detail(400, "Invalid or expired reset token");
}

#[tokio::test]
async fn set_password_refuses_bad_input() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let token = request_reset(&app, "john@example.com").await;

    app.post_form(
        "/api/auth/set-password",
        &set_password_form(&token, NEW_PASSWORD, "something-else"),
    )
    .await
    .assert_detail(400, "Passwords do not match");
    app.post_form(
        "/api/auth/set-password",
        &set_password_form(&token, "short", "short"),
    )
    .await
    .assert_422_on("password");
    app.post_form("/api/auth/set-password", &[("token", token.as_str())])
        .await
        .assert_422_on("confirm_password");
    app.post_form(
        "/api/auth/set-password",
        &set_password_form("forged", NEW_PASSWORD, NEW_PASSWORD),
    )
    .await
    .assert_detail(400, "Invalid or expired reset token");
    // Other kinds of token are no reset tokens.
    let access = app.tokens("johndoe").await.access;
    app.post_form(
        "/api/auth/set-password",
        &set_password_form(&access, NEW_PASSWORD, NEW_PASSWORD),
    )
    .await
    .assert_detail(400, "Invalid or expired reset token");
    // None of that changed the password, and the real token still works.
    tokens_of(&app.login("johndoe", PASSWORD).await);
    assert_eq!(
        app.post_form(
            "/api/auth/set-password",
            &set_password_form(&token, NEW_PASSWORD, NEW_PASSWORD)
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn reset_tokens_expire() {
    let app = Server::start_with(Settings::default().with("RESET_TOKEN_EXPIRATION_SECONDS", "1")).await;
    app.verified_user("johndoe", "john@example.com").await;
    let token = request_reset(&app, "john@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    app.post_form(
        "/api/auth/set-password",
        &set_password_form(&token, NEW_PASSWORD, NEW_PASSWORD),
    )
    .await
    .assert_detail(400, "Invalid or expired reset token");
}
