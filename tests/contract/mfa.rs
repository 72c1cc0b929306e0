//! Second factors, the TOTP part (docs/API.md, "Second factors and passkeys"): `mfa-status`,
//! turning TOTP on (`totp-setup`, then `totp-confirm` with a code), logins that then need `otp` (a
//! TOTP or a recovery code, each good once), `amr` in access tokens and in list-sessions, turning
//! it off, new recovery codes, the `code` that change-password, change-email and delete-account
//! then ask for, wrong codes counted by the login backoff, and tokens of ended sessions refused.
//! From outside the process, on whichever store `UCONTACT_TEST_BACKEND` names; the codes come
//! from the test's own authenticator (tests/support/totp.rs). The races are in mfa_races.rs.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};
use ucontact_tests::totp::base32_decode;
use ucontact_tests::{Answer, Authenticator, PASSWORD, Server, Settings, Tokens, tokens_of};

use crate::account::{BAD_LOGIN, INCORRECT, NEW_PASSWORD, assert_401, list_sessions, me};

pub(crate) const MFA: &str = "/api/users/me/mfa";
pub(crate) const TOTP: &str = "/api/users/me/mfa/totp";
pub(crate) const TOTP_CONFIRM: &str = "/api/users/me/mfa/totp/confirm";
pub(crate) const RECOVERY_CODES: &str = "/api/users/me/mfa/recovery-codes";
pub(crate) const CODE_REQUIRED: &str = "Two-factor code required";
pub(crate) const INVALID_CODE: &str = "Invalid two-factor code";
pub(crate) const ALREADY_ON: &str = "Two-factor authentication is already on";
pub(crate) const OFF: &str = "Two-factor authentication is off";
/// The subject of the notice that `totp-disable` sends.
pub(crate) const TURNED_OFF: &str = "Two-factor authentication was turned off";
pub(crate) const NOT_AUTHENTICATED: &str = "Not authenticated";
/// `MFA_ISSUER`'s default.
pub(crate) const ISSUER: &str = "UContact";

/// Settings for tests whose subject is wrong codes, not abuse: no backoff gets in their way.
pub(crate) fn forgiving() -> Settings {
    Settings::default().with("LOGIN_BACKOFF_THRESHOLD", "100")
}

// ---------------------------------------------------------------------------------------------
// Requests

/// A request with Bearer `access` and a JSON body.
pub(crate) async fn bearer_json(
    app: &Server,
    method: Method,
    path: &str,
    access: &str,
    body: Value,
) -> Answer {
    app.send(
        app.client()
            .request(method, app.url(path))
            .bearer_auth(access)
            .json(&body),
    )
    .await
}

/// `body` with the field `code` when there is one.
pub(crate) fn with_code(mut body: Value, code: Option<&str>) -> Value {
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    body
}

/// `GET /api/users/me/mfa`, asserting a 200.
pub(crate) async fn mfa_status(app: &Server, access: &str) -> Value {
    let answer = app.get_with_token(MFA, access).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()
}

/// What `mfa-status` answers for a user without passkeys.
pub(crate) fn status(totp: bool, recovery_codes_left: u64) -> Value {
    json!({ "totp": totp, "recovery_codes_left": recovery_codes_left, "passkeys": 0 })
}

pub(crate) async fn totp_setup(app: &Server, access: &str, password: &str) -> Answer {
    bearer_json(app, Method::POST, TOTP, access, json!({ "password": password })).await
}

pub(crate) async fn totp_confirm(app: &Server, access: &str, code: &str) -> Answer {
    bearer_json(app, Method::POST, TOTP_CONFIRM, access, json!({ "code": code })).await
}

pub(crate) async fn totp_disable(app: &Server, access: &str, password: &str, code: Option<&str>) -> Answer {
    let body = with_code(json!({ "password": password }), code);
    bearer_json(app, Method::DELETE, TOTP, access, body).await
}

pub(crate) async fn new_recovery_codes(
    app: &Server,
    access: &str,
    password: &str,
    code: Option<&str>,
) -> Answer {
    let body = with_code(json!({ "password": password }), code);
    bearer_json(app, Method::POST, RECOVERY_CODES, access, body).await
}

