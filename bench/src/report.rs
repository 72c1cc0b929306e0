//! Statistics, binary sizes, the cost model, and the markdown of BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use shared::routes::Endpoint;

use crate::Options;
use crate::bcrypt_speed::BcryptSpeed;
use crate::load::Load;
use crate::round_trips::Trips;
use crate::runtime_api::{ColdStart, HELLO};

/// Public prices assumed by the cost model (us-east-1, on-demand, as published by AWS).
const LAMBDA_GB_SECOND_ARM: f64 = 0.000_013_333_4;
const LAMBDA_PER_MILLION_REQUESTS: f64 = 0.20;
const HTTP_API_PER_MILLION: f64 = 1.00;
const DYNAMODB_PER_MILLION_WRU: f64 = 0.625;
const DYNAMODB_PER_MILLION_RRU: f64 = 0.125;
/// The template's memory sizes.
const BCRYPT_MB: f64 = 1769.0;
const SMALL_MB: f64 = 128.0;
/// Not measured here: one in-region DynamoDB GetItem, as the cost model's guarded-read duration.
const ASSUMED_GETITEM_MS: f64 = 5.0;

/// min, median, max.
pub fn spread(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => (f64::NAN, f64::NAN, f64::NAN),
        n => (sorted[0], sorted[n / 2], sorted[n - 1]),
    }
}

fn median(values: &[f64]) -> f64 {
    spread(values).1
}

/// The `q` quantile (0..=1) by nearest rank.
pub fn percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n => sorted[((n as f64 * q).ceil() as usize).clamp(1, n) - 1],
    }
}

/// A goal's verdict, as the tables print it.
fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

fn fmt3((min, med, max): (f64, f64, f64), digits: usize) -> String {
    format!("{min:.digits$} / {med:.digits$} / {max:.digits$}")
}

/// One binary's size.
#[derive(Debug, Clone)]
pub struct Size {
    pub function: String,
    pub arch: String,
    pub stripped: u64,
    pub zipped: u64,
}

fn zipped_size(binary: &Path) -> anyhow::Result<u64> {
    let dir = tempfile::tempdir()?;
    std::fs::copy(binary, dir.path().join("bootstrap"))?;
    let status = Command::new("zip")
        .current_dir(dir.path())
        .args(["-q", "-9", "function.zip", "bootstrap"])
        .status()
        .context("run zip (scripts/setup installs it)")?;
    if !status.success() {
        bail!("zip failed");
    }
    Ok(std::fs::metadata(dir.path().join("function.zip"))?.len())
}

