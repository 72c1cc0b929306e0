//! The account self-service routes (docs/API.md, "Account"): change-password, change-email and
//! its confirmation, delete-account, list-sessions and revoke-session, from outside the process,
//! on whichever store `UCONTACT_TEST_BACKEND` names. The races are in account_races.rs.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use ucontact_tests::{Answer, PASSWORD, Server, Settings, Tokens, USER_AGENT, tokens_of};

pub(crate) const INCORRECT: &str = "Incorrect password";
pub(crate) const TAKEN: &str = "User with this email already exists";
pub(crate) const BAD_REFRESH: &str = "Invalid or expired refresh token";
pub(crate) const BAD_CHANGE_TOKEN: &str = "Invalid or expired email change token";
pub(crate) const BAD_LOGIN: &str = "Incorrect username or password";
pub(crate) const INVALID_CREDENTIALS: &str = "Could not validate credentials";
const NOT_AUTHENTICATED: &str = "Not authenticated";
const BAD_RESET: &str = "Invalid or expired reset token";
const BAD_VERIFICATION: &str = "Invalid or expired verification token";
const SESSION_NOT_FOUND: &str = "Session not found";
pub(crate) const NEW_PASSWORD: &str = "a-brand-new-passphrase";
pub(crate) const SESSIONS: &str = "/api/users/me/sessions";
const CONFIRM: &str = "/api/auth/confirm-email-change/";
const EMAIL_CHANGE_SENT: &str = "Check your new email for confirmation.";
const EMAIL_CHANGED: &str = "Email changed successfully";

// ---------------------------------------------------------------------------------------------
// Requests

/// A request with an optional JSON body and an optional Bearer token.
async fn send_json(
    app: &Server,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut request = app.client().request(method, app.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    app.send(request).await
}

pub(crate) async fn change_password(app: &Server, access: &str, current: &str, new: &str) -> Answer {
    send_json(
        app,
        Method::POST,
        "/api/users/me/password",
        Some(access),
        Some(json!({ "current_password": current, "new_password": new })),
    )
    .await
}

pub(crate) async fn change_email(app: &Server, access: &str, new_email: &str, password: &str) -> Answer {
    send_json(
        app,
        Method::POST,
        "/api/users/me/email",
        Some(access),
        Some(json!({ "new_email": new_email, "password": password })),
    )
    .await
}

pub(crate) async fn confirm_email_change(app: &Server, token: &str) -> Answer {
    app.get(&format!("{CONFIRM}{token}")).await
}

/// The token of the newest email-change link sent to `to`.
pub(crate) async fn email_change_token(app: &Server, to: &str) -> String {
    app.token_from_email(to, CONFIRM).await
}

pub(crate) async fn delete_account(app: &Server, access: &str, password: &str) -> Answer {
    send_json(
        app,
        Method::DELETE,
        "/api/users/me",
        Some(access),
        Some(json!({ "password": password })),
    )
    .await
}

pub(crate) async fn revoke_session(app: &Server, access: &str, session_id: &str) -> Answer {
    send_json(
        app,
        Method::DELETE,
        &format!("{SESSIONS}/{session_id}"),
        Some(access),
        None,
    )
    .await
}

/// The sessions list-sessions answers with (asserting a 200 and a list).
pub(crate) async fn list_sessions(app: &Server, access: &str) -> Vec<Value> {
    let answer = app.get_with_token(SESSIONS, access).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer
        .json()
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", answer.text))
        .clone()
}

/// The id of the listed session whose user agent is `agent`.
pub(crate) fn session_id_of(sessions: &[Value], agent: &str) -> String {
    sessions
        .iter()
        .find(|s| s["user_agent"] == agent)
        .and_then(|s| s["id"].as_str())
        .unwrap_or_else(|| panic!("no session of {agent}: {sessions:?}"))
        .to_owned()
}

/// A login sent with its own `User-Agent`, so that list-sessions can tell the sessions apart.
pub(crate) async fn login_as(app: &Server, username: &str, password: &str, agent: &str) -> Answer {
    app.send(
        app.client()
            .post(app.url("/api/auth/login"))
            .header(reqwest::header::USER_AGENT, agent)
            .form(&[("username", username), ("password", password)]),
    )
    .await
}

/// `GET /api/users/me`, asserting a 200.
pub(crate) async fn me(app: &Server, access: &str) -> Value {
    let answer = app.get_with_token("/api/users/me", access).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()
}

pub(crate) async fn create_contact(app: &Server, access: &str, email: &str) -> Answer {
    send_json(
        app,
        Method::POST,
        "/api/contacts",
        Some(access),
        Some(json!({ "first_name": "Jane", "last_name": "Doe", "email": email })),
    )
    .await
}

pub(crate) async fn request_reset(app: &Server, email: &str) -> String {
    let answer = app
        .post_json("/api/auth/reset-password", json!({ "email": email }))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    app.reset_token(email).await
}

pub(crate) async fn set_password(app: &Server, token: &str, password: &str) -> Answer {
    app.post_form(
        "/api/auth/set-password",
        &[
            ("token", token),
            ("password", password),
            ("confirm_password", password),
        ],
    )
    .await
}

/// Every guarded account route with a body it would accept, Bearer `token` if given. Only for
/// tokens that must be refused: with a valid one these requests change the account (or delete
/// it).
fn account_routes(
    app: &Server,
    token: Option<&str>,
    session_id: &str,
) -> Vec<(String, reqwest::RequestBuilder)> {
    let routes = [
        (
            Method::POST,
            "/api/users/me/password".to_owned(),
            Some(json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD })),
        ),
        (
            Method::POST,
            "/api/users/me/email".to_owned(),
            Some(json!({ "new_email": "someone.new@example.com", "password": PASSWORD })),
        ),
        (
            Method::DELETE,
            "/api/users/me".to_owned(),
            Some(json!({ "password": PASSWORD })),
        ),
        (Method::GET, SESSIONS.to_owned(), None),
        (Method::DELETE, format!("{SESSIONS}/{session_id}"), None),
    ];
    routes
        .into_iter()
        .map(|(method, path, body)| {
            let label = format!("{method} {path}");
            let mut request = app.client().request(method, app.url(&path));
            if let Some(body) = body {
                request = request.json(&body);
            }
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            (label, request)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Checks

use crate::abuse::retry_after;

/// Sends `wrong` (a wrong-password attempt, 400 "Incorrect password") until the login backoff
/// refuses one; the first `checks` must be password checks. Then widens the window to at least
/// 4 s, as tests/contract/abuse.rs does (an attempt let through after a window is checked, fails
/// and doubles it), so that whatever the caller sends next surely lands inside it. Returns the
/// last refusal's `Retry-After`.
pub(crate) async fn back_off<F, Fut>(checks: usize, status: u16, detail: &str, wrong: F) -> u64
where
    F: Fn() -> Fut,
    Fut: Future<Output = Answer>,
{
    let mut refusal = None;
    for attempt in 1..=checks + 8 {
        let answer = wrong().await;
        if attempt > checks && answer.status == 429 {
            refusal = Some(answer);
            break;
        }
        answer.assert_detail(status, detail);
    }
    let mut refusal = refusal.unwrap_or_else(|| panic!("no 429 after {} wrong tries", checks + 8));
    while retry_after(&refusal) < 4 {
        tokio::time::sleep(Duration::from_secs(retry_after(&refusal)) + Duration::from_millis(100)).await;
        wrong().await.assert_detail(status, detail);
        refusal = wrong().await;
    }
    retry_after(&refusal)
}

/// The audit events named `name`, oldest first.
fn events_named(app: &Server, name: &str) -> Vec<Value> {
    app.audit_events()
        .into_iter()
        .filter(|e| e["event"] == name)
        .collect()
}

/// Exactly one successful `name` event, about `user`, from the test's client.
#[track_caller]
fn assert_one_success(events: &[Value], name: &str, user: &Value) {
    let successes: Vec<_> = events.iter().filter(|e| e["outcome"] == "success").collect();
    assert_eq!(successes.len(), 1, "{name}: {events:?}");
    let event = successes[0];
    assert_eq!(event["user_id"], user["id"], "{event}");
    assert_eq!(event["user_agent"], USER_AGENT, "{event}");
    assert!(
        event["request_id"].as_str().is_some_and(|id| !id.is_empty()),
        "{event}"
    );
}

/// None of `secrets` is in these events, nor anywhere in the server's log.
#[track_caller]
fn assert_not_logged(app: &Server, events: &[Value], secrets: &[&str]) {
    let log = app.log();
    for secret in secrets {
        assert!(secret.len() >= 8, "not a secret worth looking for: {secret:?}");
        for event in events {
            assert!(!event.to_string().contains(secret), "{secret} is in {event}");
        }
        assert!(!log.contains(secret), "{secret} is in the server's log");
    }
    assert!(!log.contains("$2b$"), "a password hash is in the server's log");
}

/// Asserts a 401 with the contract's detail and `WWW-Authenticate: Bearer`.
#[track_caller]
pub(crate) fn assert_401(answer: &Answer, detail: &str, what: &str) {
    assert_eq!(answer.status, 401, "{what}: {}", answer.text);
    answer.assert_detail(401, detail);
    assert_eq!(answer.header("www-authenticate"), Some("Bearer"), "{what}");
}

/// The claims of a JWT, unverified.
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

/// A timestamp field in the contract's format (`2025-04-16T12:00:00Z`).
#[track_caller]
fn timestamp(session: &Value, field: &str) -> DateTime<Utc> {
    let text = session[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string: {session}"));
    assert!(
        text.len() == 20 && text.ends_with('Z'),
        "{field}: not ISO 8601 UTC to the second: {text}"
    );
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{field}: {e}: {text}"))
        .with_timezone(&Utc)
}

/// A `Session` has exactly the documented fields, in the documented formats.
#[track_caller]
fn assert_session_shape(session: &Value) {
    let keys: BTreeSet<&str> = session
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {session}"))
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "id",
            "created_at",
            "last_used_at",
            "expires_at",
            "user_agent",
            "source_ip",
            "amr",
            "client",
            "current"
        ]),
        "{session}"
    );
    // A login of the API itself, not an app's "Sign in with UContact" (tests/contract/oidc.rs).
    assert_eq!(session["client"], Value::Null, "{session}");
    // These tests log in with a password only (tests/contract/mfa.rs covers the others).
    assert_eq!(session["amr"], json!(["pwd"]), "{session}");
    assert!(
        session["id"].as_str().is_some_and(|id| !id.is_empty()),
        "{session}"
    );
    for field in ["created_at", "last_used_at", "expires_at"] {
        timestamp(session, field);
    }
    for field in ["user_agent", "source_ip"] {
        assert!(
            session[field].is_string() || session[field].is_null(),
            "{session}"
        );
    }
    assert!(session["current"].is_boolean(), "{session}");
}