/// A login with the form field `otp` when there is one.
pub(crate) async fn login_otp(app: &Server, username: &str, password: &str, otp: Option<&str>) -> Answer {
    let mut form = vec![("username", username), ("password", password)];
    if let Some(otp) = otp {
        form.push(("otp", otp));
    }
    app.post_form("/api/auth/login", &form).await
}

pub(crate) async fn change_password_with(
    app: &Server,
    access: &str,
    current: &str,
    new: &str,
    code: Option<&str>,
) -> Answer {
    let body = with_code(json!({ "current_password": current, "new_password": new }), code);
    bearer_json(app, Method::POST, "/api/users/me/password", access, body).await
}

pub(crate) async fn change_email_with(
    app: &Server,
    access: &str,
    new_email: &str,
    password: &str,
    code: Option<&str>,
) -> Answer {
    let body = with_code(json!({ "new_email": new_email, "password": password }), code);
    bearer_json(app, Method::POST, "/api/users/me/email", access, body).await
}

pub(crate) async fn delete_account_with(
    app: &Server,
    access: &str,
    password: &str,
    code: Option<&str>,
) -> Answer {
    let body = with_code(json!({ "password": password }), code);
    bearer_json(app, Method::DELETE, "/api/users/me", access, body).await
}

/// How many "two-factor authentication was turned off" notices went to `email`.
pub(crate) async fn turned_off_notices(app: &Server, email: &str) -> usize {
    app.emails_to(email)
        .await
        .iter()
        .filter(|e| e.subject == TURNED_OFF)
        .count()
}

/// A verified user who turned TOTP on, as the first part of every test here does it.
pub(crate) struct Enrolled {
    pub username: String,
    pub email: String,
    /// The session TOTP was turned on from: a password login (`amr` `["pwd"]`).
    pub tokens: Tokens,
    /// The user's authenticator app; the step of the code that confirmed the setup is spent.
    pub authenticator: Authenticator,
    /// The ten recovery codes `totp-confirm` answered.
    pub recovery_codes: Vec<String>,
}

/// Registers and verifies `username` (at `<username>@example.com`), logs in, sets TOTP up and
/// confirms it with a code, asserting each answer.
pub(crate) async fn enrolled(app: &Server, username: &str) -> Enrolled {
    let email = format!("{username}@example.com");
    app.verified_user(username, &email).await;
    let tokens = app.tokens(username).await;
    let secret = secret_of(&totp_setup(app, &tokens.access, PASSWORD).await, ISSUER, username);
    let mut authenticator = Authenticator::new(&secret);
    let code = authenticator.next_code().await;
    let recovery_codes = recovery_codes_of(&totp_confirm(app, &tokens.access, &code).await);
    Enrolled {
        username: username.to_owned(),
        email,
        tokens,
        authenticator,
        recovery_codes,
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

/// The secret of a `totp-setup` answer, after checking it: a 200 with exactly `secret` (RFC 4648
/// base32, uppercase, no padding: 32 characters, 20 bytes) and `otpauth_uri` (the key URI an
/// authenticator app scans, naming `issuer` and `username`).
#[track_caller]
pub(crate) fn secret_of(answer: &Answer, issuer: &str, username: &str) -> String {
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    let keys: BTreeSet<&str> = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"))
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["secret", "otpauth_uri"]), "{body}");
    let secret = body["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no secret: {body}"));
    assert!(
        secret.len() == 32
            && secret
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)),
        "not 32 characters of uppercase base32: {secret:?}"
    );
    assert_eq!(base32_decode(secret).map(|key| key.len()), Some(20), "{secret}");
    assert_eq!(
        body["otpauth_uri"],
        format!(
            "otpauth://totp/{issuer}:{username}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits=6&period=30"
        ),
        "{body}"
    );
    secret.to_owned()
}

/// Whether `code` is shaped as the contract's recovery codes: `xxxx-xxxx-xxxx` of lowercase
/// base32 (`a-z`, `2-7`).
pub(crate) fn recovery_code_shaped(code: &str) -> bool {
    let groups: Vec<&str> = code.split('-').collect();
    groups.len() == 3
        && groups.iter().all(|group| {
            group.len() == 4
                && group
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        })
}

