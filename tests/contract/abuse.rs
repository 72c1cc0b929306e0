//! Abuse resistance: login backoff per identifier, email throttling per address, weak passwords,
//! and the audit trail. Run on SQLite and, by scripts/test, on DynamoDB + SES (moto).

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};
use ucontact_tests::{Answer, PASSWORD, Server, Settings, USER_AGENT, tokens_of};

const TOO_MANY: &str = "Too many failed attempts, try again later";
const BAD_LOGIN: &str = "Incorrect username or password";

/// Asserts a backoff refusal and returns its `Retry-After` in seconds (the account routes'
/// backoff tests use it too).
#[track_caller]
pub(crate) fn retry_after(answer: &Answer) -> u64 {
    answer.assert_detail(429, TOO_MANY);
    let seconds: u64 = answer
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("429 without a Retry-After in seconds: {:?}", answer.headers));
    assert!((1..=900).contains(&seconds), "Retry-After {seconds}");
    seconds
}

/// Two answers a client can't tell apart: status, body bytes and every header but `date`.
#[track_caller]
fn assert_same_answer(a: &Answer, b: &Answer) {
    let headers = |answer: &Answer| {
        let mut headers: Vec<(String, Vec<u8>)> = answer
            .headers
            .iter()
            .filter(|(name, _)| name.as_str() != "date")
            .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
            .collect();
        headers.sort();
        headers
    };
    assert_eq!((a.status, &a.text), (b.status, &b.text));
    assert_eq!(headers(a), headers(b));
}

fn count(events: &[Value], event: &str) -> usize {
    events.iter().filter(|e| e["event"] == event).count()
}

/// Sends wrong passwords for `identifier` until one is refused, and returns the refusal. The
/// first five must be password checks (401). A loaded machine can let a window pass before the
/// next attempt arrives, in which case that attempt is checked too (and fails): each refusal is
/// awaited, never assumed.
async fn fail_until_refused(app: &Server, identifier: &str) -> Answer {
    for attempt in 1..=12 {
        let answer = app.login(identifier, "wrong-password").await;
        if attempt > 5 && answer.status == 429 {
            return answer;
        }
        answer.assert_detail(401, BAD_LOGIN);
    }
    panic!("{identifier}: no 429 after 12 wrong passwords");
}

#[tokio::test]
async fn failures_past_the_threshold_back_off_and_a_correct_password_clears_them() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let mut refusal = fail_until_refused(&app, "johndoe").await;
    // Each attempt let through after a window fails again and doubles the window: 1 s, 2 s, 4 s.
    while retry_after(&refusal) < 4 {
        tokio::time::sleep(Duration::from_secs(retry_after(&refusal)) + Duration::from_millis(100)).await;
        app.login("johndoe", "wrong-password")
            .await
            .assert_detail(401, BAD_LOGIN);
        refusal = app.login("johndoe", "wrong-password").await;
    }
    // Inside the window even the right password is refused, before any password check; the
    // identifier is normalized, so another spelling of the username shares the backoff.
    let wait = retry_after(&app.login("johndoe", PASSWORD).await);
    retry_after(&app.login("JohnDoe", "wrong-password").await);
    let events = app.audit_events();
    assert!(
        count(&events, "login_failed") >= 7,
        "5, then one per window: {events:?}"
    );
    assert!(count(&events, "login_throttled") >= 4);
    assert_eq!(
        count(&events, "login_failed") + count(&events, "login_throttled"),
        events
            .iter()
            .filter(|e| e["event"].as_str().is_some_and(|e| e.starts_with("login")))
            .count()
    );

    // A correct password after the window logs in and clears the count: five checks again.
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(100)).await;
    tokens_of(&app.login("johndoe", PASSWORD).await);
    fail_until_refused(&app, "johndoe").await;
}