pub(crate) fn agents(sessions: &[Value]) -> Vec<Value> {
    sessions.iter().map(|s| s["user_agent"].clone()).collect()
}

fn currents(sessions: &[Value]) -> Vec<Value> {
    sessions.iter().map(|s| s["current"].clone()).collect()
}

// ---------------------------------------------------------------------------------------------
// Every guarded account route

#[tokio::test]
async fn account_routes_need_a_valid_access_token() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    let verification = app.verification_token("john@example.com").await;
    let session_id = session_id_of(&list_sessions(&app, &tokens.access).await, USER_AGENT);

    for (route, request) in account_routes(&app, None, &session_id) {
        assert_401(&app.send(request).await, NOT_AUTHENTICATED, &route);
    }
    for token in [tokens.refresh.as_str(), verification.as_str(), "garbage"] {
        for (route, request) in account_routes(&app, Some(token), &session_id) {
            assert_401(&app.send(request).await, INVALID_CREDENTIALS, &route);
        }
    }
    // None of them did anything: same password, same email, the session alive, no email sent.
    assert_eq!(me(&app, &tokens.access).await["email"], "john@example.com");
    assert_eq!(list_sessions(&app, &tokens.access).await.len(), 1);
    tokens_of(&app.refresh(&tokens.refresh).await);
    tokens_of(&app.login("johndoe", PASSWORD).await);
    app.login("johndoe", NEW_PASSWORD)
        .await
        .assert_detail(401, BAD_LOGIN);
    assert!(app.emails_to("someone.new@example.com").await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// change-password

#[tokio::test]
async fn change_password_returns_a_new_session_and_ends_every_other_one_and_older_reset_links() {
    let app = Server::start().await;
    let user = app.verified_user("johndoe", "john@example.com").await;
    app.verified_user("janedoe", "jane@example.com").await;
    let laptop = app.tokens("johndoe").await;
    let phone = app.tokens("johndoe").await;
    let jane = app.tokens("janedoe").await;
    let reset = request_reset(&app, "john@example.com").await;

    let answer = change_password(&app, &laptop.access, PASSWORD, NEW_PASSWORD).await;
    let fresh = tokens_of(&answer);
    assert_ne!(fresh.access, laptop.access);
    assert_ne!(fresh.refresh, laptop.refresh);

    // The new pair works: its access token on /me, and it is the only live session.
    let profile = me(&app, &fresh.access).await;
    assert_eq!(
        (&profile["id"], &profile["username"]),
        (&user["id"], &json!("johndoe"))
    );
    let sessions = list_sessions(&app, &fresh.access).await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(claims(&fresh.access)["sid"], sessions[0]["id"]);
    // Every other session ended, the one of the access token used included; not Jane's.
    for (name, tokens) in [("laptop", &laptop), ("phone", &phone)] {
        let answer = app.refresh(&tokens.refresh).await;
        assert_eq!(answer.status, 401, "{name}: {}", answer.text);
        answer.assert_detail(401, BAD_REFRESH);
    }
    tokens_of(&app.refresh(&jane.refresh).await);
    // The new refresh token works (and rotates).
    let rotated = tokens_of(&app.refresh(&fresh.refresh).await);
    assert_eq!(me(&app, &rotated.access).await["id"], user["id"]);

    // The password is the new one.
    app.login("johndoe", PASSWORD).await.assert_detail(401, BAD_LOGIN);
    tokens_of(&app.login("johndoe", NEW_PASSWORD).await);
    // The reset link sent before the change sets nothing any more.
    set_password(&app, &reset, "a-password-from-the-old-link")
        .await
        .assert_detail(400, BAD_RESET);
    tokens_of(&app.login("johndoe", NEW_PASSWORD).await);
    app.login("johndoe", "a-password-from-the-old-link")
        .await
        .assert_detail(401, BAD_LOGIN);

    let events = events_named(&app, "password_changed");
    assert_one_success(&events, "password_changed", &user);
    assert_not_logged(
        &app,
        &events,
        &[
            PASSWORD,
            NEW_PASSWORD,
            &laptop.access,
            &laptop.refresh,
            &fresh.access,
            &fresh.refresh,
            &reset,
        ],
    );
}

#[tokio::test]
async fn change_password_refuses_a_wrong_password_and_bad_input_and_changes_nothing() {
    let app = Server::start().await;
    app.verified_user("john_smith_77", "john@example.com").await;
    let tokens = app.tokens("john_smith_77").await;

    change_password(&app, &tokens.access, "not-my-password", NEW_PASSWORD)
        .await
        .assert_detail(400, INCORRECT);
    // New passwords are held to register's rules.
    let too_long = "p".repeat(129);
    for weak in ["short", "password1", "John_Smith_77", too_long.as_str()] {
        let answer = change_password(&app, &tokens.access, PASSWORD, weak).await;
        answer.assert_422_on("new_password");
        if weak.len() >= 8 {
            assert!(
                !answer.text.contains(weak),
                "the password is echoed: {}",
                answer.text
            );
        }
    }
    let path = "/api/users/me/password";
    let token = Some(tokens.access.as_str());
    let missing_new = json!({ "current_password": PASSWORD });
    send_json(&app, Method::POST, path, token, Some(missing_new))
        .await
        .assert_422_on("new_password");
    let missing_current = json!({ "new_password": NEW_PASSWORD });
    send_json(&app, Method::POST, path, token, Some(missing_current))
        .await
        .assert_422_on("current_password");
    let malformed = app
        .send(
            app.client()
                .post(app.url(path))
                .bearer_auth(&tokens.access)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body("{\"current_password\": "),
        )
        .await;
    assert_eq!(malformed.status, 422, "{}", malformed.text);
    let body = json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD });
    let anonymous = send_json(&app, Method::POST, path, None, Some(body.clone())).await;
    assert_401(&anonymous, NOT_AUTHENTICATED, "no token");
    let garbage = send_json(&app, Method::POST, path, Some("garbage"), Some(body)).await;
    assert_401(&garbage, INVALID_CREDENTIALS, "a garbage token");

    // Nothing changed: the old password logs in, the session lives, no new password works.
    tokens_of(&app.refresh(&tokens.refresh).await);
    tokens_of(&app.login("john_smith_77", PASSWORD).await);
    for other in [NEW_PASSWORD, "password1"] {
        app.login("john_smith_77", other)
            .await
            .assert_detail(401, BAD_LOGIN);
    }
    assert!(
        events_named(&app, "password_changed")
            .iter()
            .all(|e| e["outcome"] != "success"),
        "{:?}",
        app.audit_events()
    );
}

