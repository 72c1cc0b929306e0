//! docs/API.md "Second factors and passkeys", the passkey rows: registration options and
//! registration, list and delete, the passkey count of mfa-status, login options and login, on
//! the store of `UCONTACT_TEST_BACKEND`. A browser and its passkey are played by Python
//! (tests/interop): soft_authenticator.py, a software authenticator checked against py_webauthn
//! (the first test here), driven by passkey_flows.py, one scenario per test. The driver does
//! the HTTP of its scenario and names the first check that fails; what only the harness sees
//! (the outbox, restarts with a moved clock, a user registered again) is checked here.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use ucontact_tests::{PASSWORD, Server, Settings};

const NOTICE_SUBJECT: &str = "A passkey was added to your account";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The project venv's Python (scripts/setup installs cryptography, cbor2 and py_webauthn there);
/// without it the tests fail, they never skip.
fn python() -> PathBuf {
    let python = root().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/setup (it installs cryptography, cbor2 and webauthn)",
        python.display()
    );
    python
}

/// The origin the software passkey writes into clientDataJSON: `http://localhost:<port>` of the
/// server's own listening address (its default `WEBAUTHN_ORIGINS`; the RP id is `localhost`).
fn origin(app: &Server) -> String {
    let port = app.base.rsplit(':').next().expect("a port in the base URL");
    format!("http://localhost:{port}")
}

/// A verified user logged in with the password: what the driver gets to know of it.
async fn user(app: &Server, username: &str) -> Value {
    let email = format!("{username}@example.com");
    let created = app.verified_user(username, &email).await;
    let tokens = app.tokens(username).await;
    json!({
        "id": created["id"],
        "username": username,
        "email": email,
        "password": PASSWORD,
        "access": tokens.access,
        "refresh": tokens.refresh,
    })
}

async fn users(app: &Server, names: &[&str]) -> Vec<Value> {
    let mut all = Vec::new();
    for name in names {
        all.push(user(app, name).await);
    }
    all
}

/// Runs one scenario of tests/interop/passkey_flows.py against `app`; its JSON result, or a
/// panic naming the scenario with the driver's log.
fn flows(app: &Server, scenario: &str, users: &[Value], state: Option<&Path>) -> Value {
    let context = json!({
        "base": app.base,
        "origin": origin(app),
        "users": users,
        "state": state,
    });
    let output = Command::new(python())
        .arg(root().join("tests/interop/passkey_flows.py"))
        .arg(scenario)
        .arg(context.to_string())
        .output()
        .expect("run tests/interop/passkey_flows.py");
    let log = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let server_log = app.log();
        let errors: Vec<&str> = server_log.lines().filter(|l| l.contains("\"ERROR\"")).collect();
        panic!(
            "passkey scenario {scenario:?} failed ({}):\n{log}\nthe server's errors: {errors:#?}",
            output.status
        );
    }
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("scenario {scenario:?} printed no JSON ({e}):\n{log}"))
}

/// A server with `names` as verified, logged-in users, and one scenario run against it.
async fn scenario(name: &str, names: &[&str]) -> (Server, Vec<Value>, Value) {
    let app = Server::start().await;
    let users = users(&app, names).await;
    let result = flows(&app, name, &users, None);
    (app, users, result)
}

#[test]
fn the_software_passkey_passes_py_webauthn() {
    let output = Command::new(python())
        .arg(root().join("tests/interop/soft_authenticator.py"))
        .arg("--self-test")
        .output()
        .expect("run the software passkey's self-test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "soft_authenticator.py --self-test failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("self-test passed"), "{stdout}");
}

#[tokio::test]
async fn registration_options_follow_the_contract() {
    scenario("registration-options", &["alice", "bob"]).await;
}

#[tokio::test]
async fn an_es256_passkey_registers_lists_counts_and_logs_in() {
    scenario("happy-path-ES256", &["alice"]).await;
}

#[tokio::test]
async fn an_eddsa_passkey_registers_lists_counts_and_logs_in() {
    scenario("happy-path-EdDSA", &["alice"]).await;
}

#[tokio::test]
async fn a_passkey_name_is_1_to_64_characters() {
    scenario("names", &["alice"]).await;
}

#[tokio::test]
async fn a_wrong_origin_is_refused() {
    scenario("wrong-origin", &["alice"]).await;
}

#[tokio::test]
async fn a_wrong_rp_id_is_refused() {
    scenario("wrong-rp-id", &["alice"]).await;
}

#[tokio::test]
async fn a_ceremony_without_user_verification_is_refused() {
    scenario("no-user-verification", &["alice"]).await;
}

#[tokio::test]
async fn a_tampered_credential_is_refused() {
    scenario("tampered-credential", &["alice"]).await;
}

/// Beyond the letter of docs/API.md (which lists what registration checks): an answer whose
/// id/rawId is not the credential id its authenticator data attests is a bad credential.
#[tokio::test]
async fn a_credential_claiming_another_id_than_attested_is_refused() {
    scenario("claimed-id", &["alice"]).await;
}

