//! DynamoDB requests per route: the routes' own handlers run in-process on the DynamoDB adapter,
//! whose client carries an SDK interceptor counting every request sent (retries included), against
//! moto. The jobs each route writes then run as the worker function runs them (shared::jobs), in
//! rows of their own. Emails are captured in memory instead of sent, to read the links in them.
//!
//! The interceptor also records the partition keys each request names, and the run ends by
//! checking them against template.yaml: every function's policy limits `dynamodb:LeadingKeys` to
//! the key families it uses, and a key outside them would be refused when deployed (moto does not
//! enforce IAM, so this is where a missing family shows).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

mod oidc;

use anyhow::{Context, anyhow, bail};
use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::{Value, json};
use shared::App;
use shared::config::{Config, Deployment, TokenLifetimes};
use shared::jobs::{self, WORKER_FUNCTION};
use shared::keys::KeyNeeds;
use shared::keys::secrets_manager::SecretsManagerKeyStore;
use shared::mail::{MailError, Mailer, OutgoingEmail};
use shared::routes::{Endpoint, route};
use shared::store::dynamodb::DynamoStore;

use crate::{Options, leading_keys};

/// Counts the requests a client sends, and records the partition keys they name.
#[derive(Debug, Clone, Default)]
struct RequestCounter(Arc<AtomicUsize>, Arc<Mutex<BTreeSet<String>>>);

impl RequestCounter {
    /// The count and the keys since the last call, both reset.
    fn take(&self) -> (usize, BTreeSet<String>) {
        let keys = self
            .1
            .lock()
            .map(|mut k| std::mem::take(&mut *k))
            .unwrap_or_default();
        (self.0.swap(0, Ordering::SeqCst), keys)
    }
}

/// Every partition key a DynamoDB request body names: `"PK": {"S": ...}` anywhere (items, keys,
/// batches, transactions), and a query's `:pk` value.
fn partition_keys(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (name, inner) in map {
                if (name == "PK" || name == ":pk")
                    && let Some(key) = inner["S"].as_str()
                {
                    into.insert(key.to_owned());
                }
                partition_keys(inner, into);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| partition_keys(item, into)),
        _ => {}
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        if let Some(body) = context.request().body().bytes()
            && let Ok(body) = serde_json::from_slice::<Value>(body)
            && let Ok(mut keys) = self.1.lock()
        {
            partition_keys(&body, &mut keys);
        }
        Ok(())
    }
}

/// Keeps every email in memory.
#[derive(Debug, Default)]
struct CapturingMailer(Mutex<Vec<OutgoingEmail>>);

#[async_trait]
impl Mailer for CapturingMailer {
    async fn send(&self, email: OutgoingEmail) -> Result<(), MailError> {
        self.0.lock().map_err(|_| MailError(anyhow!("lock")))?.push(email);
        Ok(())
    }
}

/// One row: a route, the requests it sent, the goal, the answer's status.
#[derive(Debug, Clone)]
pub struct Trips {
    pub function: String,
    pub requests: usize,
    pub goal: Option<usize>,
    pub status: u16,
}

/// The SDK configuration of every client the bench makes: moto's endpoint, test credentials.
pub async fn moto_sdk(options: &Options) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&options.moto)
        .credentials_provider(Credentials::new("test", "test", None, None, "bench"))
        .load()
        .await
}

async fn client(options: &Options, counter: Option<RequestCounter>) -> aws_sdk_dynamodb::Client {
    let sdk = moto_sdk(options).await;
    let mut config = aws_sdk_dynamodb::config::Builder::from(&sdk);
    if let Some(counter) = counter {
        config = config.interceptor(counter);
    }
    aws_sdk_dynamodb::Client::from_conf(config.build())
}

/// Makes first signing keys under `prefix` in moto's Secrets Manager, as an operator's first
/// `ucontact-local keys rotate` does.
/// Returns the public keys as a deployment carries them (`PUBLIC_KEYS`).
pub async fn create_keys(
    options: &Options,
    prefix: &str,
    lifetimes: &TokenLifetimes,
) -> anyhow::Result<String> {
    use shared::keys::KeyStore;
    let sdk = moto_sdk(options).await;
    let store = SecretsManagerKeyStore::new(aws_sdk_secretsmanager::Client::new(&sdk), prefix);
    store
        .ensure(lifetimes, shared::keys::Algorithm::EdDSA)
        .await
        .map_err(|e| anyhow!("{e:#}"))?;
    let public = store.public_sets().await.map_err(|e| anyhow!("{e:#}"))?;
    Ok(shared::keys::deployed::encode_public(&public)?)
}

