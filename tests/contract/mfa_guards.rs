//! What guards second factors (docs/API.md, "Second factors"): the login backoff that wrong codes
//! count against, a password reset that leaves TOTP on, ended sessions and missing tokens, and the
//! audit trail. The flows themselves are in mfa.rs, the races in mfa_races.rs.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use ucontact_tests::{Authenticator, PASSWORD, Server, Settings, tokens_of};

use super::mfa::*;
use crate::abuse::retry_after;
use crate::account::{
    BAD_LOGIN, BAD_REFRESH, INVALID_CREDENTIALS, NEW_PASSWORD, assert_401, back_off, request_reset,
    set_password,
};

#[tokio::test]
async fn wrong_codes_at_login_and_on_totp_disable_count_against_the_login_backoff() {
    let app = Server::start_with(Settings::default().with("LOGIN_BACKOFF_THRESHOLD", "2")).await;
    let mut user = enrolled(&app, "johndoe").await;
    let access = user.tokens.access.clone();
    let wrong = user.authenticator.wrong_code();

    // One wrong code on totp-disable, then login's: both count for the username.
    totp_disable(&app, &access, PASSWORD, Some(&wrong))
        .await
        .assert_detail(400, INVALID_CODE);
    back_off(1, 401, INVALID_CODE, || {
        login_otp(&app, "johndoe", PASSWORD, Some(&wrong))
    })
    .await;
    // Inside the window nothing checks a password or a code, right as they are.
    let code = user.authenticator.next_code().await;
    retry_after(&login_otp(&app, "johndoe", PASSWORD, Some(&code)).await);
    retry_after(&login_otp(&app, "johndoe", PASSWORD, Some(&user.recovery_codes[0])).await);
    let wait = retry_after(&totp_disable(&app, &access, PASSWORD, Some(&code)).await);

    // After the window the right code logs in (the refusals changed nothing)...
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(100)).await;
    let code = user.authenticator.next_code().await;
    let fresh = tokens_of(&login_otp(&app, "johndoe", PASSWORD, Some(&code)).await);
    assert_eq!(amr(&fresh.access), json!(["pwd", "otp"]));
    assert_eq!(mfa_status(&app, &fresh.access).await, status(true, 10));
    // ...and clears the count: the threshold's two checks again before any refusal.
    for _ in 0..2 {
        login_otp(&app, "johndoe", PASSWORD, Some(&wrong))
            .await
            .assert_detail(401, INVALID_CODE);
    }
}

#[tokio::test]
async fn wrong_codes_at_totp_confirm_count_against_the_login_backoff() {
    let app = Server::start_with(Settings::default().with("LOGIN_BACKOFF_THRESHOLD", "2")).await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    let secret = secret_of(
        &totp_setup(&app, &tokens.access, PASSWORD).await,
        ISSUER,
        "johndoe",
    );
    let mut phone = Authenticator::new(&secret);
    let wrong = phone.wrong_code();

    back_off(2, 400, INVALID_CODE, || {
        totp_confirm(&app, &tokens.access, &wrong)
    })
    .await;
    // Inside the window the right code confirms nothing, and the username's logins are refused.
    let code = phone.next_code().await;
    retry_after(&totp_confirm(&app, &tokens.access, &code).await);
    let wait = retry_after(&app.login("johndoe", PASSWORD).await);
    assert_eq!(mfa_status(&app, &tokens.access).await, status(false, 0));

    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(100)).await;
    let code = phone.next_code().await;
    recovery_codes_of(&totp_confirm(&app, &tokens.access, &code).await);
    assert_eq!(mfa_status(&app, &tokens.access).await, status(true, 10));
}

// ---------------------------------------------------------------------------------------------
// A password reset, ended sessions

#[tokio::test]
async fn a_password_reset_by_email_leaves_totp_on() {
    let app = Server::start().await;
    let mut user = enrolled(&app, "johndoe").await;

    let token = request_reset(&app, &user.email).await;
    let answer = set_password(&app, &token, NEW_PASSWORD).await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({ "message": "Password successfully updated" }))
    );
    // Every session ended, as a reset does; the second factor did not.
    app.refresh(&user.tokens.refresh)
        .await
        .assert_detail(401, BAD_REFRESH);
    assert_401(
        &app.login(&user.username, PASSWORD).await,
        BAD_LOGIN,
        "the old password",
    );
    assert_401(
        &app.login(&user.username, NEW_PASSWORD).await,
        CODE_REQUIRED,
        "the new password alone",
    );
    let code = user.authenticator.next_code().await;
    let fresh = tokens_of(&login_otp(&app, &user.username, NEW_PASSWORD, Some(&code)).await);
    assert_eq!(amr(&fresh.access), json!(["pwd", "otp"]));
    assert_eq!(mfa_status(&app, &fresh.access).await, status(true, 10));
    tokens_of(&login_otp(&app, &user.username, NEW_PASSWORD, Some(&user.recovery_codes[0])).await);
}

