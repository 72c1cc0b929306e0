//! Warm latency and throughput of the local server (release build, embedded store, default bcrypt
//! cost) under `wrk`, plus the bcrypt overhead of login and register and the starvation ratio of
//! guarded reads while logins run, each measured side by side in this one run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};
use shared::domain::Password;
use shared::password::Passwords;

use crate::Options;

const PASSWORD: &str = "bench-passphrase-not-common";
const BCRYPT_COST: u32 = 12;

/// One `wrk` run.
#[derive(Debug, Clone)]
pub struct WrkRun {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests_per_second: f64,
    /// Non-2xx answers and socket errors (must be 0).
    pub errors: u64,
}

/// Repeated runs of one target at one connection count.
#[derive(Debug, Clone)]
pub struct Series {
    pub target: &'static str,
    pub connections: u32,
    pub runs: Vec<WrkRun>,
}

/// Everything this section measured.
#[derive(Debug, Clone)]
pub struct Load {
    pub series: Vec<Series>,
    pub duration_s: u32,
    pub login_duration_s: u32,
    /// bcrypt in-process at the server's cost (ms, per sample).
    pub bcrypt_verify_ms: Vec<f64>,
    pub bcrypt_hash_ms: Vec<f64>,
    /// Sequential register requests, end to end (ms).
    pub register_ms: Vec<f64>,
    /// Login at one connection: wrk p50 per run (ms).
    pub login_p50_ms: Vec<f64>,
    /// `/api/users/me` p99 at 16 connections, idle and during a login storm (ms, per run).
    pub idle_p99_ms: Vec<f64>,
    pub busy_p99_ms: Vec<f64>,
    /// The login storm's clients: one per core, at least 2 (every core busy with bcrypt).
    pub storm_clients: u32,
    /// This machine's cores (the limit of logins is cores ÷ one bcrypt's time).
    pub cores: usize,
}

impl Load {
    /// `/me`'s p99 during the login storm ÷ its idle p99, run by run.
    pub fn starvation_ratios(&self) -> Vec<f64> {
        self.busy_p99_ms
            .iter()
            .zip(&self.idle_p99_ms)
            .map(|(busy, idle)| busy / idle)
            .collect()
    }
}