/// The recovery codes of a `totp-confirm` or `recovery-codes` answer, after checking it: a 200
/// with exactly `recovery_codes`, ten different codes of the contract's shape.
#[track_caller]
pub(crate) fn recovery_codes_of(answer: &Answer) -> Vec<String> {
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
    let codes: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap_or_else(|| panic!("no recovery_codes list: {body}"))
        .iter()
        .map(|code| {
            code.as_str()
                .unwrap_or_else(|| panic!("not a string: {code}"))
                .to_owned()
        })
        .collect();
    assert_eq!(codes.len(), 10, "{body}");
    for code in &codes {
        assert!(
            recovery_code_shaped(code),
            "not xxxx-xxxx-xxxx of lowercase base32: {code:?}"
        );
    }
    assert_eq!(
        codes.iter().collect::<BTreeSet<_>>().len(),
        10,
        "not all different: {codes:?}"
    );
    codes
}

/// The claims of a JWT, unverified (the signature is other tests' business).
pub(crate) fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

/// The `amr` claim of an access token.
pub(crate) fn amr(token: &str) -> Value {
    claims(token)["amr"].clone()
}

/// The `amr` that list-sessions shows for the session of `access` (by its `sid`).
#[track_caller]
pub(crate) fn listed_amr(sessions: &[Value], access: &str) -> Value {
    let sid = claims(access)["sid"].clone();
    sessions
        .iter()
        .find(|s| s["id"] == sid)
        .unwrap_or_else(|| panic!("session {sid} is not listed: {sessions:?}"))["amr"]
        .clone()
}

/// Whether the answer is the contract's 401 for a refused access token.
pub(crate) fn is_refusal(answer: &Answer, detail: &str) -> bool {
    answer.status == 401
        && serde_json::from_str::<Value>(&answer.text).ok() == Some(json!({ "detail": detail }))
        && answer.header("www-authenticate") == Some("Bearer")
}

// ---------------------------------------------------------------------------------------------
// Turning TOTP on, and logging in with it

#[tokio::test]
async fn totp_turns_on_with_a_confirmed_code_and_then_login_needs_a_second_factor() {
    let app = Server::start_with(forgiving()).await;
    let user = app.verified_user("johndoe", "john@example.com").await;
    let before = app.tokens("johndoe").await;
    assert_eq!(amr(&before.access), json!(["pwd"]));
    assert_eq!(mfa_status(&app, &before.access).await, status(false, 0));

    // Set up, not yet on: the status and the login are as before.
    let secret = secret_of(
        &totp_setup(&app, &before.access, PASSWORD).await,
        ISSUER,
        "johndoe",
    );
    assert_eq!(mfa_status(&app, &before.access).await, status(false, 0));
    let pending = tokens_of(&app.login("johndoe", PASSWORD).await);
    assert_eq!(amr(&pending.access), json!(["pwd"]));

    // A code of the secret turns it on and answers the recovery codes.
    let mut phone = Authenticator::new(&secret);
    let code = phone.next_code().await;
    let recovery = recovery_codes_of(&totp_confirm(&app, &before.access, &code).await);
    assert_eq!(mfa_status(&app, &before.access).await, status(true, 10));

    // Now the password alone is not enough, nor a wrong code.
    assert_401(&app.login("johndoe", PASSWORD).await, CODE_REQUIRED, "no otp");
    let wrong = login_otp(&app, "johndoe", PASSWORD, Some(&phone.wrong_code())).await;
    assert_401(&wrong, INVALID_CODE, "a wrong otp");
    // A wrong password answers as before whatever comes with it, and spends no code: the
    // password is checked first.
    let code = phone.next_code().await;
    for otp in [None, Some(code.as_str()), Some(recovery[0].as_str())] {
        let answer = login_otp(&app, "johndoe", "not-my-password", otp).await;
        assert_401(&answer, BAD_LOGIN, &format!("a wrong password with {otp:?}"));
    }

    // The password and the authenticator's code log in, with both methods in `amr`.
    let with_totp = tokens_of(&login_otp(&app, "johndoe", PASSWORD, Some(&code)).await);
    assert_eq!(amr(&with_totp.access), json!(["pwd", "otp"]));
    assert_eq!(me(&app, &with_totp.access).await["id"], user["id"]);
    // A refresh keeps each session's own `amr`, and list-sessions shows it.
    let refreshed = tokens_of(&app.refresh(&with_totp.refresh).await);
    assert_eq!(amr(&refreshed.access), json!(["pwd", "otp"]));
    let before = tokens_of(&app.refresh(&before.refresh).await);
    assert_eq!(amr(&before.access), json!(["pwd"]));
    let listed = list_sessions(&app, &refreshed.access).await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(listed_amr(&listed, &refreshed.access), json!(["pwd", "otp"]));
    assert_eq!(listed_amr(&listed, &before.access), json!(["pwd"]));
    assert_eq!(listed_amr(&listed, &pending.access), json!(["pwd"]));

    // A recovery code logs in once (by the email here), then it is spent.
    let by_recovery = tokens_of(&login_otp(&app, "john@example.com", PASSWORD, Some(&recovery[0])).await);
    assert_eq!(amr(&by_recovery.access), json!(["pwd", "otp"]));
    let again = login_otp(&app, "johndoe", PASSWORD, Some(&recovery[0])).await;
    assert_401(&again, INVALID_CODE, "a spent recovery code");
    assert_eq!(mfa_status(&app, &by_recovery.access).await, status(true, 9));
}

