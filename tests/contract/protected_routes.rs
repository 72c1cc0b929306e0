use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use ucontact_tests::{Server, Settings};

#[tokio::test]
async fn me_returns_the_user_of_the_access_token() {
    let app = Server::start().await;
    let user = app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    let me = app.get_with_token("/api/users/me", &tokens.access).await;
    assert_eq!(me.status, 200, "{}", me.text);
    let mut expected = user.clone();
    expected["is_verified"] = json!(true);
    assert_eq!(me.json(), expected);
}

#[tokio::test]
async fn without_bearer_credentials_the_answer_is_not_authenticated() {
    let app = Server::start().await;
    let requests = [
        app.client().get(app.url("/api/users/me")),
        app.client()
            .get(app.url("/api/users/me"))
            .basic_auth("johndoe", Some("pw")),
        app.client()
            .get(app.url("/api/users/me"))
            .header("authorization", "Bearer"),
        app.client().post(app.url("/api/auth/logout-all")),
    ];
    for request in requests {
        let answer = app.send(request).await;
        answer.assert_detail(401, "Not authenticated");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    }
}

#[tokio::test]
async fn other_token_kinds_are_not_access_tokens() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    app.post_json("/api/auth/reset-password", json!({"email": "john@example.com"}))
        .await;
    let reset = app.reset_token("john@example.com").await;
    let verification = app.verification_token("john@example.com").await;
    for token in [&tokens.refresh, &reset, &verification] {
        let answer = app.get_with_token("/api/users/me", token).await;
        answer.assert_detail(401, "Could not validate credentials");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    }
}

fn forge(
    token: &str,
    header: Option<&str>,
    payload: impl FnOnce(serde_json::Value) -> serde_json::Value,
    signature: Option<&str>,
) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let header = header.map_or(parts[0].to_owned(), |h| URL_SAFE_NO_PAD.encode(h));
    let payload = URL_SAFE_NO_PAD.encode(payload(claims).to_string());
    format!("{header}.{payload}.{}", signature.unwrap_or(parts[2]))
}

#[tokio::test]
async fn forged_access_tokens_are_refused() {
    let app = Server::start().await;
    app.verified_user("alice", "alice@example.com").await;
    app.verified_user("mallory", "mallory@example.com").await;
    let token = app.tokens("mallory").await.access;

    // Another deployment: its own keys (and on the same issuer, so only the key differs).
    let other_app = Server::start().await;
    other_app.verified_user("mallory", "mallory@example.com").await;
    let wrong_key = other_app.tokens("mallory").await.access;

    let forgeries = [
        (
            "alg none",
            forge(&token, Some(r#"{"alg":"none","typ":"JWT"}"#), |c| c, Some("")),
        ),
        (
            "another user, old signature",
            forge(
                &token,
                None,
                |mut c| {
                    c["sub"] = json!("1");
                    c
                },
                None,
            ),
        ),
        (
            "longer life, old signature",
            forge(
                &token,
                None,
                |mut c| {
                    c["exp"] = json!(4_102_444_800i64);
                    c
                },
                None,
            ),
        ),
        (
            "HS512 header",
            forge(&token, Some(r#"{"alg":"HS512","typ":"JWT"}"#), |c| c, None),
        ),
        ("signed with another key", wrong_key),
        ("garbage", "a.b.c".to_owned()),
    ];
    for (case, forged) in forgeries {
        let answer = app.get_with_token("/api/users/me", &forged).await;
        assert_eq!(answer.status, 401, "{case}: {}", answer.text);
        answer.assert_detail(401, "Could not validate credentials");
    }
    assert_eq!(
        app.get_with_token("/api/users/me", &token).await.status,
        200,
        "the genuine token still works"
    );
}

#[tokio::test]
async fn access_tokens_expire() {
    // 2 s: a token is valid while now < exp, exp counting from the second it was issued in, so it
    // lives between 1 and 2 s.
    let app = Server::start_with(Settings::default().with("ACCESS_JWT_EXPIRATION_SECONDS", "2")).await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    assert_eq!(
        app.get_with_token("/api/users/me", &tokens.access).await.status,
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    app.get_with_token("/api/users/me", &tokens.access)
        .await
        .assert_detail(401, "Could not validate credentials");
}

#[tokio::test]
async fn an_access_token_is_refused_from_its_exp_on_to_the_millisecond() {
    // The issuer is fixed: the restarted server listens on another port (another base URL).
    let app = Server::start_with(Settings::default().with("JWT_ISSUER", "http://ucontact.test")).await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    let payload = tokens.access.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let exp = chrono::DateTime::from_timestamp(claims["exp"].as_i64().unwrap(), 0).unwrap();
    let at =
        |instant: chrono::DateTime<chrono::Utc>| instant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    // Two seconds before exp it is still good (and outlives a restart) ...
    let app = app
        .restart_with("UCONTACT_FAKE_NOW", &at(exp - chrono::Duration::seconds(2)))
        .await;
    assert_eq!(
        app.get_with_token("/api/users/me", &tokens.access).await.status,
        200
    );
    // ... but from exp on it is not, though "now" is still within second `exp` (the server's
    // clock starts at exp and runs on for the few milliseconds until the request).
    let app = app.restart_with("UCONTACT_FAKE_NOW", &at(exp)).await;
    app.get_with_token("/api/users/me", &tokens.access)
        .await
        .assert_detail(401, "Could not validate credentials");
}