#[tokio::test]
async fn wrong_current_passwords_count_against_the_login_backoff_and_a_right_one_clears_it() {
    let app = Server::start_with(Settings::default().with("LOGIN_BACKOFF_THRESHOLD", "2")).await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;

    back_off(2, 400, INCORRECT, || {
        change_password(&app, &tokens.access, "not-my-password", NEW_PASSWORD)
    })
    .await;
    // Inside the window neither login nor change-password checks a password, right as it is.
    retry_after(&app.login("johndoe", PASSWORD).await);
    let wait = retry_after(&change_password(&app, &tokens.access, PASSWORD, NEW_PASSWORD).await);

    // After the window the right password changes it (the refused one had changed nothing)...
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(100)).await;
    let fresh = tokens_of(&change_password(&app, &tokens.access, PASSWORD, NEW_PASSWORD).await);
    tokens_of(&app.login("johndoe", NEW_PASSWORD).await);
    // ...and clears the count: the threshold's two password checks again before any refusal.
    for _ in 0..2 {
        change_password(&app, &fresh.access, "not-my-password", "yet-another-passphrase")
            .await
            .assert_detail(400, INCORRECT);
    }
}

// ---------------------------------------------------------------------------------------------
// change-email

#[tokio::test]
async fn change_email_sends_a_link_to_the_new_address_and_changes_nothing_yet() {
    let app = Server::start().await;
    let user = app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;

    let answer = change_email(&app, &tokens.access, "john.new@example.com", PASSWORD).await;
    assert_eq!(
        (answer.status, answer.json()),
        (202, json!({ "message": EMAIL_CHANGE_SENT }))
    );
    let emails = app.emails_to("john.new@example.com").await;
    assert_eq!(emails.len(), 1, "one email to the new address");
    let link = emails[0]
        .link(&app.url(CONFIRM))
        .unwrap_or_else(|| panic!("no {CONFIRM} link: {}", emails[0].decoded));
    let token = email_change_token(&app, "john.new@example.com").await;
    assert!(token.len() >= 16 && link.ends_with(&token), "{link}");
    assert_eq!(
        app.emails_to("john@example.com").await.len(),
        1,
        "only the registration's email went to the old address"
    );

    // Nothing changes until the link is followed.
    let profile = me(&app, &tokens.access).await;
    assert_eq!(
        (&profile["email"], &profile["is_verified"]),
        (&json!("john@example.com"), &json!(true))
    );
    app.login("john.new@example.com", PASSWORD)
        .await
        .assert_detail(401, BAD_LOGIN);
    tokens_of(&app.login("john@example.com", PASSWORD).await);
    tokens_of(&app.refresh(&tokens.refresh).await);

    let events = events_named(&app, "email_change_requested");
    assert_one_success(&events, "email_change_requested", &user);
    assert_not_logged(&app, &events, &[PASSWORD, &token, &tokens.access]);
}

