use serde_json::json;
use ucontact_tests::{Backend, PASSWORD, Server};

#[tokio::test]
async fn register_creates_an_unverified_user_and_sends_a_verification_email() {
    let app = Server::start().await;
    let answer = app.register("johndoe", "john@example.com", PASSWORD).await;

    assert_eq!(answer.status, 201, "{}", answer.text);
    let user = answer.json();
    assert!(user["id"].as_i64().is_some_and(|id| id > 0), "{user}");
    assert_eq!(user["username"], "johndoe");
    assert_eq!(user["email"], "john@example.com");
    assert_eq!(user["avatar"], json!(null));
    assert_eq!(user["is_verified"], false);
    let created = user["created_at"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.len() == 20,
        "ISO 8601 UTC: {created}"
    );
    assert_eq!(
        user.as_object().unwrap().len(),
        6,
        "no other fields (no hash!): {user}"
    );

    let emails = app.emails_to("john@example.com").await;
    assert_eq!(emails.len(), 1);
    let email = &emails[0];
    if app.backend() == Backend::Embedded {
        // The .eml holds both parts; the SES emulator keeps only the HTML body.
        assert!(email.decoded.contains("Content-Type: text/plain"));
        assert!(email.decoded.contains("Content-Type: text/html"));
    }
    assert!(
        email.link(&app.url("/api/auth/confirmed_email/")).is_some(),
        "{}",
        email.decoded
    );
}

#[tokio::test]
async fn duplicate_usernames_are_refused_case_insensitively() {
    let app = Server::start().await;
    assert_eq!(
        app.register("JohnDoe", "john@example.com", PASSWORD).await.status,
        201
    );
    app.register("johndoe", "other@example.com", PASSWORD)
        .await
        .assert_detail(409, "User with this username already exists");
}

#[tokio::test]
async fn duplicate_emails_are_refused_case_insensitively() {
    let app = Server::start().await;
    assert_eq!(
        app.register("johndoe", "John@Example.com", PASSWORD).await.status,
        201
    );
    app.register("janedoe", "john@EXAMPLE.COM", PASSWORD)
        .await
        .assert_detail(409, "User with this email already exists");
    assert_eq!(
        app.emails_to("john@EXAMPLE.COM").await.len(),
        0,
        "no email for a refused registration"
    );
}

#[tokio::test]
async fn bad_registrations_get_a_fastapi_shaped_422_naming_the_field() {
    let app = Server::start().await;
    let long_password = "p".repeat(129);
    let long_email = format!("{}@example.com", "a".repeat(243));
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        (
            "username too short",
            json!({"username": "ab", "email": "a@example.com", "password": PASSWORD}),
            "username",
        ),
        (
            "username too long",
            json!({"username": "a".repeat(41), "email": "a@example.com", "password": PASSWORD}),
            "username",
        ),
        (
            "username with a space",
            json!({"username": "john doe", "email": "a@example.com", "password": PASSWORD}),
            "username",
        ),
        (
            "username not a string",
            json!({"username": 12345, "email": "a@example.com", "password": PASSWORD}),
            "username",
        ),
        (
            "email without @",
            json!({"username": "johndoe", "email": "john.example.com", "password": PASSWORD}),
            "email",
        ),
        (
            "email with a display name",
            json!({"username": "johndoe", "email": "J <j@example.com>", "password": PASSWORD}),
            "email",
        ),
        (
            "email over 254 chars",
            json!({"username": "johndoe", "email": long_email, "password": PASSWORD}),
            "email",
        ),
        (
            "password too short",
            json!({"username": "johndoe", "email": "a@example.com", "password": "short"}),
            "password",
        ),
        (
            "password too long",
            json!({"username": "johndoe", "email": "a@example.com", "password": long_password}),
            "password",
        ),
        (
            "password missing",
            json!({"username": "johndoe", "email": "a@example.com"}),
            "password",
        ),
        (
            "password null",
            json!({"username": "johndoe", "email": "a@example.com", "password": null}),
            "password",
        ),
    ];
    for (case, body, field) in cases {
        let answer = app.post_json("/api/auth/register", body).await;
        assert_eq!(answer.status, 422, "{case}: {}", answer.text);
        answer.assert_422_on(field);
        assert!(
            !answer.text.contains(PASSWORD),
            "{case}: the password is echoed: {}",
            answer.text
        );
    }
    assert!(app.outbox().await.is_empty());
}

