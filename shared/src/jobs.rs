//! Background work (docs/API.md, "Account"): what a committed change leaves to do after the
//! answer, written as a job in the same store step as the change, so that it is never lost.
//!
//! - Deployed, a job is an item of the table; its `INSERT` on the table's DynamoDB stream invokes
//!   the `worker` function ([`crate::lambda::run_worker`]), whose event source mapping retries a
//!   failed job and finally sends it to a dead-letter queue (template.yaml). A job that is done
//!   deletes its item; a purge that needs more time than one invocation replaces its item with a
//!   fresh one in one step, which the stream delivers again.
//! - Locally, [`Background::Inline`] hands each job to a task of the local server right after the
//!   answer; a job that still fails after a few tries stays in the store and runs again at the
//!   next start ([`resume`]).
//!
//! Emails leave the request path this way too: `reset-password` and `request_email` only write a
//! job, for known and unknown addresses alike, so their answers take the same time; the job looks
//! the address up. Security notices bypass the per-address email throttle.

use std::time::Duration;

use anyhow::anyhow;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::app::App;
use crate::audit::{self, Caller, Event, Outcome};
use crate::auth::Links;
use crate::domain::{Email, User, UserId};
use crate::mail::{self, MailError, OutgoingEmail};
use crate::store::{AbuseKeys, PurgeProgress, StoreError};

/// Where a job came from: what its audit events and links need of the request that made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The public base URL links in emails point to.
    pub links_base: String,
    /// The `iss` of tokens minted for the request.
    pub issuer: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl Origin {
    pub fn new(caller: &Caller, links: &Links) -> Self {
        Self {
            links_base: links.base().to_owned(),
            issuer: caller.issuer.clone(),
            source_ip: caller.source_ip.clone(),
            user_agent: caller.user_agent.clone(),
            request_id: caller.request_id.clone(),
        }
    }

    fn caller(&self) -> Caller {
        Caller {
            source_ip: self.source_ip.clone(),
            user_agent: self.user_agent.clone(),
            request_id: self.request_id.clone(),
            issuer: self.issuer.clone(),
        }
    }

    fn links(&self) -> Links {
        Links::new(self.links_base.as_str())
    }
}

/// One piece of background work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// The verification email of a new user (registration counted it against the throttle).
    VerificationEmail {
        user_id: i64,
        username: String,
        email: String,
        origin: Origin,
    },
    /// `request_email`: a new verification link if the address is an unverified user's.
    VerificationRequest { email: String, origin: Origin },
    /// `reset-password`: a reset link if the address is known.
    PasswordReset { email: String, origin: Origin },
    /// `change-email`: the link to the new address (the pending change `change_id`).
    EmailChangeLink {
        user_id: i64,
        username: String,
        new_email: String,
        epoch: i64,
        change_id: String,
        origin: Origin,
    },
    /// The security notice to the old address after an email change: never throttled.
    EmailChangedNotice {
        user_id: i64,
        username: String,
        old_email: String,
        new_email: String,
    },
    /// A security notice to the user about their second factors ("two-factor authentication
    /// was turned off", "a passkey was added"): never throttled.
    SecurityNotice {
        user_id: i64,
        username: String,
        email: String,
        notice: SecurityNotice,
    },
    /// What is left of a deleted user: sessions, contacts, abuse state.
    Purge { user_id: i64, abuse_keys: AbuseKeys },
}

/// Which security notice a [`Job::SecurityNotice`] sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityNotice {
    TotpDisabled,
    PasskeyAdded,
}

/// A job as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    pub id: String,
    pub job: Job,
}

impl JobRecord {
    pub fn new(job: Job) -> Self {
        Self {
            id: uuid::Uuid::new_v4().simple().to_string(),
            job,
        }
    }

    /// The security notice `notice` to `user`'s address.
    pub fn security_notice(user: &User, notice: SecurityNotice) -> Self {
        Self::new(Job::SecurityNotice {
            user_id: user.id.get(),
            username: user.username.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            notice,
        })
    }

    /// A new user's verification job with the id the store allocated.
    pub fn for_user(&self, id: UserId) -> Self {
        let mut record = self.clone();
        if let Job::VerificationEmail { user_id, .. } = &mut record.job {
            *user_id = id.get();
        }
        record
    }

    /// The JSON the store keeps (and the stream carries).
    pub fn to_json(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(|e| StoreError::Unexpected(anyhow!(e)))
    }