#[tokio::test]
async fn a_totp_code_logs_in_once_and_the_next_steps_code_at_once() {
    let app = Server::start().await;
    let mut user = enrolled(&app, "johndoe").await;
    let phone = &mut user.authenticator;

    // The code that turned TOTP on is spent.
    let confirmed = phone.code_at(phone.last_step().expect("the confirmation's step"));
    let answer = login_otp(&app, "johndoe", PASSWORD, Some(&confirmed)).await;
    assert_401(&answer, INVALID_CODE, "the code of the confirmation");

    let code = phone.next_code().await;
    let first = tokens_of(&login_otp(&app, "johndoe", PASSWORD, Some(&code)).await);
    assert_eq!(amr(&first.access), json!(["pwd", "otp"]));
    let replayed = login_otp(&app, "johndoe", PASSWORD, Some(&code)).await;
    assert_401(&replayed, INVALID_CODE, "the same code again");
    // The code of the step after it is good, however soon it comes.
    let next = phone.next_code().await;
    tokens_of(&login_otp(&app, "johndoe", PASSWORD, Some(&next)).await);
    let replayed = login_otp(&app, "johndoe", PASSWORD, Some(&next)).await;
    assert_401(&replayed, INVALID_CODE, "the next code again");
}

#[tokio::test]
async fn recovery_codes_are_good_once_in_any_case_with_or_without_hyphens() {
    let app = Server::start_with(forgiving()).await;
    let user = enrolled(&app, "johndoe").await;
    let codes = &user.recovery_codes;
    let spellings = [
        codes[0].to_uppercase(),
        codes[1].replace('-', ""),
        codes[2].to_uppercase().replace('-', ""),
    ];
    for (i, spelling) in spellings.iter().enumerate() {
        let tokens = tokens_of(&login_otp(&app, "johndoe", PASSWORD, Some(spelling)).await);
        assert_eq!(amr(&tokens.access), json!(["pwd", "otp"]));
        // Spent, in every spelling.
        for again in [
            codes[i].clone(),
            codes[i].to_uppercase(),
            codes[i].replace('-', ""),
        ] {
            let answer = login_otp(&app, "johndoe", PASSWORD, Some(&again)).await;
            assert_401(&answer, INVALID_CODE, &format!("{again} after {spelling}"));
        }
    }
    assert_eq!(mfa_status(&app, &user.tokens.access).await, status(true, 7));
}

#[tokio::test]
async fn codes_not_of_six_digits_are_read_as_recovery_codes_and_wrong_ones_spend_nothing() {
    let app = Server::start_with(forgiving()).await;
    let mut user = enrolled(&app, "johndoe").await;
    let code = user.authenticator.next_code().await;
    let recovery = user.recovery_codes[0].clone();
    // The recovery code with its last character changed.
    let mut altered = recovery.clone();
    let last = altered.pop().expect("a character");
    altered.push(if last == 'a' { 'b' } else { 'a' });

    for wrong in [
        user.authenticator.wrong_code(),
        // The right code but for its length: a recovery code then, and no such one exists.
        code[..5].to_owned(),
        format!("{code}0"),
        format!("0{code}"),
        altered,
        recovery[..9].to_owned(),
        format!("{recovery}a"),
        "not a code".to_owned(),
    ] {
        let answer = login_otp(&app, "johndoe", PASSWORD, Some(&wrong)).await;
        assert_401(&answer, INVALID_CODE, &format!("otp {wrong:?}"));
    }
    // Neither the TOTP step nor the recovery code was spent.
    tokens_of(&login_otp(&app, "johndoe", PASSWORD, Some(&code)).await);
    tokens_of(&login_otp(&app, "johndoe", PASSWORD, Some(&recovery)).await);
    assert_eq!(mfa_status(&app, &user.tokens.access).await, status(true, 9));
}