/// Every function's binary (release profile: symbols stripped), and cargo-lambda's arm64
/// bootstraps when they were built.
pub fn sizes(options: &Options) -> anyhow::Result<Vec<Size>> {
    let arch = std::env::consts::ARCH.to_owned();
    let mut sizes = Vec::new();
    let names = crate::runtime_api::measured_functions(options);
    for name in &names {
        let binary = options.bins.join(name);
        sizes.push(Size {
            function: name.clone(),
            arch: arch.clone(),
            stripped: std::fs::metadata(&binary)?.len(),
            zipped: zipped_size(&binary)?,
        });
    }
    if let Some(dir) = &options.lambda_dir {
        for name in &names {
            let binary = dir.join(name).join("bootstrap");
            if binary.exists() {
                sizes.push(Size {
                    function: name.clone(),
                    arch: "aarch64 (cargo lambda --arm64)".into(),
                    stripped: std::fs::metadata(&binary)?.len(),
                    zipped: zipped_size(&binary)?,
                });
            }
        }
    }
    Ok(sizes)
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The whole report.
pub struct Report {
    pub smoke: bool,
    pub command: String,
    pub machine: String,
    pub cold: Vec<ColdStart>,
    pub sizes: Vec<Size>,
    pub trips: Vec<Trips>,
    pub load: Option<Load>,
    pub bcrypt: Option<BcryptSpeed>,
    pub keys: Option<crate::keys::KeyCosts>,
    pub oracle: Vec<crate::oracle::Oracle>,
}

/// Goal of table 5b: logins per second at least this many times cores ÷ pyca/bcrypt's hash.
const LOGIN_GOAL: f64 = 1.1;
/// Goal of table 5: `/me`'s p99 during a login storm at most this many times its idle p99.
const STARVATION_GOAL: f64 = 3.0;

fn bcrypt_speed_table(md: &mut String, speed: &BcryptSpeed) {
    let (this, pyca) = (median(&speed.this_build_ms), median(&speed.pyca_ms));
    let _ = writeln!(
        md,
        "## 4b. bcrypt: this build against pyca/bcrypt\n\nOne hash at cost {cost}, {n} times each, \
         one after the other: this build in-process (`shared::password::Passwords`, the server's \
         code and profile), and pyca/bcrypt {version} (Python's `bcrypt`, which wraps the same \
         Rust crate) timed with `timeit` in the project's venv. The pyca time sets the limit of \
         table 5b.\n\n| | ms per hash (min / median / max) | pyca ÷ this (medians) |\n|---|---|---|\n\
         | this build | {} | {:.3} |\n| pyca/bcrypt {version} | {} | |\n",
        fmt3(spread(&speed.this_build_ms), 1),
        pyca / this,
        fmt3(spread(&speed.pyca_ms), 1),
        cost = crate::bcrypt_speed::COST,
        n = speed.this_build_ms.len(),
        version = speed.pyca_version,
    );
}

/// Login throughput against what the original service could do at best: every core hashing
/// with pyca/bcrypt, nothing else; and, from table 5, the price paid by guarded reads.
fn login_throughput_table(md: &mut String, load: &Load, speed: &BcryptSpeed) {
    let pyca = median(&speed.pyca_ms);
    let limit = load.cores as f64 * 1e3 / pyca;
    let _ = writeln!(
        md,
        "## 5b. Login throughput\n\n`POST /api/auth/login` requests per second under wrk (table 3), \
         against the limit of the original service on this machine: {cores} cores ÷ one pyca/bcrypt \
         hash at cost 12 ({pyca:.1} ms, table 4b) = {limit:.2} logins/s. Goal: at least \
         {LOGIN_GOAL}× that limit, while `/me`'s p99 during a login storm stays within \
         {STARVATION_GOAL}× its idle p99 (table 5).\n\n\
         | measure | measured (min / median / max) | limit | ratio (median) | goal |\n|---|---|---|---|---|",
        cores = load.cores,
    );
    for series in load
        .series
        .iter()
        .filter(|s| s.target.contains("login") && s.connections > 1)
    {
        let rps: Vec<f64> = series.runs.iter().map(|r| r.requests_per_second).collect();
        let ratio = median(&rps) / limit;
        let _ = writeln!(
            md,
            "| logins/s, {} connections | {} | {limit:.2} | {ratio:.3} | ≥ {LOGIN_GOAL}×: {} |",
            series.connections,
            fmt3(spread(&rps), 2),
            verdict(ratio >= LOGIN_GOAL)
        );
    }
    let ratios = load.starvation_ratios();
    let _ = writeln!(
        md,
        "| `/me` p99 during logins ÷ idle | {} | | {:.2} | ≤ {STARVATION_GOAL}: {} |\n",
        fmt3(spread(&ratios), 2),
        median(&ratios),
        verdict(median(&ratios) <= STARVATION_GOAL)
    );
}

impl Report {
    pub fn new(options: &Options) -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|m| m.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let memory_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
            .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
        let machine = format!(
            "{cpu}, {cores} cores, {memory_gib:.0} GiB, Linux {}, {}; commit {}, {}",
            command_output("uname", &["-r"]),
            command_output("rustc", &["-V"]),
            command_output("git", &["rev-parse", "--short", "HEAD"]),
            command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        );
        Self {
            smoke: options.smoke,
            command: options.command.clone(),
            machine,
            cold: Vec::new(),
            sizes: Vec::new(),
            trips: Vec::new(),
            load: None,
            bcrypt: None,
            keys: None,
            oracle: Vec::new(),
        }
    }

    /// In smoke mode the figures mean nothing, but every part must have run and answered sanely.
    pub fn check_smoke(&self) -> anyhow::Result<()> {
        for cold in &self.cold {
            if cold.function != HELLO && cold.status.is_none_or(|s| s >= 500) {
                bail!("{}: first response status {:?}", cold.function, cold.status);
            }
        }
        if !self.trips.is_empty() && self.trips.len() < Endpoint::ALL.len() {
            bail!("round trips: only {} routes ran", self.trips.len());
        }
        Ok(())
    }

    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Benchmarks\n");
        if self.smoke {
            let _ = writeln!(md, "**Smoke run: tiny counts, figures not meaningful.**\n");
        }
        let _ = writeln!(
            md,
            "Generated by `{}` (see bench/run; nothing here is typed by hand).\n\nMachine: {}.\n\n\
             Triples are min / median / max over the repeated runs. Ratios are taken between \
             figures measured in this same run.\n",
            self.command, self.machine
        );
        if !self.cold.is_empty() {
            self.cold_table(&mut md);
        }
        if !self.sizes.is_empty() {
            self.size_table(&mut md);
        }
        if let Some(load) = &self.load {
            self.load_tables(&mut md, load);
        }
        if let Some(speed) = &self.bcrypt {
            bcrypt_speed_table(&mut md, speed);
        }
        if let Some(load) = &self.load {
            self.starvation_table(&mut md, load);
        }
        if let (Some(load), Some(speed)) = (&self.load, &self.bcrypt) {
            login_throughput_table(&mut md, load, speed);
        }
        if !self.trips.is_empty() {
            self.trips_table(&mut md);
        }
        if let Some(load) = &self.load {
            self.cost_model(&mut md, load);
        }
        if let Some(keys) = &self.keys {
            self.keys_table(&mut md, keys);
        }
        if !self.oracle.is_empty() {
            self.oracle_table(&mut md);
        }
        md
    }

    fn oracle_table(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "## Known and unknown addresses: what timing tells

`ucontact-local` (this build, SQLite, one client): requests for a registered address and for an \
unknown one, alternating, one at a time, {} of each per route. Both only write a job; the job \
(after the answer) looks the address up and sends the link.

| route | known: median / p90 ms | unknown: median / p90 ms |
|---|---|---|",
            self.oracle.first().map_or(0, |o| o.known_ms.len())
        );
        for row in &self.oracle {
            let _ = writeln!(
                md,
                "| `POST {}` | {:.3} / {:.3} | {:.3} / {:.3} |",
                row.route,
                percentile(&row.known_ms, 0.5),
                percentile(&row.known_ms, 0.9),
                percentile(&row.unknown_ms, 0.5),
                percentile(&row.unknown_ms, 0.9),
            );
        }
        md.push('\n');
    }

    fn keys_table(&self, md: &mut String, keys: &crate::keys::KeyCosts) {
        let _ = writeln!(
            md,
            "## Signing keys: per token and per cold start

In-process, this build of the bench driver: {} access tokens signed, then verified, per run, \
             through `shared::tokens` for each `JWT_ALGORITHM` (aws-lc-rs; the private key parsed \
             once per key load, every token verified anew), beside HS256 with jsonwebtoken (the \
             scheme it replaced). Then one key-store load per row, as a function does once per \
             cold start (Secrets Manager on moto: a local emulator's latency, not AWS's; what \
             carries over is the number of reads, made in parallel).

| operation | µs per token |
|---|---|",
            keys.tokens_per_run
        );
        let mut rows: Vec<(String, &Vec<f64>)> = Vec::new();
        for (alg, sign, verify) in &keys.algorithms {
            rows.push((format!("{alg} sign (access token)"), sign));
            rows.push((
                format!("{alg} verify (kid lookup, signature, iss, aud, exp)"),
                verify,
            ));
        }
        rows.push(("HS256 sign (before)".into(), &keys.hs256_sign_us));
        rows.push(("HS256 verify (before)".into(), &keys.hs256_verify_us));
        for (label, runs) in rows {
            let _ = writeln!(md, "| {label} | {} |", fmt3(spread(runs), 2));
        }
        let _ = writeln!(md, "\n| key-store load at cold start | ms |\n|---|---|");
        for (label, runs) in &keys.loads {
            let _ = writeln!(md, "| {label} | {} |", fmt3(spread(runs), 2));
        }
        md.push('\n');
    }

    fn cold_table(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "## 1. Cold start\n\nEach function's release binary is started against a local Lambda \
             Runtime API (bench/src/runtime_api.rs) with the environment template.yaml gives it \
             (DynamoDB and SES on moto), and timed from process start to its first \
             `GET /runtime/invocation/next` (**init**) and to its first response (which includes \
             the route's store calls on moto and, for register/login/set-password, bcrypt at cost \
             12). {} runs each. Baseline: `hello-lambda`, a hello-world `lambda_runtime` binary \
             built with the same profile. The request columns count what each function sent \
             (through a recording proxy in front of moto) before its first `next`: a verifying \
             function reads no key (its public keys come with the deployment, `PUBLIC_KEYS`: goal 0); a \
             store-using one opens its connection with one warm-up read; a signing one also reads \
             its secrets, concurrently. **Waiting** is how long init had one of those requests in \
             flight (the proxy's and moto's time, about 2 to 4 ms a request here; on AWS, a TLS \
             handshake and a round trip); **own** is the median over the runs of init − waiting, less \
             the baseline's init: what the function's code costs (a lower bound, since work done \
             while a request is in flight is not counted). Goal: own within 2 ms of the baseline's, no key read for a function that \
             only verifies, and init at most 10 ms.\n",
            self.cold.first().map_or(0, |c| c.init_ms.len())
        );
        let _ = writeln!(
            md,
            "| function | init ms | key reads during init | other AWS requests during init | waiting ms (median) | own ms (median) | first response ms | status | goal |\n|---|---|---|---|---|---|---|---|---|"
        );
        let baseline = self
            .cold
            .iter()
            .find(|c| c.function == HELLO)
            .map_or(f64::NAN, |c| median(&c.init_ms));
        for cold in &self.cold {
            let init = median(&cold.init_ms);
            let waiting = median(&cold.init_waiting_ms);
            // Per run, init less its own waiting; then the median, less the baseline's.
            let unwaited: Vec<f64> = cold
                .init_ms
                .iter()
                .zip(&cold.init_waiting_ms)
                .map(|(init, waiting)| init - waiting)
                .collect();
            let own = median(&unwaited) - baseline;
            let verifies_only = Endpoint::ALL
                .iter()
                .find(|e| e.function_name() == cold.function)
                .is_some_and(|e| !e.keys().secret());
            let key_reads_ok = !verifies_only || init_requests(cold, true) == "0";
            let met = if cold.function == HELLO {
                "baseline".to_owned()
            } else {
                verdict(own <= 2.0 && init <= 10.0 && key_reads_ok).to_owned()
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {:.2} | {:+.2} | {} | {} | {} |",
                cold.function,
                fmt3(spread(&cold.init_ms), 2),
                init_requests(cold, true),
                init_requests(cold, false),
                waiting,
                own,
                fmt3(spread(&cold.first_response_ms), 1),
                cold.status.map_or("-".into(), |s| s.to_string()),
                met
            );
        }
        let _ = writeln!(md);
    }

    fn size_table(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "## 2. Binary size\n\nRelease profile (symbols stripped); zipped with `zip -9` as a \
             single `bootstrap`, as Lambda receives it. Goal: at most 6 MB stripped (6,000,000 \
             bytes).\n\n| function | arch | stripped MB | zipped MB | goal |\n|---|---|---|---|---|"
        );
        for size in &self.sizes {
            let met = if size.function == HELLO {
                "baseline"
            } else {
                verdict(size.stripped <= 6_000_000)
            };
            let _ = writeln!(
                md,
                "| {} | {} | {:.2} | {:.2} | {met} |",
                size.function,
                size.arch,
                size.stripped as f64 / 1e6,
                size.zipped as f64 / 1e6
            );
        }
        let _ = writeln!(md);
    }

    fn load_tables(&self, md: &mut String, load: &Load) {
        let _ = writeln!(
            md,
            "## 3. Warm latency and throughput (local server, embedded store)\n\n`ucontact-local` \
             (release) on SQLite with the default bcrypt cost (12), driven by `wrk --latency` from \
             the same machine ({} s per run, {} s for login; each row repeated). The contacts list \
             returns 100 contacts. Goal: guarded reads (`/api/users/me`, `/api/contacts`) p99 at \
             most 2 ms at 64 connections.\n\n| route | connections | p50 ms | p99 ms | requests/s | goal |\n|---|---|---|---|---|---|",
            load.duration_s, load.login_duration_s
        );
        for series in &load.series {
            let p50: Vec<f64> = series.runs.iter().map(|r| r.p50_ms).collect();
            let p99: Vec<f64> = series.runs.iter().map(|r| r.p99_ms).collect();
            let rps: Vec<f64> = series.runs.iter().map(|r| r.requests_per_second).collect();
            let guarded = series.target.contains("/me") || series.target.contains("/contacts");
            let goal = match (guarded, series.connections) {
                (true, 64) => verdict(median(&p99) <= 2.0),
                _ => "",
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {goal} |",
                series.target,
                series.connections,
                fmt3(spread(&p50), 3),
                fmt3(spread(&p99), 3),
                fmt3(spread(&rps), 0)
            );
        }
        let verify = median(&load.bcrypt_verify_ms);
        let hash = median(&load.bcrypt_hash_ms);
        let login = median(&load.login_p50_ms);
        let register = median(&load.register_ms);
        let _ = writeln!(
            md,
            "\n## 4. bcrypt overhead\n\nOne bcrypt verify and one hash at cost 12 in-process \
             (`shared::password::Passwords`, the server's code), against the server's login (wrk \
             p50 at 1 connection) and register (sequential requests), in the same run. Goal: at \
             most 1.05.\n\n| | ms (min / median / max) | ratio to bcrypt (medians) | goal |\n|---|---|---|---|\n\
             | bcrypt verify | {} | | |\n| login | {} | {:.3} | {} |\n| bcrypt hash | {} | | |\n| register | {} | {:.3} | {} |\n",
            fmt3(spread(&load.bcrypt_verify_ms), 1),
            fmt3(spread(&load.login_p50_ms), 1),
            login / verify,
            verdict(login / verify <= 1.05),
            fmt3(spread(&load.bcrypt_hash_ms), 1),
            fmt3(spread(&load.register_ms), 1),
            register / hash,
            verdict(register / hash <= 1.05),
        );
    }

    fn starvation_table(&self, md: &mut String, load: &Load) {
        let ratios = load.starvation_ratios();
        let ratio = median(&ratios);
        let _ = writeln!(
            md,
            "## 5. No starvation\n\np99 of `GET /api/users/me` at 16 connections, alone, then during \
             a login storm: {} clients (one per core, at least 2) logging in back to back (bcrypt at \
             cost 12), run by run. Goal: ratio at most 3.\n\n\
             | idle p99 ms | during logins p99 ms | ratio (min / median / max) | goal |\n|---|---|---|---|\n| {} | {} | {} | {} |\n",
            load.storm_clients,
            fmt3(spread(&load.idle_p99_ms), 3),
            fmt3(spread(&load.busy_p99_ms), 3),
            fmt3(spread(&ratios), 2),
            verdict(ratio <= STARVATION_GOAL)
        );
    }

    fn trips_table(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "## 6. DynamoDB requests per route\n\nEach route's handler run once in-process on the \
             DynamoDB adapter against moto; an SDK interceptor counts every request the client \
             sends (bench/src/round_trips.rs).\n\n| function | requests | goal | status |\n|---|---|---|---|"
        );
        for row in &self.trips {
            let goal = match row.goal {
                Some(goal) if row.requests <= goal => format!("≤ {goal}: met"),
                Some(goal) => format!("≤ {goal}: **missed**"),
                None => String::new(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {goal} | {} |",
                row.function, row.requests, row.status
            );
        }
        let _ = writeln!(md);
    }

    fn cost_model(&self, md: &mut String, load: &Load) {
        let login_s = median(&load.login_p50_ms) / 1e3;
        let read_s = (ASSUMED_GETITEM_MS + 1.0) / 1e3;
        let per_million = |seconds: f64, mb: f64, wru: f64, rru: f64| {
            let lambda = 1e6 * seconds * mb / 1024.0 * LAMBDA_GB_SECOND_ARM + LAMBDA_PER_MILLION_REQUESTS;
            let dynamo = wru * DYNAMODB_PER_MILLION_WRU + rru * DYNAMODB_PER_MILLION_RRU;
            (
                lambda,
                dynamo,
                HTTP_API_PER_MILLION,
                lambda + dynamo + HTTP_API_PER_MILLION,
            )
        };
        // A login: the backoff UpdateItem (1 WRU), the user GetItem (1 RRU, strongly consistent,
        // under 4 KB), the session Put + count Delete in one transaction (2 items × 2 WRU).
        let login = per_million(login_s, BCRYPT_MB, 5.0, 1.0);
        // A guarded read (`me`): one GetItem.
        let read = per_million(read_s, SMALL_MB, 0.0, 1.0);
        let _ = writeln!(
            md,
            "## 7. Cost model\n\nAssumed public prices (us-east-1, on-demand): Lambda arm64 \
             ${LAMBDA_GB_SECOND_ARM} per GB-second and ${LAMBDA_PER_MILLION_REQUESTS:.2} per million \
             requests; API Gateway HTTP API ${HTTP_API_PER_MILLION:.2} per million requests; \
             DynamoDB ${DYNAMODB_PER_MILLION_WRU} per million write request units and \
             ${DYNAMODB_PER_MILLION_RRU} per million read request units. Durations: a login takes \
             the measured login p50 above ({:.0} ms; bcrypt-bound, and 1769 MB is one vCPU, taken \
             as this machine's core); a guarded read is assumed to take {read_ms:.0} ms (one \
             in-region GetItem, assumed {ASSUMED_GETITEM_MS:.0} ms, not measured here, plus 1 ms \
             of handler). Request units: a login writes 5 WRU (backoff update 1, transaction of 2 \
             items 4) and reads 1 RRU; a guarded read reads 1 RRU.\n\n\
             | per million | Lambda | DynamoDB | API Gateway | total |\n|---|---|---|---|---|\n\
             | logins (1769 MB) | ${:.2} | ${:.2} | ${:.2} | **${:.2}** |\n\
             | guarded reads (128 MB) | ${:.2} | ${:.2} | ${:.2} | **${:.2}** |\n\n\
             1,000 logins per second keep about **{:.0}** Lambda instances busy (1,000 × {:.3} s), \
             above the default account concurrency of 1,000 only if a login took over a second.\n",
            login_s * 1e3,
            login.0,
            login.1,
            login.2,
            login.3,
            read.0,
            read.1,
            read.2,
            read.3,
            1000.0 * login_s,
            login_s,
            read_ms = read_s * 1e3,
        );
    }
}

/// The AWS requests a cold start sent during init, key reads (Secrets Manager) or the others
/// (the store's warm-up read): the most over the runs, and their operations.
fn init_requests(cold: &ColdStart, keys: bool) -> String {
    let is_key_read = |kind: &String| kind.starts_with("secretsmanager.");
    let most = cold
        .init_requests
        .iter()
        .map(|run| run.iter().filter(|kind| is_key_read(kind) == keys).count())
        .max()
        .unwrap_or(0);
    if most == 0 {
        return "0".into();
    }
    let kinds: Vec<&str> = cold
        .init_request_kinds
        .iter()
        .filter(|kind| is_key_read(kind) == keys)
        .map(|k| k.rsplit('.').next().unwrap_or(k))
        .collect();
    format!("{most} ({})", kinds.join(", "))
}
