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
mod mfa;
mod mfa_guards;
mod mfa_races;
mod oidc;
mod oidc_clients;
mod oidc_grants;
mod oidc_pages;
mod passkeys;
mod password_reset;
mod protected_routes;
mod register;
mod restart;
mod session_races;
mod sessions;
mod signing_keys;
mod verifiers;

/// The workspace root, where `events/` lives.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The AWS SDK configuration of a server's emulator (moto), for tests that read or change what
/// the server's store or mailer hold.
pub async fn emulator_config(app: &ucontact_tests::Server) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(app.setting("AWS_ENDPOINT_URL").expect("an emulator endpoint"))
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::for_tests())
        .load()
        .await
}
