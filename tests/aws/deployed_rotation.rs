//! The README's deployed rotation ("Signing keys"), walked on moto with the real handlers built
//! as Lambda builds them (`Deployment::Lambda`: public keys from `PUBLIC_KEYS`, secrets from
//! Secrets Manager): a new key verifies everywhere before it signs anywhere, and nobody is
//! logged out.
//!
//! 1. A stack deployed with the first keys' `PublicKeys`: `login` signs with the first key, `me`
//!    verifies it.
//! 2. `keys rotate` (activating at once, the worst case): a `login` cold start that still carries
//!    the old `PublicKeys` keeps signing with the first key, so the deployed `me` verifies it.
//! 3. The deployment of the new `PublicKeys`: `login` signs with the new key, `me` verifies both.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use lambda_http::http::HeaderValue;
use serde_json::Value;
use shared::App;
use shared::config::{Config, Deployment};
use shared::routes::Endpoint;
use ucontact_tests::{PASSWORD, Server, Settings, aws_endpoint};

const ISSUER: &str = "https://id.ucontact.test";

/// The SDK of this process reads its endpoint, region and credentials from the environment, as a
/// function's does; set once, before any App is built here.
fn aws_environment() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: set once, before this test binary's first AWS client reads the environment;
        // the servers the other tests spawn get an explicit environment of their own.
        unsafe {
            std::env::set_var("AWS_ENDPOINT_URL", aws_endpoint());
            std::env::set_var("AWS_REGION", "us-east-1");
            std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        }
    });
}

/// A cold start of `endpoint`'s function, deployed with `public_keys`.
async fn cold_start(server: &Server, endpoint: Endpoint, public_keys: &str) -> App {
    let settings = [
        ("STORE", "dynamodb"),
        ("MAILER", "ses"),
        ("TABLE_NAME", server.setting("TABLE_NAME").expect("a table")),
        (
            "KEYS_SECRET_PREFIX",
            server.setting("KEYS_SECRET_PREFIX").expect("a key prefix"),
        ),
        ("PUBLIC_KEYS", public_keys),
        ("JWT_ISSUER", ISSUER),
        ("BCRYPT_COST", "4"),
    ];
    let config = Config::from_lookup(Deployment::Lambda, |name| {
        settings
            .iter()
            .find(|(setting, _)| *setting == name)
            .map(|(_, value)| (*value).to_owned())
    })
    .expect("a Lambda config");
    App::build(config, endpoint.keys(), endpoint.warm_up())
        .await
        .expect("the function starts")
}

fn event(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../events/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("the event")).expect("JSON")
}

/// `login`'s answer (an access token) through its handler.
async fn login(app: &App, username: &str) -> String {
    let mut event = event("login");
    let form = format!("username={username}&password={PASSWORD}");
    event["body"] = Value::String(STANDARD.encode(&form));
    event["headers"]["content-length"] = Value::String(form.len().to_string());
    let request = lambda_http::request::from_str(&event.to_string()).expect("an API Gateway event");
    let response = Endpoint::Login.call(app, request).await;
    let body: Value = serde_json::from_slice(response.body().as_ref()).expect("JSON");
    assert_eq!(response.status(), 200, "{body}");
    body["access_token"].as_str().expect("a token").to_owned()
}

/// `me`'s status for this token, through its handler.
async fn me(app: &App, token: &str) -> u16 {
    let mut request = lambda_http::request::from_str(&event("me").to_string()).expect("an event");
    request.headers_mut().insert(
        lambda_http::http::header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).expect("a header"),
    );
    Endpoint::Me.call(app, request).await.status().as_u16()
}

fn kid(token: &str) -> String {
    let header = token.split('.').next().expect("a JWT");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("b64")).expect("JSON");
    header["kid"].as_str().expect("a kid").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployed_rotation_verifies_everywhere_before_it_signs_anywhere() {
    aws_environment();
    // The operator's side (and the provisioning of the table and first keys): the local server
    // and its `keys` commands on the same key store.
    let server = Server::start_with(Settings::aws().with("JWT_ISSUER", ISSUER)).await;
    server.verified_user("deployed", "deployed@example.com").await;
    let first_public = server.command(&["keys", "public"]).trim().to_owned();

    let (signer, verifier) = (
        cold_start(&server, Endpoint::Login, &first_public).await,
        cold_start(&server, Endpoint::Me, &first_public).await,
    );
    let first = login(&signer, "deployed").await;
    assert_eq!(me(&verifier, &first).await, 200);

    let output = server.command(&["keys", "rotate", "--activate-in", "0"]);
    let new_public = output
        .lines()
        .last()
        .expect("the PublicKeys value")
        .trim()
        .to_owned();
    assert_ne!(new_public, first_public, "{output}");
    assert_eq!(
        new_public,
        server.command(&["keys", "public"]).trim(),
        "rotate prints what keys public prints"
    );

    // A signer's cold start before the deployment: the new key is active but not published.
    let early_signer = cold_start(&server, Endpoint::Login, &first_public).await;
    let before_deploy = login(&early_signer, "deployed").await;
    assert_eq!(
        kid(&before_deploy),
        kid(&first),
        "an unpublished key signs nothing"
    );
    assert_eq!(me(&verifier, &before_deploy).await, 200);

    // The deployment of the new PublicKeys.
    let (signer, verifier) = (
        cold_start(&server, Endpoint::Login, &new_public).await,
        cold_start(&server, Endpoint::Me, &new_public).await,
    );
    let after = login(&signer, "deployed").await;
    assert_ne!(kid(&after), kid(&first), "the published, active key signs");
    for token in [&first, &before_deploy, &after] {
        assert_eq!(me(&verifier, token).await, 200, "nobody is logged out");
    }
}
