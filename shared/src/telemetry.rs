//! Logging set-up: JSON lines in Lambda (CloudWatch), readable lines locally (or JSON lines with
//! `LOG_FORMAT=json`), level from `RUST_LOG` (default `info`). Audit events (target `audit`) are
//! ordinary events with flat fields, so either format carries them whole.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// `RUST_LOG` as a list of `target=level` directives (or a bare level), default `info`. A plain
/// target filter rather than `EnvFilter`: no regex engine in every function binary.
///
/// The WebAuthn library is always silent: it logs what a client sent (whole authenticator data
/// of a refused ceremony, at ERROR), which would let anyone write megabytes of their choosing
/// into the log per request. The passkey use cases log a refusal's cause themselves.
fn filter() -> Targets {
    std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
        .with_target("webauthn_rs_core", tracing_subscriber::filter::LevelFilter::OFF)
}

/// JSON logs for Lambda, without ANSI colours or the time (CloudWatch adds it); each line names
/// its target, so the audit trail (`"target":"audit"`) can be filtered out of CloudWatch.
pub fn init_lambda() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .finish()
        .with(filter())
        .try_init();
}

/// Logs on standard error for the local server: human-readable, or JSON lines when
/// `LOG_FORMAT=json` (for log shippers, and for tests that read the audit trail).
pub fn init_local() {
    use std::io::IsTerminal;
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        let _ = tracing_subscriber::fmt()
            .json()
            .with_current_span(false)
            .with_ansi(false)
            .with_writer(std::io::stderr)
            .finish()
            .with(filter())
            .try_init();
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .finish()
        .with(filter())
        .try_init();
}
