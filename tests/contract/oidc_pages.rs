//! Sign in with UContact, the other hosted pages (docs/API.md, "Sign-in for other apps"): "create
//! an account" and "forgot password" with their forms, and what every page keeps to (its own
//! assets, relative links, CSP, escaping).

use ucontact_tests::{Answer, PASSWORD, Server};

use crate::oidc::{Browser, EXPIRED_FORM, authorize_query, code_of, hidden_fields, settings, user};

/// Posts the "create an account" form of `page` with `fields`.
async fn post(browser: &mut Browser<'_>, page: &Answer, fields: [(&str, &str); 3]) -> Answer {
    let mut all = hidden_fields(&page.text, "signup-form");
    all.extend(fields.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())));
    browser.post("/oauth2/signup", &all).await
}

/// The authorization request's parameters, as the pages' links carry them.
fn request_query() -> String {
    authorize_query(&[])
        .split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn create_an_account_from_the_sign_in_page_then_sign_in() {
    let app = Server::start_with(settings()).await;
    let mut browser = Browser::new(&app);
    let sign_in = browser.get(&authorize_query(&[])).await;
    assert!(
        sign_in.text.contains(r#"id="create-account""#),
        "{}",
        sign_in.text
    );
    let page = browser.get(&format!("/oauth2/signup?{}", request_query())).await;
    assert_eq!(page.status, 200, "{}", page.text);
    for label in ["username", "email", "password"] {
        assert!(
            page.text.contains(&format!(r#"<label for="{label}">"#)),
            "{label}"
        );
    }
    let signup = |username: &'static str, email: &'static str, password: &'static str| {
        [("username", username), ("email", email), ("password", password)]
    };
    let done = post(
        &mut browser,
        &page,
        signup("oidcpaul", "oidcpaul@example.com", PASSWORD),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains(r#"id="check-email""#), "{}", done.text);
    // The same answer for an address that is taken: the pages tell nothing login does not.
    let taken = post(
        &mut browser,
        &page,
        signup("oidcpaul2", "OIDCPAUL@example.com", PASSWORD),
    )
    .await;
    assert!(taken.text.contains(r#"id="check-email""#), "{}", taken.text);
    let username = post(
        &mut browser,
        &page,
        signup("oidcpaul", "other@example.com", PASSWORD),
    )
    .await;
    assert!(
        username.text.contains("That username is taken"),
        "{}",
        username.text
    );
    let weak = post(
        &mut browser,
        &page,
        signup("oidcquinn", "quinn@example.com", "short"),
    )
    .await;
    assert!(
        weak.text.contains(r#"role="alert""#) && !weak.text.contains("check-email"),
        "{}",
        weak.text
    );
    assert!(
        weak.text.contains(r#"value="quinn@example.com""#),
        "what was sent is kept"
    );
    // Without the page's cookie: nothing is created.
    let mut stranger = Browser::new(&app);
    let forged = post(
        &mut stranger,
        &page,
        signup("oidcrita", "rita@example.com", PASSWORD),
    )
    .await;
    assert!(forged.text.contains(EXPIRED_FORM), "{}", forged.text);
    assert_eq!(
        app.register("oidcrita", "rita@example.com", PASSWORD)
            .await
            .status,
        201
    );

    // The email is confirmed from the link, then the account signs in on the pages.
    let token = app.verification_token("oidcpaul@example.com").await;
    assert_eq!(
        app.get(&format!("/api/auth/confirmed_email/{token}"))
            .await
            .status,
        200
    );
    let signed_in = browser.sign_in(&authorize_query(&[]), "oidcpaul", PASSWORD).await;
    code_of(&app, &signed_in);
}

#[tokio::test]
async fn forgot_password_sends_the_reset_email_and_says_the_same_for_any_address() {
    let app = Server::start_with(settings()).await;
    user(&app, "oidcsam").await;
    let mut browser = Browser::new(&app);
    let sign_in = browser.get(&authorize_query(&[])).await;
    assert!(
        sign_in.text.contains(r#"id="forgot-password""#),
        "{}",
        sign_in.text
    );
    let page = browser
        .get(&format!("/oauth2/forgot-password?{}", request_query()))
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    let mut answers = Vec::new();
    for email in ["oidcsam@example.com", "nobody@example.com"] {
        let mut fields = hidden_fields(&page.text, "forgot-password-form");
        fields.push(("email".into(), email.into()));
        let answer = browser.post("/oauth2/forgot-password", &fields).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert!(answer.text.contains(r#"id="check-email""#), "{}", answer.text);
        answers.push(answer.text);
    }
    assert_eq!(
        answers[0], answers[1],
        "known and unknown addresses get the same page"
    );
    let token = app.reset_token("oidcsam@example.com").await;
    assert!(!token.is_empty());
    assert!(app.emails_to("nobody@example.com").await.is_empty());
}

#[tokio::test]
async fn every_page_keeps_to_the_services_own_assets_and_escapes_what_it_shows() {
    let app = Server::start_with(settings()).await;
    let mut browser = Browser::new(&app);
    let hostile = "\"><script>alert(1)</script>";
    for path in [
        authorize_query(&[("state", hostile), ("login_hint", hostile)]),
        format!(
            "/oauth2/signup?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(
                    url::Url::parse(&format!("http://x{}", authorize_query(&[("state", hostile)])))
                        .unwrap()
                        .query_pairs()
                )
                .finish()
        ),
        format!("/oauth2/forgot-password?{}", request_query()),
        "/oauth2/logout".to_owned(),
        authorize_query(&[("client_id", hostile)]),
    ] {
        let page = browser.get(&path).await;
        assert!(!page.text.contains("<script>alert"), "{path}: {}", page.text);
        let policy = page.header("content-security-policy").expect("CSP");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(
            policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"),
            "{policy}"
        );
        assert_eq!(page.header("cache-control"), Some("no-store"), "{path}");
        for asset in ["assets/signin.css", "assets/favicon.svg"] {
            assert!(page.text.contains(asset), "{path}: {asset}");
        }
        for attribute in [r#"src="http"#, r#"href="http"#, r#"action="http"#, "//cdn"] {
            assert!(
                !page.text.contains(attribute),
                "{path}: only its own, relative links"
            );
        }
    }
    for (asset, kind) in [
        ("signin.css", "text/css"),
        ("signin.js", "text/javascript"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let answer = app.get(&format!("/oauth2/assets/{asset}")).await;
        assert_eq!(answer.status, 200, "{asset}");
        assert!(
            answer.header("content-type").unwrap().starts_with(kind),
            "{asset}"
        );
    }
    assert_eq!(app.get("/oauth2/assets/nothing.js").await.status, 404);
}