    pub fn from_json(json: &str) -> anyhow::Result<Self> {
        Ok(serde_json::from_str(json)?)
    }
}

/// How jobs reach their runner once the store has them.
#[derive(Clone, Default)]
pub enum Background {
    /// Deployed: the table's stream delivers each job to the worker function; nothing to do here.
    #[default]
    Stream,
    /// Locally: the local server's job task ([`serve_inline`]).
    Inline(mpsc::UnboundedSender<JobRecord>),
}

impl Background {
    /// Hands a job the store has just committed to its runner.
    pub fn dispatch(&self, record: JobRecord) {
        if let Background::Inline(queue) = self {
            tracing::info!(job_id = %record.id, kind = record.job.kind(), "job queued");
            if queue.send(record).is_err() {
                tracing::warn!("the job task has stopped; the job runs at the next start");
            }
        }
    }
}

/// A job that could not run now: worth retrying (the store or the mail provider failed).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("job failed")]
    Unexpected(#[from] anyhow::Error),
}

impl Job {
    pub fn kind(&self) -> &'static str {
        match self {
            Job::VerificationEmail { .. } => "verification_email",
            Job::VerificationRequest { .. } => "verification_request",
            Job::PasswordReset { .. } => "password_reset",
            Job::EmailChangeLink { .. } => "email_change_link",
            Job::EmailChangedNotice { .. } => "email_changed_notice",
            Job::SecurityNotice { .. } => "security_notice",
            Job::Purge { .. } => "purge",
        }
    }
}

/// Runs one job to its end, or until `deadline` for a purge (which then leaves a fresh job for
/// the rest). `Ok`: the job is gone from the store. `Err`: it stays, to be retried.
#[tracing::instrument(skip_all, fields(job_id = %record.id, kind = record.job.kind()))]
pub async fn run(app: &App, record: &JobRecord, deadline: Instant) -> Result<(), JobError> {
    match &record.job {
        Job::Purge { user_id, abuse_keys } => {
            let user_id = user_id_of(*user_id)?;
            match app.store.purge_user(user_id, abuse_keys, deadline).await? {
                PurgeProgress::Done { items } => {
                    tracing::info!(user_id = %user_id, items, "purged a deleted user's data");
                    app.store.finish_job(&record.id).await?;
                }
                PurgeProgress::More { items } => {
                    // Out of time: one step replaces this job with a fresh one for the rest.
                    let next = JobRecord::new(record.job.clone());
                    tracing::info!(user_id = %user_id, items, next_job = %next.id, "purge continues in a new job");
                    app.store.replace_job(&record.id, &next).await?;
                    app.background.dispatch(next);
                }
            }
        }
        job => {
            send_email_job(app, job).await?;
            app.store.finish_job(&record.id).await?;
        }
    }
    Ok(())
}

fn user_id_of(id: i64) -> anyhow::Result<UserId> {
    UserId::new(id).ok_or_else(|| anyhow!("job names user id {id}"))
}