#[tokio::test]
async fn abuse_state_past_its_retention_is_forgotten_on_both_stores() {
    // Five failures; then the clock jumps past the two-day retention. DynamoDB deletes expired
    // items only eventually (often days later), so the item is still there: it must count as
    // absent, as SQLite's pruning makes it. Without that, the next failure would be the sixth
    // and lock at once.
    let app = Server::start().await;
    app.register("johndoe", "john@example.com", PASSWORD).await;
    for _ in 0..5 {
        app.login("john@example.com", "wrong-password")
            .await
            .assert_detail(401, BAD_LOGIN);
    }
    let later =
        (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let app = app.restart_with("UCONTACT_FAKE_NOW", &later).await;
    // Five failures again before the first refusal, as for a fresh identifier.
    fail_until_refused(&app, "john@example.com").await;
    // The address's send state expired too: a new email goes out and is counted afresh.
    let before = app.emails_to("john@example.com").await.len();
    let answer = app
        .post_json("/api/auth/request_email", json!({"email": "john@example.com"}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(app.emails_to("john@example.com").await.len(), before + 1);
}

#[tokio::test]
async fn unknown_identifiers_back_off_exactly_like_known_ones() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let mut refusals = Vec::new();
    for identifier in ["johndoe", "nobody", "john@example.com", "nobody@example.com"] {
        let refused = fail_until_refused(&app, identifier).await;
        retry_after(&refused);
        refusals.push(refused);
    }
    // The same answer whether the account exists; only the wait can differ, by timing.
    let without_wait = |answer: &Answer| {
        let mut answer = answer.clone();
        answer.headers.remove("retry-after");
        answer
    };
    for refused in &refusals[1..] {
        assert_same_answer(&without_wait(&refusals[0]), &without_wait(refused));
    }
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_gets_only_threshold_password_checks() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let started = Instant::now();
    let answers = join_all((0..50).map(|_| app.login("johndoe", "wrong-password"))).await;
    let elapsed = started.elapsed();
    let checked = answers.iter().filter(|a| a.status == 401).count();
    let refused = answers.iter().filter(|a| a.status == 429).count();
    assert_eq!(
        checked + refused,
        50,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    // After the 5th attempt the windows are 1 s, 2 s, 4 s...: within `elapsed`, at most
    // floor(log2(elapsed + 1)) more attempts can have been let through.
    let by_windows = (elapsed.as_secs_f64() + 1.0).log2().floor() as usize;
    assert!(
        (5..=5 + by_windows).contains(&checked),
        "{checked} password checks in {elapsed:?} (bound {})",
        5 + by_windows
    );
    // Each password check is one login_failed event; each refusal one login_throttled.
    let events = app.audit_events();
    assert_eq!(count(&events, "login_failed"), checked);
    assert_eq!(count(&events, "login_throttled"), refused);
    eprintln!(
        "burst of 50 parallel wrong guesses: {checked} password checks, {refused} answered 429, in {elapsed:?}"
    );
}

#[tokio::test]
async fn emails_to_one_address_are_spaced_and_the_answers_do_not_tell() {
    // The default spacing: 60 s between two emails to one address.
    let app = Server::start_with(Settings::default().with("EMAIL_THROTTLE_SECONDS", "60")).await;
    assert_eq!(
        app.register("johndoe", "john@example.com", PASSWORD).await.status,
        201
    );
    for path in ["/api/auth/reset-password", "/api/auth/request_email"] {
        // The registration email counts: this one is throttled...
        let throttled = app.post_json(path, json!({"email": "john@example.com"})).await;
        // ...and answers exactly like an address nobody has.
        let unknown = app.post_json(path, json!({"email": "nobody@example.com"})).await;
        assert_eq!(throttled.status, 200, "{}", throttled.text);
        assert_same_answer(&throttled, &unknown);
    }
    assert_eq!(app.emails_to("john@example.com").await.len(), 1);
    let events = app.audit_events();
    let throttled: Vec<_> = events
        .iter()
        .filter(|e| e["outcome"] == "throttled")
        .map(|e| e["event"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        throttled,
        ["password_reset_requested", "verification_email_requested"]
    );
}

#[tokio::test]
async fn sent_and_throttled_emails_answer_alike_and_each_day_has_a_limit() {
    // Spacing is counted in whole seconds: 2 s, so that "at once" never straddles it.
    let settings = Settings::default()
        .with("EMAIL_THROTTLE_SECONDS", "2")
        .with("EMAIL_DAILY_LIMIT", "3");
    let app = Server::start_with(settings).await;
    app.register("johndoe", "john@example.com", PASSWORD).await; // email 1
    let reset = || app.post_json("/api/auth/reset-password", json!({"email": "john@example.com"}));
    let spacing = Duration::from_millis(2100);
    tokio::time::sleep(spacing).await;
    let sent = reset().await; // email 2
    let too_soon = reset().await; // within 2 s: throttled
    tokio::time::sleep(spacing).await;
    let sent_again = reset().await; // email 3
    tokio::time::sleep(spacing).await;
    let over_limit = reset().await; // the 4th today: throttled
    let unknown = app
        .post_json("/api/auth/reset-password", json!({"email": "nobody@example.com"}))
        .await;
    for answer in [&too_soon, &sent_again, &over_limit, &unknown] {
        assert_same_answer(&sent, answer);
    }
    let emails = app.emails_to("john@example.com").await;
    let subjects: Vec<_> = emails.iter().map(|e| e.subject.as_str()).collect();
    assert_eq!(subjects.len(), 3, "{subjects:?}");
    assert_eq!(
        emails
            .iter()
            .filter(|e| e.link(&app.url("/auth/reset-password/")).is_some())
            .count(),
        2
    );
}

#[tokio::test]
async fn registration_refuses_common_passwords_and_the_username_email_or_local_part() {
    let app = Server::start().await;
    for (username, email, password, says) in [
        ("johndoe", "john@example.com", "password1", "too common"),
        ("johndoe", "john@example.com", "QwertyUIOP", "too common"),
        ("johndoe", "john@example.com", "iloveyou1", "too common"),
        ("john_smith_77", "john@example.com", "John_Smith_77", "username"),
        (
            "johndoe",
            "jane.doe.1980@example.com",
            "Jane.Doe.1980",
            "local part",
        ),
        (
            "johndoe",
            "jane.doe.1980@example.com",
            "Jane.Doe.1980@Example.com",
            "email address",
        ),
    ] {
        let answer = app.register(username, email, password).await;
        answer.assert_422_on("password");
        let issue = &answer.json()["detail"][0];
        assert_eq!(issue["loc"], json!(["body", "password"]), "{}", answer.text);
        assert!(
            issue["msg"].as_str().unwrap_or_default().contains(says),
            "{}",
            answer.text
        );
        assert!(
            !answer.text.contains(password),
            "the password is echoed: {}",
            answer.text
        );
    }
    // Nothing was created: the same names register with a sound password.
    assert_eq!(
        app.register("johndoe", "john@example.com", PASSWORD).await.status,
        201
    );
}

#[tokio::test]
async fn set_password_refuses_weak_passwords_and_the_link_still_works() {
    let app = Server::start().await;
    app.verified_user("john_smith_77", "john@example.com").await;
    app.post_json("/api/auth/reset-password", json!({"email": "john@example.com"}))
        .await;
    let token = app.reset_token("john@example.com").await;
    let set = |password: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            app.post_form(
                "/api/auth/set-password",
                &[
                    ("token", token.as_str()),
                    ("password", password),
                    ("confirm_password", password),
                ],
            )
            .await
        }
    };
    set("sunshine1").await.assert_422_on("password");
    set("JOHN_SMITH_77").await.assert_422_on("password");
    set("JOHN").await.assert_422_on("password"); // too short, as before
    // The refusals did not spend the link, nor change the password.
    tokens_of(&app.login("john_smith_77", PASSWORD).await);
    assert_eq!(set("a-new-and-uncommon-passphrase").await.status, 200);
    tokens_of(&app.login("john_smith_77", "a-new-and-uncommon-passphrase").await);
}

#[tokio::test]
async fn every_auth_event_is_audited_with_its_caller_and_no_secret_is_logged() {
    let app = Server::start().await;
    let user = app.verified_user("johndoe", "john@example.com").await;
    let verification = app.verification_token("john@example.com").await;
    app.login("johndoe", "a-wrong-password-attempt").await;
    let tokens = app.tokens("johndoe").await;
    let rotated = tokens_of(&app.refresh(&tokens.refresh).await);
    app.refresh(&tokens.refresh).await; // reuse: the session is revoked
    app.post_json("/api/auth/reset-password", json!({"email": "john@example.com"}))
        .await;
    // Each request's job records its event: one at a time, for the order below.
    app.settle().await;
    app.post_json("/api/auth/reset-password", json!({"email": "nobody@example.com"}))
        .await;
    let reset = app.reset_token("john@example.com").await;
    let new_password = "the-next-passphrase";
    app.post_form(
        "/api/auth/set-password",
        &[
            ("token", &reset),
            ("password", new_password),
            ("confirm_password", new_password),
        ],
    )
    .await;
    let fresh = tokens_of(&app.login("johndoe", new_password).await);
    // Everywhere first: a token of a session that has ended cannot log out everywhere.
    app.post_with_token("/api/auth/logout-all", &fresh.access).await;
    app.post_json("/api/auth/logout", json!({"refresh_token": fresh.refresh}))
        .await;
    app.post_json("/api/auth/request_email", json!({"email": "john@example.com"}))
        .await;

    let events = app.audit_events();
    let seen: Vec<(&str, &str, Option<&str>)> = events
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap_or("?"),
                e["outcome"].as_str().unwrap_or("?"),
                e["reason"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("user_registered", "success", None),
            ("email_verified", "success", None),
            ("login_failed", "failure", Some("wrong_password")),
            ("login_succeeded", "success", None),
            ("refresh_rotated", "success", None),
            ("refresh_reuse_detected", "failure", Some("session_revoked")),
            ("password_reset_requested", "success", None),
            ("password_reset_requested", "skipped", Some("unknown_address")),
            ("password_reset_completed", "success", None),
            ("password_changed", "success", Some("password_reset")),
            ("login_succeeded", "success", None),
            ("logged_out_everywhere", "success", None),
            ("logged_out", "success", None),
            (
                "verification_email_requested",
                "skipped",
                Some("already_verified")
            ),
        ]
    );
    let user_id = &user["id"];
    for event in &events {
        let unknown_address = event["reason"] == "unknown_address";
        assert_eq!(
            &event["user_id"],
            if unknown_address { &Value::Null } else { user_id },
            "{event}"
        );
        assert_eq!(event["source_ip"], "127.0.0.1", "{event}");
        assert_eq!(event["user_agent"], USER_AGENT, "{event}");
        assert!(
            event["request_id"].as_str().is_some_and(|id| id.len() >= 16),
            "{event}"
        );
    }
    // One request id per request: only set-password logs two events under one id.
    let mut ids: Vec<_> = events.iter().map(|e| e["request_id"].as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len() - 1);

    let log = app.log();
    // The private keys and the abuse-state hash key, where this backend keeps them in files.
    let mut keys = Vec::new();
    let dir = app.data_dir().join("keys");
    for purpose in ["session", "link"] {
        if let Ok(text) = std::fs::read_to_string(dir.join(format!("{purpose}.json"))) {
            let set: Value = serde_json::from_str(&text).expect("a key set");
            for key in set["keys"].as_array().expect("keys") {
                keys.push(key["private_key"].as_str().expect("a private key").to_owned());
            }
        }
    }
    if let Ok(text) = std::fs::read_to_string(dir.join("abuse_hash_key")) {
        keys.push(text.trim().to_owned());
    }
    for key in &keys {
        assert!(!log.contains(key.as_str()), "a private key is in the log");
    }
    for secret in [
        PASSWORD,
        "a-wrong-password-attempt",
        new_password,
        &tokens.access,
        &tokens.refresh,
        &rotated.refresh,
        &fresh.access,
        &verification,
        &reset,
        "$2b$",
    ] {
        assert!(!log.contains(secret), "{secret} is in the log");
    }
}
