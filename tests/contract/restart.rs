use ucontact_tests::{PASSWORD, Server, tokens_of};

#[tokio::test]
async fn users_sessions_and_tokens_survive_a_restart() {
    // The server generates its signing keys on first start and keeps them in its data dir. The
    // issuer is fixed: the restarted server listens on another port (another base URL).
    let app =
        Server::start_with(ucontact_tests::Settings::default().with("JWT_ISSUER", "http://ucontact.test"))
            .await;
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
async fn the_generated_keys_are_private_to_their_owner() {
    let settings = ucontact_tests::Settings::embedded();
    let app = Server::start_with(settings).await;
    let keys = app.data_dir().join("keys");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&keys).expect("keys dir").permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "keys/");
    }
    for file in ["session.json", "link.json", "abuse_hash_key"] {
        let metadata = std::fs::metadata(keys.join(file)).expect(file);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(metadata.permissions().mode() & 0o777, 0o600, "{file}");
        }
        assert!(metadata.len() >= 32, "{file}");
    }
}
