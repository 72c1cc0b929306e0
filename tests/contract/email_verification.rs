use serde_json::json;
use ucontact_tests::{PASSWORD, Server, Settings};

#[tokio::test]
async fn the_emailed_link_verifies_the_address_once() {
    let app = Server::start().await;
    app.register("johndoe", "john@example.com", PASSWORD).await;
    let token = app.verification_token("john@example.com").await;

    let first = app.get(&format!("/api/auth/confirmed_email/{token}")).await;
    assert_eq!(
        (first.status, first.json()),
        (200, json!({"message": "Email verified successfully"}))
    );
    let again = app.get(&format!("/api/auth/confirmed_email/{token}")).await;
    assert_eq!(
        (again.status, again.json()),
        (200, json!({"message": "Your email has already been confirmed."}))
    );

    let tokens = app.tokens("johndoe").await;
    let me = app.get_with_token("/api/users/me", &tokens.access).await;
    assert_eq!(me.json()["is_verified"], true);
}

#[tokio::test]
async fn a_bad_verification_token_is_a_400() {
    let app = Server::start().await;
    app.get("/api/auth/confirmed_email/not-a-token")
        .await
        .assert_detail(400, "Invalid or expired verification token");
}

#[tokio::test]
async fn other_token_kinds_do_not_verify_an_email() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    app.post_json("/api/auth/reset-password", json!({"email": "john@example.com"}))
        .await;
    let reset = app.reset_token("john@example.com").await;
    for token in [tokens.access, tokens.refresh, reset] {
        app.get(&format!("/api/auth/confirmed_email/{token}"))
            .await
            .assert_detail(400, "Invalid or expired verification token");
    }
}

#[tokio::test]
async fn an_expired_verification_token_is_refused() {
    let app = Server::start_with(Settings::default().with("EMAIL_TOKEN_EXPIRATION_SECONDS", "1")).await;
    app.register("johndoe", "john@example.com", PASSWORD).await;
    let token = app.verification_token("john@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    app.get(&format!("/api/auth/confirmed_email/{token}"))
        .await
        .assert_detail(400, "Invalid or expired verification token");
}

#[tokio::test]
async fn request_email_resends_to_unverified_users_and_answers_alike_for_everyone() {
    let app = Server::start().await;
    app.register("pending", "pending@example.com", PASSWORD).await;
    app.verified_user("done", "done@example.com").await;
    let expected = json!({"message": "Check your email for confirmation."});

    let mut answers = Vec::new();
    for email in ["pending@example.com", "done@example.com", "nobody@example.com"] {
        let answer = app
            .post_json("/api/auth/request_email", json!({ "email": email }))
            .await;
        assert_eq!((answer.status, answer.json()), (200, expected.clone()), "{email}");
        answers.push(answer.text);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "byte-identical answers");
    assert_eq!(
        app.emails_to("pending@example.com").await.len(),
        2,
        "registration + resend"
    );
    assert_eq!(
        app.emails_to("done@example.com").await.len(),
        1,
        "only the registration email"
    );
    assert!(app.emails_to("nobody@example.com").await.is_empty());

    // The resent link works.
    let token = app.verification_token("pending@example.com").await;
    assert_eq!(
        app.get(&format!("/api/auth/confirmed_email/{token}"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn request_email_validates_the_address() {
    let app = Server::start().await;
    app.post_json("/api/auth/request_email", json!({"email": "not-an-email"}))
        .await
        .assert_422_on("email");
    app.post_json("/api/auth/request_email", json!({}))
        .await
        .assert_422_on("email");
}
