//! "Sign in with UContact" from real OpenID Connect client libraries in a real browser
//! (docs/API.md, "Sign-in for other apps"): tests/interop/oidc_clients.py drives headless
//! Chromium through the hosted pages for Authlib and for requests-oauthlib (oauthlib), each with
//! PKCE, with a password, a password and a two-factor code, and a passkey (a WebDriver virtual
//! authenticator), verifying every ID token from the discovery document alone, then signing the
//! browser out with end-session. This test sets up the users on whichever store
//! `UCONTACT_TEST_BACKEND` names and checks what the libraries got.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};
use ucontact_tests::{PASSWORD, Server, Settings};

use crate::mfa::enrolled;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A port free right now on loopback.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

#[tokio::test]
async fn authlib_and_requests_oauthlib_sign_in_through_chromium_on_the_hosted_pages() {
    let python = root().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/setup (Authlib, requests-oauthlib, PyJWT, selenium)",
        python.display()
    );
    // The browser and the clients use http://localhost:<port> (the passkeys' RP id is localhost),
    // so that is the public base URL and the issuer; the app's redirect URIs are its own server's.
    let port = free_port();
    let callback = free_port();
    let issuer = format!("http://localhost:{port}");
    let clients = json!([{
        "client_id": "example-app",
        "name": "Example app",
        "redirect_uris": [format!("http://127.0.0.1:{callback}/callback")],
        "post_logout_redirect_uris": [format!("http://127.0.0.1:{callback}/signed-out")],
    }]);
    let app = Server::start_with(
        Settings::default()
            .with("PORT", &port.to_string())
            .with("PUBLIC_BASE_URL", &issuer)
            .with("OIDC_CLIENTS", &clients.to_string()),
    )
    .await;
    let password_user = app.verified_user("pwuser", "pwuser@example.com").await;
    let passkey_user = app.verified_user("pkuser", "pkuser@example.com").await;
    let passkey_access = app.tokens("pkuser").await.access;
    let mut totp = enrolled(&app, "otpuser").await;
    let totp_sub = crate::account::me(&app, &totp.tokens.access).await["id"].to_string();
    let code = totp.authenticator.next_code().await;
    let context = json!({
        "issuer": issuer,
        "client_id": "example-app",
        "callback_port": callback,
        "password_user": {"username": "pwuser", "password": PASSWORD, "sub": password_user["id"].to_string()},
        "totp_user": {"username": "otpuser", "password": PASSWORD, "sub": totp_sub,
            "codes": [code, totp.recovery_codes[0]]},
        "passkey_user": {"username": "pkuser", "sub": passkey_user["id"].to_string(), "access_token": passkey_access},
        "screenshots": std::env::var("UCONTACT_OIDC_SCREENSHOTS").ok(),
    });
    let output = Command::new(python)
        .arg(root().join("tests/interop/oidc_clients.py"))
        .arg(context.to_string())
        .output()
        .expect("run tests/interop/oidc_clients.py");
    let log = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let server_log = app.log();
        let tail: Vec<&str> = server_log.lines().rev().take(15).collect();
        panic!(
            "the OpenID Connect clients failed ({}):\n{log}\nthe server's last lines:\n{}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    let result: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("oidc_clients.py printed no JSON ({e}):\n{log}"));
    let flows = result["flows"].as_array().expect("flows");
    let seen: BTreeSet<(String, String)> = flows
        .iter()
        .map(|f| {
            (
                f["flow"].as_str().unwrap().to_owned(),
                f["library"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ["password", "totp", "passkey"]
        .iter()
        .flat_map(|flow| {
            ["authlib", "requests-oauthlib"]
                .iter()
                .map(move |library| ((*flow).to_owned(), (*library).to_owned()))
        })
        .collect();
    assert_eq!(seen, expected, "{result}");
    for flow in flows {
        let amr = match flow["flow"].as_str().unwrap() {
            "password" => json!(["pwd"]),
            "totp" => json!(["pwd", "otp"]),
            _ => json!(["hwk", "user"]),
        };
        assert_eq!(flow["amr"], amr, "{flow}");
        assert_eq!(flow["email_verified"], true, "{flow}");
    }
    // Each sign-in made its own session, and end-session ended each: none is left but the ones
    // the set-up's own logins made.
    let sessions = app
        .get_with_token("/api/users/me/sessions", &passkey_access)
        .await
        .json();
    let clients: Vec<&Value> = sessions
        .as_array()
        .expect("sessions")
        .iter()
        .filter(|s| s["client"] != Value::Null)
        .collect();
    assert!(clients.is_empty(), "sessions left after end-session: {clients:?}");
}
