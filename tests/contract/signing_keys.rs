//! docs/API.md "Signing keys", from outside: EdDSA tokens that name their key, issuer and audience;
//! the JWKS; every forgery refused; a rotation that logs nobody out, while running and across a
//! restart; a retired key leaving the JWKS once its tokens have expired.

use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde_json::{Value, json};
use ucontact_tests::{Server, Settings, tokens_of};

fn part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a JWT part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

fn kid(token: &str) -> String {
    part(token, 0)["kid"].as_str().expect("a kid").to_owned()
}

/// The JWKS's kids, in its order.
async fn jwks_kids(app: &Server) -> Vec<String> {
    let answer = app.get("/.well-known/jwks.json").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

/// A key of the attacker's own: its signing key and its JWK `x`.
fn attacker_key() -> (EncodingKey, String) {
    let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("a key");
    let pair = Ed25519KeyPair::from_pkcs8(document.as_ref()).expect("a key pair");
    (
        EncodingKey::from_ed_der(document.as_ref()),
        URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
    )
}

#[tokio::test]
async fn tokens_name_their_key_and_the_jwks_alone_verifies_them() {
    let app = Server::start().await;
    let user = app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;

    let header = part(&tokens.access, 0);
    assert_eq!(header["alg"], "EdDSA");
    let claims = part(&tokens.access, 1);
    assert_eq!(claims["iss"], app.base.as_str(), "iss: the public base URL");
    assert_eq!(claims["aud"], "ucontact");
    assert_eq!(claims["sub"], user["id"].to_string());
    for claim in ["exp", "iat", "jti"] {
        assert!(!claims[claim].is_null(), "{claim}");
    }
    // The refresh token carries an audience no access-token verifier accepts.
    assert_eq!(part(&tokens.refresh, 1)["aud"], "ucontact:refresh");

    let answer = app.get("/.well-known/jwks.json").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let cache = answer.header("cache-control").unwrap_or_default().to_owned();
    assert!(cache.starts_with("public, max-age="), "{cache}");
    let jwks = answer.json();
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "{jwks}");
    let key = &keys[0];
    assert_eq!(
        key.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(
            ["alg", "crv", "kid", "kty", "use", "x"]
                .map(String::from)
                .to_vec()
        ),
        "exactly the public members: {key}"
    );
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"], &key["use"]),
        (&json!("OKP"), &json!("Ed25519"), &json!("EdDSA"), &json!("sig"))
    );
    assert_eq!(key["kid"].as_str(), Some(kid(&tokens.access).as_str()));

    // Verified with the JWKS alone (the Python interop test does it with PyJWT).
    let decoding = DecodingKey::from_ed_components(key["x"].as_str().expect("x")).expect("x");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["ucontact"]);
    validation.set_issuer(&[app.base.as_str()]);
    decode::<Value>(&tokens.access, &decoding, &validation).expect("the JWKS verifies the access token");
    assert!(
        decode::<Value>(&tokens.refresh, &decoding, &validation).is_err(),
        "a refresh token is not an access token to an outside verifier"
    );

    // Link keys are another set, never in the JWKS.
    app.post_json("/api/auth/reset-password", json!({"email": "john@example.com"}))
        .await;
    let reset = app.reset_token("john@example.com").await;
    assert_eq!(part(&reset, 0)["alg"], "EdDSA");
    assert!(!jwks_kids(&app).await.contains(&kid(&reset)));
}

#[tokio::test]
async fn every_forgery_is_refused() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    let claims = part(&tokens.access, 1);
    let real_kid = kid(&tokens.access);
    let jwks = app.get("/.well-known/jwks.json").await.json();
    let public_x = jwks["keys"][0]["x"].as_str().expect("x").to_owned();
    let (attacker, attacker_x) = attacker_key();
    let header = |alg: Algorithm, kid: Option<&str>| {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        header
    };

    let mut forgeries: Vec<(&str, String)> = Vec::new();
    let none_header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": real_kid}).to_string());
    let payload = tokens.access.split('.').nth(1).expect("payload");
    forgeries.push(("alg none", format!("{none_header}.{payload}.")));
    for (case, secret) in [
        (
            "HS256 keyed with the public key's x",
            public_x.as_bytes().to_vec(),
        ),
        (
            "HS256 keyed with the public key's bytes",
            URL_SAFE_NO_PAD.decode(&public_x).expect("x"),
        ),
    ] {
        let token = encode(
            &header(Algorithm::HS256, Some(&real_kid)),
            &claims,
            &EncodingKey::from_secret(&secret),
        )
        .expect("a token");
        forgeries.push((case, token));
    }
    forgeries.push((
        "the real kid, the attacker's signature",
        encode(&header(Algorithm::EdDSA, Some(&real_kid)), &claims, &attacker).expect("a token"),
    ));
    forgeries.push((
        "an unknown kid",
        encode(
            &header(Algorithm::EdDSA, Some("attacker-key")),
            &claims,
            &attacker,
        )
        .expect("a token"),
    ));
    forgeries.push((
        "no kid",
        encode(&header(Algorithm::EdDSA, None), &claims, &attacker).expect("a token"),
    ));
    let mut jku = header(Algorithm::EdDSA, Some("attacker-key"));
    jku.jku = Some("https://attacker.example/jwks.json".into());
    forgeries.push(("a jku header", encode(&jku, &claims, &attacker).expect("a token")));
    let mut x5u = header(Algorithm::EdDSA, Some("attacker-key"));
    x5u.x5u = Some("https://attacker.example/cert.pem".into());
    forgeries.push((
        "an x5u header",
        encode(&x5u, &claims, &attacker).expect("a token"),
    ));
    let mut embedded = header(Algorithm::EdDSA, Some(&real_kid));
    embedded.jwk = Some(
        serde_json::from_value(json!({"kty": "OKP", "crv": "Ed25519", "x": attacker_x, "kid": real_kid}))
            .expect("a JWK"),
    );
    forgeries.push((
        "an embedded jwk",
        encode(&embedded, &claims, &attacker).expect("a token"),
    ));
    // A link-key token (a reset link's) where an access token belongs.
    app.post_json("/api/auth/reset-password", json!({"email": "john@example.com"}))
        .await;
    forgeries.push(("a reset token", app.reset_token("john@example.com").await));
    forgeries.push(("a refresh token", tokens.refresh.clone()));

    for (case, forged) in forgeries {
        let answer = app.get_with_token("/api/users/me", &forged).await;
        assert_eq!(answer.status, 401, "{case}: {}", answer.text);
        answer.assert_detail(401, "Could not validate credentials");
    }
    assert_eq!(
        app.get_with_token("/api/users/me", &tokens.access).await.status,
        200,
        "the genuine token still works"
    );
}