#[tokio::test]
async fn change_email_refuses_taken_invalid_or_unchanged_addresses_and_wrong_passwords() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    app.verified_user("janedoe", "jane@example.com").await;
    let tokens = app.tokens("johndoe").await;

    for taken in ["jane@example.com", "JANE@Example.COM", "John@Example.com"] {
        let answer = change_email(&app, &tokens.access, taken, PASSWORD).await;
        assert_eq!(answer.status, 409, "{taken}: {}", answer.text);
        answer.assert_detail(409, TAKEN);
    }
    let too_long = format!("{}@example.com", "a".repeat(243));
    for bad in ["not-an-email", "john@", too_long.as_str()] {
        change_email(&app, &tokens.access, bad, PASSWORD)
            .await
            .assert_422_on("new_email");
    }
    let path = "/api/users/me/email";
    let token = Some(tokens.access.as_str());
    send_json(
        &app,
        Method::POST,
        path,
        token,
        Some(json!({ "password": PASSWORD })),
    )
    .await
    .assert_422_on("new_email");
    let missing_password = json!({ "new_email": "john.new@example.com" });
    send_json(&app, Method::POST, path, token, Some(missing_password))
        .await
        .assert_422_on("password");
    change_email(&app, &tokens.access, "john.new@example.com", "not-my-password")
        .await
        .assert_detail(400, INCORRECT);
    let body = json!({ "new_email": "john.new@example.com", "password": PASSWORD });
    let anonymous = send_json(&app, Method::POST, path, None, Some(body)).await;
    assert_401(&anonymous, NOT_AUTHENTICATED, "no token");

    // No link went anywhere, and nothing changed.
    assert!(app.emails_to("john.new@example.com").await.is_empty());
    assert_eq!(app.emails_to("jane@example.com").await.len(), 1);
    assert_eq!(app.emails_to("john@example.com").await.len(), 1);
    assert_eq!(me(&app, &tokens.access).await["email"], "john@example.com");
    tokens_of(&app.refresh(&tokens.refresh).await);
}

#[tokio::test]
async fn a_second_change_email_within_the_spacing_sends_nothing_answers_alike_and_cancels_the_first() {
    let app = Server::start_with(Settings::default().with("EMAIL_THROTTLE_SECONDS", "60")).await;
    let user = app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;

    let first = change_email(&app, &tokens.access, "john.new@example.com", PASSWORD).await;
    let second = change_email(&app, &tokens.access, "john.new@example.com", PASSWORD).await;
    assert_eq!(
        (first.status, first.json()),
        (202, json!({ "message": EMAIL_CHANGE_SENT }))
    );
    assert_eq!((second.status, &second.text), (first.status, &first.text));
    assert_eq!(
        app.emails_to("john.new@example.com").await.len(),
        1,
        "the second link was throttled"
    );
    // The second request still replaced the first as the pending change (docs/API.md): the one
    // link that went out confirms nothing, and the email stays.
    let token = email_change_token(&app, "john.new@example.com").await;
    confirm_email_change(&app, &token)
        .await
        .assert_detail(400, BAD_CHANGE_TOKEN);
    let fresh = tokens_of(&app.login("johndoe", PASSWORD).await);
    assert_eq!(me(&app, &fresh.access).await["email"], "john@example.com");

    let events = events_named(&app, "email_change_requested");
    assert_eq!(events[0]["outcome"], "success", "{events:?}");
    assert_eq!(events[0]["user_id"], user["id"], "{events:?}");
    assert!(
        events[1..].iter().all(|e| e["outcome"] == "throttled"),
        "{events:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// confirm-email-change

#[tokio::test]
async fn confirming_an_email_change_switches_to_the_verified_new_address_and_ends_every_session() {
    let app = Server::start().await;
    let user = app.verified_user("johndoe", "john@example.com").await;
    let laptop = app.tokens("johndoe").await;
    let phone = app.tokens("johndoe").await;
    let answer = change_email(&app, &laptop.access, "john.new@example.com", PASSWORD).await;
    assert_eq!(answer.status, 202, "{}", answer.text);
    let token = email_change_token(&app, "john.new@example.com").await;
    let old_address_emails = app.emails_to("john@example.com").await.len();

    let answer = confirm_email_change(&app, &token).await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({ "message": EMAIL_CHANGED }))
    );

    // The user logs in by the new address (not the old one) and is verified there.
    let fresh = tokens_of(&app.login("john.new@example.com", PASSWORD).await);
    let mut expected = user.clone();
    expected["email"] = json!("john.new@example.com");
    expected["is_verified"] = json!(true);
    assert_eq!(me(&app, &fresh.access).await, expected);
    app.login("john@example.com", PASSWORD)
        .await
        .assert_detail(401, BAD_LOGIN);
    tokens_of(&app.login("johndoe", PASSWORD).await);
    // Every session of before ended.
    for (name, tokens) in [("laptop", &laptop), ("phone", &phone)] {
        let answer = app.refresh(&tokens.refresh).await;
        assert_eq!(answer.status, 401, "{name}: {}", answer.text);
        answer.assert_detail(401, BAD_REFRESH);
    }
    // The old address got a notice, without the link; the new one only the link.
    let old_emails = app.emails_to("john@example.com").await;
    assert_eq!(
        old_emails.len(),
        old_address_emails + 1,
        "a notice to the old address"
    );
    let notice = old_emails.last().expect("the notice");
    assert!(
        notice.subject.to_lowercase().contains("chang"),
        "the subject mentions the change: {:?}",
        notice.subject
    );
    assert!(
        !notice.decoded.contains(&token) && notice.link(&app.url(CONFIRM)).is_none(),
        "the notice carries the link: {}",
        notice.decoded
    );
    assert_eq!(app.emails_to("john.new@example.com").await.len(), 1);

    // Single use.
    confirm_email_change(&app, &token)
        .await
        .assert_detail(400, BAD_CHANGE_TOKEN);
    assert_eq!(me(&app, &fresh.access).await, expected);
    // The old address is nobody's any more.
    assert_eq!(
        app.register("newcomer", "john@example.com", PASSWORD)
            .await
            .status,
        201
    );

    let events = events_named(&app, "email_changed");
    assert_one_success(&events, "email_changed", &user);
    assert_eq!(events[0]["source_ip"], "127.0.0.1", "{events:?}");
    assert_not_logged(&app, &events, &[PASSWORD, &token, &laptop.refresh, &fresh.access]);
}