/// Creates `table` on moto with the adapter's own schema.
pub async fn create_table(options: &Options, table: &str) -> anyhow::Result<()> {
    DynamoStore::new(client(options, None).await, table)
        .ensure_table()
        .await
}

struct Flow {
    app: App,
    counter: RequestCounter,
    mailer: Arc<CapturingMailer>,
    rows: Vec<Trips>,
    /// Per function, the partition keys its requests named.
    keys: BTreeMap<String, BTreeSet<String>>,
}

impl Flow {
    /// Calls one route as API Gateway would, counting the DynamoDB requests it sends.
    async fn call(
        &mut self,
        endpoint: Endpoint,
        path: &str,
        body: Option<(&str, String)>,
        token: Option<&str>,
    ) -> anyhow::Result<Value> {
        let authorization = token.map(|token| format!("Bearer {token}"));
        let headers: Vec<(&str, &str)> = authorization
            .as_deref()
            .map(|value| ("authorization", value))
            .into_iter()
            .collect();
        let response = self.call_with(endpoint, path, body, &headers).await?;
        Ok(serde_json::from_slice(response.body()).unwrap_or(Value::Null))
    }

    /// [`Flow::call`] with any request headers, answering the whole response (the hosted
    /// sign-in's pages, cookies and redirects).
    async fn call_with(
        &mut self,
        endpoint: Endpoint,
        path: &str,
        body: Option<(&str, String)>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<shared::http::Response> {
        let mut builder = http::Request::builder()
            .method(endpoint.method())
            .uri(format!("https://bench.example.com{path}"));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = match body {
            Some((content_type, text)) => {
                builder = builder.header("content-type", content_type);
                lambda_http::Body::from(text)
            }
            None => lambda_http::Body::Empty,
        };
        let (resolved, request) = route(builder.body(body)?).map_err(|_| anyhow!("no route for {path}"))?;
        assert_eq!(resolved, endpoint);
        self.counter.take();
        let response = endpoint.call(&self.app, request).await;
        let (requests, keys) = self.counter.take();
        let status = response.status().as_u16();
        if status >= 500 {
            bail!("{}: {status}", endpoint.function_name());
        }
        let function = endpoint.function_name();
        self.keys.entry(function.to_owned()).or_default().extend(keys);
        self.rows.push(Trips {
            function: function.to_owned(),
            requests,
            goal: goal(endpoint),
            status,
        });
        self.run_jobs().await?;
        Ok(response)
    }

    /// Runs the jobs the last route wrote, one at a time, as the worker function runs what the
    /// table's stream delivers: a row per job, named by its kind.
    async fn run_jobs(&mut self) -> anyhow::Result<()> {
        // The scan stands in for the stream: not the worker's requests.
        let pending = self.app.store.pending_jobs().await?;
        for job in pending {
            self.counter.take();
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
            jobs::run(&self.app, &job, deadline)
                .await
                .map_err(|e| anyhow!("job {}: {e:?}", job.job.kind()))?;
            let (requests, keys) = self.counter.take();
            self.keys
                .entry(WORKER_FUNCTION.to_owned())
                .or_default()
                .extend(keys);
            self.rows.push(Trips {
                function: format!("{WORKER_FUNCTION} ({})", job.job.kind()),
                requests,
                goal: None,
                status: 200,
            });
        }
        Ok(())
    }

    /// Logs in again (the first login's row already counts login): the refresh and access tokens.
    async fn login(&mut self, form: &Option<(&str, String)>) -> anyhow::Result<(String, String)> {
        let tokens = self
            .call(Endpoint::Login, "/api/auth/login", form.clone(), None)
            .await?;
        self.rows.pop(); // a later login repeats the first row
        token_pair(&tokens)
    }

    /// Names the last route's row (not the rows of the jobs it wrote).
    fn label_last(&mut self, label: &str) {
        if let Some(row) = self
            .rows
            .iter_mut()
            .rev()
            .find(|row| !row.function.starts_with(WORKER_FUNCTION))
        {
            row.function = label.to_owned();
        }
    }

    fn link(&self, prefix: &str) -> anyhow::Result<String> {
        let emails = self.mailer.0.lock().map_err(|_| anyhow!("lock"))?;
        emails
            .iter()
            .rev()
            .find_map(|e| {
                let start = e.text.find(prefix)?;
                let rest = &e.text[start + prefix.len()..];
                Some(rest.split_whitespace().next()?.to_owned())
            })
            .with_context(|| format!("no email with {prefix}"))
    }
}

/// The refresh and access tokens of a login's (or a password change's) answer.
fn token_pair(tokens: &Value) -> anyhow::Result<(String, String)> {
    let token = |name: &str| {
        tokens[name]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no {name} in {tokens}"))
    };
    Ok((token("refresh_token")?, token("access_token")?))
}

/// Issue 6's goals: me 1, login ≤ 2, refresh ≤ 2, register ≤ 2, each contacts write 1. The
/// contacts reads send 2 requests since issue 20, in parallel (one round trip): the query and the
/// profile, so that a deleted user's token reads nothing.
fn goal(endpoint: Endpoint) -> Option<usize> {
    match endpoint {
        Endpoint::Me | Endpoint::CreateContact | Endpoint::UpdateContact | Endpoint::DeleteContact => Some(1),
        Endpoint::ListContacts | Endpoint::GetContact | Endpoint::UpcomingBirthdays => Some(2),
        Endpoint::Login | Endpoint::RefreshToken | Endpoint::Register => Some(2),
        _ => None,
    }
}

/// The TOTP routes and a login with a code, each code computed as an authenticator app would.
async fn second_factors(flow: &mut Flow, access: &str, password: &str) -> anyhow::Result<()> {
    use shared::mfa::codes::{TotpSecret, step_of};
    let json = |value: Value| Some(("application/json", value.to_string()));
    flow.call(Endpoint::MfaStatus, "/api/users/me/mfa", None, Some(access))
        .await?;
    let setup = flow
        .call(
            Endpoint::TotpSetup,
            "/api/users/me/mfa/totp",
            json(json!({"password": password})),
            Some(access),
        )
        .await?;
    let secret = setup["secret"]
        .as_str()
        .and_then(TotpSecret::from_base32)
        .context("totp-setup: no secret")?;
    // Steps now-1, now and now+1 are all accepted, each once, in that order.
    let step = step_of(chrono::Utc::now().timestamp());
    let confirmed = flow
        .call(
            Endpoint::TotpConfirm,
            "/api/users/me/mfa/totp/confirm",
            json(json!({"code": secret.code_at(step - 1)})),
            Some(access),
        )
        .await?;
    let recovery = confirmed["recovery_codes"][0]
        .as_str()
        .context("totp-confirm: no recovery codes")?
        .to_owned();
    let login = format!(
        "username=benchuser&password={password}&otp={}",
        secret.code_at(step)
    );
    flow.call(
        Endpoint::Login,
        "/api/auth/login",
        Some(("application/x-www-form-urlencoded", login)),
        None,
    )
    .await?;
    flow.label_last("login (TOTP on, with a code)");
    let regenerated = flow
        .call(
            Endpoint::RecoveryCodes,
            "/api/users/me/mfa/recovery-codes",
            json(json!({"password": password, "code": secret.code_at(step + 1)})),
            Some(access),
        )
        .await?;
    let recovery = regenerated["recovery_codes"][0]
        .as_str()
        .map(str::to_owned)
        .unwrap_or(recovery);
    flow.call(
        Endpoint::TotpDisable,
        "/api/users/me/mfa/totp",
        json(json!({"password": password, "code": recovery})),
        Some(access),
    )
    .await?;
    flow.label_last("totp-disable (with a recovery code)");
    Ok(())
}

/// The passkey routes: one registered by a software authenticator, listed, used to log in, and
/// deleted.
async fn passkeys(flow: &mut Flow, access: &str) -> anyhow::Result<()> {
    use crate::authenticator::Passkey;
    // The bench's requests carry no public base: links (and the RP) are the local default.
    let origin = "http://localhost:8000";
    let json = |value: Value| Some(("application/json", value.to_string()));
    let options = flow
        .call(
            Endpoint::PasskeyRegisterOptions,
            "/api/users/me/passkeys/options",
            json(json!({})),
            Some(access),
        )
        .await?;
    let (mut passkey, answer) = Passkey::create(&options["publicKey"], origin)?;
    let registered = flow
        .call(
            Endpoint::PasskeyRegister,
            "/api/users/me/passkeys",
            json(
                json!({"challenge_token": options["challenge_token"], "credential": answer, "name": "bench"}),
            ),
            Some(access),
        )
        .await?;
    let id = registered["id"]
        .as_str()
        .with_context(|| format!("passkey-register: {registered}"))?
        .to_owned();
    flow.call(
        Endpoint::ListPasskeys,
        "/api/users/me/passkeys",
        None,
        Some(access),
    )
    .await?;
    let options = flow
        .call(
            Endpoint::PasskeyLoginOptions,
            "/api/auth/passkey/options",
            json(json!({})),
            None,
        )
        .await?;
    let answer = passkey.get(&options["publicKey"], origin)?;
    let tokens = flow
        .call(
            Endpoint::PasskeyLogin,
            "/api/auth/passkey/login",
            json(json!({"challenge_token": options["challenge_token"], "credential": answer})),
            None,
        )
        .await?;
    token_pair(&tokens).context("passkey-login")?;
    flow.call(
        Endpoint::DeletePasskey,
        &format!("/api/users/me/passkeys/{id}"),
        None,
        Some(access),
    )
    .await?;
    Ok(())
}

/// Runs every route once, in an order that gives each what it needs.
pub async fn count(options: &Options) -> anyhow::Result<Vec<Trips>> {
    let table = format!("ucontact-trips-{}", uuid::Uuid::new_v4().simple());
    let counter = RequestCounter::default();
    let store = Arc::new(DynamoStore::new(
        client(options, Some(counter.clone())).await,
        &table,
    ));
    store.ensure_table().await?;
    let data = tempfile::tempdir()?;
    let settings = HashMap::from([
        ("BCRYPT_COST", "4".to_owned()),
        ("EMAIL_THROTTLE_SECONDS", "0".to_owned()),
        ("UCONTACT_DATA_DIR", data.path().display().to_string()),
        ("OIDC_CLIENTS", oidc::CLIENTS.to_owned()),
    ]);
    let config = Config::from_lookup(Deployment::Local, |name| settings.get(name).cloned())
        .map_err(|e| anyhow!("{e}"))?;
    let mut app = App::build(config, KeyNeeds::ALL, shared::store::WarmUp::None).await?;
    let mailer = Arc::new(CapturingMailer::default());
    app.store = store.clone();
    app.contacts = store.clone();
    app.mfa = store.clone();
    app.passkeys = store;
    app.mailer = mailer.clone();
    let mut flow = Flow {
        app,
        counter,
        mailer,
        rows: Vec::new(),
        keys: BTreeMap::new(),
    };
    let json = |value: Value| Some(("application/json", value.to_string()));
    let form = |pairs: &[(&str, &str)]| {
        let text = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        Some(("application/x-www-form-urlencoded", text))
    };
    let password = "bench-passphrase-not-common";

    flow.call(Endpoint::Health, "/api/healthchecker", None, None)
        .await?;
    let user = json!({"username": "benchuser", "email": "bench@example.com", "password": password});
    flow.call(Endpoint::Register, "/api/auth/register", json(user), None)
        .await?;
    let token = flow.link("/api/auth/confirmed_email/")?;
    flow.call(
        Endpoint::ConfirmEmail,
        &format!("/api/auth/confirmed_email/{token}"),
        None,
        None,
    )
    .await?;
    let login_form = [("username", "benchuser"), ("password", password)];
    let tokens = flow
        .call(Endpoint::Login, "/api/auth/login", form(&login_form), None)
        .await?;
    let access = tokens["access_token"]
        .as_str()
        .context("access token")?
        .to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .context("refresh token")?
        .to_owned();
    flow.call(Endpoint::Me, "/api/users/me", None, Some(&access))
        .await?;
    let refreshed = flow
        .call(
            Endpoint::RefreshToken,
            "/api/auth/refresh-token",
            json(json!({"refresh_token": refresh})),
            None,
        )
        .await?;
    let refresh = refreshed["refresh_token"]
        .as_str()
        .context("refresh token")?
        .to_owned();
    let contact = json!({"first_name": "Jane", "last_name": "Doe", "email": "jane@example.com",
        "phone": "+1 555 0100", "birthday": "1990-06-15", "description": "bench"});
    let created = flow
        .call(
            Endpoint::CreateContact,
            "/api/contacts",
            json(contact.clone()),
            Some(&access),
        )
        .await?;
    let id = created["id"].as_i64().context("contact id")?;
    let path = format!("/api/contacts/{id}");
    flow.call(Endpoint::GetContact, &path, None, Some(&access))
        .await?;
    flow.call(
        Endpoint::ListContacts,
        "/api/contacts?skip=0&limit=100",
        None,
        Some(&access),
    )
    .await?;
    // Most updates keep the email; a new email also moves the contact's email guard.
    let mut changed = contact;
    changed["phone"] = json!("+1 555 0199");
    flow.call(
        Endpoint::UpdateContact,
        &path,
        json(changed.clone()),
        Some(&access),
    )
    .await?;
    flow.label_last("update-contact (same email)");
    changed["email"] = json!("jane.doe@example.com");
    flow.call(Endpoint::UpdateContact, &path, json(changed), Some(&access))
        .await?;
    flow.label_last("update-contact (new email)");
    flow.call(
        Endpoint::UpcomingBirthdays,
        "/api/contacts/upcoming-birthdays",
        None,
        Some(&access),
    )
    .await?;
    flow.call(Endpoint::DeleteContact, &path, None, Some(&access))
        .await?;
    flow.call(
        Endpoint::RequestEmail,
        "/api/auth/request_email",
        json(json!({"email": "bench@example.com"})),
        None,
    )
    .await?;
    flow.call(
        Endpoint::ResetPassword,
        "/api/auth/reset-password",
        json(json!({"email": "bench@example.com"})),
        None,
    )
    .await?;
    let reset = flow.link("/auth/reset-password/")?;
    flow.call(
        Endpoint::ResetPasswordForm,
        &format!("/auth/reset-password/{reset}"),
        None,
        None,
    )
    .await?;
    let new_password = "another-bench-passphrase";
    let set = [
        ("token", reset.as_str()),
        ("password", new_password),
        ("confirm_password", new_password),
    ];
    flow.call(Endpoint::SetPassword, "/api/auth/set-password", form(&set), None)
        .await?;
    let _ = refresh; // ended by the reset, like every session
    let login_form = [("username", "benchuser"), ("password", new_password)];
    let access = flow.login(&form(&login_form)).await?.1;
    // A second session, for list-sessions to list and revoke-session to revoke (not the caller's).
    flow.login(&form(&login_form)).await?;
    let sessions = flow
        .call(
            Endpoint::ListSessions,
            "/api/users/me/sessions",
            None,
            Some(&access),
        )
        .await?;
    let other = sessions
        .as_array()
        .context("list-sessions: not a list")?
        .iter()
        .find(|session| session["current"] == json!(false))
        .and_then(|session| session["id"].as_str())
        .context("list-sessions: no session but the caller's")?
        .to_owned();
    flow.call(
        Endpoint::RevokeSession,
        &format!("/api/users/me/sessions/{other}"),
        None,
        Some(&access),
    )
    .await?;
    let change = json!({"new_email": "bench.new@example.com", "password": new_password});
    flow.call(
        Endpoint::ChangeEmail,
        "/api/users/me/email",
        json(change),
        Some(&access),
    )
    .await?;
    let change = flow.link("/api/auth/confirm-email-change/")?;
    flow.call(
        Endpoint::ConfirmEmailChange,
        &format!("/api/auth/confirm-email-change/{change}"),
        None,
        None,
    )
    .await?;
    // The confirmation ended every session: log in again for the password change.
    let access = flow.login(&form(&login_form)).await?.1;
    let third_password = "a-third-bench-passphrase";
    let change = json!({"current_password": new_password, "new_password": third_password});
    let tokens = flow
        .call(
            Endpoint::ChangePassword,
            "/api/users/me/password",
            json(change),
            Some(&access),
        )
        .await?;
    let (refresh, access) = token_pair(&tokens)?;
    // Everywhere first: a token of a session that has ended cannot log out everywhere.
    flow.call(Endpoint::LogoutAll, "/api/auth/logout-all", None, Some(&access))
        .await?;
    flow.call(
        Endpoint::Logout,
        "/api/auth/logout",
        json(json!({"refresh_token": refresh})),
        None,
    )
    .await?;
    // The docs serve what is compiled in: no store request at all.
    flow.call(Endpoint::Openapi, "/openapi.json", None, None).await?;
    flow.call(Endpoint::Docs, "/docs", None, None).await?;
    flow.call(Endpoint::DocsAsset, "/docs/swagger-ui.css", None, None)
        .await?;
    // Second factors: TOTP on, a login with a code, new recovery codes, TOTP off again.
    let login_form = [("username", "benchuser"), ("password", third_password)];
    let access = flow.login(&form(&login_form)).await?.1;
    second_factors(&mut flow, &access, third_password).await?;
    passkeys(&mut flow, &access).await?;
    // Sign in with UContact: the hosted pages, the code, the token endpoint's grants.
    oidc::sign_in(&mut flow, third_password).await?;
    // Last: the account goes, with its sessions.
    let access = flow.login(&form(&login_form)).await?.1;
    flow.call(
        Endpoint::DeleteAccount,
        "/api/users/me",
        json(json!({"password": third_password})),
        Some(&access),
    )
    .await?;
    for row in &flow.rows {
        eprintln!(
            "  {}: {} requests (status {})",
            row.function, row.requests, row.status
        );
    }
    leading_keys::check(&flow.keys)?;
    Ok(flow.rows)
}
