//! Sign in with UContact (docs/API.md, "Sign-in for other apps: an OpenID Connect provider"):
//! the authorization code flow with PKCE through the hosted pages, driven as a browser would
//! (cookies kept, redirects read, forms posted with their hidden fields), the token endpoint's
//! three grants, userinfo and end-session; every error of the section's authorize and token rows;
//! the sessions each authorization makes and the routes that end them. From outside the process,
//! on whichever store `UCONTACT_TEST_BACKEND` names. Real client libraries and a real browser
//! run the same flow in tests/interop/oidc_clients.py and tests/docs/test_oidc_browser.py.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use ucontact_tests::{Answer, PASSWORD, Server, Settings};

use crate::account::list_sessions;
use crate::mfa::enrolled;

pub(crate) const REDIRECT: &str = "http://localhost:9999/callback";
pub(crate) const RETURN: &str = "http://localhost:9999/signed-out";
/// A verifier and its S256 challenge (RFC 7636 appendix B).
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(crate) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub(crate) const EXPIRED_FORM: &str = "This form has expired. Please sign in again.";

/// Two registered apps.
pub(crate) fn clients() -> String {
    format!(
        r#"[{{"client_id":"web","redirect_uris":["{REDIRECT}"],"post_logout_redirect_uris":["{RETURN}"],"name":"Example Web"}},
            {{"client_id":"other","redirect_uris":["http://localhost:9998/cb"]}}]"#
    )
}

pub(crate) fn settings() -> Settings {
    Settings::default().with("OIDC_CLIENTS", &clients())
}

/// The authorization request of `web`, with `extra` parameters replacing or adding to the
/// defaults (an empty value drops one).
pub(crate) fn authorize_query(extra: &[(&str, &str)]) -> String {
    let mut params: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", "web"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email profile offline_access"),
        ("state", "state-123"),
        ("nonce", "nonce-456"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .collect();
    for (name, value) in extra {
        params.retain(|(n, _)| n != name);
        if !value.is_empty() {
            params.push(((*name).to_owned(), (*value).to_owned()));
        }
    }
    let mut url = url::Url::parse("http://x/oauth2/authorize").expect("url");
    url.query_pairs_mut().extend_pairs(params);
    format!("/oauth2/authorize?{}", url.query().unwrap_or_default())
}

