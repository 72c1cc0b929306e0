//! Credential changes cancel each other's links, and security notices are never lost
//! (docs/API.md, "Account"): a confirmed email change ends reset links sent before it; a new
//! change-email request cancels the pending one; a reset racing an email change never both
//! commit; the old address's notice goes out whatever its email throttle says, and is retried
//! until it is sent. On whichever store `UCONTACT_TEST_BACKEND` names.

use futures_util::future::join;
use serde_json::json;
use ucontact_tests::{Backend, PASSWORD, Server, Settings, tokens_of};

use crate::account::{
    BAD_CHANGE_TOKEN, change_email, confirm_email_change, email_change_token, request_reset, set_password,
};

const BAD_RESET: &str = "Invalid or expired reset token";
const NOTICE_SUBJECT: &str = "Your email address was changed";
const NEW_PASSWORD: &str = "a-brand-new-passphrase";

/// Asks for an email change to `to` and returns the link's token.
async fn pending_change(app: &Server, access: &str, to: &str) -> String {
    let answer = change_email(app, access, to, PASSWORD).await;
    assert_eq!(answer.status, 202, "{}", answer.text);
    email_change_token(app, to).await
}

async fn notices_to(app: &Server, to: &str) -> usize {
    app.emails_to(to)
        .await
        .iter()
        .filter(|e| e.subject == NOTICE_SUBJECT)
        .count()
}

#[tokio::test]
async fn a_confirmed_email_change_ends_the_reset_links_sent_to_the_old_address() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    // Whoever still reads the old mailbox holds this link.
    let reset = request_reset(&app, "john@example.com").await;
    let change = pending_change(&app, &tokens.access, "john.new@example.com").await;
    assert_eq!(confirm_email_change(&app, &change).await.status, 200);

    set_password(&app, &reset, NEW_PASSWORD)
        .await
        .assert_detail(400, BAD_RESET);
    // The password is still the user's own, and the account answers to the new address.
    tokens_of(&app.login("john.new@example.com", PASSWORD).await);
    assert_eq!(app.login("john.new@example.com", NEW_PASSWORD).await.status, 401);
    // A reset asked for after the change works.
    let reset = request_reset(&app, "john.new@example.com").await;
    assert_eq!(set_password(&app, &reset, NEW_PASSWORD).await.status, 200);
}

#[tokio::test]
async fn a_new_email_change_request_cancels_the_pending_one() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    // A mistyped address first, then the right one: the stranger's link must confirm nothing.
    let mistyped = pending_change(&app, &tokens.access, "jonh@example.com").await;
    let right = pending_change(&app, &tokens.access, "john.new@example.com").await;

    confirm_email_change(&app, &mistyped)
        .await
        .assert_detail(400, BAD_CHANGE_TOKEN);
    assert_eq!(app.login("jonh@example.com", PASSWORD).await.status, 401);
    assert_eq!(confirm_email_change(&app, &right).await.status, 200);
    tokens_of(&app.login("john.new@example.com", PASSWORD).await);
    // Nor does the mistyped link work once the right change is done.
    confirm_email_change(&app, &mistyped)
        .await
        .assert_detail(400, BAD_CHANGE_TOKEN);
}

/// A reset and an email change that both read the user before either writes: exactly one
/// commits, and the account is consistent either way (its email guard is its own, the freed
/// address can be registered again).
#[tokio::test]
async fn a_reset_racing_an_email_change_never_both_commit() {
    let app = Server::start().await;
    for round in 0..4 {
        let (name, old, new) = (
            format!("racer{round}"),
            format!("racer{round}@example.com"),
            format!("racer{round}.new@example.com"),
        );
        app.verified_user(&name, &old).await;
        let tokens = app.tokens(&name).await;
        let reset = request_reset(&app, &old).await;
        let change = pending_change(&app, &tokens.access, &new).await;

        let (reset_answer, change_answer) = join(
            set_password(&app, &reset, NEW_PASSWORD),
            confirm_email_change(&app, &change),
        )
        .await;
        let won = (reset_answer.status == 200, change_answer.status == 200);
        assert!(
            won == (true, false) || won == (false, true),
            "round {round}: reset {} {}, email change {} {}",
            reset_answer.status,
            reset_answer.text,
            change_answer.status,
            change_answer.text
        );
        let (email, password, free) = if won.0 {
            (&old, NEW_PASSWORD, &new)
        } else {
            (&new, PASSWORD, &old)
        };
        tokens_of(&app.login(email, password).await);
        let other = app.register(&format!("other{round}"), free, PASSWORD).await;
        assert_eq!(other.status, 201, "round {round}: {free} is free: {}", other.text);
        // The account kept its own address: the other user's registration did not take it.
        tokens_of(&app.login(&name, password).await);
    }
}

