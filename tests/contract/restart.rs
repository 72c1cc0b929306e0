use ucontact_tests::{PASSWORD, Server, tokens_of};

#[tokio::test]
async fn users_sessions_and_tokens_survive_a_restart() {
    // No JWT_SECRET: the server generates one and keeps it in its data dir.
    let app = Server::start().await;
    let user = app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;

    let app = app.restart().await;

    let me = app.get_with_token("/api/users/me", &tokens.access).await;
    assert_eq!(
        me.status, 200,
        "the access token outlives the restart: {}",
        me.text
    );
    assert_eq!(me.json()["id"], user["id"]);
    tokens_of(&app.refresh(&tokens.refresh).await);
    tokens_of(&app.login("johndoe", PASSWORD).await);
    app.register("johndoe", "other@example.com", PASSWORD)
        .await
        .assert_detail(409, "User with this username already exists");
    // Ids keep counting, never reused.
    let next = app.register("janedoe", "jane@example.com", PASSWORD).await.json();
    assert!(next["id"].as_i64() > user["id"].as_i64());
}

#[tokio::test]
async fn the_generated_secret_is_private_to_its_owner() {
    let app = Server::start().await;
    let metadata = std::fs::metadata(app.data_dir().join("jwt_secret")).expect("secret file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    }
    assert!(metadata.len() >= 32);
}