/// The emails of a job: built and sent, or skipped (unknown address, throttled), with the audit
/// event the request left to the job.
async fn send_email_job(app: &App, job: &Job) -> Result<(), JobError> {
    match job {
        Job::VerificationEmail {
            user_id,
            username,
            email,
            origin,
        } => {
            // Counted against the address's throttle by the registration itself.
            let user = job_user(*user_id, username, email)?;
            let token =
                app.tokens
                    .issue_email_verification(user.id, &user.email, &origin.issuer, app.clock.now())?;
            let email = mail::verification_email(&user, origin.links().verification(&token));
            send(app, email).await
        }
        Job::VerificationRequest { email, origin } => {
            let caller = origin.caller();
            let event = Event::VerificationEmailRequested;
            let user = match app.store.user_by_email(&email_key(email)).await? {
                Some(record) if !record.user.is_verified => record.user,
                Some(record) => {
                    let id = Some(record.user.id);
                    audit::record(&caller, event, Outcome::Skipped, id, Some("already_verified"));
                    return Ok(());
                }
                None => {
                    audit::record(&caller, event, Outcome::Skipped, None, Some("unknown_address"));
                    return Ok(());
                }
            };
            let sent = send_throttled(app, &user.email, || {
                let token = app.tokens.issue_email_verification(
                    user.id,
                    &user.email,
                    &origin.issuer,
                    app.clock.now(),
                )?;
                Ok(mail::verification_email(
                    &user,
                    origin.links().verification(&token),
                ))
            })
            .await?;
            audit::record(&caller, event, sent, Some(user.id), None);
            Ok(())
        }
        Job::PasswordReset { email, origin } => {
            let caller = origin.caller();
            let event = Event::PasswordResetRequested;
            let Some(record) = app.store.user_by_email(&email_key(email)).await? else {
                audit::record(&caller, event, Outcome::Skipped, None, Some("unknown_address"));
                return Ok(());
            };
            let user = &record.user;
            let sent = send_throttled(app, &user.email, || {
                let token = app.tokens.issue_password_reset(
                    user.id,
                    record.password_version,
                    &origin.issuer,
                    app.clock.now(),
                )?;
                let minutes = (app.tokens.lifetimes().password_reset + 59) / 60;
                Ok(mail::reset_email(
                    user,
                    origin.links().password_reset(&token),
                    minutes,
                ))
            })
            .await?;
            audit::record(&caller, event, sent, Some(user.id), None);
            Ok(())
        }
        Job::EmailChangeLink {
            user_id,
            username,
            new_email,
            epoch,
            change_id,
            origin,
        } => {
            let caller = origin.caller();
            let user_id = user_id_of(*user_id)?;
            let to = Email::from_trusted(new_email.clone());
            let sent = send_throttled(app, &to, || {
                let user = job_user(user_id.get(), username, new_email)?;
                let token = app.tokens.issue_email_change(
                    user_id,
                    &to,
                    *epoch,
                    change_id,
                    &origin.issuer,
                    app.clock.now(),
                )?;
                Ok(mail::email_change_email(
                    &user,
                    &to,
                    origin.links().email_change(&token),
                ))
            })
            .await?;
            audit::record(&caller, Event::EmailChangeRequested, sent, Some(user_id), None);
            Ok(())
        }
        Job::EmailChangedNotice {
            user_id,
            username,
            old_email,
            new_email,
        } => {
            // A security notice: neither counted against nor held back by the email throttle.
            let before = job_user(*user_id, username, old_email)?;
            let email = mail::email_changed_notice(&before, &Email::from_trusted(new_email.clone()));
            send(app, email).await
        }
        Job::SecurityNotice {
            user_id,
            username,
            email,
            notice,
        } => {
            // Like the email-change notice: never counted against nor held back by the throttle.
            let user = job_user(*user_id, username, email)?;
            send(app, mail::security_notice(&user, *notice)).await
        }
        Job::Purge { .. } => Err(anyhow!("a purge job sends no email").into()),
    }
}

/// The user a job names, as far as an email needs them.
fn job_user(user_id: i64, username: &str, email: &str) -> anyhow::Result<User> {
    Ok(User {
        id: user_id_of(user_id)?,
        username: crate::domain::Username::from_trusted(username.to_owned()),
        email: Email::from_trusted(email.to_owned()),
        created_at: chrono::DateTime::UNIX_EPOCH,
        avatar: None,
        is_verified: false,
    })
}

fn email_key(email: &str) -> String {
    Email::from_trusted(email.to_owned()).key()
}

async fn send(app: &App, email: OutgoingEmail) -> Result<(), JobError> {
    app.mailer.send(email).await?;
    Ok(())
}

/// Sends the email `build` makes if the address's throttle allows (the token inside is minted
/// only then). A send that fails after the claim is retried with the job; the retry's claim may
/// then be refused, and that link is not sent (a new request sends one).
async fn send_throttled(
    app: &App,
    to: &Email,
    build: impl FnOnce() -> anyhow::Result<OutgoingEmail>,
) -> Result<Outcome, JobError> {
    let address_key = app.limits.email_key(&to.key()).map_err(anyhow::Error::from)?;
    let now = app.clock.now().timestamp();
    if !app
        .store
        .claim_email_send(&address_key, now, &app.limits.email)
        .await?
    {
        return Ok(Outcome::Throttled);
    }
    send(app, build()?).await?;
    Ok(Outcome::Success)
}

/// Tries of a job in the local server before it is left for the next start (about 30 s in all).
const INLINE_ATTEMPTS: u32 = 8;
/// The longest wait between two tries.
const INLINE_MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long one local run of a purge may take before it continues in a fresh job.
const INLINE_BUDGET: Duration = Duration::from_secs(20);

