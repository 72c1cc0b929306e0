//! Test support: spawns the real `ucontact-local` binary on port 0 with its own data dir, and
//! talks to it over HTTP like any client. Nothing here reaches into the server's internals: the
//! only things read besides HTTP answers are the outbox (`.eml` files) and the server's log.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Once};
use std::time::Duration;

use serde_json::{Value, json};

mod proxy;
pub use proxy::Proxy;
pub mod totp;
pub use totp::Authenticator;

/// A password that passes every rule.
pub const PASSWORD: &str = "correct-horse-battery-staple";

const SETTLE_POLL: Duration = Duration::from_millis(50);
const SETTLE_POLLS: usize = 600;

/// The `User-Agent` of every request the harness sends (the audit trail records it).
pub const USER_AGENT: &str = "ucontact-tests/1";

/// Which adapters the servers under test run on, from `UCONTACT_TEST_BACKEND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite and the `.eml` outbox (the default).
    Embedded,
    /// DynamoDB and SES v2 on the emulator at `UCONTACT_TEST_AWS_ENDPOINT` (moto, started by
    /// `scripts/test`). Each server gets its own table and its own sender address.
    Aws,
}

impl Backend {
    pub fn from_env() -> Self {
        match std::env::var("UCONTACT_TEST_BACKEND").as_deref() {
            Err(_) | Ok("") | Ok("embedded") => Backend::Embedded,
            Ok("aws") => Backend::Aws,
            Ok(other) => panic!("UCONTACT_TEST_BACKEND: expected embedded or aws, got {other:?}"),
        }
    }
}

/// The emulator endpoint; without one the AWS tests fail loudly rather than skip.
pub fn aws_endpoint() -> String {
    let endpoint = std::env::var("UCONTACT_TEST_AWS_ENDPOINT").unwrap_or_default();
    assert!(
        !endpoint.is_empty(),
        "UCONTACT_TEST_AWS_ENDPOINT is not set: the AWS tests need the moto emulator that scripts/test starts"
    );
    endpoint
}

/// Environment for a server on the AWS backend: its own table and sender, emulator credentials.
fn aws_env(endpoint: &str) -> HashMap<String, String> {
    let id = unique(&format!("t{}-", std::process::id()));
    HashMap::from([
        ("STORE".into(), "dynamodb".into()),
        ("MAILER".into(), "ses".into()),
        ("TABLE_NAME".into(), format!("ucontact-{id}")),
        // Its own key store too: the server provisions first keys there (AWS_ENDPOINT_URL).
        ("KEYS_SECRET_PREFIX".into(), format!("ucontact-{id}/keys")),
        (
            "MAIL_FROM".into(),
            format!("UContact <noreply-{id}@ucontact.test>"),
        ),
        ("AWS_ENDPOINT_URL".into(), endpoint.into()),
        ("AWS_REGION".into(), "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
    ])
}

static BUILD: Once = Once::new();

/// Builds `ucontact-local` (a no-op when it is up to date) and returns its path.
fn server_binary() -> PathBuf {
    if let Ok(path) = std::env::var("UCONTACT_LOCAL_BIN") {
        return PathBuf::from(path);
    }
    // This test binary lives in target/<profile>/deps; the server is built into target/<profile>.
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf();
    BUILD.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        // `--workspace` resolves features as `cargo build --workspace` does (scripts/test builds
        // that first), so this is a no-op there; `-p ucontact-local` would rebuild `shared` and
        // its dependencies with a narrower feature set.
        build.args(["build", "--quiet", "--workspace", "--bin", "ucontact-local"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "building ucontact-local failed");
    });
    profile_dir.join("ucontact-local")
}

/// Settings for a server to start.
#[derive(Clone, Debug)]
pub struct Settings {
    pub env: HashMap<String, String>,
}

impl Default for Settings {
    /// The backend of `UCONTACT_TEST_BACKEND`, cheap bcrypt for speed, no spacing between emails
    /// to one address (tests register and then reset at once; tests/contract/abuse.rs checks the
    /// default spacing), JSON logs, and otherwise the defaults a user gets.
    fn default() -> Self {
        let env = match Backend::from_env() {
            Backend::Embedded => HashMap::new(),
            Backend::Aws => aws_env(&aws_endpoint()),
        };
        Self::test_defaults(env)
    }
}