#[tokio::test]
async fn the_otpauth_uri_names_the_configured_issuer() {
    let app = Server::start_with(Settings::default().with("MFA_ISSUER", "Acme")).await;
    app.verified_user("john.doe_77-x", "john@example.com").await;
    let tokens = app.tokens("john.doe_77-x").await;
    let secret = secret_of(
        &totp_setup(&app, &tokens.access, PASSWORD).await,
        "Acme",
        "john.doe_77-x",
    );
    let mut phone = Authenticator::new(&secret);
    let code = phone.next_code().await;
    recovery_codes_of(&totp_confirm(&app, &tokens.access, &code).await);
}

#[tokio::test]
async fn a_second_setup_replaces_the_pending_secret_and_once_on_setup_and_confirm_answer_409() {
    let app = Server::start_with(forgiving()).await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    let access = tokens.access.as_str();

    // Nothing set up: nothing to confirm.
    totp_confirm(&app, access, "123456")
        .await
        .assert_detail(400, INVALID_CODE);
    // A wrong or missing password sets nothing up.
    totp_setup(&app, access, "not-my-password")
        .await
        .assert_detail(400, INCORRECT);
    bearer_json(&app, Method::POST, TOTP, access, json!({}))
        .await
        .assert_422_on("password");

    let first = secret_of(&totp_setup(&app, access, PASSWORD).await, ISSUER, "johndoe");
    let second = secret_of(&totp_setup(&app, access, PASSWORD).await, ISSUER, "johndoe");
    assert_ne!(first, second, "a new setup makes a new secret");
    let mut replaced = Authenticator::new(&first);
    let mut phone = Authenticator::new(&second);
    // The replaced secret's codes confirm nothing.
    let stale = replaced.next_code().await;
    totp_confirm(&app, access, &stale)
        .await
        .assert_detail(400, INVALID_CODE);
    assert_eq!(mfa_status(&app, access).await, status(false, 0));
    tokens_of(&app.login("johndoe", PASSWORD).await);

    let code = phone.next_code().await;
    recovery_codes_of(&totp_confirm(&app, access, &code).await);
    assert_eq!(mfa_status(&app, access).await, status(true, 10));

    // On: neither a new setup nor another confirmation, right as the password and code are.
    totp_setup(&app, access, PASSWORD)
        .await
        .assert_detail(409, ALREADY_ON);
    let code = phone.next_code().await;
    totp_confirm(&app, access, &code)
        .await
        .assert_detail(409, ALREADY_ON);
    // The confirmed secret is the second: the first's codes log nobody in, the second's do.
    let stale = replaced.next_code().await;
    let answer = login_otp(&app, "johndoe", PASSWORD, Some(&stale)).await;
    assert_401(&answer, INVALID_CODE, "a code of the replaced secret");
    let code = phone.next_code().await;
    tokens_of(&login_otp(&app, "johndoe", PASSWORD, Some(&code)).await);
    assert_eq!(mfa_status(&app, access).await, status(true, 10));
}

// ---------------------------------------------------------------------------------------------
// Turning TOTP off, new recovery codes

