//! docs/API.md "Signing keys" and the discovery row: tokens any verifier accepts. For every
//! `JWT_ALGORITHM`, on the store of `UCONTACT_TEST_BACKEND`, an access token is verified by two
//! independent libraries (PyJWT's PyJWKClient and Authlib's jose, tests/interop) starting from
//! `/.well-known/openid-configuration` alone; a rotation that changes the algorithm logs nobody
//! out; and a key removed from the key store stops verifying, even a remembered token.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use ucontact_tests::{Backend, Server, Settings};

const ALGORITHMS: [&str; 3] = ["EdDSA", "ES256", "RS256"];

fn header(token: &str) -> Value {
    let part = token.split('.').next().expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// Runs tests/interop/verify_from_discovery.py with the project venv's Python: its claims as
/// each library verified them, or the library's refusal.
fn verify_from_discovery(issuer: &str, audience: &str, token: &str) -> Result<Value, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/setup (it installs PyJWT and Authlib)",
        python.display()
    );
    let output = Command::new(python)
        .arg(root.join("tests/interop/verify_from_discovery.py"))
        .args([issuer, audience, token])
        .output()
        .expect("run the interop verifier");
    if output.status.success() {
        Ok(serde_json::from_slice(&output.stdout).expect("the verifier prints JSON"))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[tokio::test]
async fn every_algorithm_verifies_from_the_discovery_document_alone() {
    for alg in ALGORITHMS {
        let app = Server::start_with(Settings::default().with("JWT_ALGORITHM", alg)).await;
        let user = app.verified_user("interop", "interop@example.com").await;
        let tokens = app.tokens("interop").await;
        assert_eq!(header(&tokens.access)["alg"], alg);

        let discovery = app.get("/.well-known/openid-configuration").await;
        assert_eq!(discovery.status, 200, "{}", discovery.text);
        let document = discovery.json();
        assert_eq!(
            document["issuer"],
            app.base.as_str(),
            "the tokens' iss, byte for byte"
        );
        assert_eq!(
            document["jwks_uri"],
            format!("{}/.well-known/jwks.json", app.base).as_str()
        );
        assert_eq!(
            document["id_token_signing_alg_values_supported"],
            serde_json::json!([alg])
        );
        assert_eq!(document["subject_types_supported"], serde_json::json!(["public"]));
        // It names the sign-in (tests/contract/oidc.rs checks each endpoint is served).
        assert_eq!(
            document["authorization_endpoint"],
            format!("{}/oauth2/authorize", app.base).as_str()
        );
        assert!(
            discovery
                .header("cache-control")
                .is_some_and(|c| c.starts_with("public, max-age="))
        );

        let jwks = app.get("/.well-known/jwks.json").await.json();
        let key = &jwks["keys"][0];
        let (kty, members): (&str, &[&str]) = match alg {
            "EdDSA" => ("OKP", &["crv", "x"]),
            "ES256" => ("EC", &["crv", "x", "y"]),
            _ => ("RSA", &["n", "e"]),
        };
        assert_eq!(key["kty"], kty, "{alg}: {jwks}");
        assert_eq!(key["alg"], alg);
        for member in members {
            assert!(key[*member].is_string(), "{alg}: {member} in {jwks}");
        }
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "{alg}: a private member {private}");
        }

        let verified = verify_from_discovery(&app.base, "ucontact", &tokens.access)
            .unwrap_or_else(|refusal| panic!("{alg}: {refusal}"));
        for library in ["pyjwt", "authlib"] {
            assert_eq!(
                verified[library]["sub"],
                user["id"].to_string(),
                "{alg} {library}"
            );
            assert_eq!(verified[library]["iss"], app.base.as_str());
        }
        // The same libraries refuse what is not an access token for them.
        assert!(verify_from_discovery(&app.base, "another-audience", &tokens.access).is_err());
        assert!(
            verify_from_discovery(&app.base, "ucontact", &tokens.refresh).is_err(),
            "{alg}: a refresh token is no access token to an outside verifier"
        );
    }
}

