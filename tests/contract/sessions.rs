use std::time::Duration;

use serde_json::json;
use ucontact_tests::{PASSWORD, Server, Settings, tokens_of};

use crate::account::{list_sessions, login_as};

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let first = app.tokens("johndoe").await;
    let second = tokens_of(&app.refresh(&first.refresh).await);
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(
        app.get_with_token("/api/users/me", &second.access).await.status,
        200
    );
    let third = tokens_of(&app.refresh(&second.refresh).await);
    assert_ne!(third.refresh, second.refresh);
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_its_session_but_not_the_others() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let laptop = app.tokens("johndoe").await;
    let phone = app.tokens("johndoe").await;

    let rotated = tokens_of(&app.refresh(&laptop.refresh).await);
    // The retired token comes back (stolen and replayed, say): the whole laptop session ends.
    app.refresh(&laptop.refresh)
        .await
        .assert_detail(401, "Invalid or expired refresh token");
    app.refresh(&rotated.refresh)
        .await
        .assert_detail(401, "Invalid or expired refresh token");
    // The phone's session lives on.
    tokens_of(&app.refresh(&phone.refresh).await);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_rotate_it_at_most_once() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    let attempts = (0..10).map(|_| app.refresh(&tokens.refresh));
    let answers = futures_util::future::join_all(attempts).await;
    let rotated = answers.iter().filter(|a| a.status == 200).count();
    assert!(rotated <= 1, "{answers:?}");
    assert!(
        answers.iter().all(|a| a.status == 200 || a.status == 401),
        "{answers:?}"
    );
}

#[tokio::test]
async fn other_token_kinds_are_not_refresh_tokens() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    let verification = app.verification_token("john@example.com").await;
    for token in [tokens.access.as_str(), verification.as_str(), "garbage"] {
        app.refresh(token)
            .await
            .assert_detail(401, "Invalid or expired refresh token");
    }
    app.post_json("/api/auth/refresh-token", json!({}))
        .await
        .assert_422_on("refresh_token");
}

#[tokio::test]
async fn rotation_never_extends_a_session_past_its_end() {
    let app = Server::start_with(Settings::default().with("REFRESH_JWT_EXPIRATION_SECONDS", "3")).await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rotated = tokens_of(&app.refresh(&tokens.refresh).await);
    tokio::time::sleep(Duration::from_millis(3000)).await;
    // 4.5 s after login: past the session's 3 s end although the token is only 3 s old.
    app.refresh(&rotated.refresh)
        .await
        .assert_detail(401, "Invalid or expired refresh token");
}

#[tokio::test]
async fn logout_ends_only_that_session() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let laptop = app.tokens("johndoe").await;
    let phone = app.tokens("johndoe").await;

    let answer = app
        .post_json("/api/auth/logout", json!({"refresh_token": laptop.refresh}))
        .await;
    assert_eq!((answer.status, answer.text.as_str()), (204, ""));
    app.refresh(&laptop.refresh)
        .await
        .assert_detail(401, "Invalid or expired refresh token");
    tokens_of(&app.refresh(&phone.refresh).await);
    // Logging out again is harmless.
    assert_eq!(
        app.post_json("/api/auth/logout", json!({"refresh_token": laptop.refresh}))
            .await
            .status,
        204
    );
    app.post_json("/api/auth/logout", json!({"refresh_token": laptop.access}))
        .await
        .assert_detail(401, "Invalid or expired refresh token");
}

#[tokio::test]
async fn logout_all_ends_every_session_of_the_user_only() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    app.verified_user("janedoe", "jane@example.com").await;
    let laptop = app.tokens("johndoe").await;
    let phone = app.tokens("johndoe").await;
    let jane = app.tokens("janedoe").await;

    let answer = app.post_with_token("/api/auth/logout-all", &laptop.access).await;
    assert_eq!(answer.status, 204, "{}", answer.text);
    for token in [&laptop.refresh, &phone.refresh] {
        app.refresh(token)
            .await
            .assert_detail(401, "Invalid or expired refresh token");
    }
    tokens_of(&app.refresh(&jane.refresh).await);
    // A new login starts a new session.
    tokens_of(&app.refresh(&app.tokens("johndoe").await.refresh).await);
}

#[tokio::test]
async fn a_huge_user_agent_is_kept_to_its_first_256_characters() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let agent = format!("Mozilla/5.0 {}", "x".repeat(300_000));
    let tokens = tokens_of(&login_as(&app, "johndoe", PASSWORD, &agent).await);

    let kept: String = agent.chars().take(256).collect();
    let sessions = list_sessions(&app, &tokens.access).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["user_agent"], kept.as_str());
    let logins: Vec<_> = app
        .audit_events()
        .into_iter()
        .filter(|e| e["event"] == "login_succeeded")
        .collect();
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0]["user_agent"], kept.as_str());
    assert!(
        app.log().len() < 100_000,
        "the agent is in no other log line either"
    );
}