#[tokio::test]
async fn turning_totp_off_takes_the_password_and_a_code_and_sends_a_notice_no_throttle_holds_back() {
    // The verification email was just sent: a notice that obeyed the spacing would be held back.
    let app = Server::start_with(forgiving().with("EMAIL_THROTTLE_SECONDS", "60")).await;
    let mut user = enrolled(&app, "johndoe").await;
    let access = user.tokens.access.clone();
    let code = user.authenticator.next_code().await;
    let wrong = user.authenticator.wrong_code();

    totp_disable(&app, &access, PASSWORD, None)
        .await
        .assert_detail(400, CODE_REQUIRED);
    totp_disable(&app, &access, PASSWORD, Some(&wrong))
        .await
        .assert_detail(400, INVALID_CODE);
    // The password first: a wrong one is refused whatever comes with it, and spends no code.
    for code in [None, Some(code.as_str()), Some(user.recovery_codes[0].as_str())] {
        totp_disable(&app, &access, "not-my-password", code)
            .await
            .assert_detail(400, INCORRECT);
    }
    bearer_json(&app, Method::DELETE, TOTP, &access, json!({ "code": code }))
        .await
        .assert_422_on("password");
    assert_eq!(mfa_status(&app, &access).await, status(true, 10));
    assert_eq!(turned_off_notices(&app, &user.email).await, 0);

    let answer = totp_disable(&app, &access, PASSWORD, Some(&code)).await;
    assert_eq!((answer.status, answer.text.as_str()), (204, ""));
    // Off, the recovery codes gone, a notice sent to the user; the password alone logs in.
    assert_eq!(mfa_status(&app, &access).await, status(false, 0));
    assert_eq!(turned_off_notices(&app, &user.email).await, 1);
    let after = tokens_of(&app.login("johndoe", PASSWORD).await);
    assert_eq!(amr(&after.access), json!(["pwd"]));
    let listed = list_sessions(&app, &after.access).await;
    assert_eq!(listed_amr(&listed, &after.access), json!(["pwd"]));

    // Off already.
    let code = user.authenticator.next_code().await;
    totp_disable(&app, &access, PASSWORD, Some(&code))
        .await
        .assert_detail(409, OFF);
    assert_eq!(turned_off_notices(&app, &user.email).await, 1);
}

#[tokio::test]
async fn new_recovery_codes_take_the_password_and_a_code_and_end_the_old_ones() {
    let app = Server::start_with(forgiving()).await;
    let mut user = enrolled(&app, "johndoe").await;
    let access = user.tokens.access.clone();
    let old = user.recovery_codes.clone();
    tokens_of(&login_otp(&app, "johndoe", PASSWORD, Some(&old[0])).await);
    assert_eq!(mfa_status(&app, &access).await, status(true, 9));

    let code = user.authenticator.next_code().await;
    new_recovery_codes(&app, &access, PASSWORD, None)
        .await
        .assert_detail(400, CODE_REQUIRED);
    new_recovery_codes(&app, &access, PASSWORD, Some(&user.authenticator.wrong_code()))
        .await
        .assert_detail(400, INVALID_CODE);
    new_recovery_codes(&app, &access, "not-my-password", Some(&code))
        .await
        .assert_detail(400, INCORRECT);
    assert_eq!(mfa_status(&app, &access).await, status(true, 9));

    // With a TOTP code: ten new ones, none of the old.
    let fresh = recovery_codes_of(&new_recovery_codes(&app, &access, PASSWORD, Some(&code)).await);
    assert!(fresh.iter().all(|c| !old.contains(c)), "{fresh:?} {old:?}");
    assert_eq!(mfa_status(&app, &access).await, status(true, 10));
    for dead in &old[1..4] {
        let answer = login_otp(&app, "johndoe", PASSWORD, Some(dead)).await;
        assert_401(&answer, INVALID_CODE, &format!("the old code {dead}"));
    }
    tokens_of(&login_otp(&app, "johndoe", PASSWORD, Some(&fresh[0])).await);
    assert_eq!(mfa_status(&app, &access).await, status(true, 9));

    // With a recovery code: it is spent like the rest of its set.
    let third = recovery_codes_of(&new_recovery_codes(&app, &access, PASSWORD, Some(&fresh[1])).await);
    assert_eq!(mfa_status(&app, &access).await, status(true, 10));
    for dead in [&fresh[1], &fresh[2]] {
        let answer = login_otp(&app, "johndoe", PASSWORD, Some(dead)).await;
        assert_401(&answer, INVALID_CODE, &format!("the replaced code {dead}"));
    }
    tokens_of(&login_otp(&app, "johndoe", PASSWORD, Some(&third[0])).await);

    // Without TOTP there are none to renew.
    app.verified_user("janedoe", "jane@example.com").await;
    let jane = app.tokens("janedoe").await;
    new_recovery_codes(&app, &jane.access, PASSWORD, Some("123456"))
        .await
        .assert_detail(409, OFF);
    assert_eq!(mfa_status(&app, &jane.access).await, status(false, 0));
}

// ---------------------------------------------------------------------------------------------
// The account routes with TOTP on