#[tokio::test]
async fn only_email_change_tokens_confirm_an_email_change_and_they_are_no_other_token() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    let verification = app.verification_token("john@example.com").await;
    let reset = request_reset(&app, "john@example.com").await;
    let answer = change_email(&app, &tokens.access, "john.new@example.com", PASSWORD).await;
    assert_eq!(answer.status, 202, "{}", answer.text);
    let token = email_change_token(&app, "john.new@example.com").await;

    for (kind, other) in [
        ("verification", verification.as_str()),
        ("reset", reset.as_str()),
        ("access", tokens.access.as_str()),
        ("refresh", tokens.refresh.as_str()),
        ("garbage", "not-a-token"),
        ("garbage JWT", "a.b.c"),
    ] {
        let answer = confirm_email_change(&app, other).await;
        assert_eq!(answer.status, 400, "{kind}: {}", answer.text);
        answer.assert_detail(400, BAD_CHANGE_TOKEN);
    }
    // The email-change token verifies nothing, resets nothing, refreshes nothing.
    app.get(&format!("/api/auth/confirmed_email/{token}"))
        .await
        .assert_detail(400, BAD_VERIFICATION);
    app.get(&format!("/auth/reset-password/{token}"))
        .await
        .assert_detail(400, BAD_RESET);
    set_password(&app, &token, NEW_PASSWORD)
        .await
        .assert_detail(400, BAD_RESET);
    app.refresh(&token).await.assert_detail(401, BAD_REFRESH);
    assert_401(
        &app.get_with_token("/api/users/me", &token).await,
        INVALID_CREDENTIALS,
        "an email-change token as Bearer",
    );

    // None of that changed anything or spent the token.
    assert_eq!(me(&app, &tokens.access).await["email"], "john@example.com");
    tokens_of(&app.login("johndoe", PASSWORD).await);
    let answer = confirm_email_change(&app, &token).await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({ "message": EMAIL_CHANGED }))
    );
}

#[tokio::test]
async fn an_address_taken_before_the_confirmation_makes_it_a_409_that_changes_nothing() {
    let app = Server::start().await;
    let user = app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    let answer = change_email(&app, &tokens.access, "shared@example.com", PASSWORD).await;
    assert_eq!(answer.status, 202, "{}", answer.text);
    let token = email_change_token(&app, "shared@example.com").await;
    // Someone registers the address meanwhile (in another case: it is the same address).
    assert_eq!(
        app.register("someone", "Shared@Example.com", PASSWORD)
            .await
            .status,
        201
    );

    confirm_email_change(&app, &token).await.assert_detail(409, TAKEN);

    // Nothing changed: the address, the sessions, the logins.
    let mut expected = user;
    expected["is_verified"] = json!(true);
    assert_eq!(me(&app, &tokens.access).await, expected);
    tokens_of(&app.refresh(&tokens.refresh).await);
    tokens_of(&app.login("john@example.com", PASSWORD).await);
    // The address is the newcomer's (unverified, so their login says so).
    app.login("shared@example.com", PASSWORD)
        .await
        .assert_detail(401, "Email not verified");
    assert_eq!(
        app.emails_to("john@example.com").await.len(),
        1,
        "no notice to the old address"
    );
    assert!(
        events_named(&app, "email_changed")
            .iter()
            .all(|e| e["outcome"] != "success"),
        "{:?}",
        app.audit_events()
    );
}

#[tokio::test]
async fn an_email_change_link_dies_with_a_later_password_change_reset_or_logout_all() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    // Far enough apart that no clock granularity can put a link and what ends it in one instant.
    let apart = Duration::from_millis(1100);

    // A password change.
    let tokens = app.tokens("johndoe").await;
    assert_eq!(
        change_email(&app, &tokens.access, "one@example.com", PASSWORD)
            .await
            .status,
        202
    );
    let before_change = email_change_token(&app, "one@example.com").await;
    tokio::time::sleep(apart).await;
    let second = "the-second-passphrase";
    let tokens = tokens_of(&change_password(&app, &tokens.access, PASSWORD, second).await);
    confirm_email_change(&app, &before_change)
        .await
        .assert_detail(400, BAD_CHANGE_TOKEN);

    // A password reset.
    assert_eq!(
        change_email(&app, &tokens.access, "two@example.com", second)
            .await
            .status,
        202
    );
    let before_reset = email_change_token(&app, "two@example.com").await;
    tokio::time::sleep(apart).await;
    let reset = request_reset(&app, "john@example.com").await;
    let third = "the-third-passphrase";
    assert_eq!(set_password(&app, &reset, third).await.status, 200);
    confirm_email_change(&app, &before_reset)
        .await
        .assert_detail(400, BAD_CHANGE_TOKEN);

    // A logout-all.
    let tokens = tokens_of(&app.login("johndoe", third).await);
    assert_eq!(
        change_email(&app, &tokens.access, "three@example.com", third)
            .await
            .status,
        202
    );
    let before_logout = email_change_token(&app, "three@example.com").await;
    tokio::time::sleep(apart).await;
    assert_eq!(
        app.post_with_token("/api/auth/logout-all", &tokens.access)
            .await
            .status,
        204
    );
    confirm_email_change(&app, &before_logout)
        .await
        .assert_detail(400, BAD_CHANGE_TOKEN);

    // None of them changed the address; a link asked for afterwards works.
    tokio::time::sleep(apart).await;
    let tokens = tokens_of(&app.login("johndoe", third).await);
    assert_eq!(me(&app, &tokens.access).await["email"], "john@example.com");
    assert_eq!(
        change_email(&app, &tokens.access, "four@example.com", third)
            .await
            .status,
        202
    );
    let after = email_change_token(&app, "four@example.com").await;
    assert_eq!(confirm_email_change(&app, &after).await.status, 200);
    tokens_of(&app.login("four@example.com", third).await);
}

#[tokio::test]
async fn email_change_tokens_expire() {
    // 3 s: a token is valid while now < exp, exp counting from the second it was issued in, so it
    // lives between 2 and 3 s, time enough for the verification link that verified_user follows.
    let app = Server::start_with(Settings::default().with("EMAIL_TOKEN_EXPIRATION_SECONDS", "3")).await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    assert_eq!(
        change_email(&app, &tokens.access, "john.new@example.com", PASSWORD)
            .await
            .status,
        202
    );
    let token = email_change_token(&app, "john.new@example.com").await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    confirm_email_change(&app, &token)
        .await
        .assert_detail(400, BAD_CHANGE_TOKEN);
    assert_eq!(me(&app, &tokens.access).await["email"], "john@example.com");
}