impl Settings {
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Settings on DynamoDB + SES whatever `UCONTACT_TEST_BACKEND` says.
    pub fn aws() -> Self {
        Self::test_defaults(aws_env(&aws_endpoint()))
    }

    /// Settings on the embedded store (SQLite, the outbox, key files in the data dir) whatever
    /// `UCONTACT_TEST_BACKEND` says.
    pub fn embedded() -> Self {
        Self::test_defaults(HashMap::new())
    }

    fn test_defaults(mut env: HashMap<String, String>) -> Self {
        env.insert("BCRYPT_COST".into(), "4".into());
        env.insert("EMAIL_THROTTLE_SECONDS".into(), "0".into());
        env.insert("LOG_FORMAT".into(), "json".into());
        Self { env }
    }

    pub fn backend(&self) -> Backend {
        if self.env.get("STORE").is_some_and(|s| s == "dynamodb") {
            Backend::Aws
        } else {
            Backend::Embedded
        }
    }
}

/// A running server with its own data directory.
pub struct Server {
    child: Child,
    pub base: String,
    data_dir: Arc<tempfile::TempDir>,
    settings: Settings,
    client: reqwest::Client,
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and the contract's `{"detail": ...}` body.
    #[track_caller]
    pub fn assert_detail(&self, status: u16, detail: &str) {
        assert_eq!(
            (self.status, self.json()),
            (status, json!({ "detail": detail })),
            "{}",
            self.text
        );
    }

    /// Asserts a FastAPI-shaped 422 naming `field` (by its last `loc` entry).
    #[track_caller]
    pub fn assert_422_on(&self, field: &str) {
        assert_eq!(self.status, 422, "{}", self.text);
        let issues = self.json()["detail"].as_array().cloned().unwrap_or_default();
        assert!(
            issues.iter().any(
                |i| i["loc"].as_array().and_then(|l| l.last()) == Some(&json!(field))
                    && i["msg"].is_string()
                    && i["type"].is_string()
            ),
            "no 422 issue on {field}: {}",
            self.text
        );
    }
}

/// The tokens of a login or refresh.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

/// One email found in the outbox.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    /// The whole message with quoted-printable soft breaks and escapes undone.
    pub decoded: String,
}

impl Email {
    /// The first link in the message that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        let start = self.decoded.find(prefix)?;
        let rest = &self.decoded[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
            .unwrap_or(rest.len());
        Some(rest[..end].to_owned())
    }
}

impl Server {
    pub async fn start() -> Self {
        Self::start_with(Settings::default()).await
    }

    pub async fn start_with(settings: Settings) -> Self {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        Self::spawn(dir, settings)
    }

