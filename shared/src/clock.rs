//! The time source. Use cases ask the [`Clock`] instead of calling `Utc::now()`, so that tests
//! and benchmarks can pin "now".

use chrono::{DateTime, SubsecRound, Utc};

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    /// The current instant, truncated to whole seconds (tokens and timestamps use seconds).
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(0)
    }
}