#[tokio::test]
async fn addresses_that_cannot_be_mailed_or_hide_characters_are_422s() {
    let app = Server::start().await;
    let cases = [
        ("a quoted local part", "\"john x\"@example.com".to_owned()),
        (
            "a needlessly quoted local part",
            "\"john\"@example.com".to_owned(),
        ),
        ("a line separator", "john\u{2028}@example.com".to_owned()),
        ("a right-to-left override", "\u{202E}nhoj@example.com".to_owned()),
        ("a byte order mark", "\u{FEFF}john@example.com".to_owned()),
        ("a zero width joiner", "jo\u{200D}hn@example.com".to_owned()),
        ("a noncharacter", "john\u{FFFF}@example.com".to_owned()),
        (
            "a zero width joiner in the domain",
            "john@exam\u{200D}ple.com".to_owned(),
        ),
        (
            "a right-to-left override in the domain",
            "john@\u{202E}example.com".to_owned(),
        ),
    ];
    for (case, email) in cases {
        let answer = app.register("johndoe", &email, PASSWORD).await;
        assert_eq!(answer.status, 422, "{case}: {}", answer.text);
        answer.assert_422_on("email");
    }
    assert!(app.outbox().await.is_empty(), "nothing was registered");
}

#[tokio::test]
async fn one_mailbox_is_one_account_whatever_its_spelling() {
    let app = Server::start().await;
    let answer = app.register("unicode", "a@Bücher.example", PASSWORD).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    // email-validator's normalized form, as a FastAPI service returns it.
    assert_eq!(answer.json()["email"], "a@bücher.example");
    // Mail goes out with the domain in ASCII, as SMTP without SMTPUTF8 needs it.
    assert_eq!(app.emails_to("a@xn--bcher-kva.example").await.len(), 1);
    for (spelling, email) in [
        ("the domain's ASCII form", "a@xn--bcher-kva.example"),
        ("the domain's ASCII form in capitals", "A@XN--BCHER-KVA.EXAMPLE"),
        ("a decomposed ü in the domain", "a@bu\u{308}cher.example"),
    ] {
        app.register("punycode", email, PASSWORD)
            .await
            .assert_detail(409, "User with this email already exists");
        assert_eq!(app.outbox().await.len(), 1, "{spelling}: no email sent");
    }

    // The local part: NFC (one code point for ö) then NFD (o and a combining diaeresis).
    let nfc = app.register("composed", "j\u{F6}rg@example.com", PASSWORD).await;
    assert_eq!(nfc.status, 201, "{}", nfc.text);
    app.register("decomposed", "jo\u{308}rg@example.com", PASSWORD)
        .await
        .assert_detail(409, "User with this email already exists");
    let nfd = app
        .register("decomposed", "mo\u{308}we@example.com", PASSWORD)
        .await;
    assert_eq!(nfd.status, 201, "{}", nfd.text);
    assert_eq!(nfd.json()["email"], "m\u{F6}we@example.com", "stored as NFC");
    app.register("composed2", "M\u{D6}WE@example.com", PASSWORD)
        .await
        .assert_detail(409, "User with this email already exists");
}

#[tokio::test]
async fn every_bad_field_is_reported_in_one_answer() {
    let app = Server::start().await;
    let answer = app
        .post_json("/api/auth/register", json!({"username": "a", "email": "nope"}))
        .await;
    answer.assert_422_on("username");
    answer.assert_422_on("email");
    answer.assert_422_on("password");
}

#[tokio::test]
async fn unicode_passwords_count_characters_not_bytes() {
    let app = Server::start().await;
    // 8 characters, 16 bytes: long enough.
    assert_eq!(
        app.register("unicode", "u@example.com", "éééééééé").await.status,
        201
    );
    // 7 characters, 14 bytes: too short.
    app.register("unicode2", "u2@example.com", "ééééééé")
        .await
        .assert_422_on("password");
}

#[tokio::test]
async fn concurrent_duplicate_registrations_create_exactly_one_user() {
    let app = Server::start().await;
    let attempts = (0..20).map(|i| {
        let email = if i % 2 == 0 {
            "same@example.com".to_owned()
        } else {
            format!("other{i}@example.com")
        };
        let username = if i % 2 == 0 {
            format!("user{i}")
        } else {
            "sameuser".to_owned()
        };
        let app = &app;
        async move { app.register(&username, &email, PASSWORD).await }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let created: Vec<_> = answers.iter().filter(|a| a.status == 201).collect();
    let conflicts = answers.iter().filter(|a| a.status == 409).count();
    // One winner for the shared email, one for the shared username.
    assert_eq!(created.len(), 2, "{answers:?}");
    assert_eq!(conflicts, 18, "{answers:?}");
}

#[tokio::test]
async fn concurrent_registrations_get_distinct_positive_ids() {
    let app = Server::start().await;
    let attempts = (0..25).map(|i| {
        let app = &app;
        async move {
            app.register(&format!("user{i}"), &format!("user{i}@example.com"), PASSWORD)
                .await
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let mut ids: Vec<i64> = answers
        .iter()
        .map(|a| {
            assert_eq!(a.status, 201, "{}", a.text);
            a.json()["id"].as_i64().unwrap()
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 25);
    assert!(ids[0] > 0);
}