/// A browser: keeps the cookies the service sets, follows nothing by itself.
pub(crate) struct Browser<'a> {
    pub app: &'a Server,
    pub cookies: HashMap<String, String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a Server) -> Self {
        Self {
            app,
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, answer: &Answer) {
        for value in answer.headers.get_all("set-cookie") {
            let line = value.to_str().expect("ascii cookie");
            let (pair, attributes) = line.split_once(';').unwrap_or((line, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let app = self.app;
        let answer = app
            .send(
                app.client()
                    .get(app.url(path))
                    .header("cookie", self.cookie_header()),
            )
            .await;
        self.keep(&answer);
        answer
    }

    pub async fn post(&mut self, path: &str, fields: &[(String, String)]) -> Answer {
        let app = self.app;
        let answer = app
            .send(
                app.client()
                    .post(app.url(path))
                    .header("cookie", self.cookie_header())
                    .form(fields),
            )
            .await;
        self.keep(&answer);
        answer
    }

    /// Posts the page's form `form_id` with its hidden fields and `fields`.
    pub async fn submit(&mut self, page: &Answer, form_id: &str, fields: &[(&str, &str)]) -> Answer {
        let mut all = hidden_fields(&page.text, form_id);
        for (name, value) in fields {
            all.retain(|(n, _)| n != name);
            all.push(((*name).to_owned(), (*value).to_owned()));
        }
        self.post("/oauth2/signin", &all).await
    }

    /// From the authorization request to the app's redirect: the page, then the password.
    pub async fn sign_in(&mut self, query: &str, username: &str, password: &str) -> Answer {
        let page = self.get(query).await;
        assert_eq!(page.status, 200, "{}", page.text);
        self.submit(
            &page,
            "password-form",
            &[("username", username), ("password", password)],
        )
        .await
    }
}

/// The hidden inputs of form `form_id` in a page (the pages are the service's own, well formed).
pub(crate) fn hidden_fields(page: &str, form_id: &str) -> Vec<(String, String)> {
    let start = page
        .find(&format!(r#"id="{form_id}""#))
        .unwrap_or_else(|| panic!("no form {form_id}: {page}"));
    let form = &page[start..start + page[start..].find("</form>").expect("form end")];
    form.split("<input")
        .skip(1)
        .filter(|input| input.contains(r#"type="hidden""#))
        .filter_map(|input| {
            let attribute = |name: &str| {
                let at = input.find(&format!(r#" {name}=""#))? + name.len() + 3;
                let end = input[at..].find('"')?;
                Some(unescape(&input[at..at + end]))
            };
            Some((attribute("name")?, attribute("value").unwrap_or_default()))
        })
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The query of a redirect to the app, as (name → value); panics unless it goes to `to`.
#[track_caller]
pub(crate) fn redirected(answer: &Answer, status: u16, to: &str) -> HashMap<String, String> {
    assert_eq!(answer.status, status, "{}", answer.text);
    let location = answer.header("location").expect("Location");
    assert!(location.starts_with(&format!("{to}?")), "{location}");
    url::Url::parse(location)
        .expect("an absolute URL")
        .query_pairs()
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect()
}

/// The code of a successful sign-in (303 to the app, with the state and issuer).
#[track_caller]
pub(crate) fn code_of(app: &Server, answer: &Answer) -> String {
    let query = redirected(answer, 303, REDIRECT);
    assert_eq!(query["state"], "state-123");
    assert_eq!(query["iss"], app.base);
    query["code"].clone()
}

pub(crate) async fn exchange(app: &Server, code: &str, verifier: &str) -> Answer {
    app.post_form(
        "/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", "web"),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// The claims of a token, unverified (tests/interop verifies signatures with real libraries;
/// here the service's own verifiers judge the access tokens).
pub(crate) fn claims(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON claims")
}

#[track_caller]
pub(crate) fn oauth_error(answer: &Answer, error: &str) {
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.json()["error"], error, "{}", answer.text);
    assert!(answer.json()["error_description"].is_string(), "{}", answer.text);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
}

/// Settings whose issuer survives a restart (a restarted server listens on another port).
pub(crate) fn restartable() -> Settings {
    settings().with("JWT_ISSUER", "http://ucontact.test")
}

pub(crate) async fn user(app: &Server, name: &str) {
    app.verified_user(name, &format!("{name}@example.com")).await;
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn discovery_names_the_provider_and_only_what_is_served() {
    let app = Server::start_with(settings()).await;
    let document = app.get("/.well-known/openid-configuration").await.json();
    let base = &app.base;
    for (name, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("userinfo_endpoint", "/oauth2/userinfo"),
        ("end_session_endpoint", "/oauth2/logout"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(document[name], format!("{base}{path}"), "{name}");
        let answer = app.get(path).await;
        assert_ne!(answer.status, 404, "{name} is not served");
    }
    assert_eq!(document["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        document["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        document["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token", "password"])
    );
    assert_eq!(document["issuer"], app.base.as_str());
}

#[tokio::test]
async fn a_password_sign_in_ends_at_the_app_with_a_code_for_tokens_and_an_id_token() {
    let app = Server::start_with(settings()).await;
    user(&app, "oidcalice").await;
    let mut browser = Browser::new(&app);
    let page = browser
        .get(&authorize_query(&[("login_hint", "oidcalice")]))
        .await;
    assert_eq!(page.status, 200);
    // The page: no inline script or style, labelled fields, the hint prefilled, the CSRF cookie.
    let policy = page.header("content-security-policy").expect("CSP");
    assert!(
        !policy.contains("unsafe-inline") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
    assert!(
        page.text.contains(r#"<label for="username">"#) && page.text.contains(r#"<label for="password">"#)
    );
    assert!(page.text.contains(r#"value="oidcalice""#));
    assert!(page.text.contains(r#"id="passkey-signin""#));
    assert!(!page.text.contains("<script>") && !page.text.contains("style="));
    let csrf = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert!(
        csrf.iter()
            .any(|c| c.starts_with("ucontact_csrf=") && c.contains("HttpOnly")),
        "{csrf:?}"
    );

    let signed_in = browser
        .submit(
            &page,
            "password-form",
            &[("username", "oidcalice"), ("password", PASSWORD)],
        )
        .await;
    let code = code_of(&app, &signed_in);
    let cookie = signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("ucontact_signin="))
        .expect("the sign-in cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http locally: {cookie}");

    let tokens = exchange(&app, &code, VERIFIER).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert_eq!(tokens.header("cache-control"), Some("no-store"));
    let body = tokens.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "openid email profile offline_access");
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], app.base.as_str());
    assert_eq!(id["aud"], "web");
    assert_eq!(id["nonce"], "nonce-456");
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    assert_eq!(id["email"], "oidcalice@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["preferred_username"], "oidcalice");
    assert!(id["auth_time"].is_i64() && id["sid"].is_string());
    let access = body["access_token"].as_str().unwrap();
    let access_claims = claims(access);
    assert_eq!(access_claims["aud"], "ucontact");
    assert_eq!(access_claims["client_id"], "web");
    assert_eq!(access_claims["sid"], id["sid"]);
    // The access token is the service's own: the API takes it.
    let me = app.get_with_token("/api/users/me", access).await;
    assert_eq!(me.status, 200, "{}", me.text);
    let info = app.get_with_token("/oauth2/userinfo", access).await;
    assert_eq!(info.status, 200, "{}", info.text);
    assert_eq!(info.json()["preferred_username"], "oidcalice");
    assert_eq!(info.json()["email"], "oidcalice@example.com");

    // The authorization is a session of its own in the user's list, named by the app; the
    // browser's sign-in is another.
    let sessions = list_sessions(&app, access).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let own = sessions
        .iter()
        .find(|s| s["current"] == true)
        .expect("the current session");
    assert_eq!(own["client"], "Example Web");
    assert_eq!(own["id"], id["sid"]);

    // With offline_access, a refresh token that the refresh grant rotates.
    let refresh = body["refresh_token"].as_str().expect("refresh_token");
    let refreshed = refresh_grant(&app, refresh, "web").await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let next = refreshed.json();
    assert_eq!(
        claims(next["id_token"].as_str().unwrap())["auth_time"],
        id["auth_time"]
    );
    assert_eq!(claims(next["access_token"].as_str().unwrap())["client_id"], "web");
    assert_ne!(next["refresh_token"], body["refresh_token"]);
}

pub(crate) async fn refresh_grant(app: &Server, refresh: &str, client: &str) -> Answer {
    app.post_form(
        "/oauth2/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", client),
        ],
    )
    .await
}

#[tokio::test]
async fn a_live_sign_in_skips_the_page_until_it_ends() {
    let app = Server::start_with(settings()).await;
    user(&app, "oidcbob").await;
    let mut browser = Browser::new(&app);
    let first = browser.sign_in(&authorize_query(&[]), "oidcbob", PASSWORD).await;
    let code = code_of(&app, &first);
    // Signed in: straight back to the app with a new code, also with prompt=none.
    let again = browser.get(&authorize_query(&[("state", "state-123")])).await;
    let second = redirected(&again, 302, REDIRECT)["code"].clone();
    assert_ne!(second, code);
    let silent = browser.get(&authorize_query(&[("prompt", "none")])).await;
    assert!(redirected(&silent, 302, REDIRECT).contains_key("code"));
    // prompt=login asks again.
    let asked = browser.get(&authorize_query(&[("prompt", "login")])).await;
    assert_eq!(asked.status, 200, "{}", asked.text);

    // A logout-all ends the sign-in session at once: the page again, and login_required.
    let tokens = exchange(&app, &code, VERIFIER).await.json();
    let access = tokens["access_token"].as_str().unwrap();
    let out = app.post_with_token("/api/auth/logout-all", access).await;
    assert_eq!(out.status, 204, "{}", out.text);
    let page = browser.get(&authorize_query(&[])).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let none = browser.get(&authorize_query(&[("prompt", "none")])).await;
    let query = redirected(&none, 302, REDIRECT);
    assert_eq!(query["error"], "login_required");
    assert_eq!(query["state"], "state-123");
    // The code issued before it is dead too.
    assert_eq!(
        exchange(&app, &second, VERIFIER).await.json()["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn end_session_signs_the_browser_out_and_returns_only_to_registered_addresses() {
    let app = Server::start_with(settings()).await;
    user(&app, "oidccarol").await;
    let mut browser = Browser::new(&app);
    let code = code_of(
        &app,
        &browser
            .sign_in(&authorize_query(&[]), "oidccarol", PASSWORD)
            .await,
    );
    let tokens = exchange(&app, &code, VERIFIER).await.json();
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    // An unregistered address: an error page, no redirect; the browser is signed out all the
    // same (that is what it asked for), but the app's session lives on.
    let mut url = url::Url::parse("http://x/oauth2/logout").unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", &id_token)
        .append_pair("post_logout_redirect_uri", "https://evil.example/");
    let refused = browser
        .get(&format!("/oauth2/logout?{}", url.query().unwrap()))
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert!(refused.header("location").is_none());
    assert!(!browser.cookies.contains_key("ucontact_signin"));
    assert_eq!(browser.get(&authorize_query(&[])).await.status, 200, "signed out");
    assert_eq!(
        app.get_with_token("/api/users/me/sessions", &access).await.status,
        200
    );
    // Signed in again, the hint ends the app's session with the browser's.
    browser
        .sign_in(&authorize_query(&[]), "oidccarol", PASSWORD)
        .await;

    let mut url = url::Url::parse("http://x/oauth2/logout").unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", &id_token)
        .append_pair("post_logout_redirect_uri", RETURN)
        .append_pair("state", "bye");
    let out = browser
        .get(&format!("/oauth2/logout?{}", url.query().unwrap()))
        .await;
    assert_eq!(redirected(&out, 302, RETURN)["state"], "bye");
    assert!(
        !browser.cookies.contains_key("ucontact_signin"),
        "the cookie is cleared"
    );
    // The app's session named by the hint has ended as well.
    let me = app.get_with_token("/api/users/me/sessions", &access).await;
    assert_eq!(me.status, 401, "{}", me.text);
    // And the page is back.
    assert_eq!(browser.get(&authorize_query(&[])).await.status, 200);

    // Without a return address: the signed-out page.
    let plain = browser.get("/oauth2/logout").await;
    assert_eq!(plain.status, 200);
    assert!(plain.text.contains("You are signed out"));
}

#[tokio::test]
async fn a_cookie_kept_from_before_end_session_signs_nobody_in() {
    let app = Server::start_with(settings()).await;
    user(&app, "oidcdave").await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&authorize_query(&[]), "oidcdave", PASSWORD).await;
    let stolen = browser.cookies.clone();
    browser.get("/oauth2/logout").await;
    // The old cookie value replayed: its server-side session has ended.
    let mut thief = Browser::new(&app);
    thief.cookies = stolen;
    let page = thief.get(&authorize_query(&[])).await;
    assert_eq!(page.status, 200, "ending the sign-in is immediate: {}", page.text);
}

#[tokio::test]
async fn totp_users_pass_a_two_factor_step_and_their_tokens_say_so() {
    let app = Server::start_with(settings()).await;
    let mut enrolled = enrolled(&app, "oidcerin").await;
    let mut browser = Browser::new(&app);
    let step = browser.sign_in(&authorize_query(&[]), "oidcerin", PASSWORD).await;
    assert_eq!(step.status, 200, "{}", step.text);
    assert!(step.text.contains(r#"<label for="otp">"#), "{}", step.text);
    assert!(
        !step.text.contains(PASSWORD),
        "the password never comes back in a page"
    );
    // A wrong code: the step again with login's text.
    let wrong = browser.submit(&step, "otp-form", &[("otp", "000000")]).await;
    assert_eq!(wrong.status, 200);
    assert!(wrong.text.contains("Invalid two-factor code"), "{}", wrong.text);
    let code = enrolled.authenticator.next_code().await;
    let signed_in = browser.submit(&wrong, "otp-form", &[("otp", &code)]).await;
    let code = code_of(&app, &signed_in);
    let tokens = exchange(&app, &code, VERIFIER).await.json();
    assert_eq!(
        claims(tokens["id_token"].as_str().unwrap())["amr"],
        serde_json::json!(["pwd", "otp"])
    );
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["amr"],
        serde_json::json!(["pwd", "otp"])
    );

    // The step's proof belongs to that browser: another one cannot use it.
    let mut other = Browser::new(&app);
    let step = browser
        .sign_in(&authorize_query(&[("prompt", "login")]), "oidcerin", PASSWORD)
        .await;
    let page = other.get(&authorize_query(&[])).await;
    let mut fields = hidden_fields(&step.text, "otp-form");
    let own_csrf = hidden_fields(&page.text, "password-form")
        .into_iter()
        .find(|(n, _)| n == "csrf_token")
        .unwrap();
    fields.retain(|(n, _)| n != "csrf_token");
    fields.push(own_csrf);
    fields.push(("otp".into(), enrolled.authenticator.next_code().await));
    let hijacked = other.post("/oauth2/signin", &fields).await;
    assert_eq!(hijacked.status, 200, "{}", hijacked.text);
    assert!(hijacked.text.contains("took too long"), "{}", hijacked.text);
}

#[tokio::test]
async fn the_page_answers_as_login_does_without_telling_who_is_registered() {
    let app = Server::start_with(settings().with("LOGIN_BACKOFF_THRESHOLD", "3")).await;
    user(&app, "oidcfrank").await;
    app.register("oidcgina", "oidcgina@example.com", PASSWORD).await;
    let mut browser = Browser::new(&app);
    let wrong = browser
        .sign_in(&authorize_query(&[]), "oidcfrank", "not-the-password")
        .await;
    let unknown = browser
        .sign_in(&authorize_query(&[]), "nobody-here", "not-the-password")
        .await;
    for page in [&wrong, &unknown] {
        assert_eq!(page.status, 200);
        assert!(
            page.text.contains("Incorrect username or password"),
            "{}",
            page.text
        );
        assert!(page.header("location").is_none());
    }
    let unverified = browser.sign_in(&authorize_query(&[]), "oidcgina", PASSWORD).await;
    assert!(
        unverified.text.contains("Email not verified"),
        "{}",
        unverified.text
    );
    // The identifier's backoff: login's.
    browser
        .sign_in(&authorize_query(&[]), "oidcfrank", "not-the-password")
        .await;
    browser
        .sign_in(&authorize_query(&[]), "oidcfrank", "not-the-password")
        .await;
    let locked = browser
        .sign_in(&authorize_query(&[]), "oidcfrank", PASSWORD)
        .await;
    assert!(
        locked.text.contains("Too many failed attempts"),
        "{}",
        locked.text
    );
    assert!(locked.header("location").is_none());
    let api = app.login("oidcfrank", PASSWORD).await;
    assert_eq!(
        api.status, 429,
        "the API's login shares the backoff: {}",
        api.text
    );
}

#[tokio::test]
async fn forms_without_the_browsers_csrf_token_sign_nobody_in() {
    let app = Server::start_with(settings()).await;
    user(&app, "oidchank").await;
    let mut victim = Browser::new(&app);
    let page = victim.get(&authorize_query(&[])).await;
    let mut fields = hidden_fields(&page.text, "password-form");
    fields.push(("username".into(), "oidchank".into()));
    fields.push(("password".into(), PASSWORD.into()));
    // Posted from elsewhere: no cookie.
    let mut attacker = Browser::new(&app);
    let forged = attacker.post("/oauth2/signin", &fields).await;
    assert_eq!(forged.status, 200);
    assert!(forged.text.contains(EXPIRED_FORM), "{}", forged.text);
    assert!(forged.header("location").is_none());
    // A cookie of its own with the victim's token: refused too.
    attacker.get(&authorize_query(&[])).await;
    let forged = attacker.post("/oauth2/signin", &fields).await;
    assert!(forged.text.contains(EXPIRED_FORM), "{}", forged.text);
    // The real browser's post works.
    let real = victim.post("/oauth2/signin", &fields).await;
    code_of(&app, &real);
}

#[tokio::test]
async fn a_password_reset_ends_the_sign_in_session() {
    let app = Server::start_with(settings()).await;
    user(&app, "oidcolga").await;
    let mut browser = Browser::new(&app);
    code_of(
        &app,
        &browser.sign_in(&authorize_query(&[]), "oidcolga", PASSWORD).await,
    );
    let reset = app
        .post_json(
            "/api/auth/reset-password",
            serde_json::json!({"email": "oidcolga@example.com"}),
        )
        .await;
    assert_eq!(reset.status, 200);
    let token = app.reset_token("oidcolga@example.com").await;
    let new = "another-long-passphrase-9";
    let set = app
        .post_form(
            "/api/auth/set-password",
            &[("token", &token), ("password", new), ("confirm_password", new)],
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(
        browser.get(&authorize_query(&[])).await.status,
        200,
        "signed out by the reset"
    );
}

#[tokio::test]
async fn the_two_factor_step_ends_with_a_password_change_or_totp_off() {
    let app = Server::start_with(settings()).await;
    let mut enrolled = enrolled(&app, "oidcuma").await;
    // The attacker's browser has the password and reaches the two-factor step.
    let mut attacker = Browser::new(&app);
    let step = attacker.sign_in(&authorize_query(&[]), "oidcuma", PASSWORD).await;
    assert!(step.text.contains(r#"id="otp-form""#), "{}", step.text);
    // The user changes the password (with a code), then turns TOTP off.
    let new = "a-brand-new-passphrase-7";
    let code = enrolled.authenticator.next_code().await;
    let changed =
        crate::mfa::change_password_with(&app, &enrolled.tokens.access, PASSWORD, new, Some(&code)).await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let fresh = ucontact_tests::tokens_of(
        &crate::mfa::login_otp(
            &app,
            "oidcuma",
            new,
            Some(&enrolled.authenticator.next_code().await),
        )
        .await,
    );
    let code = enrolled.authenticator.next_code().await;
    let off = crate::mfa::totp_disable(&app, &fresh.access, new, Some(&code)).await;
    assert_eq!(off.status, 204, "{}", off.text);
    // The old step gets nothing: not with an empty code, not with a code.
    for otp in ["", "123456"] {
        let answer = attacker.submit(&step, "otp-form", &[("otp", otp)]).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert!(answer.header("location").is_none(), "{otp:?} signed in");
        assert!(answer.text.contains("took too long"), "{}", answer.text);
    }
}

#[tokio::test]
async fn max_age_asks_again_and_a_hint_alone_ends_nobodys_session() {
    let app = Server::start_with(restartable()).await;
    user(&app, "oidcvera").await;
    user(&app, "oidcwill").await;
    let cookies = {
        let mut vera = Browser::new(&app);
        vera.sign_in(&authorize_query(&[]), "oidcvera", PASSWORD).await;
        vera.cookies
    };
    let later = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc3339();
    let app = app.restart_with("UCONTACT_FAKE_NOW", &later).await;
    let mut vera = Browser { app: &app, cookies };
    // Signed in two minutes ago: max_age=60 shows the page, max_age=3600 does not.
    assert_eq!(vera.get(&authorize_query(&[("max_age", "60")])).await.status, 200);
    let code = redirected(
        &vera.get(&authorize_query(&[("max_age", "3600")])).await,
        302,
        REDIRECT,
    )["code"]
        .clone();
    let id_token = exchange(&app, &code, VERIFIER).await.json()["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another browser, signed in as someone else, presents vera's ID token: nothing of vera's ends.
    let mut will = Browser::new(&app);
    will.sign_in(&authorize_query(&[]), "oidcwill", PASSWORD).await;
    let out = will
        .get(&format!("/oauth2/logout?id_token_hint={id_token}"))
        .await;
    assert_eq!(out.status, 200, "{}", out.text);
    let still = vera.get(&authorize_query(&[])).await;
    assert_eq!(still.status, 302, "vera is still signed in: {}", still.text);
}

#[tokio::test]
async fn a_signed_in_browser_opening_authorize_clears_no_backoff() {
    let app = Server::start_with(settings().with("LOGIN_BACKOFF_THRESHOLD", "3")).await;
    user(&app, "oidcxena").await;
    let mut browser = Browser::new(&app);
    code_of(
        &app,
        &browser.sign_in(&authorize_query(&[]), "oidcxena", PASSWORD).await,
    );
    // Someone guesses the password twice, the user's browser opens an app (a code, no password),
    // then one more guess: the backoff counted all three.
    for _ in 0..2 {
        app.login("oidcxena", "not-the-password")
            .await
            .assert_detail(401, "Incorrect username or password");
    }
    redirected(&browser.get(&authorize_query(&[])).await, 302, REDIRECT);
    app.login("oidcxena", "not-the-password").await;
    assert_eq!(app.login("oidcxena", PASSWORD).await.status, 429);
}

#[tokio::test]
async fn a_code_never_exchanged_leaves_no_session_behind() {
    let app = Server::start_with(restartable()).await;
    user(&app, "oidcyuri").await;
    let mut browser = Browser::new(&app);
    let signed_in = browser.sign_in(&authorize_query(&[]), "oidcyuri", PASSWORD).await;
    let code = redirected(&signed_in, 303, REDIRECT)["code"].clone();
    let abandoned = redirected(&browser.get(&authorize_query(&[])).await, 302, REDIRECT)["code"].clone();
    let access = exchange(&app, &code, VERIFIER).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let clients = |sessions: Vec<Value>| sessions.iter().filter(|s| s["client"] != Value::Null).count();
    assert_eq!(
        clients(list_sessions(&app, &access).await),
        2,
        "the exchanged one and the pending one"
    );
    let later = (chrono::Utc::now() + chrono::Duration::seconds(61)).to_rfc3339();
    let app = app.restart_with("UCONTACT_FAKE_NOW", &later).await;
    assert_eq!(
        clients(list_sessions(&app, &access).await),
        1,
        "only the exchanged one lives on"
    );
    oauth_error(&exchange(&app, &abandoned, VERIFIER).await, "invalid_grant");
}