// ---------------------------------------------------------------------------------------------
// delete-account

#[tokio::test]
async fn after_delete_account_every_token_of_the_user_is_refused() {
    let app = Server::start().await;
    let user = app.verified_user("johndoe", "john@example.com").await;
    let laptop = app.tokens("johndoe").await;
    let phone = app.tokens("johndoe").await;
    let created = create_contact(&app, &laptop.access, "friend@example.com").await;
    assert_eq!(created.status, 201, "{}", created.text);
    let contact_id = created.json()["id"].clone();
    let sessions = list_sessions(&app, &phone.access).await;
    let phone_session = sessions
        .iter()
        .find(|s| s["current"] == true)
        .and_then(|s| s["id"].as_str())
        .expect("the phone's session")
        .to_owned();

    let answer = delete_account(&app, &laptop.access, PASSWORD).await;
    assert_eq!((answer.status, answer.text.as_str()), (204, ""));

    for identifier in ["johndoe", "john@example.com", "JohnDoe"] {
        app.login(identifier, PASSWORD)
            .await
            .assert_detail(401, BAD_LOGIN);
    }
    let contact = format!("/api/contacts/{contact_id}");
    let person = json!({ "first_name": "Janet", "last_name": "Doe", "email": "janet@example.com" });
    for (name, tokens) in [("laptop", &laptop), ("phone", &phone)] {
        let access = tokens.access.as_str();
        let mut requests = vec![
            (
                "GET /api/users/me".to_owned(),
                app.client().get(app.url("/api/users/me")).bearer_auth(access),
            ),
            (
                "POST /api/contacts".to_owned(),
                app.client()
                    .post(app.url("/api/contacts"))
                    .bearer_auth(access)
                    .json(&person),
            ),
            (
                format!("PUT {contact}"),
                app.client()
                    .put(app.url(&contact))
                    .bearer_auth(access)
                    .json(&person),
            ),
            (
                format!("DELETE {contact}"),
                app.client().delete(app.url(&contact)).bearer_auth(access),
            ),
        ];
        requests.extend(account_routes(&app, Some(access), &phone_session));
        for (route, request) in requests {
            assert_401(
                &app.send(request).await,
                INVALID_CREDENTIALS,
                &format!("{name}: {route}"),
            );
        }
        let answer = app.refresh(&tokens.refresh).await;
        assert_eq!(answer.status, 401, "{name}: {}", answer.text);
        answer.assert_detail(401, BAD_REFRESH);
    }

    let events = events_named(&app, "account_deleted");
    assert_one_success(&events, "account_deleted", &user);
    assert_not_logged(
        &app,
        &events,
        &[PASSWORD, &laptop.access, &laptop.refresh, &phone.refresh],
    );
}

#[tokio::test]
async fn a_deleted_account_leaves_nothing_behind_and_its_names_can_be_registered_again() {
    let app = Server::start().await;
    let old = app.verified_user("johndoe", "john@example.com").await;
    app.verified_user("janedoe", "jane@example.com").await;
    let sessions = [
        app.tokens("johndoe").await,
        app.tokens("johndoe").await,
        app.tokens("johndoe").await,
    ];
    let john = &sessions[0];
    for email in ["a@example.com", "b@example.com"] {
        assert_eq!(create_contact(&app, &john.access, email).await.status, 201);
    }
    let jane = app.tokens("janedoe").await;
    let jane_contact = create_contact(&app, &jane.access, "a@example.com").await;
    assert_eq!(jane_contact.status, 201, "{}", jane_contact.text);
    let jane_contacts = app.get_with_token("/api/contacts", &jane.access).await;
    assert_eq!(jane_contacts.status, 200, "{}", jane_contacts.text);
    // Links issued before the deletion.
    let reset = request_reset(&app, "john@example.com").await;
    assert_eq!(
        change_email(&app, &john.access, "john.new@example.com", PASSWORD)
            .await
            .status,
        202
    );
    let change = email_change_token(&app, "john.new@example.com").await;

    let answer = delete_account(&app, &john.access, PASSWORD).await;
    assert_eq!((answer.status, answer.text.as_str()), (204, ""));
    for tokens in &sessions {
        app.refresh(&tokens.refresh).await.assert_detail(401, BAD_REFRESH);
    }

    // The username and the address are free: a new user, with a new id and nothing of the old.
    let new = app.verified_user("johndoe", "john@example.com").await;
    assert_ne!(new["id"], old["id"], "an id was reused");
    let fresh = app.tokens("johndoe").await;
    assert_eq!(me(&app, &fresh.access).await["id"], new["id"]);
    let contacts = app.get_with_token("/api/contacts", &fresh.access).await;
    assert_eq!((contacts.status, contacts.json()), (200, json!([])));
    let listed = list_sessions(&app, &fresh.access).await;
    assert_eq!(currents(&listed), [json!(true)], "{listed:?}");
    // The old user's links and tokens are not the new user's.
    set_password(&app, &reset, NEW_PASSWORD)
        .await
        .assert_detail(400, BAD_RESET);
    confirm_email_change(&app, &change)
        .await
        .assert_detail(400, BAD_CHANGE_TOKEN);
    tokens_of(&app.login("johndoe", PASSWORD).await);
    assert_eq!(me(&app, &fresh.access).await["email"], "john@example.com");
    assert_401(
        &app.get_with_token("/api/users/me", &john.access).await,
        INVALID_CREDENTIALS,
        "the deleted user's access token",
    );
    // The address the deleted user wanted is free too.
    assert_eq!(
        app.register("someone", "john.new@example.com", PASSWORD)
            .await
            .status,
        201
    );

    // Jane's account, contacts and session are untouched.
    assert_eq!(me(&app, &jane.access).await["username"], "janedoe");
    let after = app.get_with_token("/api/contacts", &jane.access).await;
    assert_eq!((after.status, after.json()), (200, jane_contacts.json()));
    tokens_of(&app.refresh(&jane.refresh).await);
}

