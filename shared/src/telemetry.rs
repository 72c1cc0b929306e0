//! Logging set-up: JSON lines in Lambda (CloudWatch), readable lines locally (or JSON lines with
//! `LOG_FORMAT=json`), level from `RUST_LOG` (default `info`). Audit events (target `audit`) are
//! ordinary events with flat fields, so either format carries them whole.

use tracing_subscriber::EnvFilter;

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// JSON logs for Lambda, without ANSI colours or the time (CloudWatch adds it).
pub fn init_lambda() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter())
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .try_init();
}

/// Logs on standard error for the local server: human-readable, or JSON lines when
/// `LOG_FORMAT=json` (for log shippers, and for tests that read the audit trail).
pub fn init_local() {
    use std::io::IsTerminal;
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter())
            .with_current_span(false)
            .with_ansi(false)
            .with_writer(std::io::stderr)
            .try_init();
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
