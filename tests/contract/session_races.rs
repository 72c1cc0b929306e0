//! Sessions really end (docs/API.md: a reset and a logout-all end every session): a login whose
//! password check read the user before a reset or a logout-all committed must not leave a live
//! session, nor may a refresh racing them. Real concurrency against the running server, on
//! whichever store `UCONTACT_TEST_BACKEND` names.
//!
//! The bcrypt cost is raised so that each check takes tens of milliseconds: logins sent just after
//! a reset read the user at once, then queue for bcrypt behind the reset's own hash, so their
//! session writes land after the reset commits. Every session that old-password logins got must
//! be dead afterwards, and the audit trail says how many logins the check caught (at least one,
//! or the race was not exercised: up to five rounds, for a loaded machine).

use futures_util::future::join_all;
use serde_json::json;
use ucontact_tests::{Answer, PASSWORD, Server, Settings, tokens_of};

fn racing() -> Settings {
    Settings::default()
        .with("BCRYPT_COST", "10")
        // Every concurrent attempt counts until it succeeds; the races here are not abuse.
        .with("LOGIN_BACKOFF_THRESHOLD", "1000")
}

const LOGINS: usize = 8;

/// How many logins the store refused because the user changed under them.
fn caught(app: &Server) -> usize {
    app.audit_events()
        .iter()
        .filter(|e| e["event"] == "login_failed" && e["reason"] == "credentials_changed")
        .count()
}

/// Every session these logins started must be revoked now.
async fn assert_all_ended(app: &Server, logins: &[Answer], race: &str) -> usize {
    let mut succeeded = 0;
    for login in logins {
        match login.status {
            200 => {
                succeeded += 1;
                let tokens = tokens_of(login);
                app.refresh(&tokens.refresh)
                    .await
                    .assert_detail(401, "Invalid or expired refresh token");
            }
            401 => login.assert_detail(401, "Incorrect username or password"),
            other => panic!("{race}: a login answered {other}: {}", login.text),
        }
    }
    succeeded
}

/// Rounds of the reset race: each one must hold; at least one must have raced (under a loaded
/// machine the reset can land before or after every login of a round).
const ROUNDS: usize = 5;

#[tokio::test]
async fn no_login_racing_a_password_reset_keeps_a_session() {
    let app = Server::start_with(racing()).await;
    app.verified_user("johndoe", "john@example.com").await;
    let mut password = PASSWORD.to_owned();
    let (mut rounds, mut succeeded, mut logins_sent) = (0, 0, 0);
    while rounds < ROUNDS && caught(&app) == 0 {
        rounds += 1;
        app.post_json("/api/auth/reset-password", json!({"email": "john@example.com"}))
            .await;
        let reset = app.reset_token("john@example.com").await;
        let new_password = format!("the-passphrase-after-reset-{rounds}");
        let fields = [
            ("token", reset.as_str()),
            ("password", new_password.as_str()),
            ("confirm_password", new_password.as_str()),
        ];
        // The reset first: its hash queues for bcrypt ahead of the logins', which read the user
        // while it hashes and check their password after it has committed.
        let set = app.post_form("/api/auth/set-password", &fields);
        let logins = async {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            join_all((0..LOGINS).map(|_| app.login("johndoe", &password))).await
        };
        let (set, logins) = tokio::join!(set, logins);
        assert_eq!(set.status, 200, "{}", set.text);
        succeeded += assert_all_ended(&app, &logins, "reset").await;
        logins_sent += LOGINS;
        password = new_password;
    }
    let caught = caught(&app);
    eprintln!(
        "reset race: {rounds} round(s), {logins_sent} logins with the old password, {succeeded} got a session (revoked by the reset), {caught} caught by the session write's check"
    );
    assert!(
        caught >= 1,
        "no login raced the reset in {ROUNDS} rounds: the race was not exercised"
    );
    tokens_of(&app.login("johndoe", &password).await);
}

#[tokio::test]
async fn a_login_racing_a_logout_all_creates_no_session() {
    let app = Server::start_with(racing()).await;
    app.verified_user("johndoe", "john@example.com").await;
    let (mut rounds, mut succeeded) = (0, 0);
    while rounds < ROUNDS && caught(&app) == 0 {
        rounds += 1;
        let signed_in = app.tokens("johndoe").await;
        let logins = join_all((0..LOGINS).map(|_| app.login("johndoe", PASSWORD)));
        let logout_all = async {
            // After the logins have read the user, while they queue for bcrypt.
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            app.post_with_token("/api/auth/logout-all", &signed_in.access)
                .await
        };
        let (logins, logout_all) = tokio::join!(logins, logout_all);
        assert_eq!(logout_all.status, 204, "{}", logout_all.text);
        app.refresh(&signed_in.refresh)
            .await
            .assert_detail(401, "Invalid or expired refresh token");
        // A login that read the user after the logout-all may keep its session (it came
        // later); one that read it before must have been refused (caught) or revoked. Which
        // was which only the server saw: what the test can count is the refusals.
        for login in &logins {
            match login.status {
                200 => succeeded += 1,
                _ => login.assert_detail(401, "Incorrect username or password"),
            }
        }
    }
    let caught = caught(&app);
    eprintln!(
        "logout-all race: {rounds} round(s) of {LOGINS} logins, {succeeded} got a session, {caught} caught by the session write's check"
    );
    assert!(caught >= 1, "no login raced the logout-all in {ROUNDS} rounds");
    tokens_of(&app.login("johndoe", PASSWORD).await);
}

#[tokio::test]
async fn no_refresh_racing_a_logout_all_keeps_a_session() {
    let app = Server::start_with(racing().with("BCRYPT_COST", "4")).await;
    app.verified_user("johndoe", "john@example.com").await;
    let mut sessions = Vec::new();
    for _ in 0..6 {
        sessions.push(app.tokens("johndoe").await);
    }
    let refreshes = sessions.iter().map(|s| app.refresh(&s.refresh));
    let logout_all = app.post_with_token("/api/auth/logout-all", &sessions[0].access);
    // The logout-all goes first; the refreshes land before, during and after it.
    let (logout_all, refreshes) = tokio::join!(logout_all, join_all(refreshes));
    assert_eq!(logout_all.status, 204, "{}", logout_all.text);
    let mut rotated = 0;
    for answer in &refreshes {
        match answer.status {
            200 => {
                rotated += 1;
                app.refresh(&tokens_of(answer).refresh)
                    .await
                    .assert_detail(401, "Invalid or expired refresh token");
            }
            _ => answer.assert_detail(401, "Invalid or expired refresh token"),
        }
    }
    eprintln!("refresh race: 6 refreshes beside a logout-all, {rotated} rotated before it, none alive after");
}
