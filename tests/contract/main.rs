//! The contract suite: every route of docs/API.md exercised from outside the process, against
//! a freshly spawned `ucontact-local` per test (its own data dir, port 0).

mod abuse;
mod account;
mod account_purge;
mod account_races;
mod connections;
mod contacts;
mod credential_links;
mod docs;
mod email_verification;
mod ended_sessions;
mod http_conventions;
mod login;
mod password_reset;
mod protected_routes;
mod register;
mod restart;
mod session_races;
mod sessions;
mod signing_keys;

/// The workspace root, where `events/` lives.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}
