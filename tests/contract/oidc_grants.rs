//! Sign in with UContact, the protocol's edges (docs/API.md, "Sign-in for other apps"): every
//! error of the authorize and token rows, codes' lifetime and single use (with real concurrency),
//! scopes, and the password grant. The browser-side flows are in oidc.rs, the other pages in
//! oidc_pages.rs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ucontact_tests::{Answer, PASSWORD, Server};

use crate::mfa::enrolled;
use crate::oidc::{
    Browser, REDIRECT, VERIFIER, authorize_query, claims, code_of, exchange, oauth_error, redirected,
    refresh_grant, restartable, settings, user,
};

#[tokio::test]
async fn authorize_errors_redirect_only_to_registered_addresses() {
    let app = Server::start_with(settings()).await;
    let mut browser = Browser::new(&app);
    // Never redirected: unknown client, unregistered or missing redirect URI.
    for query in [
        authorize_query(&[("client_id", "nope")]),
        authorize_query(&[("client_id", "")]),
        authorize_query(&[("redirect_uri", "https://evil.example/callback")]),
        authorize_query(&[("redirect_uri", "http://localhost:9999/callback/../evil")]),
        authorize_query(&[("redirect_uri", "http://localhost:9998/cb")]),
        authorize_query(&[("redirect_uri", "")]),
    ] {
        let answer = browser.get(&query).await;
        assert_eq!(answer.status, 400, "{query}: {}", answer.text);
        assert!(answer.header("location").is_none(), "{query}");
        assert!(answer.text.contains("Sign-in error"), "{}", answer.text);
    }
    // Everything else goes back to the app with `error` and the state.
    for (extra, error) in [
        (vec![("response_type", "token")], "unsupported_response_type"),
        (vec![("response_type", "")], "invalid_request"),
        (vec![("scope", "email")], "invalid_scope"),
        (vec![("scope", "openid admin")], "invalid_scope"),
        (vec![("code_challenge", "")], "invalid_request"),
        (vec![("code_challenge", "short")], "invalid_request"),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge_method", "")], "invalid_request"),
        (vec![("prompt", "none")], "login_required"),
        (vec![("prompt", "consent")], "invalid_request"),
    ] {
        let answer = browser.get(&authorize_query(&extra)).await;
        let query = redirected(&answer, 302, REDIRECT);
        assert_eq!(query["error"], error, "{extra:?}");
        assert_eq!(query["state"], "state-123", "{extra:?}");
        assert_eq!(query["iss"], app.base);
        assert!(!query.contains_key("code"));
    }
    // A repeated parameter.
    let twice = browser
        .get(&format!("{}&scope=openid", authorize_query(&[])))
        .await;
    assert_eq!(redirected(&twice, 302, REDIRECT)["error"], "invalid_request");
}

#[tokio::test]
async fn token_errors_follow_rfc_6749() {
    let app = Server::start_with(settings()).await;
    user(&app, "oidcivy").await;
    let mut browser = Browser::new(&app);
    let code = code_of(
        &app,
        &browser.sign_in(&authorize_query(&[]), "oidcivy", PASSWORD).await,
    );
    let post = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
            app.post_form("/oauth2/token", &fields).await
        }
    };
    let base = |extra: &[(&'static str, &str)], without: &[&str]| {
        let mut fields: Vec<(&'static str, String)> = vec![
            ("grant_type", "authorization_code".into()),
            ("code", code.clone()),
            ("redirect_uri", REDIRECT.into()),
            ("client_id", "web".into()),
            ("code_verifier", VERIFIER.into()),
        ];
        fields.retain(|(n, _)| !without.contains(n) && !extra.iter().any(|(e, _)| e == n));
        fields.extend(extra.iter().map(|(n, v)| (*n, (*v).to_owned())));
        fields
    };
    oauth_error(&post(base(&[], &["grant_type"])).await, "invalid_request");
    oauth_error(
        &post(base(&[("grant_type", "client_credentials")], &[])).await,
        "unsupported_grant_type",
    );
    oauth_error(&post(base(&[], &["client_id"])).await, "invalid_request");
    oauth_error(&post(base(&[("client_id", "nope")], &[])).await, "invalid_client");
    oauth_error(&post(base(&[], &["code_verifier"])).await, "invalid_request");
    oauth_error(&post(base(&[], &["code"])).await, "invalid_request");
    // Wrong client, wrong redirect URI, wrong verifier: invalid_grant, and the code still works.
    oauth_error(&post(base(&[("client_id", "other")], &[])).await, "invalid_grant");
    oauth_error(
        &post(base(&[("redirect_uri", "http://localhost:9998/cb")], &[])).await,
        "invalid_grant",
    );
    let wrong_verifier = URL_SAFE_NO_PAD.encode([7u8; 32]);
    oauth_error(
        &post(base(&[("code_verifier", &wrong_verifier)], &[])).await,
        "invalid_grant",
    );
    oauth_error(&post(base(&[("code", "not-a-code")], &[])).await, "invalid_grant");
    let tokens = exchange(&app, &code, VERIFIER).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    let access = tokens.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get_with_token("/oauth2/userinfo", &access).await.status, 200);

    // A reused code fails and revokes what it made.
    oauth_error(&exchange(&app, &code, VERIFIER).await, "invalid_grant");
    let info = app.get_with_token("/oauth2/userinfo", &access).await;
    assert_eq!(info.status, 401, "{}", info.text);
    let refresh = tokens.json()["refresh_token"].as_str().unwrap().to_owned();
    oauth_error(&refresh_grant(&app, &refresh, "web").await, "invalid_grant");

    // Refresh tokens are the client's own; a REST login's is no client's.
    let code = code_of(
        &app,
        &browser
            .sign_in(&authorize_query(&[("prompt", "login")]), "oidcivy", PASSWORD)
            .await,
    );
    let refresh = exchange(&app, &code, VERIFIER).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    oauth_error(&refresh_grant(&app, &refresh, "other").await, "invalid_grant");
    assert_eq!(
        refresh_grant(&app, &refresh, "web").await.status,
        200,
        "a refused try leaves it unused"
    );
    let rest = app.tokens("oidcivy").await;
    oauth_error(&refresh_grant(&app, &rest.refresh, "web").await, "invalid_grant");
}