#[tokio::test]
async fn a_token_of_a_logged_out_session_manages_no_second_factor() {
    let app = Server::start().await;
    let mut user = enrolled(&app, "johndoe").await;
    let ended = user.tokens.access.clone();
    let answer = app
        .post_json(
            "/api/auth/logout",
            json!({ "refresh_token": user.tokens.refresh }),
        )
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text);
    let code = user.authenticator.next_code().await;
    let live = tokens_of(&login_otp(&app, "johndoe", PASSWORD, Some(&code)).await);

    // Each with a body a live session would have had answered otherwise (a 200, or 409: on).
    let code = user.authenticator.next_code().await;
    let recovery = user.recovery_codes[0].as_str();
    let answers = [
        ("GET mfa", app.get_with_token(MFA, &ended).await),
        ("POST totp", totp_setup(&app, &ended, PASSWORD).await),
        ("POST totp/confirm", totp_confirm(&app, &ended, &code).await),
        (
            "DELETE totp",
            totp_disable(&app, &ended, PASSWORD, Some(&code)).await,
        ),
        (
            "POST recovery-codes",
            new_recovery_codes(&app, &ended, PASSWORD, Some(recovery)).await,
        ),
        // The passkey routes of the account too (each would have answered a live session: 200,
        // 400 for the made-up answer, 404 for the unknown id).
        (
            "POST passkeys/options",
            app.post_with_token("/api/users/me/passkeys/options", &ended)
                .await,
        ),
        (
            "POST passkeys",
            app.send(
                app.client()
                    .post(app.url("/api/users/me/passkeys"))
                    .bearer_auth(&ended)
                    .json(&json!({"challenge_token": "0".repeat(32), "credential": {}, "code": code})),
            )
            .await,
        ),
        (
            "GET passkeys",
            app.get_with_token("/api/users/me/passkeys", &ended).await,
        ),
        (
            "DELETE passkeys/{id}",
            app.send(
                app.client()
                    .delete(app.url(&format!("/api/users/me/passkeys/{}", "0".repeat(32))))
                    .bearer_auth(&ended),
            )
            .await,
        ),
    ];
    let failures: Vec<String> = answers
        .iter()
        .filter(|(_, answer)| !is_refusal(answer, INVALID_CREDENTIALS))
        .map(|(route, answer)| format!("{route} answered {} {}", answer.status, answer.text))
        .collect();
    assert!(
        failures.is_empty(),
        "the access token of the logged-out session was taken:\n{}",
        failures.join("\n")
    );
    // Nothing changed: on, the recovery codes the same (the one sent still good), no notice.
    assert_eq!(mfa_status(&app, &live.access).await, status(true, 10));
    tokens_of(&login_otp(&app, "johndoe", PASSWORD, Some(recovery)).await);
    assert_eq!(turned_off_notices(&app, &user.email).await, 0);
}

#[tokio::test]
async fn the_mfa_routes_need_an_access_token() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    let routes = |token: Option<&str>| {
        let password = json!({ "password": PASSWORD });
        let password_and_code = json!({ "password": PASSWORD, "code": "123456" });
        [
            (Method::GET, MFA, None),
            (Method::POST, TOTP, Some(password)),
            (Method::POST, TOTP_CONFIRM, Some(json!({ "code": "123456" }))),
            (Method::DELETE, TOTP, Some(password_and_code.clone())),
            (Method::POST, RECOVERY_CODES, Some(password_and_code)),
        ]
        .into_iter()
        .map(|(method, path, body)| {
            let label = format!("{method} {path}");
            let mut request = app.client().request(method, app.url(path));
            if let Some(body) = body {
                request = request.json(&body);
            }
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            (label, request)
        })
        .collect::<Vec<_>>()
    };
    for (route, request) in routes(None) {
        assert_401(&app.send(request).await, NOT_AUTHENTICATED, &route);
    }
    for token in [tokens.refresh.as_str(), "garbage"] {
        for (route, request) in routes(Some(token)) {
            assert_401(&app.send(request).await, INVALID_CREDENTIALS, &route);
        }
    }
    assert_eq!(mfa_status(&app, &tokens.access).await, status(false, 0));
}