#[tokio::test]
async fn delete_account_refuses_a_wrong_or_missing_password_and_deletes_nothing() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    let created = create_contact(&app, &tokens.access, "friend@example.com").await;
    assert_eq!(created.status, 201, "{}", created.text);
    let contact = created.json();

    delete_account(&app, &tokens.access, "not-my-password")
        .await
        .assert_detail(400, INCORRECT);
    let path = "/api/users/me";
    let token = Some(tokens.access.as_str());
    send_json(&app, Method::DELETE, path, token, Some(json!({})))
        .await
        .assert_422_on("password");
    let no_body = send_json(&app, Method::DELETE, path, token, None).await;
    assert_eq!(no_body.status, 422, "{}", no_body.text);
    let anonymous = send_json(
        &app,
        Method::DELETE,
        path,
        None,
        Some(json!({ "password": PASSWORD })),
    )
    .await;
    assert_401(&anonymous, NOT_AUTHENTICATED, "no token");

    // Still there: the user, the contact, the session.
    assert_eq!(me(&app, &tokens.access).await["username"], "johndoe");
    let read = app
        .get_with_token(&format!("/api/contacts/{}", contact["id"]), &tokens.access)
        .await;
    assert_eq!((read.status, read.json()), (200, contact));
    tokens_of(&app.refresh(&tokens.refresh).await);
    tokens_of(&app.login("johndoe", PASSWORD).await);
    assert!(
        events_named(&app, "account_deleted")
            .iter()
            .all(|e| e["outcome"] != "success"),
        "{:?}",
        app.audit_events()
    );
}

#[tokio::test]
async fn wrong_passwords_on_change_email_and_delete_account_count_against_the_login_backoff() {
    let app = Server::start_with(Settings::default().with("LOGIN_BACKOFF_THRESHOLD", "2")).await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;

    // One failure on change-email, then delete-account's: both count for the username.
    change_email(&app, &tokens.access, "john.new@example.com", "not-my-password")
        .await
        .assert_detail(400, INCORRECT);
    back_off(1, 400, INCORRECT, || {
        delete_account(&app, &tokens.access, "not-my-password")
    })
    .await;
    // Inside the window nothing checks a password, right as it is, and nothing happens.
    retry_after(&app.login("johndoe", PASSWORD).await);
    retry_after(&change_email(&app, &tokens.access, "john.new@example.com", PASSWORD).await);
    let wait = retry_after(&delete_account(&app, &tokens.access, PASSWORD).await);
    assert!(app.emails_to("john.new@example.com").await.is_empty());

    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(100)).await;
    let fresh = tokens_of(&app.login("johndoe", PASSWORD).await);
    assert_eq!(me(&app, &fresh.access).await["email"], "john@example.com");
    tokens_of(&app.refresh(&tokens.refresh).await);
}

// ---------------------------------------------------------------------------------------------
// list-sessions

#[tokio::test]
async fn list_sessions_shows_each_live_session_newest_first_and_marks_the_current_one() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    app.verified_user("janedoe", "jane@example.com").await;
    let jane = app.tokens("janedoe").await;

    let started = Utc::now();
    let mut logins: Vec<Tokens> = Vec::new();
    for agent in ["agent-laptop", "agent-phone", "agent-tablet"] {
        if !logins.is_empty() {
            // Whole seconds apart: "newest first" is then plain in the timestamps too.
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        logins.push(tokens_of(&login_as(&app, "johndoe", PASSWORD, agent).await));
    }
    let ended = Utc::now();

    let listed = list_sessions(&app, &logins[1].access).await;
    assert_eq!(
        agents(&listed),
        [json!("agent-tablet"), json!("agent-phone"), json!("agent-laptop")],
        "{listed:?}"
    );
    assert_eq!(
        currents(&listed),
        [json!(false), json!(true), json!(false)],
        "{listed:?}"
    );
    let slack = chrono::Duration::seconds(2);
    for session in &listed {
        assert_session_shape(session);
        let created = timestamp(session, "created_at");
        assert!((started - slack..=ended + slack).contains(&created), "{session}");
        assert_eq!(session["last_used_at"], session["created_at"], "{session}");
        let lifetime = (timestamp(session, "expires_at") - created).num_seconds();
        assert!((604_799..=604_801).contains(&lifetime), "{session}");
        assert_eq!(session["source_ip"], "127.0.0.1", "{session}");
    }
    assert!(
        listed
            .windows(2)
            .all(|w| timestamp(&w[0], "created_at") > timestamp(&w[1], "created_at")),
        "{listed:?}"
    );
    let ids: BTreeSet<&str> = listed.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids.len(), 3, "{listed:?}");
    // The current session is the one of the token's `sid`.
    assert_eq!(claims(&logins[1].access)["sid"], listed[1]["id"]);

    // Another token, another current session; the same list.
    let from_laptop = list_sessions(&app, &logins[0].access).await;
    assert_eq!(currents(&from_laptop), [json!(false), json!(false), json!(true)]);
    assert_eq!(
        from_laptop.iter().map(|s| s["id"].clone()).collect::<Vec<_>>(),
        listed.iter().map(|s| s["id"].clone()).collect::<Vec<_>>()
    );
    // Jane sees only hers.
    let janes = list_sessions(&app, &jane.access).await;
    assert_eq!(janes.len(), 1, "{janes:?}");
    assert_eq!(
        (&janes[0]["user_agent"], &janes[0]["current"]),
        (&json!(USER_AGENT), &json!(true))
    );
    assert!(!ids.contains(janes[0]["id"].as_str().unwrap_or_default()));

    // A refresh uses the laptop's session: same session, later last use, same end.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let rotated = tokens_of(&app.refresh(&logins[0].refresh).await);
    let after = list_sessions(&app, &rotated.access).await;
    assert_eq!(agents(&after), agents(&listed), "{after:?}");
    assert_eq!(currents(&after), [json!(false), json!(false), json!(true)]);
    let (before, now) = (&listed[2], &after[2]);
    assert_session_shape(now);
    assert_eq!(
        (&now["id"], &now["created_at"], &now["expires_at"]),
        (&before["id"], &before["created_at"], &before["expires_at"])
    );
    assert!(
        timestamp(now, "last_used_at") > timestamp(now, "created_at"),
        "{now}"
    );
    assert!(timestamp(now, "last_used_at") <= Utc::now() + slack, "{now}");
    // The other two are as they were (but for `current`: another token asked).
    for (before, now) in listed[..2].iter().zip(&after[..2]) {
        let mut expected = before.clone();
        expected["current"] = json!(false);
        assert_eq!(now, &expected);
    }
    assert_eq!(claims(&rotated.access)["sid"], now["id"]);
}