    fn spawn(data_dir: Arc<tempfile::TempDir>, settings: Settings) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.path().join("server.log"))
            .expect("log file");
        let mut child = Command::new(server_binary())
            .env_clear()
            .envs(std::env::vars().filter(|(k, _)| k == "PATH" || k == "HOME" || k == "TMPDIR"))
            .env("PORT", "0")
            .env("UCONTACT_DATA_DIR", data_dir.path())
            .env("RUST_LOG", "info")
            .envs(&settings.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn ucontact-local");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let base = line
            .trim()
            .strip_prefix("UContact listening on ")
            .map(str::to_owned)
            .unwrap_or_else(|| {
                let log = std::fs::read_to_string(data_dir.path().join("server.log")).unwrap_or_default();
                panic!("server did not start: stdout {line:?}\n{log}")
            });
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            // Well inside the server's 5 s keep-alive: a connection idle that long (a slow read of
            // moto's state between two requests) is never reused just as the server closes it.
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        Self {
            child,
            base,
            data_dir,
            settings,
            client,
        }
    }

    /// Starts a server that is expected to refuse to start; returns what it logged.
    pub fn start_fails(settings: Settings) -> String {
        let dir = tempfile::tempdir().expect("temp dir");
        let output = Command::new(server_binary())
            .env_clear()
            .env("PORT", "0")
            .env("UCONTACT_DATA_DIR", dir.path())
            .envs(&settings.env)
            .stdin(Stdio::null())
            .output()
            .expect("run ucontact-local");
        assert!(
            !output.status.success(),
            "the server started: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert!(output.stdout.is_empty(), "it announced an address");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// Runs `ucontact-local <args>` (e.g. `keys rotate`) on this server's data dir and settings,
    /// as an operator would beside it; returns its stdout, asserting success.
    pub fn command(&self, args: &[&str]) -> String {
        let output = Command::new(server_binary())
            .env_clear()
            .envs(std::env::vars().filter(|(k, _)| k == "PATH" || k == "HOME" || k == "TMPDIR"))
            .env("UCONTACT_DATA_DIR", self.data_dir())
            .envs(&self.settings.env)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run ucontact-local");
        assert!(
            output.status.success(),
            "ucontact-local {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Stops the server with SIGTERM (as a supervisor would) and starts it again on the same data.
    pub async fn restart(mut self) -> Self {
        let status = self.terminate();
        assert!(status.success(), "graceful stop failed: {status:?}");
        Self::spawn(Arc::clone(&self.data_dir), self.settings.clone())
    }

    /// Like [`Server::restart`], with one setting changed (e.g. `UCONTACT_FAKE_NOW`).
    pub async fn restart_with(mut self, name: &str, value: &str) -> Self {
        let status = self.terminate();
        assert!(status.success(), "graceful stop failed: {status:?}");
        let settings = self.settings.clone().with(name, value);
        Self::spawn(Arc::clone(&self.data_dir), settings)
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        assert!(sent.success());
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not stop within 10 s of SIGTERM");
    }

    /// One setting the server was started with.
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings.env.get(name).map(String::as_str)
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// Everything the server has logged so far.
    /// The server's log so far, once every background job it queued has ended.
    pub fn log(&self) -> String {
        self.settle_blocking();
        std::fs::read_to_string(self.data_dir().join("server.log")).unwrap_or_default()
    }

    /// The fields of every audit event logged so far, oldest first (the test servers log JSON
    /// lines: `LOG_FORMAT=json`).
    pub fn audit_events(&self) -> Vec<Value> {
        self.log()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line["target"] == "audit")
            .map(|line| line["fields"].clone())
            .collect()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Answer {
            status,
            headers,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(self.url(path))).await
    }

    pub async fn get_with_token(&self, path: &str, token: &str) -> Answer {
        self.send(self.client.get(self.url(path)).bearer_auth(token))
            .await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Answer {
        self.send(self.client.post(self.url(path)).json(&body)).await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        self.send(self.client.post(self.url(path)).form(fields)).await
    }

    pub async fn post_with_token(&self, path: &str, token: &str) -> Answer {
        self.send(self.client.post(self.url(path)).bearer_auth(token))
            .await
    }

    pub async fn register(&self, username: &str, email: &str, password: &str) -> Answer {
        self.post_json(
            "/api/auth/register",
            json!({ "username": username, "email": email, "password": password }),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> Answer {
        self.post_form(
            "/api/auth/login",
            &[("username", username), ("password", password)],
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Answer {
        self.post_json(
            "/api/auth/refresh-token",
            json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    pub fn backend(&self) -> Backend {
        self.settings.backend()
    }

    /// Every email this server sent, oldest first: the `.eml` outbox, or what the emulator's SES
    /// recorded from this server's sender address.
    pub async fn outbox(&self) -> Vec<Email> {
        self.settle().await;
        match self.backend() {
            Backend::Embedded => self.eml_outbox(),
            Backend::Aws => self.ses_outbox().await,
        }
    }

    /// Waits until every background job the server has queued (emails, purges: they run right
    /// after the answer) has ended, as its log tells.
    pub async fn settle(&self) {
        for _ in 0..SETTLE_POLLS {
            if self.jobs_ended() {
                return;
            }
            tokio::time::sleep(SETTLE_POLL).await;
        }
        self.jobs_stuck();
    }

    /// [`Server::settle`] for synchronous callers (the server is another process).
    fn settle_blocking(&self) {
        for _ in 0..SETTLE_POLLS {
            if self.jobs_ended() {
                return;
            }
            std::thread::sleep(SETTLE_POLL);
        }
        self.jobs_stuck();
    }

    fn jobs_stuck(&self) -> ! {
        let text = std::fs::read_to_string(self.data_dir().join("server.log")).unwrap_or_default();
        let jobs: Vec<&str> = text.lines().filter(|l| l.contains("job")).collect();
        panic!("background jobs still running after 30 s; the log's job lines: {jobs:#?}");
    }

    fn jobs_ended(&self) -> bool {
        let text = std::fs::read_to_string(self.data_dir().join("server.log")).unwrap_or_default();
        // This run's part of the log (a restarted server appends to it).
        let text = text
            .rfind("\"message\":\"starting\"")
            .map_or(&text[..], |at| &text[at..]);
        let count = |message: &str| text.matches(&format!("\"message\":\"{message}\"")).count();
        count("job queued") == count("job done") + count("job gave up")
    }

    fn eml_outbox(&self) -> Vec<Email> {
        let dir = self.data_dir().join("outbox");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        paths.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        paths.sort();
        paths
            .iter()
            .map(|path| {
                let raw = std::fs::read_to_string(path).expect("eml");
                let header = |name: &str| {
                    raw.lines()
                        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                        .unwrap_or_default()
                        .to_owned()
                };
                Email {
                    to: header("To"),
                    subject: header("Subject"),
                    decoded: decode_quoted_printable(&raw),
                }
            })
            .collect()
    }

    /// moto keeps sent mail in its state dump (only one body: the HTML one).
    async fn ses_outbox(&self) -> Vec<Email> {
        let endpoint = aws_endpoint();
        let sender = self.settings.env.get("MAIL_FROM").expect("sender");
        // The dump can fail while another request changes moto's state: try again.
        let mut state = Value::Null;
        for attempt in 0..10 {
            let answer = self
                .client
                .get(format!("{endpoint}/moto-api/data.json"))
                .send()
                .await;
            match answer {
                Ok(answer) => match answer.json::<Value>().await {
                    Ok(value) => {
                        state = value;
                        break;
                    }
                    Err(e) if attempt == 9 => panic!("moto's state is not JSON: {e}"),
                    Err(_) => {}
                },
                Err(e) if attempt == 9 => panic!("moto's state could not be read: {e}"),
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let messages = state["ses"]["Message"].as_array().cloned().unwrap_or_default();
        messages
            .iter()
            .filter(|m| m["source"].as_str() == Some(sender.as_str()))
            .map(|m| Email {
                to: m["destinations"]["ToAddresses"][0]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                subject: m["subject"].as_str().unwrap_or_default().to_owned(),
                decoded: m["body"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }

    /// Emails sent to `to`, oldest first.
    pub async fn emails_to(&self, to: &str) -> Vec<Email> {
        self.outbox().await.into_iter().filter(|e| e.to == to).collect()
    }

    /// The token in the newest email to `to` whose link starts with `path_prefix`.
    pub async fn token_from_email(&self, to: &str, path_prefix: &str) -> String {
        // Links start with PUBLIC_BASE_URL when it is set, else with the server's own address.
        let base = self.setting("PUBLIC_BASE_URL").unwrap_or(&self.base);
        let prefix = format!("{}{path_prefix}", base.trim_end_matches('/'));
        let link = self
            .emails_to(to)
            .await
            .iter()
            .rev()
            .find_map(|e| e.link(&prefix))
            .unwrap_or_else(|| panic!("no email to {to} with a link {prefix}"));
        link[prefix.len()..].to_owned()
    }

    /// The verification token sent to `to`.
    pub async fn verification_token(&self, to: &str) -> String {
        self.token_from_email(to, "/api/auth/confirmed_email/").await
    }

    /// The reset token sent to `to`.
    pub async fn reset_token(&self, to: &str) -> String {
        self.token_from_email(to, "/auth/reset-password/").await
    }

    /// Registers and verifies a user; returns its `User` JSON.
    pub async fn verified_user(&self, username: &str, email: &str) -> Value {
        let registered = self.register(username, email, PASSWORD).await;
        assert_eq!(registered.status, 201, "{}", registered.text);
        let token = self.verification_token(email).await;
        let confirmed = self.get(&format!("/api/auth/confirmed_email/{token}")).await;
        assert_eq!(confirmed.status, 200, "{}", confirmed.text);
        registered.json()
    }

    /// Logs in with the default password; panics unless it works.
    pub async fn tokens(&self, username: &str) -> Tokens {
        tokens_of(&self.login(username, PASSWORD).await)
    }
}

/// The tokens of a successful login or refresh answer.
#[track_caller]
pub fn tokens_of(answer: &Answer) -> Tokens {
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["token_type"], "bearer");
    Tokens {
        access: body["access_token"].as_str().expect("access_token").to_owned(),
        refresh: body["refresh_token"].as_str().expect("refresh_token").to_owned(),
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Undoes quoted-printable: soft line breaks and `=XX` escapes.
fn decode_quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A unique suffix for names in one test run.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{prefix}{}", NEXT.fetch_add(1, Ordering::Relaxed))
}
