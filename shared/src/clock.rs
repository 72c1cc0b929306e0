//! The time source. Use cases and token checks ask the [`Clock`] instead of calling `Utc::now()`,
//! so that tests and demos can move "now" (see `UCONTACT_FAKE_NOW` in the README).

use chrono::{DateTime, NaiveDate, SubsecRound, TimeDelta, Utc};

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    /// The current instant, to the clock's full resolution (login backoff windows are in
    /// milliseconds: a whole-second "now" would open a window early at a second boundary).
    fn exact(&self) -> DateTime<Utc>;

    /// The current instant, truncated to whole seconds (tokens and timestamps use seconds).
    fn now(&self) -> DateTime<Utc> {
        self.exact().trunc_subsecs(0)
    }

    /// Today's date in UTC ("today" for birthdays).
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn exact(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The wall clock moved by a fixed offset: starts at a chosen instant, then runs normally, so
/// token lifetimes and expiry still behave.
#[derive(Debug, Clone, Copy)]
pub struct ShiftedClock {
    offset: TimeDelta,
}

impl ShiftedClock {
    /// A clock that reads `start` now.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            offset: start - Utc::now(),
        }
    }
}

impl Clock for ShiftedClock {
    fn exact(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_starts_where_asked_and_runs_on() {
        let start = DateTime::parse_from_rfc3339("2024-02-29T23:59:58Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = ShiftedClock::starting_at(start);
        assert!((clock.now() - start).num_seconds().abs() <= 1);
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
    }
}