#[tokio::test]
async fn a_rotation_may_change_the_algorithm_and_logs_nobody_out() {
    // A fixed issuer: a restart listens on another port, which would change the default one.
    let settings = Settings::default()
        .with("KEYS_REFRESH_SECONDS", "1")
        .with("JWT_ISSUER", "https://id.ucontact.test");
    let app = Server::start_with(settings).await;
    app.verified_user("switcher", "switcher@example.com").await;
    let before = app.tokens("switcher").await;
    assert_eq!(header(&before.access)["alg"], "EdDSA");

    // Locally a start with another JWT_ALGORITHM rotates to it; on the AWS key store the
    // operator's `keys rotate` does, with the new setting.
    let app = app.restart_with("JWT_ALGORITHM", "RS256").await;
    if app.backend() == Backend::Aws {
        let output = app.command(&["keys", "rotate", "--activate-in", "0"]);
        assert!(output.contains("session keys: new key"), "{output}");
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    let after = app.tokens("switcher").await;
    assert_eq!(header(&after.access)["alg"], "RS256");
    for (which, token) in [("before", &before.access), ("after", &after.access)] {
        let me = app.get_with_token("/api/users/me", token).await;
        assert_eq!(me.status, 200, "{which}: {}", me.text);
    }
    let mut algorithms: Vec<String> = app.get("/.well-known/jwks.json").await.json()["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["alg"].as_str().expect("alg").to_owned())
        .collect();
    algorithms.sort();
    assert_eq!(algorithms, ["EdDSA", "RS256"]);
    let document = app.get("/.well-known/openid-configuration").await.json();
    assert_eq!(
        document["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "EdDSA"])
    );
    // The old refresh token refreshes into the new algorithm.
    let refreshed = app.refresh(&before.refresh).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    assert_eq!(
        header(refreshed.json()["access_token"].as_str().expect("a token"))["alg"],
        "RS256"
    );
}

/// The file key store, edited by hand as an operator would: the running server stops accepting
/// the removed key's tokens at its next reread, remembered or not.
#[tokio::test]
async fn a_removed_key_stops_verifying_after_the_next_reread() {
    let app = Server::start_with(Settings::embedded().with("KEYS_REFRESH_SECONDS", "1")).await;
    app.verified_user("removed", "removed@example.com").await;
    let old = app.tokens("removed").await;
    assert_eq!(app.get_with_token("/api/users/me", &old.access).await.status, 200);
    assert_eq!(
        app.get_with_token("/api/users/me", &old.access).await.status,
        200,
        "remembered"
    );

    let output = app.command(&["keys", "rotate", "--activate-in", "0"]);
    assert!(output.contains("session keys: new key"), "{output}");
    let path = app.data_dir().join("keys/session.json");
    let mut set: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the set")).expect("JSON");
    let old_kid = header(&old.access)["kid"].clone();
    set["keys"]
        .as_array_mut()
        .expect("keys")
        .retain(|key| key["kid"] != old_kid);
    std::fs::write(&path, serde_json::to_string(&set).expect("JSON")).expect("write the set");
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let me = app.get_with_token("/api/users/me", &old.access).await;
    me.assert_detail(401, "Could not validate credentials");
    let new = app.tokens("removed").await;
    assert_eq!(app.get_with_token("/api/users/me", &new.access).await.status, 200);
}

/// Listening on every interface, the issuer and the links are the address each request reached,
/// never the unusable `0.0.0.0`.
#[tokio::test]
async fn on_every_interface_the_issuer_is_the_address_the_request_reached() {
    let app = Server::start_with(Settings::embedded().with("HOST", "0.0.0.0")).await;
    let port = app.base.rsplit(':').next().expect("a port").to_owned();
    let reached = format!("http://127.0.0.1:{port}");
    let answer = app
        .send(
            app.client()
                .get(format!("{reached}/.well-known/openid-configuration")),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let document = answer.json();
    assert_eq!(document["issuer"], reached.as_str());
    assert_eq!(
        document["jwks_uri"],
        format!("{reached}/.well-known/jwks.json").as_str()
    );
}