/// The attack of the issue: with the victim's password, start an email change, spend the old
/// address's throttle with reset requests, then confirm. The notice still goes out.
#[tokio::test]
async fn the_email_changed_notice_goes_out_whatever_the_old_addresss_throttle_says() {
    let app = Server::start_with(
        Settings::default()
            .with("EMAIL_THROTTLE_SECONDS", "60")
            .with("EMAIL_DAILY_LIMIT", "2"),
    )
    .await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    let change = pending_change(&app, &tokens.access, "evil@example.com").await;
    for _ in 0..10 {
        let answer = app
            .post_json("/api/auth/reset-password", json!({"email": "john@example.com"}))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    let before = app.emails_to("john@example.com").await.len();
    assert_eq!(
        before, 1,
        "the throttle held the resets back (only the verification email)"
    );

    assert_eq!(confirm_email_change(&app, &change).await.status, 200);
    assert_eq!(notices_to(&app, "john@example.com").await, 1);
}

/// A notice that could not be sent when the change committed is sent later: the local server
/// retries it, and one that still fails is sent at the next start.
#[tokio::test]
async fn a_notice_the_mail_provider_refused_is_sent_once_it_can_be() {
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let tokens = app.tokens("johndoe").await;
    let change = pending_change(&app, &tokens.access, "john.new@example.com").await;

    let broken = break_mail(&app).await;
    assert_eq!(confirm_email_change(&app, &change).await.status, 200);
    app.settle().await;
    assert!(
        app.log().contains("job gave up"),
        "the notice's job failed every try"
    );
    heal_mail(broken);
    assert_eq!(notices_to(&app, "john@example.com").await, 0);

    let app = app.restart().await;
    assert_eq!(
        notices_to(&app, "john@example.com").await,
        1,
        "sent at the next start; the log: {}",
        app.log()
    );
}

/// Makes every send fail: the outbox is replaced by a plain file (the embedded store; the paths
/// to put back are returned), or the sender's identity is deleted from the emulator's SES (which
/// the server re-creates at its next start against an emulator).
async fn break_mail(app: &Server) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    match app.backend() {
        Backend::Embedded => {
            let outbox = app.data_dir().join("outbox");
            let aside = app.data_dir().join("outbox.aside");
            std::fs::rename(&outbox, &aside).expect("move the outbox aside");
            std::fs::write(&outbox, "not a directory").expect("a file in its place");
            Some((outbox, aside))
        }
        Backend::Aws => {
            let sender = app.setting("MAIL_FROM").expect("sender");
            let address = sender
                .split_once('<')
                .and_then(|(_, rest)| rest.strip_suffix('>'))
                .expect("an address in MAIL_FROM")
                .to_owned();
            aws_sdk_sesv2::Client::new(&crate::emulator_config(app).await)
                .delete_email_identity()
                .email_identity(address)
                .send()
                .await
                .expect("delete the sender's identity");
            None
        }
    }
}

fn heal_mail(broken: Option<(std::path::PathBuf, std::path::PathBuf)>) {
    if let Some((outbox, aside)) = broken {
        std::fs::remove_file(&outbox).expect("remove the file");
        std::fs::rename(&aside, &outbox).expect("the outbox back");
    }
}
