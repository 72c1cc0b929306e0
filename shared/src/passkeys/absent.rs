//! The ceremonies of a binary built without the `passkeys` feature (every function but the four
//! that run one): the same interface as the real module, refusing with an error (a 500) that only
//! a wrong build can reach. Listing, counting and deleting passkeys need no ceremony.

use std::time::Duration;

use serde_json::Value;

use super::{Invalid, RelyingPartyConfig};

pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(300);

pub struct RelyingParty;

pub struct Registered {
    pub credential_id: Vec<u8>,
    pub credential: String,
}

fn absent() -> anyhow::Error {
    anyhow::anyhow!("this binary is built without passkey ceremonies (cargo feature `passkeys` of `shared`)")
}

impl RelyingParty {
    pub fn new(_: &RelyingPartyConfig) -> Self {
        Self
    }

    pub fn start_registration(&self, _: &[u8], _: &str, _: Vec<Vec<u8>>) -> anyhow::Result<(Value, String)> {
        Err(absent())
    }

    pub fn finish_registration(&self, _: &str, _: &Value) -> Result<Registered, Invalid> {
        tracing::error!("{}", absent());
        Err(Invalid)
    }

    pub fn start_login(&self) -> anyhow::Result<(Value, String)> {
        Err(absent())
    }

    pub fn identify(_: &Value) -> Result<(Vec<u8>, Vec<u8>), Invalid> {
        tracing::error!("{}", absent());
        Err(Invalid)
    }

    pub fn finish_login(&self, _: &str, _: &Value, _: &str) -> Result<String, Invalid> {
        tracing::error!("{}", absent());
        Err(Invalid)
    }
}
