//! The local server's connection limits (docs/API.md, "Configuration"): how long a client may take
//! to send a request head and a body, how long it may leave a response untaken, how long a
//! kept-alive connection may sit idle, and how many connections are served at once. Lambda has
//! none of these: API Gateway is the edge there.

use std::time::Duration;

use anyhow::bail;

/// The limits, read from the environment at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `HEADER_READ_TIMEOUT_SECONDS`: the whole request head must arrive within this of the
    /// connection being ready for it (accepted, or its first byte after an idle keep-alive).
    pub header_read: Duration,
    /// `BODY_READ_TIMEOUT_SECONDS`: the whole body must arrive within this of its head.
    pub body_read: Duration,
    /// `KEEP_ALIVE_TIMEOUT_SECONDS`: a kept-alive connection with no new request for this long
    /// after its last response went out is closed.
    pub keep_alive: Duration,
    /// `WRITE_TIMEOUT_SECONDS`: a response the client takes none of for this long (its socket
    /// buffer stays full) is abandoned and the connection closed. Counted between two writes, not
    /// over the whole response, so a slow reader gets all of it (as nginx's `send_timeout`).
    pub write: Duration,
    /// `MAX_CONNECTIONS`: connections served at once; past it, new ones wait in the listen
    /// backlog until one closes, and the open ones keep being served.
    pub max_connections: usize,
}

impl Limits {
    /// Defaults a slow mobile client still meets (a head in 30 s, a body in 60 s: the uploads here
    /// are at most 1 MiB; a stall of up to 60 s while it downloads, nginx's `send_timeout`), and
    /// uvicorn's keep-alive of 5 s.
    pub const DEFAULT: Limits = Limits {
        header_read: Duration::from_secs(30),
        body_read: Duration::from_secs(60),
        keep_alive: Duration::from_secs(5),
        write: Duration::from_secs(60),
        max_connections: 1024,
    };

    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mut problems = Vec::new();
        let mut number = |name: &str, default: u64, min: u64, max: u64| -> u64 {
            match lookup(name).filter(|v| !v.trim().is_empty()) {
                None => default,
                Some(value) => match value.trim().parse::<u64>() {
                    Ok(v) if (min..=max).contains(&v) => v,
                    _ => {
                        problems.push(format!("{name}: expected a whole number from {min} to {max}"));
                        default
                    }
                },
            }
        };
        let d = Self::DEFAULT;
        let limits = Limits {
            header_read: Duration::from_secs(number(
                "HEADER_READ_TIMEOUT_SECONDS",
                d.header_read.as_secs(),
                1,
                3600,
            )),
            body_read: Duration::from_secs(number(
                "BODY_READ_TIMEOUT_SECONDS",
                d.body_read.as_secs(),
                1,
                3600,
            )),
            keep_alive: Duration::from_secs(number(
                "KEEP_ALIVE_TIMEOUT_SECONDS",
                d.keep_alive.as_secs(),
                1,
                3600,
            )),
            write: Duration::from_secs(number("WRITE_TIMEOUT_SECONDS", d.write.as_secs(), 1, 3600)),
            max_connections: number("MAX_CONNECTIONS", d.max_connections as u64, 1, 1_000_000) as usize,
        };
        if !problems.is_empty() {
            bail!("invalid configuration:\n  {}", problems.join("\n  "));
        }
        Ok(limits)
    }
}