/// The local server's job task: runs each job handed to it, retrying with backoff; a job that
/// keeps failing stays in the store for the next start.
pub async fn serve_inline(app: &'static App, mut queue: mpsc::UnboundedReceiver<JobRecord>) {
    while let Some(record) = queue.recv().await {
        tokio::spawn(async move {
            for attempt in 0..INLINE_ATTEMPTS {
                match run(app, &record, Instant::now() + INLINE_BUDGET).await {
                    Ok(()) => {
                        tracing::info!(job_id = %record.id, "job done");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(job_id = %record.id, attempt, error = ?e, "job failed; retrying");
                        tokio::time::sleep(Duration::from_millis(200 << attempt).min(INLINE_MAX_BACKOFF))
                            .await;
                    }
                }
            }
            // It stays in the store: the next start runs it again.
            tracing::error!(job_id = %record.id, kind = record.job.kind(), "job gave up");
        });
    }
}

/// Hands every job left in the store (by a stop or by failures) to the runner: the local
/// server's start, before it takes a request.
pub async fn resume(app: &App) -> Result<(), StoreError> {
    let left = app.store.pending_jobs().await?;
    if !left.is_empty() {
        tracing::info!(jobs = left.len(), "resuming jobs left from before");
    }
    for record in left {
        app.background.dispatch(record);
    }
    Ok(())
}

/// The function that runs the jobs deployed (template.yaml's `WorkerFunction`, `functions/worker`).
pub const WORKER_FUNCTION: &str = "worker";

/// The keys the worker holds: link private keys (it mints the links it mails) and the abuse-hash
/// key (it keys the email throttle).
pub const WORKER_KEYS: crate::keys::KeyNeeds = crate::keys::KeyNeeds {
    sign_link: true,
    abuse_hash: true,
    ..crate::keys::KeyNeeds::NONE
};

/// A DynamoDB stream event as Lambda delivers it: only what the worker reads of it.
#[derive(Debug, Default, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    pub dynamodb: StreamData,
}

#[derive(Debug, Deserialize)]
pub struct StreamData {
    #[serde(rename = "SequenceNumber")]
    pub sequence_number: String,
    #[serde(rename = "NewImage", default)]
    pub new_image: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The partition-key prefix of job items in the table: the DynamoDB adapter writes them, and the
/// worker's stream filter (template.yaml) and [`StreamRecord`] recognise them by it.
pub const JOB_KEY_PREFIX: &str = "JOB#";

impl StreamRecord {
    /// The job a job item's `INSERT` carries; `None` for any other record (the event source's
    /// filter lets none through, but a wider one must not make the worker fail).
    fn job(&self) -> Option<anyhow::Result<JobRecord>> {
        let image = self.dynamodb.new_image.as_ref()?;
        let is_job = self.event_name == "INSERT"
            && image["PK"]["S"]
                .as_str()
                .is_some_and(|pk| pk.starts_with(JOB_KEY_PREFIX));
        is_job.then(|| {
            let json = image["job"]["S"]
                .as_str()
                .ok_or_else(|| anyhow!("job item without a `job` string"))?;
            JobRecord::from_json(json)
        })
    }
}

/// The worker's answer: the records to deliver again (Lambda's `ReportBatchItemFailures`).
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<BatchItemFailure>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct BatchItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// Runs the jobs of a stream batch in order. At the first failure it stops and reports that
/// record: Lambda delivers it and every later one again (after its last retry, the event
/// source's dead-letter queue gets the batch's description, and this log has the cause).
pub async fn run_stream_batch(app: &App, event: StreamEvent, deadline: Instant) -> BatchResponse {
    for record in &event.records {
        let Some(job) = record.job() else { continue };
        let failed = match job {
            Ok(job) => match run(app, &job, deadline).await {
                Ok(()) => {
                    tracing::info!(job_id = %job.id, "job done");
                    continue;
                }
                Err(e) => {
                    tracing::error!(job_id = %job.id, kind = job.job.kind(), error = ?e, "job failed; the stream delivers it again");
                    true
                }
            },
            Err(e) => {
                tracing::error!(sequence_number = %record.dynamodb.sequence_number, error = ?e, "malformed job item");
                true
            }
        };
        if failed {
            return BatchResponse {
                batch_item_failures: vec![BatchItemFailure {
                    item_identifier: record.dynamodb.sequence_number.clone(),
                }],
            };
        }
    }
    BatchResponse::default()
}
