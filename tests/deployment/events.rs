//! Every `events/<function>.json` is an API Gateway HTTP API (payload 2.0) event that the local
//! router sends to its function, and that its handler answers as expected. The events run in
//! order on one app on the embedded store, so `register` creates the user the others meet, and
//! `create-contact` the contact that the other contacts events read, change and delete. The
//! contacts events carry a placeholder Bearer token, which the test replaces with a real access
//! token of that user.

use std::collections::BTreeSet;
use std::path::Path;

use lambda_http::http::Method;
use lambda_http::http::header::{AUTHORIZATION, HeaderValue};
use serde_json::{Value, json};
use shared::App;
use shared::config::{Config, Deployment};
use shared::domain::UserId;
use shared::http::run_handler;
use shared::jobs::{
    BatchItemFailure, BatchResponse, Job, JobRecord, Origin, StreamEvent, WORKER_FUNCTION, run_stream_batch,
};
use shared::routes::{Endpoint, resolve};

use crate::{assert_same_set, workspace_root};

/// Function, expected status, and a piece of the expected body, in the order the events run.
const EXPECTED: [(&str, u16, &str); 50] = [
    ("register", 201, r#""username":"johndoe""#),
    // The user exists and the password is right, but the email is not verified yet.
    ("login", 401, "Email not verified"),
    ("refresh-token", 401, "Invalid or expired refresh token"),
    ("confirm-email", 400, "Invalid or expired verification token"),
    (
        "confirm-email-change",
        400,
        "Invalid or expired email change token",
    ),
    ("request-email", 200, "Check your email for confirmation."),
    (
        "reset-password",
        200,
        "If the email exists, a reset link was sent.",
    ),
    ("reset-password-form", 400, "Invalid or expired reset token"),
    ("set-password", 400, "Invalid or expired reset token"),
    ("logout", 401, "Invalid or expired refresh token"),
    ("logout-all", 401, "Could not validate credentials"),
    ("me", 401, "Could not validate credentials"),
    // The account routes keep the placeholder token: the Bearer check answers first.
    ("change-password", 401, "Could not validate credentials"),
    ("change-email", 401, "Could not validate credentials"),
    ("delete-account", 401, "Could not validate credentials"),
    ("list-sessions", 401, "Could not validate credentials"),
    ("revoke-session", 401, "Could not validate credentials"),
    ("mfa-status", 401, "Could not validate credentials"),
    ("totp-setup", 401, "Could not validate credentials"),
    ("totp-confirm", 401, "Could not validate credentials"),
    ("totp-disable", 401, "Could not validate credentials"),
    ("recovery-codes", 401, "Could not validate credentials"),
    ("passkey-register-options", 401, "Could not validate credentials"),
    ("passkey-register", 401, "Could not validate credentials"),
    ("list-passkeys", 401, "Could not validate credentials"),
    ("delete-passkey", 401, "Could not validate credentials"),
    // The options of a passwordless login for the event's API Gateway domain as RP id.
    (
        "passkey-login-options",
        200,
        r#""rpId":"abc123.execute-api.eu-west-1.amazonaws.com""#,
    ),
    // A made-up answer to a challenge nobody issued.
    ("passkey-login", 401, "Invalid passkey"),
    // The sign-in page of a registered client (EVENTS_OIDC_CLIENTS), and its form posted without
    // the page's CSRF cookie: the page again.
    ("authorize", 200, r#"<input type="hidden" name="csrf_token""#),
    ("signin", 200, "This form has expired. Please sign in again."),
    ("token", 400, r#""error":"invalid_grant""#),
    ("userinfo", 401, "Could not validate credentials"),
    ("end-session", 200, "You are signed out of UContact."),
    ("signin-page-asset", 200, "[hidden]"),
    // The "create an account" and "forgot password" pages, and their forms posted without the
    // pages' CSRF cookie: the page again.
    ("signup-page", 200, r#"id="signup-form""#),
    ("signup", 200, "This form has expired. Please sign in again."),
    ("forgot-password-page", 200, r#"id="forgot-password-form""#),
    (
        "forgot-password",
        200,
        "This form has expired. Please sign in again.",
    ),
    // With a real access token of the registered user (see `CONTACTS_PATH`).
    ("create-contact", 201, r#""email":"jane@example.com""#),
    ("list-contacts", 200, r#""email":"jane@example.com""#),
    ("get-contact", 200, r#""email":"jane@example.com""#),
    (
        "update-contact",
        200,
        r#""description":"Met at RustConf, now a friend""#,
    ),
    ("upcoming-birthdays", 200, "["),
    ("delete-contact", 200, r#""email":"jane@example.com""#),
    ("health", 200, r#"{"message":"OK"}"#),
    // The document names the event's API Gateway domain as its server.
    (
        "openapi",
        200,
        r#""servers":[{"url":"https://abc123.execute-api.eu-west-1.amazonaws.com"}]"#,
    ),
    ("docs", 200, r#"<script src="docs/swagger-ui-bundle.js">"#),
    ("docs-asset", 200, ".swagger-ui"),
    ("jwks", 200, r#""kty":"OKP","crv":"Ed25519""#),
    (
        "openid-configuration",
        200,
        r#""jwks_uri":"https://abc123.execute-api.eu-west-1.amazonaws.com/.well-known/jwks.json""#,
    ),
];

/// The events of the `fallback` function (API Gateway's `$default` route): file stem, expected
/// status, body and `Allow` header.
const FALLBACK_EVENTS: [(&str, u16, &str, Option<&str>); 2] = [
    ("fallback", 404, r#"{"detail":"Not Found"}"#, None),
    (
        "fallback-405",
        405,
        r#"{"detail":"Method Not Allowed"}"#,
        Some("GET, DELETE"),
    ),
];

/// The OpenID Connect client the `authorize`, `signin` and `token` events name.
const EVENTS_OIDC_CLIENTS: &str =
    r#"[{"client_id":"web","redirect_uris":["https://app.example.com/callback"],"name":"Example app"}]"#;

/// The API Gateway domain of the sample events.
const EVENT_DOMAIN: &str = "abc123.execute-api.eu-west-1.amazonaws.com";

/// The events of the routes under this path run with a real access token of [`CONTACTS_USER`] in
/// place of their placeholder.
const CONTACTS_PATH: &str = "/api/contacts";
/// The user the `register` event creates: the first one of the fresh store.
const CONTACTS_USER: i64 = 1;
/// The sample events' Authorization header, replaced where a real token is needed.
const PLACEHOLDER_AUTHORIZATION: &str = "Bearer not-a-real-token";
/// The session (`sid` claim) of the access token the contacts events get: a made-up id, since
/// no login made that token.
const EVENTS_SESSION: &str = "events-session";

#[tokio::test]
async fn every_event_goes_through_its_handler() {
    let functions: BTreeSet<&str> = Endpoint::ALL.iter().map(|e| e.function_name()).collect();
    let expected: BTreeSet<&str> = EXPECTED.iter().map(|(name, _, _)| *name).collect();
    assert_same_set(
        "the route table",
        &functions,
        "this test's expectations",
        &expected,
    );
    let files = event_files();
    let files: BTreeSet<&str> = files.iter().map(String::as_str).collect();
    let mut events: BTreeSet<&str> = functions.clone();
    events.extend(FALLBACK_EVENTS.iter().map(|(name, _, _, _)| *name));
    events.insert(WORKER_FUNCTION);
    assert_same_set(
        "the route table and the fallback events",
        &events,
        "events/",
        &files,
    );

    let data_dir = tempfile::tempdir().expect("a temp dir");
    let app = app_on_embedded_store_with(data_dir.path(), &[("OIDC_CLIENTS", EVENTS_OIDC_CLIENTS)]).await;
    let user_id = UserId::new(CONTACTS_USER).expect("a positive id");
    let mut contacts = ContactsSeen::default();

    for (name, status, body_part) in EXPECTED {
        let path = workspace_root().join("events").join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read events/{name}.json: {e}"));
        let endpoint = Endpoint::ALL
            .into_iter()
            .find(|e| e.function_name() == name)
            .unwrap();

        let event: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("events/{name}.json is not JSON: {e}"));
        assert_eq!(
            event["version"], "2.0",
            "events/{name}.json: not a payload 2.0 event"
        );
        let route_key = format!("{} {}", endpoint.method(), endpoint.path());
        assert_eq!(event["routeKey"], route_key, "events/{name}.json: routeKey");
        assert_eq!(
            event["requestContext"]["routeKey"], route_key,
            "events/{name}.json: requestContext.routeKey"
        );
        let method = event["requestContext"]["http"]["method"]
            .as_str()
            .unwrap_or_default();
        let raw_path = event["rawPath"].as_str().unwrap_or_default();
        let method = Method::from_bytes(method.as_bytes())
            .unwrap_or_else(|e| panic!("events/{name}.json: requestContext.http.method: {e}"));
        let (resolved, params) = resolve(&method, raw_path)
            .unwrap_or_else(|e| panic!("events/{name}.json: {method} {raw_path} does not resolve: {e:?}"));
        assert_eq!(
            resolved, endpoint,
            "events/{name}.json: {method} {raw_path} resolves to another function"
        );
        let path_parameters: std::collections::HashMap<String, String> =
            serde_json::from_value(event.get("pathParameters").cloned().unwrap_or(Value::Null))
                .unwrap_or_default();
        assert_eq!(
            path_parameters, params,
            "events/{name}.json: pathParameters differ from the rawPath's"
        );
        // queryStringParameters are rawQueryString decoded (handlers may read either).
        let raw_query = event["rawQueryString"].as_str().unwrap_or_default();
        let raw_query: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(raw_query.as_bytes())
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect();
        let query_parameters: std::collections::HashMap<String, String> =
            serde_json::from_value(event.get("queryStringParameters").cloned().unwrap_or(Value::Null))
                .unwrap_or_default();
        assert_eq!(
            query_parameters, raw_query,
            "events/{name}.json: queryStringParameters differ from the rawQueryString's"
        );

        let mut request = lambda_http::request::from_str(&text)
            .unwrap_or_else(|e| panic!("events/{name}.json is not an API Gateway HTTP API event: {e}"));
        assert_eq!(
            request.method(),
            method,
            "events/{name}.json: the request's method"
        );
        let is_contacts =
            endpoint.path() == CONTACTS_PATH || endpoint.path().starts_with(&format!("{CONTACTS_PATH}/"));
        if is_contacts {
            assert_eq!(
                request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()),
                Some(PLACEHOLDER_AUTHORIZATION),
                "events/{name}.json: a contacts event carries the placeholder Bearer token"
            );
            let token = app
                .tokens
                .issue_access(
                    user_id,
                    EVENTS_SESSION,
                    shared::domain::Amr::Password,
                    &shared::http::issuer(&app, &request),
                    app.clock.now(),
                )
                .expect("an access token");
            let authorization =
                HeaderValue::from_str(&format!("Bearer {token}")).expect("a valid header value");
            request.headers_mut().insert(AUTHORIZATION, authorization);
        }
        let response = endpoint.call(&app, request).await;
        let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
        assert_eq!(
            response.status().as_u16(),
            status,
            "events/{name}.json: status; body: {body}"
        );
        assert!(
            body.contains(body_part),
            "events/{name}.json: expected {body_part:?} in the body: {body}"
        );
        if is_contacts {
            contacts.check(name, &body, &app);
        }
    }
    assert!(
        contacts.deleted,
        "the contacts events did not run through delete-contact"
    );

    // The events left jobs (the registration's email): the worker runs them as the table's
    // stream delivers them.
    let jobs = app.store.pending_jobs().await.expect("the pending jobs");
    assert!(!jobs.is_empty(), "the register event left no job");
    for job in &jobs {
        let batch = run_stream_batch(&app, stream_event(job), far_deadline()).await;
        assert_eq!(batch, BatchResponse::default(), "job {job:?} failed");
    }
    assert_eq!(app.store.pending_jobs().await.expect("the pending jobs"), vec![]);

    // Without PUBLIC_BASE_URL, the verification link points at the event's API Gateway domain.
    let link = format!("https://{EVENT_DOMAIN}/api/auth/confirmed_email/");
    let emails = outbox(&data_dir.path().join("outbox"));
    assert!(
        emails.iter().any(|email| email.contains(&link)),
        "no email in the outbox links to {link}; {} email(s): {emails:#?}",
        emails.len()
    );
}

/// A job item's `INSERT` as the table's stream delivers it to the worker (events/worker.json's
/// shape).
fn stream_event(job: &JobRecord) -> StreamEvent {
    let pk = format!("JOB#{}", job.id);
    let json = serde_json::to_string(job).expect("a job serializes");
    serde_json::from_value(json!({"Records": [{
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"PK": {"S": pk}, "SK": {"S": "JOB"}},
            "NewImage": {"PK": {"S": pk}, "SK": {"S": "JOB"}, "job": {"S": json}},
            "SequenceNumber": "1",
        },
    }]}))
    .expect("a stream event")
}

fn far_deadline() -> tokio::time::Instant {
    tokio::time::Instant::now() + std::time::Duration::from_secs(60)
}

/// events/worker.json is a stream event the worker takes: its job (a reset request for an
/// unknown address) runs, sends nothing, and leaves no failure to deliver again.
#[tokio::test]
async fn the_worker_event_runs_its_job() {
    let text =
        std::fs::read_to_string(workspace_root().join("events/worker.json")).expect("events/worker.json");
    let event: StreamEvent = serde_json::from_str(&text).expect("events/worker.json is a stream event");
    assert_eq!(event.records.len(), 1);
    let data_dir = tempfile::tempdir().expect("a temp dir");
    let app = app_on_embedded_store(data_dir.path()).await;
    let batch = run_stream_batch(&app, event, far_deadline()).await;
    assert_eq!(batch, BatchResponse::default());
    assert!(outbox(&data_dir.path().join("outbox")).is_empty());
}

/// A job item the worker cannot read is reported by its sequence number (delivered again, then
/// dead-lettered), and the records after it are left for the redelivery.
#[tokio::test]
async fn a_malformed_job_is_reported_for_redelivery() {
    let data_dir = tempfile::tempdir().expect("a temp dir");
    let app = app_on_embedded_store(data_dir.path()).await;
    let record = |sequence: &str, job: &str| {
        json!({"eventName": "INSERT", "dynamodb": {
            "Keys": {"PK": {"S": "JOB#x"}, "SK": {"S": "JOB"}},
            "NewImage": {"PK": {"S": "JOB#x"}, "SK": {"S": "JOB"}, "job": {"S": job}},
            "SequenceNumber": sequence,
        }})
    };
    let good = serde_json::to_string(&JobRecord::new(Job::PasswordReset {
        email: "nobody@example.com".into(),
        origin: Origin {
            links_base: "http://localhost".into(),
            issuer: "http://localhost".into(),
            source_ip: None,
            user_agent: None,
            request_id: None,
        },
    }))
    .unwrap();
    let event: StreamEvent = serde_json::from_value(json!({"Records": [
        record("1", &good),
        record("2", "{not json"),
        record("3", &good),
    ]}))
    .unwrap();
    let batch = run_stream_batch(&app, event, far_deadline()).await;
    assert_eq!(
        batch.batch_item_failures,
        vec![BatchItemFailure {
            item_identifier: "2".into()
        }]
    );
}

/// The fallback function answers its events (requests that match no route, as API Gateway's
/// `$default` route delivers them) with the local router's 404 and 405: not cacheable, the 405
/// naming the path's methods in `Allow`.
#[tokio::test]
async fn the_fallback_events_get_the_local_routers_answers() {
    let data_dir = tempfile::tempdir().expect("a temp dir");
    let app = app_on_embedded_store(data_dir.path()).await;
    for (name, status, body, allow) in FALLBACK_EVENTS {
        let path = workspace_root().join("events").join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read events/{name}.json: {e}"));
        let event: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(event["routeKey"], "$default", "events/{name}.json: routeKey");
        let request = lambda_http::request::from_str(&text)
            .unwrap_or_else(|e| panic!("events/{name}.json is not an API Gateway HTTP API event: {e}"));
        let local = resolve(request.method(), request.uri().path())
            .expect_err("a fallback event matches no route of the table")
            .into_response();
        let response = run_handler(&app, request, shared::handlers::fallback::handle).await;
        let answer = String::from_utf8_lossy(response.body().as_ref()).into_owned();
        assert_eq!(response.status().as_u16(), status, "events/{name}.json: {answer}");
        assert_eq!(answer, body, "events/{name}.json: the body");
        assert_eq!(
            response.status(),
            local.status(),
            "events/{name}.json: the local router's status"
        );
        assert_eq!(
            response.headers().get("content-type").map(|v| v.as_bytes()),
            Some(&b"application/json"[..]),
            "events/{name}.json: content type"
        );
        let header = |response: &shared::http::Response, name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some("no-store"),
            "events/{name}.json: Cache-Control"
        );
        assert_eq!(
            header(&response, "allow").as_deref(),
            allow,
            "events/{name}.json: Allow"
        );
        assert_eq!(
            (header(&local, "allow"), header(&local, "cache-control")),
            (header(&response, "allow"), header(&response, "cache-control")),
            "events/{name}.json: the local router's headers"
        );
    }
}

/// What the contacts events answered so far, to check each answer against the earlier ones: the
/// events run create, list, get, update, upcoming-birthdays, delete, on the one contact.
#[derive(Default)]
struct ContactsSeen {
    /// The contact as create-contact answered it, then as update-contact did.
    current: Option<Value>,
    deleted: bool,
}

impl ContactsSeen {
    #[track_caller]
    fn check(&mut self, name: &str, body: &str, app: &App) {
        let body: Value = serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("events/{name}.json: the body is not JSON ({e}): {body}"));
        let current = || {
            self.current
                .clone()
                .unwrap_or_else(|| panic!("events/{name}.json ran before create-contact"))
        };
        match name {
            "create-contact" => {
                assert!(
                    body["id"].as_i64().is_some_and(|id| id > 0),
                    "events/create-contact.json: no positive id in {body}"
                );
                self.current = Some(body);
            }
            "list-contacts" => {
                let contacts = body
                    .as_array()
                    .unwrap_or_else(|| panic!("events/list-contacts.json: not a JSON array: {body}"));
                assert!(
                    contacts.contains(&current()),
                    "events/list-contacts.json: the created contact {} is not in {body}",
                    current()
                );
            }
            "get-contact" => assert_eq!(body, current(), "events/get-contact.json: the contact"),
            "update-contact" => {
                let before = current();
                assert_eq!(
                    body["id"], before["id"],
                    "events/update-contact.json: the contact's id"
                );
                assert_eq!(
                    body["created_at"], before["created_at"],
                    "events/update-contact.json: created_at"
                );
                self.current = Some(body);
            }
            "upcoming-birthdays" => {
                let contacts = body
                    .as_array()
                    .unwrap_or_else(|| panic!("events/upcoming-birthdays.json: not a JSON array: {body}"));
                // The event asks for `days=7`: today through today + 7, and the contact was born
                // on a December 31.
                let mut day = app.clock.today();
                let mut within = false;
                for _ in 0..=7 {
                    within |= day.to_string().ends_with("-12-31");
                    day = day.succ_opt().expect("a next day");
                }
                let id = current()["id"].clone();
                let listed = contacts.iter().any(|c| c["id"] == id);
                assert_eq!(
                    listed,
                    within,
                    "events/upcoming-birthdays.json: the contact born on a December 31 is {}listed on {}: {body}",
                    if listed { "" } else { "not " },
                    app.clock.today()
                );
            }
            "delete-contact" => {
                assert_eq!(body, current(), "events/delete-contact.json: the deleted contact");
                self.deleted = true;
            }
            other => panic!("events/{other}.json: a contacts event this test does not know"),
        }
    }
}

/// The function names of the `events/*.json` files.
fn event_files() -> Vec<String> {
    let dir = workspace_root().join("events");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// The app as the local server builds it: SQLite and the `.eml` outbox in `data_dir`.
async fn app_on_embedded_store(data_dir: &Path) -> App {
    app_on_embedded_store_with(data_dir, &[]).await
}

/// The app on the embedded store in `data_dir`, with these settings besides.
pub(crate) async fn app_on_embedded_store_with(data_dir: &Path, settings: &[(&str, &str)]) -> App {
    let data_dir = data_dir.to_string_lossy().into_owned();
    let config = Config::from_lookup(Deployment::Local, |name| match name {
        "UCONTACT_DATA_DIR" => Some(data_dir.clone()),
        "BCRYPT_COST" => Some("4".into()),
        _ => settings
            .iter()
            .find(|(setting, _)| *setting == name)
            .map(|(_, value)| (*value).to_owned()),
    })
    .expect("a valid config");
    App::build(config, shared::keys::KeyNeeds::ALL, shared::store::WarmUp::None)
        .await
        .expect("the app builds")
}

/// The emails in the outbox, quoted-printable soft line breaks undone.
fn outbox(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
        .map(|email| email.replace("=\r\n", "").replace("=\n", ""))
        .collect()
}