/// Short refresh interval: the running server rereads its keys every second. A fixed issuer:
/// a restarted test server listens on another port, which would otherwise be another issuer.
fn rotating() -> Settings {
    Settings::default()
        .with("KEYS_REFRESH_SECONDS", "1")
        .with("JWT_ISSUER", "http://ucontact.test")
}

#[tokio::test]
async fn a_rotation_logs_nobody_out_while_running_and_across_a_restart() {
    let app = Server::start_with(rotating()).await;
    app.verified_user("johndoe", "john@example.com").await;
    let before = app.tokens("johndoe").await;
    let old_kid = kid(&before.access);

    let output = app.command(&["keys", "rotate", "--activate-in", "1"]);
    assert!(output.contains("session keys: new key"), "{output}");
    tokio::time::sleep(Duration::from_millis(2200)).await;

    // The running server picked the new key up: new tokens carry it, old ones still work.
    assert_eq!(
        app.get_with_token("/api/users/me", &before.access).await.status,
        200
    );
    let after = app.tokens("johndoe").await;
    let new_kid = kid(&after.access);
    assert_ne!(new_kid, old_kid, "new tokens carry the new key");
    assert!(output.contains(&new_kid), "{output}");
    assert_eq!(jwks_kids(&app).await, vec![old_kid.clone(), new_kid.clone()]);

    let app = app.restart().await;
    for token in [&before.access, &after.access] {
        let me = app.get_with_token("/api/users/me", token).await;
        assert_eq!(me.status, 200, "a token from before the restart: {}", me.text);
    }
    // A refresh token signed by the retired key still refreshes, into the new key.
    let refreshed = tokens_of(&app.refresh(&before.refresh).await);
    assert_eq!(kid(&refreshed.access), new_kid);
    assert_eq!(jwks_kids(&app).await, vec![old_kid, new_kid]);
}

#[tokio::test]
async fn a_retired_key_leaves_the_jwks_once_every_token_it_signed_has_expired() {
    // Session tokens live at most 6 s here (the link tokens keep their defaults: the JWKS lists
    // session keys only).
    let settings = rotating()
        .with("ACCESS_JWT_EXPIRATION_SECONDS", "2")
        .with("REFRESH_JWT_EXPIRATION_SECONDS", "6");
    let app = Server::start_with(settings).await;
    app.verified_user("johndoe", "john@example.com").await;
    let before = app.tokens("johndoe").await;
    let old_kid = kid(&before.access);

    let rotated = tokio::time::Instant::now();
    app.command(&["keys", "rotate", "--activate-in", "1"]);
    tokio::time::sleep_until(rotated + Duration::from_millis(2000)).await;
    let kids = jwks_kids(&app).await;
    assert_eq!(kids.len(), 2, "both keys while old tokens may live: {kids:?}");
    assert_eq!(kids[0], old_kid);

    // Retired at the new key's activation (+1 s); its longest token lives 6 s more.
    tokio::time::sleep_until(rotated + Duration::from_millis(8500)).await;
    let kids = jwks_kids(&app).await;
    assert_eq!(kids.len(), 1, "{kids:?}");
    assert_ne!(kids[0], old_kid, "the retired key is gone");
    app.get_with_token("/api/users/me", &before.access)
        .await
        .assert_detail(401, "Could not validate credentials");
    // The next rotation forgets it in the store too.
    let output = app.command(&["keys", "rotate", "--activate-in", "0"]);
    assert!(!output.contains(&old_kid), "{output}");
}