#[tokio::test]
async fn challenge_tokens_are_single_use_per_user_and_per_ceremony() {
    scenario("challenge-tokens", &["alice", "bob"]).await;
}

#[tokio::test]
async fn a_replayed_login_is_refused() {
    scenario("replayed-login", &["alice"]).await;
}

#[tokio::test]
async fn a_challenge_answered_many_times_at_once_is_used_once() {
    scenario("concurrent-replays", &["alice", "bob"]).await;
}

#[tokio::test]
async fn another_users_credential_logs_nobody_in() {
    scenario("another-users-credential", &["alice", "bob"]).await;
}

#[tokio::test]
async fn a_cloned_authenticator_is_refused() {
    scenario("cloned-authenticator", &["alice"]).await;
}

#[tokio::test]
async fn counters_from_0_from_1_or_none_log_in_again_and_again() {
    scenario("counters", &["alice"]).await;
}

#[tokio::test]
async fn a_deleted_passkey_no_longer_logs_in() {
    scenario("deleted-passkey", &["alice", "bob"]).await;
}

#[tokio::test]
async fn a_deleted_users_passkey_logs_nobody_in() {
    let app = Server::start().await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let state = dir.path().join("passkeys.json");
    // Alice registers, deletes her account, and her passkey fails at once (the driver).
    let alice = users(&app, &["alice"]).await;
    flows(&app, "deleted-user", &alice, Some(&state));
    // After the purge someone registers her username and email again: the old passkey logs
    // nobody in, the new account has none and gets a handle of its own.
    app.settle().await;
    let again = users(&app, &["alice"]).await;
    assert_ne!(again[0]["id"], alice[0]["id"], "a new account");
    flows(&app, "deleted-user-again", &again, Some(&state));
}

#[tokio::test]
async fn deleting_a_passkey_while_it_logs_in() {
    // Each round: register, then delete and log in at once. Whichever wins, no 5xx, the
    // deletion answers 204, and afterwards the passkey never logs in again.
    let (_, _, result) = scenario("delete-while-logging-in", &["alice"]).await;
    let logins = result["logins"].as_array().expect("the login statuses");
    assert_eq!(logins.len(), 8, "{result}");
}

#[tokio::test]
async fn an_ended_session_cannot_manage_passkeys() {
    scenario("ended-session", &["alice"]).await;
}

#[tokio::test]
async fn a_credential_id_registers_once_across_users() {
    scenario("duplicate-credential", &["alice", "bob"]).await;
}

#[tokio::test]
async fn a_registration_sends_a_notice() {
    let (app, _, _) = scenario("notice", &["alice", "bob"]).await;
    let notices: Vec<_> = app
        .emails_to("alice@example.com")
        .await
        .into_iter()
        .filter(|email| email.subject == NOTICE_SUBJECT)
        .collect();
    assert_eq!(
        notices.len(),
        1,
        "one notice for one passkey added (none for the refused one): {notices:#?}"
    );
    assert!(
        app.emails_to("bob@example.com")
            .await
            .iter()
            .all(|email| email.subject != NOTICE_SUBJECT),
        "bob added no passkey"
    );
}

#[tokio::test]
async fn with_totp_on_a_registration_needs_a_code_and_a_login_does_not() {
    scenario("totp", &["alice"]).await;
}

/// A challenge lives 300 s: challenges taken now still work 250 s later and no longer 301 s
/// later (the server restarted each time with its clock moved on; JWT_ISSUER fixed, for the
/// restarted server listens on another port).
#[tokio::test]
async fn challenges_expire_after_300_seconds() {
    let at =
        |instant: chrono::DateTime<chrono::Utc>| instant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let app = Server::start_with(Settings::default().with("JWT_ISSUER", "http://ucontact.test")).await;
    let alice = users(&app, &["alice"]).await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let state = dir.path().join("passkeys.json");
    let before = chrono::Utc::now();
    flows(&app, "expiry-prepare", &alice, Some(&state));
    let after = chrono::Utc::now() + chrono::Duration::seconds(1);

    // Every challenge was issued in [before, after): at before + 250 s none is older than 250 s.
    let app = app
        .restart_with("UCONTACT_FAKE_NOW", &at(before + chrono::Duration::seconds(250)))
        .await;
    flows(&app, "expiry-fresh", &alice, Some(&state));
    // At after + 301 s every one of them is older than 300 s.
    let app = app
        .restart_with("UCONTACT_FAKE_NOW", &at(after + chrono::Duration::seconds(301)))
        .await;
    flows(&app, "expiry-stale", &alice, Some(&state));
}

#[tokio::test]
async fn oversized_answers_are_refused_and_stay_out_of_the_log() {
    let app = Server::start().await;
    let users = users(&app, &["alice"]).await;
    let before = app.log().len();
    flows(&app, "oversized-answers", &users, None);
    // Two 600 KB answers (800 KB of base64 each): a log that kept what the client sent would
    // have grown by megabytes (the WebAuthn library logs a refused answer's bytes at ERROR).
    let grown = app.log().len() - before;
    assert!(
        grown < 64 * 1024,
        "the log grew by {grown} bytes for two refused ceremonies"
    );
}
