//! The contract suite: every route of ../shared/API.md exercised from outside the process, against
//! a freshly spawned `ucontact-local` per test (its own data dir, port 0).

mod abuse;
mod contacts;
mod email_verification;
mod http_conventions;
mod login;
mod password_reset;
mod protected_routes;
mod register;
mod restart;
mod sessions;
