//! Tokens that outlive what they belonged to (docs/API.md, "Account" and `delete-account`): the
//! routes that manage the account (`list-sessions`, `revoke-session`, `logout-all`,
//! `change-password`, `change-email`, `delete-account`) refuse an access token whose session has
//! ended, however it ended, though it has not expired; and a deleted user's tokens are refused on
//! every route. Each check collects its failures, so that one run shows every route that let a
//! token through.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use ucontact_tests::{Answer, PASSWORD, Server, Settings, Tokens, tokens_of};

use crate::account::{
    BAD_REFRESH, INVALID_CREDENTIALS, NEW_PASSWORD, SESSIONS, agents, create_contact, delete_account,
    list_sessions, login_as, request_reset, revoke_session, session_id_of, set_password,
};

const ENDED_AGENT: &str = "agent-ended";
const LIVE_AGENT: &str = "agent-live";

/// How the session of the token under test ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// `revoke-session` from another session of the user.
    RevokedFromAnotherSession,
    /// `logout` with the session's refresh token.
    LoggedOut,
    /// The user resets their password (every session ends).
    PasswordReset,
    /// The session reaches its absolute end while its last access token is still valid.
    Expired,
}

/// The routes that refuse a token of an ended session.
#[derive(Debug, Clone, Copy)]
enum Route {
    ListSessions,
    RevokeSession,
    LogoutAll,
    ChangeEmail,
    ChangePassword,
    DeleteAccount,
}

const ROUTES: [Route; 6] = [
    Route::ListSessions,
    Route::RevokeSession,
    Route::LogoutAll,
    Route::ChangeEmail,
    Route::ChangePassword,
    Route::DeleteAccount,
];

/// One user per route, so that a route that wrongly goes through cannot hide another's answer.
struct Account {
    route: Route,
    username: String,
    email: String,
    /// The login whose session ends.
    ended: Tokens,
}

impl Account {
    fn new_email(&self) -> String {
        format!("new.{}", self.email)
    }
}

/// `route` with Bearer `access` and a body it would accept from a live session: the current
/// `password`, the user's other (live) session `live_session` as the one to revoke.
async fn call(app: &Server, account: &Account, access: &str, password: &str, live_session: &str) -> Answer {
    let (method, path, body) = match account.route {
        Route::ListSessions => (Method::GET, SESSIONS.to_owned(), None),
        Route::RevokeSession => (Method::DELETE, format!("{SESSIONS}/{live_session}"), None),
        Route::LogoutAll => (Method::POST, "/api/auth/logout-all".to_owned(), None),
        Route::ChangeEmail => (
            Method::POST,
            "/api/users/me/email".to_owned(),
            Some(json!({ "new_email": account.new_email(), "password": password })),
        ),
        Route::ChangePassword => (
            Method::POST,
            "/api/users/me/password".to_owned(),
            Some(json!({ "current_password": password, "new_password": "yet-another-passphrase" })),
        ),
        Route::DeleteAccount => (
            Method::DELETE,
            "/api/users/me".to_owned(),
            Some(json!({ "password": password })),
        ),
    };
    let mut request = app.client().request(method, app.url(&path)).bearer_auth(access);
    if let Some(body) = body {
        request = request.json(&body);
    }
    app.send(request).await
}

/// Ends the session of `account.ended` as `ending` says; returns the user's password afterwards
/// and a live session of theirs (logged in with the agent [`LIVE_AGENT`]).
async fn end_session(app: &Server, ending: Ending, account: &Account) -> (String, Tokens) {
    let live = |password: &str| {
        let password = password.to_owned();
        async move { tokens_of(&login_as(app, &account.username, &password, LIVE_AGENT).await) }
    };
    match ending {
        Ending::RevokedFromAnotherSession => {
            let live = live(PASSWORD).await;
            let ended = session_id_of(&list_sessions(app, &live.access).await, ENDED_AGENT);
            let answer = revoke_session(app, &live.access, &ended).await;
            assert_eq!(answer.status, 204, "{}", answer.text);
            (PASSWORD.to_owned(), live)
        }
        Ending::LoggedOut => {
            let answer = app
                .post_json(
                    "/api/auth/logout",
                    json!({ "refresh_token": account.ended.refresh }),
                )
                .await;
            assert_eq!(answer.status, 204, "{}", answer.text);
            (PASSWORD.to_owned(), live(PASSWORD).await)
        }
        Ending::PasswordReset => {
            let token = request_reset(app, &account.email).await;
            let answer = set_password(app, &token, NEW_PASSWORD).await;
            assert_eq!(answer.status, 200, "{}", answer.text);
            (NEW_PASSWORD.to_owned(), live(NEW_PASSWORD).await)
        }
        // Its end came while the test slept.
        Ending::Expired => (PASSWORD.to_owned(), live(PASSWORD).await),
    }
}

