//! Whether timing tells registered addresses apart (docs/API.md: `reset-password` and
//! `request_email` answer the same whoever the address belongs to). Against the local server
//! (release build, SQLite), requests for a registered address and for an unknown one alternate,
//! one at a time; the table gives each one's median and p90 side by side. Both only write a job
//! (shared::jobs), so they should match within noise.

use std::time::Instant;

use serde_json::json;

use crate::Options;
use crate::load::{LocalServer, post_json, verified_user};

/// One route's latencies (ms) for a known and an unknown address.
#[derive(Debug, Clone)]
pub struct Oracle {
    pub route: &'static str,
    pub known_ms: Vec<f64>,
    pub unknown_ms: Vec<f64>,
}

pub async fn run(options: &Options) -> anyhow::Result<Vec<Oracle>> {
    let server = LocalServer::start(&options.bins)?;
    let client = reqwest::Client::new();
    verified_user(&server, &client, "oracleuser").await?;
    let samples = options.pick(400, 10);
    let mut results = Vec::new();
    for route in ["/api/auth/reset-password", "/api/auth/request_email"] {
        let mut result = Oracle {
            route,
            known_ms: Vec::new(),
            unknown_ms: Vec::new(),
        };
        for i in 0..samples {
            // Alternating, so that drift (the jobs' own work, the machine) hits both alike; a
            // fresh unknown address each time, like an attacker's list.
            for known in [i % 2 == 0, i % 2 != 0] {
                let email = if known {
                    "oracleuser@example.com".to_owned()
                } else {
                    format!("nobody{i}@example.com")
                };
                let started = Instant::now();
                let answer = post_json(&client, &server.url(route), json!({"email": email})).await?;
                let elapsed = started.elapsed().as_secs_f64() * 1e3;
                anyhow::ensure!(answer.status() == 200, "{route}: {}", answer.status());
                if known {
                    result.known_ms.push(elapsed);
                } else {
                    result.unknown_ms.push(elapsed);
                }
            }
        }
        eprintln!(
            "  {route}: known median {:.3} ms, unknown median {:.3} ms",
            crate::report::percentile(&result.known_ms, 0.5),
            crate::report::percentile(&result.unknown_ms, 0.5)
        );
        results.push(result);
    }
    Ok(results)
}