pub(crate) struct LocalServer {
    child: Child,
    base: String,
    data: tempfile::TempDir,
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LocalServer {
    pub(crate) fn start(bins: &Path) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let log = std::fs::File::create(data.path().join("server.log"))?;
        let mut child = Command::new(bins.join("ucontact-local"))
            .env("PORT", "0")
            .env("UCONTACT_DATA_DIR", data.path())
            .env("BCRYPT_COST", BCRYPT_COST.to_string())
            .env("EMAIL_THROTTLE_SECONDS", "0")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("start ucontact-local")?;
        let stdout = child.stdout.take().context("stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let base = line
            .trim()
            .strip_prefix("UContact listening on ")
            .with_context(|| format!("ucontact-local did not start: {line:?}"))?
            .to_owned();
        Ok(Self { child, base, data })
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The newest link starting with `prefix` in an email to `to`, waiting a little for it:
    /// emails are written by a job right after the answer (shared::jobs), so the newest email
    /// of the outbox may still be someone else's.
    fn link(&self, to: &str, prefix: &str) -> anyhow::Result<String> {
        for _ in 0..100 {
            if let Ok(link) = self.outbox_link(to, prefix) {
                return Ok(link);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.outbox_link(to, prefix)
    }

    fn outbox_link(&self, to: &str, prefix: &str) -> anyhow::Result<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.data.path().join("outbox"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        for file in files.iter().rev() {
            let text = std::fs::read_to_string(file)?
                .replace("=\r\n", "")
                .replace("=\n", "");
            let addressed = text
                .lines()
                .any(|line| line.starts_with("To: ") && line.contains(to));
            if !addressed {
                continue;
            }
            if let Some(start) = text.find(prefix) {
                let rest = &text[start + prefix.len()..];
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
                    .unwrap_or(rest.len());
                return Ok(rest[..end].to_owned());
            }
        }
        bail!("no email with {prefix}")
    }
}

pub(crate) async fn post_json(
    client: &reqwest::Client,
    url: &str,
    body: Value,
) -> anyhow::Result<reqwest::Response> {
    Ok(client.post(url).json(&body).send().await?)
}

/// Registers and verifies a user.
pub(crate) async fn verified_user(
    server: &LocalServer,
    client: &reqwest::Client,
    username: &str,
) -> anyhow::Result<()> {
    let answer = post_json(
        client,
        &server.url("/api/auth/register"),
        json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}),
    )
    .await?;
    if answer.status() != 201 {
        bail!("register: {}", answer.text().await?);
    }
    let token = server.link(
        &format!("{username}@example.com"),
        &server.url("/api/auth/confirmed_email/"),
    )?;
    client
        .get(server.url(&format!("/api/auth/confirmed_email/{token}")))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// The bench user with `contacts` contacts (its access token), and `login_users` more users
/// for the login load: concurrent attempts on one account count against its backoff (issue 5),
/// so each wrk thread logs in as its own round-robin slice of users.
async fn seed(
    server: &LocalServer,
    client: &reqwest::Client,
    contacts: usize,
    login_users: usize,
) -> anyhow::Result<String> {
    verified_user(server, client, "benchuser").await?;
    for i in 0..login_users {
        verified_user(server, client, &format!("login{i}")).await?;
    }
    let tokens: Value = client
        .post(server.url("/api/auth/login"))
        .form(&[("username", "benchuser"), ("password", PASSWORD)])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let access = tokens["access_token"]
        .as_str()
        .context("access token")?
        .to_owned();
    for i in 0..contacts {
        client
            .post(server.url("/api/contacts"))
            .bearer_auth(&access)
            .json(&json!({
                "first_name": format!("First{i}"), "last_name": format!("Last{i}"),
                "email": format!("contact{i}@example.com"), "phone": "+1 555 0100",
                "birthday": format!("1990-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
                "description": "a contact of the bench"
            }))
            .send()
            .await?
            .error_for_status()?;
    }
    Ok(access)
}

/// The wrk script of the login load: thread k logs in as users `login{k*per}..` in turn, so no
/// user has two attempts in flight (wrk runs at most 2 threads, `per` ≥ the connections of one).
fn login_script_text(per_thread: usize) -> String {
    format!(
        r#"local threads = 0
function setup(thread)
  thread:set("first", threads * {per_thread})
  threads = threads + 1
end
function init(args)
  i = 0
end
function request()
  local user = first + (i % {per_thread})
  i = i + 1
  return wrk.format("POST", nil, {{["Content-Type"] = "application/x-www-form-urlencoded"}},
    "username=login" .. user .. "&password={PASSWORD}")
end
"#
    )
}

fn parse_duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1e3,
        "ms" => number,
        "s" => number * 1e3,
        "m" => number * 60e3,
        _ => return None,
    })
}

/// Parses `wrk --latency` output.
fn parse_wrk(output: &str) -> anyhow::Result<WrkRun> {
    let mut percentiles = std::collections::HashMap::new();
    let mut rps = None;
    let mut errors = 0;
    for line in output.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [p, value] if p.ends_with('%') => {
                percentiles.insert(p.to_string(), parse_duration_ms(value));
            }
            ["Requests/sec:", value] => rps = value.parse().ok(),
            ["Non-2xx", "or", "3xx", "responses:", n] => errors += n.parse::<u64>().unwrap_or(1),
            ["Socket", "errors:", rest @ ..] => {
                errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>()
            }
            _ => {}
        }
    }
    let get = |p: &str| percentiles.get(p).copied().flatten();
    match (get("50%"), get("99%"), rps) {
        (Some(p50_ms), Some(p99_ms), Some(requests_per_second)) => Ok(WrkRun {
            p50_ms,
            p99_ms,
            requests_per_second,
            errors,
        }),
        _ => bail!("unexpected wrk output:\n{output}"),
    }
}

struct Target {
    name: &'static str,
    path: &'static str,
    /// The wrk Lua script (for the login POST), if any.
    script: Option<PathBuf>,
    bearer: bool,
}

fn wrk(
    server: &LocalServer,
    target: &Target,
    token: &str,
    connections: u32,
    seconds: u32,
) -> anyhow::Result<std::process::Child> {
    let mut command = Command::new("wrk");
    command
        .arg(format!("-t{}", connections.min(2)))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .args(["--timeout", "120s", "--latency"]);
    if target.bearer {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    if let Some(script) = &target.script {
        command.arg("-s").arg(script);
    }
    command
        .arg(server.url(target.path))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("start wrk (scripts/setup installs it)")
}

fn finish(child: std::process::Child) -> anyhow::Result<WrkRun> {
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("wrk failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let run = parse_wrk(&text)?;
    if run.errors > 0 {
        // Which errors (socket errors by kind, or non-2xx answers): wrk's own summary.
        eprintln!("{text}");
    }
    Ok(run)
}

fn run_wrk(
    server: &LocalServer,
    target: &Target,
    token: &str,
    connections: u32,
    seconds: u32,
) -> anyhow::Result<WrkRun> {
    let run = finish(wrk(server, target, token, connections, seconds)?)?;
    if run.errors > 0 {
        bail!(
            "{} at {connections} connections: {} errors",
            target.name,
            run.errors
        );
    }
    if run.requests_per_second <= 0.0 {
        bail!(
            "{} at {connections} connections: no request completed",
            target.name
        );
    }
    Ok(run)
}

async fn bcrypt_samples(samples: usize) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let passwords = Passwords::new(BCRYPT_COST)?;
    let password = Password::parse(PASSWORD).map_err(|e| anyhow!(e.message))?;
    let hash = passwords.hash(&password).await?;
    let (mut verify, mut hashing) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let started = Instant::now();
        passwords.verify(PASSWORD, Some(&hash)).await?;
        verify.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        passwords.hash(&password).await?;
        hashing.push(started.elapsed().as_secs_f64() * 1e3);
    }
    Ok((verify, hashing))
}