#[tokio::test]
async fn a_code_lives_60_seconds() {
    let app = Server::start_with(restartable()).await;
    user(&app, "oidcjack").await;
    let mut browser = Browser::new(&app);
    let redirect = |answer: &Answer| redirected(answer, 303, REDIRECT)["code"].clone();
    let first = redirect(&browser.sign_in(&authorize_query(&[]), "oidcjack", PASSWORD).await);
    let second = redirected(&browser.get(&authorize_query(&[])).await, 302, REDIRECT)["code"].clone();
    let at = |seconds| (chrono::Utc::now() + chrono::Duration::seconds(seconds)).to_rfc3339();
    let app = app.restart_with("UCONTACT_FAKE_NOW", &at(50)).await;
    assert_eq!(
        exchange(&app, &first, VERIFIER).await.status,
        200,
        "alive at 50 s"
    );
    let app = app.restart_with("UCONTACT_FAKE_NOW", &at(61)).await;
    oauth_error(&exchange(&app, &second, VERIFIER).await, "invalid_grant");
}

#[tokio::test]
async fn without_offline_access_there_is_no_refresh_token_and_scopes_limit_userinfo() {
    let app = Server::start_with(settings()).await;
    user(&app, "oidckate").await;
    let mut browser = Browser::new(&app);
    let code = code_of(
        &app,
        &browser
            .sign_in(&authorize_query(&[("scope", "openid")]), "oidckate", PASSWORD)
            .await,
    );
    let tokens = exchange(&app, &code, VERIFIER).await.json();
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert!(
        id.get("email").is_none() && id.get("preferred_username").is_none(),
        "{id}"
    );
    let info = app
        .get_with_token("/oauth2/userinfo", tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(info.json(), serde_json::json!({"sub": id["sub"]}));
    let none = app.get("/oauth2/userinfo").await;
    assert_eq!(none.status, 401);
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn the_password_grant_is_login_for_a_client() {
    let app = Server::start_with(settings()).await;
    user(&app, "oidcliam").await;
    let grant = |username: &'static str, password: &'static str, otp: Option<String>| {
        let app = &app;
        async move {
            let mut fields = vec![
                ("grant_type", "password".to_owned()),
                ("client_id", "web".to_owned()),
                ("username", username.to_owned()),
                ("password", password.to_owned()),
                ("scope", "openid email".to_owned()),
            ];
            if let Some(otp) = otp {
                fields.push(("otp", otp));
            }
            let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
            app.post_form("/oauth2/token", &fields).await
        }
    };
    let ok = grant("oidcliam", PASSWORD, None).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let body = ok.json();
    assert!(body["refresh_token"].is_string());
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(
        (id["aud"].as_str(), id["amr"].clone()),
        (Some("web"), serde_json::json!(["pwd"]))
    );
    let wrong = grant("oidcliam", "wrong-password", None).await;
    oauth_error(&wrong, "invalid_grant");
    assert_eq!(
        wrong.json()["error_description"],
        "Incorrect username or password"
    );
    let mut enrolled = enrolled(&app, "oidcmia").await;
    let missing = grant("oidcmia", PASSWORD, None).await;
    assert_eq!(missing.json()["error_description"], "Two-factor code required");
    let code = enrolled.authenticator.next_code().await;
    let with_code = grant("oidcmia", PASSWORD, Some(code)).await;
    assert_eq!(with_code.status, 200, "{}", with_code.text);
    let id = claims(with_code.json()["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], serde_json::json!(["pwd", "otp"]));
}

#[tokio::test]
async fn of_many_concurrent_exchanges_of_one_code_at_most_one_gets_tokens() {
    let app = Server::start_with(settings()).await;
    user(&app, "oidcnoah").await;
    let mut browser = Browser::new(&app);
    let code = code_of(
        &app,
        &browser.sign_in(&authorize_query(&[]), "oidcnoah", PASSWORD).await,
    );
    let answers = futures_util::future::join_all((0..8).map(|_| exchange(&app, &code, VERIFIER))).await;
    let granted: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    assert!(
        granted.len() <= 1,
        "{} exchanges of one code got tokens",
        granted.len()
    );
    for refused in answers.iter().filter(|a| a.status != 200) {
        oauth_error(refused, "invalid_grant");
    }
    // The code was used more than once: what it made is revoked.
    if let Some(granted) = granted.first() {
        let access = granted.json()["access_token"].as_str().unwrap().to_owned();
        assert_eq!(app.get_with_token("/oauth2/userinfo", &access).await.status, 401);
    }
}