#[tokio::test]
async fn second_factor_events_are_audited_and_no_secret_or_code_reaches_the_log() {
    let app = Server::start().await;
    app.verified_user("auditee", "auditee@example.com").await;
    let tokens = app.tokens("auditee").await;
    let secret = secret_of(
        &totp_setup(&app, &tokens.access, PASSWORD).await,
        ISSUER,
        "auditee",
    );
    let mut authenticator = Authenticator::new(&secret);
    let code = authenticator.next_code().await;
    let recovery = recovery_codes_of(&totp_confirm(&app, &tokens.access, &code).await);
    let code = authenticator.next_code().await;
    tokens_of(&login_otp(&app, "auditee", PASSWORD, Some(&code)).await);
    tokens_of(&login_otp(&app, "auditee", PASSWORD, Some(&recovery[0])).await);
    let fresh =
        recovery_codes_of(&new_recovery_codes(&app, &tokens.access, PASSWORD, Some(&recovery[1])).await);
    let off = totp_disable(&app, &tokens.access, PASSWORD, Some(&fresh[0])).await;
    assert_eq!(off.status, 204, "{}", off.text);

    let events = app.audit_events();
    let succeeded = |name: &str| {
        events
            .iter()
            .filter(|e| e["event"] == name && e["outcome"] == "success")
            .count()
    };
    for name in [
        "mfa_setup_started",
        "mfa_enabled",
        "recovery_codes_regenerated",
        "mfa_disabled",
    ] {
        assert_eq!(succeeded(name), 1, "{name}: {events:#?}");
    }
    // The login's recovery code, the regeneration's and the disabling's.
    assert_eq!(succeeded("recovery_code_used"), 3, "{events:#?}");
    let logins: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "login_succeeded")
        .collect();
    assert_eq!(
        logins.iter().map(|e| e["amr"].clone()).collect::<Vec<_>>(),
        [json!("pwd"), json!("pwd otp"), json!("pwd otp")],
        "{logins:#?}"
    );
    let log = app.log();
    assert!(!log.contains(&secret), "the TOTP secret is in the log");
    for code in recovery.iter().chain(&fresh) {
        assert!(
            !log.contains(code.as_str()) && !log.contains(&code.replace('-', "")),
            "a recovery code is in the log"
        );
    }
}

#[tokio::test]
async fn a_login_by_email_gets_no_more_code_guesses_than_the_username_allows() {
    let app = Server::start_with(Settings::default().with("LOGIN_BACKOFF_THRESHOLD", "2")).await;
    let mut user = enrolled(&app, "johndoe").await;
    let wrong = user.authenticator.wrong_code();
    // Two wrong codes by username reach the threshold.
    for _ in 0..2 {
        login_otp(&app, "johndoe", PASSWORD, Some(&wrong))
            .await
            .assert_detail(401, INVALID_CODE);
    }
    // By email, the right password and the right code: the username's backoff holds it, so no
    // code is checked (else the email's own count would give two more guesses). A recovery
    // code: no wait for a new step, which could outlast the short window.
    let recovery = &user.recovery_codes[1];
    let wait = retry_after(&login_otp(&app, &user.email, PASSWORD, Some(recovery)).await);

    // And the other way round: wrong codes by email count for the username.
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(100)).await;
    let code = user.authenticator.next_code().await;
    tokens_of(&login_otp(&app, "johndoe", PASSWORD, Some(&code)).await);
    // One wrong code by email and one by username: two for the username, its threshold.
    login_otp(&app, &user.email, PASSWORD, Some(&wrong))
        .await
        .assert_detail(401, INVALID_CODE);
    login_otp(&app, "johndoe", PASSWORD, Some(&wrong))
        .await
        .assert_detail(401, INVALID_CODE);
    // (A recovery code: the authenticator may wait for a new step, past the short window.)
    let recovery = &user.recovery_codes[0];
    retry_after(&login_otp(&app, "johndoe", PASSWORD, Some(recovery)).await);
}