/// Waits until logins that wrk left behind have run: a server that checks passwords for clients
/// that already hung up would otherwise slow the next measurement. One login of our own queues
/// behind them and returns when they are done.
async fn drain(server: &LocalServer, client: &reqwest::Client) -> anyhow::Result<()> {
    client
        .post(server.url("/api/auth/login"))
        .form(&[("username", "benchuser"), ("password", PASSWORD)])
        .timeout(Duration::from_secs(600))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// The whole section.
pub async fn run(options: &Options) -> anyhow::Result<Load> {
    let server = LocalServer::start(&options.bins)?;
    let client = reqwest::Client::new();
    let max_connections: u32 = options.pick(64, 4);
    let per_thread = max_connections as usize;
    let token = seed(&server, &client, options.pick(100, 3), 2 * per_thread).await?;
    let login_script = server.data.path().join("login.lua");
    std::fs::write(&login_script, login_script_text(per_thread))?;
    let targets = [
        Target {
            name: "GET /api/healthchecker",
            path: "/api/healthchecker",
            script: None,
            bearer: false,
        },
        Target {
            name: "GET /api/users/me",
            path: "/api/users/me",
            script: None,
            bearer: true,
        },
        Target {
            name: "GET /api/contacts (100)",
            path: "/api/contacts?limit=100",
            script: None,
            bearer: true,
        },
        Target {
            name: "POST /api/auth/login",
            path: "/api/auth/login",
            script: Some(login_script),
            bearer: false,
        },
    ];
    let repeats = options.pick(3, 1);
    let duration_s = options.pick(5, 1);
    let login_duration_s = options.pick(20, 1);
    let connection_counts: Vec<u32> = options.pick(vec![1, 16, max_connections], vec![1, max_connections]);
    let mut series = Vec::new();
    for target in &targets {
        for &connections in &connection_counts {
            let seconds = if target.script.is_some() {
                login_duration_s
            } else {
                duration_s
            };
            let mut runs = Vec::new();
            for _ in 0..repeats {
                runs.push(run_wrk(&server, target, &token, connections, seconds)?);
                if target.script.is_some() {
                    drain(&server, &client).await?;
                }
            }
            eprintln!(
                "  {} c={connections}: p99 {:?} ms, {:?} req/s",
                target.name,
                runs.iter().map(|r| r.p99_ms).collect::<Vec<_>>(),
                runs.iter()
                    .map(|r| r.requests_per_second.round())
                    .collect::<Vec<_>>()
            );
            series.push(Series {
                target: target.name,
                connections,
                runs,
            });
        }
    }

    // bcrypt overhead: the server's login and register against bcrypt alone, one after the other.
    let samples = options.pick(7, 1);
    let (bcrypt_verify_ms, bcrypt_hash_ms) = bcrypt_samples(samples).await?;
    let login = &targets[3];
    let mut login_p50_ms = Vec::new();
    for _ in 0..repeats {
        login_p50_ms.push(run_wrk(&server, login, &token, 1, options.pick(10, 1))?.p50_ms);
        drain(&server, &client).await?;
    }
    let mut register_ms = Vec::new();
    for i in 0..samples {
        let body = json!({"username": format!("reg{i}"), "email": format!("reg{i}@example.com"), "password": PASSWORD});
        let started = Instant::now();
        let answer = post_json(&client, &server.url("/api/auth/register"), body).await?;
        register_ms.push(started.elapsed().as_secs_f64() * 1e3);
        if answer.status() != 201 {
            bail!("register: {}", answer.text().await?);
        }
    }

    // Starvation: /me at 16 connections, idle, then during a login storm that keeps every core
    // busy with bcrypt (one client per core, back to back).
    let me = &targets[1];
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let storm_clients = u32::try_from(cores.max(2)).unwrap_or(2);
    let (mut idle_p99_ms, mut busy_p99_ms) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        idle_p99_ms.push(run_wrk(&server, me, &token, 16, duration_s)?.p99_ms);
        let logins = wrk(&server, login, &token, storm_clients, duration_s + 2)?;
        std::thread::sleep(Duration::from_secs(1));
        busy_p99_ms.push(run_wrk(&server, me, &token, 16, duration_s)?.p99_ms);
        finish(logins)?;
        drain(&server, &client).await?;
    }
    Ok(Load {
        series,
        duration_s,
        login_duration_s,
        bcrypt_verify_ms,
        bcrypt_hash_ms,
        register_ms,
        login_p50_ms,
        idle_p99_ms,
        busy_p99_ms,
        storm_clients,
        cores,
    })
}