/// Whether the answer is the contract's 401 for a refused access token.
fn is_refusal(answer: &Answer, detail: &str) -> bool {
    answer.status == 401
        && serde_json::from_str::<Value>(&answer.text).ok() == Some(json!({ "detail": detail }))
        && answer.header("www-authenticate") == Some("Bearer")
}

/// What changed about the account, seen from its live session: it should be the only session,
/// the email and the password the same, and no email-change link sent.
async fn changes(app: &Server, account: &Account, password: &str, live: &Tokens) -> Vec<String> {
    let mut changes = Vec::new();
    let listed = app.get_with_token(SESSIONS, &live.access).await;
    if listed.status != 200 || agents(listed.json().as_array().unwrap_or(&Vec::new())) != [json!(LIVE_AGENT)]
    {
        changes.push(format!(
            "the live session's list: {} {}",
            listed.status, listed.text
        ));
    }
    let me = app.get_with_token("/api/users/me", &live.access).await;
    if me.status != 200 || me.json()["email"] != account.email.as_str() {
        changes.push(format!("me: {} {}", me.status, me.text));
    }
    if !app.emails_to(&account.new_email()).await.is_empty() {
        changes.push("an email-change link was sent".to_owned());
    }
    let login = app.login(&account.username, password).await;
    if login.status != 200 {
        changes.push(format!(
            "login with the password: {} {}",
            login.status, login.text
        ));
    }
    changes
}

