//! `ucontact-bench`: the benchmark behind BENCHMARKS.md (run it through `bench/run`).
//!
//! Sections, each a table of the report:
//! 1. cold start of every function binary against a local Lambda Runtime API ([`runtime_api`]),
//!    beside a hello-world `lambda_runtime` binary built with the same profile;
//! 2. binary sizes (stripped, and zipped as Lambda receives them);
//! 3. warm latency and throughput of the local server with `wrk` ([`load`]);
//! 4. bcrypt overhead of login and register; 4b. one bcrypt hash by this build against
//!    pyca/bcrypt 5.0 ([`bcrypt_speed`]); 5. starvation of guarded reads during logins; 5b. login
//!    throughput against cores ÷ pyca/bcrypt's hash time;
//! 6. DynamoDB requests per route, counted by an SDK interceptor against moto ([`round_trips`]);
//! 7. a cost model from the measured durations and the template's memory sizes ([`report`]);
//! 8. what the signing keys cost: sign and verify per token, key-store loads ([`keys`]);
//! 9. whether timing tells known and unknown addresses apart ([`oracle`]).
//!
//! `--smoke` runs every section with tiny counts (scripts/test does, so the bench can't rot).

mod authenticator;
mod bcrypt_speed;
mod keys;
mod leading_keys;
mod load;
mod oracle;
mod recorder;
mod report;
mod round_trips;
mod runtime_api;

use std::path::PathBuf;

use anyhow::{Context, bail};

/// Command-line settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the function binaries, `hello-lambda` and `ucontact-local` are (e.g. target/release).
    pub bins: PathBuf,
    /// cargo-lambda's output (`target/lambda/<fn>/bootstrap`), for the arm64 size table.
    pub lambda_dir: Option<PathBuf>,
    /// The moto endpoint the functions and the round-trip count talk to.
    pub moto: String,
    /// The `events/` directory.
    pub events: PathBuf,
    pub out: PathBuf,
    pub smoke: bool,
    /// Skip the in-process round-trip count (it measures this checkout's code, not `--bins`).
    pub no_trips: bool,
    /// The Python with pyca/bcrypt (the project's venv), for the bcrypt reference.
    pub python: PathBuf,
    /// Only these sections (`cold`, `sizes`, `trips`, `load`, `bcrypt`, `keys`, `oracle`); all
    /// when empty. `load` measures `bcrypt` too: its login throughput goal needs it.
    pub only: Vec<String>,
    /// Only these functions in the cold-start and size tables (a partial run); all when empty.
    pub functions: Vec<String>,
    /// The command line, quoted in the report.
    pub command: String,
}

impl Options {
    fn parse() -> anyhow::Result<Self> {
        let args: Vec<String> = std::env::args().collect();
        let mut options = Options {
            bins: PathBuf::from("target/release"),
            lambda_dir: None,
            moto: String::new(),
            events: PathBuf::from("events"),
            python: PathBuf::from(".venv/bin/python"),
            out: PathBuf::from("BENCHMARKS.md"),
            smoke: false,
            no_trips: false,
            only: Vec::new(),
            functions: Vec::new(),
            command: std::env::var("BENCH_COMMAND").unwrap_or_else(|_| args.join(" ")),
        };
        let mut rest = args.iter().skip(1);
        while let Some(arg) = rest.next() {
            let mut value = || {
                rest.next()
                    .cloned()
                    .with_context(|| format!("{arg} needs a value"))
            };
            match arg.as_str() {
                "--bins" => options.bins = value()?.into(),
                "--lambda-dir" => options.lambda_dir = Some(value()?.into()),
                "--moto" => options.moto = value()?,
                "--events" => options.events = value()?.into(),
                "--python" => options.python = value()?.into(),
                "--out" => options.out = value()?.into(),
                "--smoke" => options.smoke = true,
                "--no-trips" => options.no_trips = true,
                "--only" => options.only = value()?.split(',').map(str::to_owned).collect(),
                "--functions" => options.functions = value()?.split(',').map(str::to_owned).collect(),
                other => bail!("unknown argument {other:?}"),
            }
        }
        if options.moto.is_empty() {
            bail!("--moto http://127.0.0.1:PORT is required (bench/run starts one)");
        }
        Ok(options)
    }

    /// Whether `section` is to run.
    pub fn runs(&self, section: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == section)
    }

    /// Whether `function` is in this run's cold-start and size tables.
    pub fn measures(&self, function: &str) -> bool {
        self.functions.is_empty() || self.functions.iter().any(|f| f == function)
    }

    /// `full` normally, `smoke` with --smoke.
    pub fn pick<T>(&self, full: T, smoke: T) -> T {
        if self.smoke { smoke } else { full }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse()?;
    let mut report = report::Report::new(&options);
    if options.runs("cold") {
        eprintln!("==> cold starts");
        report.cold = runtime_api::cold_starts(&options).await?;
    }
    if options.runs("sizes") {
        eprintln!("==> sizes");
        report.sizes = report::sizes(&options)?;
    }
    if options.runs("trips") && !options.no_trips {
        eprintln!("==> round trips (DynamoDB, counted)");
        report.trips = round_trips::count(&options).await?;
    }
    if options.runs("bcrypt") || options.runs("load") {
        eprintln!(
            "==> bcrypt at cost {}: this build and pyca/bcrypt",
            bcrypt_speed::COST
        );
        report.bcrypt = Some(bcrypt_speed::run(&options).await?);
    }
    if options.runs("load") {
        eprintln!("==> local server under wrk");
        report.load = Some(load::run(&options).await?);
    }
    if options.runs("oracle") {
        eprintln!("==> known and unknown addresses: latency side by side");
        report.oracle = oracle::run(&options).await?;
    }
    if options.runs("keys") {
        eprintln!("==> signing keys: sign and verify per token, key-store loads");
        report.keys = Some(keys::run(&options).await?);
    }
    let mut markdown = report.markdown();
    // The findings and before/after figures, written by hand, ride along unchanged.
    if !options.smoke
        && let Ok(notes) = std::fs::read_to_string("bench/NOTES.md")
    {
        markdown.push('\n');
        markdown.push_str(&notes);
    }
    std::fs::write(&options.out, &markdown).with_context(|| format!("write {}", options.out.display()))?;
    eprintln!("==> wrote {}", options.out.display());
    report.check_smoke()?;
    Ok(())
}