#[tokio::test]
async fn with_totp_on_change_password_change_email_and_delete_account_need_a_code() {
    let app = Server::start_with(forgiving()).await;
    let mut user = enrolled(&app, "johndoe").await;
    let wrong = user.authenticator.wrong_code();

    // change-password, with a TOTP code.
    let access = user.tokens.access.clone();
    let code = user.authenticator.next_code().await;
    let change = |password: &'static str, code: Option<String>| {
        let access = access.clone();
        let app = &app;
        async move { change_password_with(app, &access, password, NEW_PASSWORD, code.as_deref()).await }
    };
    change(PASSWORD, None).await.assert_detail(400, CODE_REQUIRED);
    change(PASSWORD, Some(wrong.clone()))
        .await
        .assert_detail(400, INVALID_CODE);
    change("not-my-password", None)
        .await
        .assert_detail(400, INCORRECT);
    change("not-my-password", Some(code.clone()))
        .await
        .assert_detail(400, INCORRECT);
    // Unchanged (a wrong password is refused before any code is asked).
    assert_401(
        &app.login("johndoe", NEW_PASSWORD).await,
        BAD_LOGIN,
        "the new password, too early",
    );
    let fresh = tokens_of(&change(PASSWORD, Some(code)).await);
    assert_401(
        &app.login("johndoe", PASSWORD).await,
        BAD_LOGIN,
        "the old password",
    );
    assert_401(
        &app.login("johndoe", NEW_PASSWORD).await,
        CODE_REQUIRED,
        "the new password, TOTP still on",
    );
    assert_eq!(mfa_status(&app, &fresh.access).await, status(true, 10));

    // change-email, with a recovery code.
    let new_email = "john.new@example.com";
    let recovery = user.recovery_codes[0].as_str();
    change_email_with(&app, &fresh.access, new_email, NEW_PASSWORD, None)
        .await
        .assert_detail(400, CODE_REQUIRED);
    change_email_with(&app, &fresh.access, new_email, NEW_PASSWORD, Some(&wrong))
        .await
        .assert_detail(400, INVALID_CODE);
    change_email_with(&app, &fresh.access, new_email, "not-my-password", Some(recovery))
        .await
        .assert_detail(400, INCORRECT);
    assert!(app.emails_to(new_email).await.is_empty());
    let answer = change_email_with(&app, &fresh.access, new_email, NEW_PASSWORD, Some(recovery)).await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            202,
            json!({ "message": "Check your new email for confirmation." })
        )
    );
    assert_eq!(app.emails_to(new_email).await.len(), 1);
    assert_eq!(mfa_status(&app, &fresh.access).await, status(true, 9));

    // delete-account, with a TOTP code.
    let code = user.authenticator.next_code().await;
    delete_account_with(&app, &fresh.access, NEW_PASSWORD, None)
        .await
        .assert_detail(400, CODE_REQUIRED);
    delete_account_with(&app, &fresh.access, NEW_PASSWORD, Some(&wrong))
        .await
        .assert_detail(400, INVALID_CODE);
    delete_account_with(&app, &fresh.access, "not-my-password", Some(&code))
        .await
        .assert_detail(400, INCORRECT);
    assert_eq!(me(&app, &fresh.access).await["username"], "johndoe");
    let answer = delete_account_with(&app, &fresh.access, NEW_PASSWORD, Some(&code)).await;
    assert_eq!((answer.status, answer.text.as_str()), (204, ""));
    let gone = login_otp(&app, "johndoe", NEW_PASSWORD, Some(&user.recovery_codes[1])).await;
    assert_401(&gone, BAD_LOGIN, "the deleted user");
}

#[tokio::test]
async fn without_totp_the_account_routes_ignore_a_code() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;

    let fresh =
        tokens_of(&change_password_with(&app, &tokens.access, PASSWORD, NEW_PASSWORD, Some("123456")).await);
    let answer = change_email_with(
        &app,
        &fresh.access,
        "john.new@example.com",
        NEW_PASSWORD,
        Some("not-a-code"),
    )
    .await;
    assert_eq!(answer.status, 202, "{}", answer.text);
    let answer = delete_account_with(&app, &fresh.access, NEW_PASSWORD, Some("aaaa-bbbb-cccc")).await;
    assert_eq!((answer.status, answer.text.as_str()), (204, ""));
}

// ---------------------------------------------------------------------------------------------
// Backoff