#[tokio::test]
async fn sessions_started_within_one_second_are_listed_newest_first_too() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    // One after the other, each login answered before the next is sent: a plain order.
    let mut last = None;
    for agent in ["agent-1", "agent-2", "agent-3", "agent-4"] {
        last = Some(tokens_of(&login_as(&app, "johndoe", PASSWORD, agent).await));
    }
    let listed = list_sessions(&app, &last.expect("a login").access).await;
    assert_eq!(
        agents(&listed),
        [
            json!("agent-4"),
            json!("agent-3"),
            json!("agent-2"),
            json!("agent-1")
        ],
        "{listed:?}"
    );
    assert_eq!(
        currents(&listed),
        [json!(true), json!(false), json!(false), json!(false)]
    );
}

#[tokio::test]
async fn ended_sessions_are_not_listed() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let keeper = tokens_of(&login_as(&app, "johndoe", PASSWORD, "agent-keeper").await);
    let logged_out = tokens_of(&login_as(&app, "johndoe", PASSWORD, "agent-logged-out").await);
    tokens_of(&login_as(&app, "johndoe", PASSWORD, "agent-revoked").await);
    let replayed = tokens_of(&login_as(&app, "johndoe", PASSWORD, "agent-replayed").await);
    let listed = list_sessions(&app, &keeper.access).await;
    assert_eq!(listed.len(), 4, "{listed:?}");

    let answer = app
        .post_json("/api/auth/logout", json!({ "refresh_token": logged_out.refresh }))
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text);
    let answer = revoke_session(&app, &keeper.access, &session_id_of(&listed, "agent-revoked")).await;
    assert_eq!(answer.status, 204, "{}", answer.text);
    // A replayed refresh token ends its session too.
    tokens_of(&app.refresh(&replayed.refresh).await);
    app.refresh(&replayed.refresh)
        .await
        .assert_detail(401, BAD_REFRESH);

    let listed = list_sessions(&app, &keeper.access).await;
    assert_eq!(agents(&listed), [json!("agent-keeper")], "{listed:?}");
    assert_eq!(listed[0]["current"], true);
    // A logout-all leaves nothing to list: the token of its own session, which still
    // validates, lists nothing either (it is refused).
    assert_eq!(
        app.post_with_token("/api/auth/logout-all", &keeper.access)
            .await
            .status,
        204
    );
    let after = tokens_of(&login_as(&app, "johndoe", PASSWORD, "agent-after").await);
    assert_eq!(
        agents(&list_sessions(&app, &after.access).await),
        [json!("agent-after")]
    );
    assert_401(
        &app.get_with_token(SESSIONS, &keeper.access).await,
        INVALID_CREDENTIALS,
        "the logged-out-everywhere session",
    );
}

#[tokio::test]
async fn expired_sessions_are_not_listed() {
    let app = Server::start_with(Settings::default().with("REFRESH_JWT_EXPIRATION_SECONDS", "2")).await;
    app.verified_user("johndoe", "john@example.com").await;
    let old = tokens_of(&login_as(&app, "johndoe", PASSWORD, "agent-old").await);
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let new = tokens_of(&login_as(&app, "johndoe", PASSWORD, "agent-new").await);

    let listed = list_sessions(&app, &new.access).await;
    assert_eq!(agents(&listed), [json!("agent-new")], "{listed:?}");
    assert_session_shape(&listed[0]);
    let lifetime = (timestamp(&listed[0], "expires_at") - timestamp(&listed[0], "created_at")).num_seconds();
    assert!((1..=3).contains(&lifetime), "{listed:?}");
    // The old session's access token still validates (900 s); its session is over all the same,
    // so it lists nothing.
    assert_401(
        &app.get_with_token(SESSIONS, &old.access).await,
        INVALID_CREDENTIALS,
        "the expired session",
    );
}

// ---------------------------------------------------------------------------------------------
// revoke-session

#[tokio::test]
async fn revoke_session_ends_that_session_only_and_finds_no_other_users_or_ended_ones() {
    let app = Server::start().await;
    let user = app.verified_user("johndoe", "john@example.com").await;
    app.verified_user("janedoe", "jane@example.com").await;
    let a = tokens_of(&login_as(&app, "johndoe", PASSWORD, "agent-a").await);
    let b = tokens_of(&login_as(&app, "johndoe", PASSWORD, "agent-b").await);
    let c = tokens_of(&login_as(&app, "johndoe", PASSWORD, "agent-c").await);
    let d = tokens_of(&login_as(&app, "johndoe", PASSWORD, "agent-d").await);
    let jane = app.tokens("janedoe").await;
    let listed = list_sessions(&app, &a.access).await;
    let b_id = session_id_of(&listed, "agent-b");
    let d_id = session_id_of(&listed, "agent-d");
    let jane_id = session_id_of(&list_sessions(&app, &jane.access).await, USER_AGENT);

    let answer = revoke_session(&app, &a.access, &b_id).await;
    assert_eq!((answer.status, answer.text.as_str()), (204, ""));
    app.refresh(&b.refresh).await.assert_detail(401, BAD_REFRESH);
    tokens_of(&app.refresh(&a.refresh).await);
    tokens_of(&app.refresh(&c.refresh).await);
    let listed = list_sessions(&app, &a.access).await;
    let remaining: BTreeSet<&str> = listed.iter().filter_map(|s| s["user_agent"].as_str()).collect();
    assert_eq!(
        (listed.len(), remaining),
        (3, BTreeSet::from(["agent-a", "agent-c", "agent-d"])),
        "{listed:?}"
    );

    // Twice: the second finds nothing.
    revoke_session(&app, &a.access, &b_id)
        .await
        .assert_detail(404, SESSION_NOT_FOUND);
    // Unknown ids.
    for unknown in ["no-such-session", "00000000-0000-0000-0000-000000000000"] {
        revoke_session(&app, &a.access, unknown)
            .await
            .assert_detail(404, SESSION_NOT_FOUND);
    }
    // Someone else's: not found, and it lives on.
    revoke_session(&app, &a.access, &jane_id)
        .await
        .assert_detail(404, SESSION_NOT_FOUND);
    tokens_of(&app.refresh(&jane.refresh).await);
    // One that ended by a logout.
    let answer = app
        .post_json("/api/auth/logout", json!({ "refresh_token": d.refresh }))
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text);
    revoke_session(&app, &a.access, &d_id)
        .await
        .assert_detail(404, SESSION_NOT_FOUND);
    // Without a token.
    let anonymous = send_json(&app, Method::DELETE, &format!("{SESSIONS}/{b_id}"), None, None).await;
    assert_401(&anonymous, NOT_AUTHENTICATED, "no token");

    let events = events_named(&app, "session_revoked");
    assert_one_success(&events, "session_revoked", &user);
    assert_not_logged(&app, &events, &[PASSWORD, &a.access, &b.refresh]);
}