/// Every route, each with its own user whose session ended as `ending` says: 401, and nothing
/// changed.
async fn assert_ended_sessions_are_refused(ending: Ending) {
    // For the expiry case, sessions long enough for a route's checks, and kept-alive connections
    // that outlast the wait for their end (the default 5 s would close them just as the harness
    // reuses them).
    let settings = match ending {
        Ending::Expired => Settings::default()
            .with("REFRESH_JWT_EXPIRATION_SECONDS", "4")
            .with("KEEP_ALIVE_TIMEOUT_SECONDS", "30"),
        _ => Settings::default(),
    };
    let app = Server::start_with(settings).await;
    let mut accounts = Vec::new();
    for (i, route) in ROUTES.into_iter().enumerate() {
        let (username, email) = (format!("user{i}"), format!("user{i}@example.com"));
        app.verified_user(&username, &email).await;
        let ended = tokens_of(&login_as(&app, &username, PASSWORD, ENDED_AGENT).await);
        accounts.push(Account {
            route,
            username,
            email,
            ended,
        });
    }
    if ending == Ending::Expired {
        // Past every session's end; their access tokens live 900 s.
        tokio::time::sleep(Duration::from_millis(5000)).await;
    }
    let mut failures = Vec::new();
    for account in &accounts {
        let (password, live) = end_session(&app, ending, account).await;
        let live_session = session_id_of(&list_sessions(&app, &live.access).await, LIVE_AGENT);
        let answer = call(&app, account, &account.ended.access, &password, &live_session).await;
        if !is_refusal(&answer, INVALID_CREDENTIALS) {
            failures.push(format!(
                "{:?} answered {} {}",
                account.route, answer.status, answer.text
            ));
        }
        for change in changes(&app, account, &password, &live).await {
            failures.push(format!("{:?} changed the account: {change}", account.route));
        }
    }
    assert!(
        failures.is_empty(),
        "{ending:?}: the access token of the ended session was taken:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_token_of_a_session_revoked_from_another_session_manages_nothing() {
    assert_ended_sessions_are_refused(Ending::RevokedFromAnotherSession).await;
}

#[tokio::test]
async fn a_token_of_a_logged_out_session_manages_nothing() {
    assert_ended_sessions_are_refused(Ending::LoggedOut).await;
}

#[tokio::test]
async fn a_token_of_a_session_ended_by_a_password_reset_manages_nothing() {
    assert_ended_sessions_are_refused(Ending::PasswordReset).await;
}

#[tokio::test]
async fn a_token_of_an_expired_session_manages_nothing() {
    assert_ended_sessions_are_refused(Ending::Expired).await;
}

#[tokio::test]
async fn after_a_victims_reset_the_attackers_old_access_token_can_neither_see_nor_end_their_sessions() {
    let app = Server::start().await;
    app.verified_user("victim", "victim@example.com").await;
    // The attacker signed in with the stolen password.
    let attacker = tokens_of(&login_as(&app, "victim", PASSWORD, "attacker-agent").await);
    // The victim resets the password and signs in again.
    let token = request_reset(&app, "victim@example.com").await;
    let answer = set_password(&app, &token, NEW_PASSWORD).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let victim = tokens_of(&login_as(&app, "victim", NEW_PASSWORD, "victim-phone").await);
    let victim_session = session_id_of(&list_sessions(&app, &victim.access).await, "victim-phone");

    // Again and again, within the attacker's access token's 15 minutes.
    let mut failures = Vec::new();
    for round in 1..=3 {
        let listed = app.get_with_token(SESSIONS, &attacker.access).await;
        let revoked = revoke_session(&app, &attacker.access, &victim_session).await;
        let logged_out = app
            .post_with_token("/api/auth/logout-all", &attacker.access)
            .await;
        for (route, answer) in [
            ("list-sessions", listed),
            ("revoke-session", revoked),
            ("logout-all", logged_out),
        ] {
            if !is_refusal(&answer, INVALID_CREDENTIALS) {
                failures.push(format!(
                    "round {round}: {route} answered {} {}",
                    answer.status, answer.text
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "the attacker's token still manages the account:\n{}",
        failures.join("\n")
    );
    // The victim's session lives on, alone; the attacker's refresh token is dead.
    assert_eq!(
        agents(&list_sessions(&app, &victim.access).await),
        [json!("victim-phone")]
    );
    tokens_of(&app.refresh(&victim.refresh).await);
    app.refresh(&attacker.refresh)
        .await
        .assert_detail(401, BAD_REFRESH);
}

#[tokio::test]
async fn a_deleted_users_tokens_are_refused_by_logout_all_logout_me_and_the_contacts_reads() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let laptop = app.tokens("johndoe").await;
    let phone = app.tokens("johndoe").await;
    let created = create_contact(&app, &laptop.access, "friend@example.com").await;
    assert_eq!(created.status, 201, "{}", created.text);
    let contact = format!("/api/contacts/{}", created.json()["id"]);

    let answer = delete_account(&app, &laptop.access, PASSWORD).await;
    assert_eq!((answer.status, answer.text.as_str()), (204, ""));

    let mut failures = Vec::new();
    for (name, tokens) in [("laptop", &laptop), ("phone", &phone)] {
        let access = tokens.access.as_str();
        let requests = [
            ("POST /api/auth/logout-all", Method::POST, "/api/auth/logout-all"),
            ("GET /api/users/me", Method::GET, "/api/users/me"),
            ("GET /api/contacts", Method::GET, "/api/contacts"),
            ("GET /api/contacts/{id}", Method::GET, contact.as_str()),
            (
                "GET /api/contacts/upcoming-birthdays",
                Method::GET,
                "/api/contacts/upcoming-birthdays?days=366",
            ),
        ];
        for (route, method, path) in requests {
            let answer = app
                .send(app.client().request(method, app.url(path)).bearer_auth(access))
                .await;
            if !is_refusal(&answer, INVALID_CREDENTIALS) {
                failures.push(format!(
                    "{name}: {route} answered {} {}",
                    answer.status, answer.text
                ));
            }
        }
        let answer = app
            .post_json("/api/auth/logout", json!({ "refresh_token": tokens.refresh }))
            .await;
        if !is_refusal(&answer, BAD_REFRESH) {
            failures.push(format!(
                "{name}: POST /api/auth/logout answered {} {}",
                answer.status, answer.text
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "a deleted user's tokens were taken:\n{}",
        failures.join("\n")
    );
}
